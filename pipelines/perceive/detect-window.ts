// Where the detector looks after a change (Frigate's principle: detect on the moving region at a
// small input, the whole frame at the full input on first run and refresh): the changed pixels'
// box, padded, grown to whole earlier detections it touches, widened to the frame's aspect. The
// crop graph sees it stretched to its square input, as the frame detector sees the whole frame, so
// with the aspect kept an object in the crop gets at least the pixels it gets in the whole frame
// exactly when the window is at most cropInput / frameInput of the frame. Pure.
import type { Detection } from '../records/event.js';

export interface DetectWindow {
  x: number;
  y: number;
  w: number;
  h: number;
}

type Box = readonly [number, number, number, number];

/** Frame pixels added around the changed pixels' box: the grey copy's cells are ~10 px of a 640 px frame. */
export const WINDOW_PADDING = 24;

const overlaps = (a: Box, w: DetectWindow) => a[0] < w.x + w.w && a[2] > w.x && a[1] < w.y + w.h && a[3] > w.y;
const inside = (a: Box, b: Box) => a[0] >= b[0] && a[1] >= b[1] && a[2] <= b[2] && a[3] <= b[3];

/**
 * The window to detect in, in frame pixels, or undefined when the whole frame must be seen (the
 * window would pass cropInput / frameInput of the frame in either direction). The window keeps the
 * frame's aspect, is never smaller than cropInput pixels on the frame's longer side (or the whole
 * frame, if smaller), and holds every earlier detection it overlaps whole: those are looked at
 * again, and the ones clear of it stand.
 */
export function detectWindow(changed: Box, previous: readonly Detection[], frame: { width: number; height: number }, sizes: { frame: number; crop: number }): DetectWindow | undefined {
  const { width: fw, height: fh } = frame;
  const most = sizes.crop / sizes.frame;
  const least = Math.min(1, sizes.crop / Math.max(fw, fh));
  if (least > most) return undefined;
  let box: [number, number, number, number] = [Math.max(0, changed[0] - WINDOW_PADDING), Math.max(0, changed[1] - WINDOW_PADDING), Math.min(fw, changed[2] + WINDOW_PADDING), Math.min(fh, changed[3] + WINDOW_PADDING)];
  // Each round takes in at least one more earlier box; a box that rounding still cuts ends it at the whole frame.
  for (let round = 0; round <= previous.length; round += 1) {
    const share = Math.max((box[2] - box[0]) / fw, (box[3] - box[1]) / fh, least);
    if (share > most) return undefined;
    const w = Math.min(fw, Math.ceil(share * fw));
    const h = Math.min(fh, Math.ceil(share * fh));
    // Centred on the box, moved back inside the frame.
    const x = Math.floor(Math.min(Math.max(0, (box[0] + box[2]) / 2 - w / 2), fw - w));
    const y = Math.floor(Math.min(Math.max(0, (box[1] + box[3]) / 2 - h / 2), fh - h));
    const window = { x, y, w, h };
    const cut = previous.filter((d) => overlaps(d.box, window) && !inside(d.box, [x, y, x + w, y + h]));
    if (cut.length === 0) return window;
    for (const d of cut) box = [Math.max(0, Math.min(box[0], d.box[0])), Math.max(0, Math.min(box[1], d.box[1])), Math.min(fw, Math.max(box[2], d.box[2])), Math.min(fh, Math.max(box[3], d.box[3]))];
  }
  return undefined;
}

/** The window's detections plus the earlier ones clear of it, best first, at most maxPerFrame. */
export function mergeWindow(window: DetectWindow, found: readonly Detection[], previous: readonly Detection[], maxPerFrame: number): Detection[] {
  const kept = previous.filter((d) => !overlaps(d.box, window));
  return [...found, ...kept].sort((a, b) => b.score - a.score).slice(0, maxPerFrame);
}
