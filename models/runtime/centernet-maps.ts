// CenterNet's class heatmap and box sizes to rows of [x1, y1, x2, y2, score, class] in input pixels:
// what the converted 512x512 graph's in-graph decode does (3x3 max-pool peaks, top 100 over every
// cell and class, box = cell centre x stride -/+ the four distances), for graphs converted without
// it (the 320x320 crop graph, whose traced decode constants do not fit its 80x80 maps). Pure.

export interface CenternetMaps {
  /** [h, w, classes] sigmoid scores (NHWC, one frame). */
  heatmap: Float32Array;
  /** [h, w, 4] left, top, right, bottom distances in input pixels. */
  sizes: Float32Array;
  height: number;
  width: number;
  classes: number;
  /** Input pixels per map cell (4 for CenterNet). */
  stride: number;
}

/** The graph's TopKV2 k: at most this many peaks per frame. */
export const CENTERNET_TOP_K = 100;

/**
 * Peaks (a cell whose score is the largest in its 3x3 neighbourhood of the same class, as
 * max-pool == value) at or above `floor`, best first (ties: lower flat index first, as TopKV2),
 * at most `topK`. Taking the floor before the top 100 keeps exactly the rows of the graph's
 * decode that reach the floor.
 */
export function decodeCenternetMaps(maps: CenternetMaps, floor: number, topK = CENTERNET_TOP_K): Float32Array {
  const { heatmap, sizes, height: h, width: w, classes: c, stride } = maps;
  if (heatmap.length !== h * w * c || sizes.length !== h * w * 4) throw new Error(`centernet maps: expected ${h}x${w}x${c} scores and ${h}x${w}x4 sizes, got ${heatmap.length} and ${sizes.length} values`);
  const peaks: number[] = [];
  const min = Math.max(floor, Number.MIN_VALUE);
  for (let y = 0; y < h; y += 1) {
    for (let x = 0; x < w; x += 1) {
      const base = (y * w + x) * c;
      for (let k = 0; k < c; k += 1) {
        const v = heatmap[base + k] as number;
        if (!(v >= min) || !isPeak(heatmap, w, h, c, x, y, k, v)) continue;
        peaks.push(base + k);
      }
    }
  }
  peaks.sort((a, b) => (heatmap[b] as number) - (heatmap[a] as number) || a - b);
  const n = Math.min(topK, peaks.length);
  const rows = new Float32Array(n * 6);
  for (let i = 0; i < n; i += 1) {
    const index = peaks[i] as number;
    const cell = Math.floor(index / c);
    const cx = (cell % w) * stride;
    const cy = Math.floor(cell / w) * stride;
    const o = cell * 4;
    rows.set([cx - (sizes[o] as number), cy - (sizes[o + 1] as number), cx + (sizes[o + 2] as number), cy + (sizes[o + 3] as number), heatmap[index] as number, index % c], i * 6);
  }
  return rows;
}

function isPeak(heatmap: Float32Array, w: number, h: number, c: number, x: number, y: number, k: number, v: number): boolean {
  for (let dy = -1; dy <= 1; dy += 1) {
    const yy = y + dy;
    if (yy < 0 || yy >= h) continue;
    for (let dx = -1; dx <= 1; dx += 1) {
      const xx = x + dx;
      if (xx < 0 || xx >= w || (dx === 0 && dy === 0)) continue;
      if ((heatmap[(yy * w + xx) * c + k] as number) > v) return false;
    }
  }
  return true;
}
