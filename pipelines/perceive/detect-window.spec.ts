import { describe, expect, it } from 'vitest';
import type { Detection } from '../records/event.js';
import { detectWindow, mergeWindow, WINDOW_PADDING } from './detect-window.js';

const frame = { width: 640, height: 360 };
const sizes = { frame: 512, crop: 320 };
const det = (label: string, box: [number, number, number, number], score = 0.5): Detection => ({ label, score, box });

describe('detectWindow', () => {
  it('keeps the frame aspect, holds the padded change, and gives objects at least the whole frame pass resolution', () => {
    const w = detectWindow([400, 150, 440, 200], [], frame, sizes)!;
    expect(w.w / w.h).toBeCloseTo(640 / 360, 1);
    // Never under the crop input on the longer side; never over crop/frame of the frame.
    expect(w.w).toBeGreaterThanOrEqual(320);
    expect(w.w).toBeLessThanOrEqual(640 * (320 / 512));
    expect(w.h).toBeLessThanOrEqual(360 * (320 / 512));
    expect(w.x).toBeLessThanOrEqual(400 - WINDOW_PADDING);
    expect(w.x + w.w).toBeGreaterThanOrEqual(440 + WINDOW_PADDING);
    expect(w.y).toBeLessThanOrEqual(150 - WINDOW_PADDING);
    expect(w.y + w.h).toBeGreaterThanOrEqual(200 + WINDOW_PADDING);
    expect(w.x + w.w).toBeLessThanOrEqual(640);
    expect(w.y + w.h).toBeLessThanOrEqual(360);
  });

  it('is moved inside the frame at its edge', () => {
    const w = detectWindow([600, 320, 640, 360], [], frame, sizes)!;
    expect(w.x + w.w).toBe(640);
    expect(w.y + w.h).toBe(360);
    expect(w.x).toBeGreaterThanOrEqual(0);
  });

  it('grows to hold whole the earlier detections it would cut', () => {
    const person = det('person', [250, 100, 330, 300]);
    const w = detectWindow([330, 150, 380, 250], [person], frame, sizes)!;
    expect(w.x).toBeLessThanOrEqual(250);
    expect(w.x + w.w).toBeGreaterThanOrEqual(330);
    expect(w.y).toBeLessThanOrEqual(100);
    expect(w.y + w.h).toBeGreaterThanOrEqual(300);
  });

  it('gives up (whole frame) when the change or what it touches is too large', () => {
    expect(detectWindow([100, 50, 500, 300], [], frame, sizes)).toBeUndefined();
    expect(detectWindow([300, 150, 340, 200], [det('bus', [20, 10, 620, 350])], frame, sizes)).toBeUndefined();
    // A frame so small that a crop of the crop input's size is already more than crop/frame of it.
    expect(detectWindow([10, 10, 20, 20], [], { width: 400, height: 300 }, sizes)).toBeUndefined();
  });
});

describe('mergeWindow', () => {
  it('replaces what lay in the window, keeps what lay clear of it, best first', () => {
    const window = { x: 300, y: 80, w: 352, h: 198 };
    const previous = [det('bottle', [20, 100, 100, 320], 0.3), det('person', [360, 120, 430, 250], 0.47)];
    const found = [det('person', [400, 120, 470, 250], 0.65)];
    expect(mergeWindow(window, found, previous, 50)).toEqual([found[0], previous[0]]);
    expect(mergeWindow(window, found, previous, 1)).toEqual([found[0]]);
  });
});
