import { describe, expect, it } from 'vitest';
import { sampleChw } from './image.js';

describe('sampleChw', () => {
  it("in 'bgr' order writes exactly what sampling a BGR copy of the frame writes (PaddleOCR reads BGR), with mean and std per output plane", () => {
    const width = 13;
    const height = 7;
    const rgb = Uint8Array.from({ length: width * height * 3 }, (_v, i) => (i * 37 + (i % 3) * 90) % 256);
    const bgr = new Uint8Array(rgb.length);
    for (let i = 0; i < rgb.length; i += 3) [bgr[i], bgr[i + 1], bgr[i + 2]] = [rgb[i + 2] as number, rgb[i + 1] as number, rgb[i] as number];
    const window = { x: 1.5, y: 0.5, w: 10, h: 6 };
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    const fromCopy = new Float32Array(3 * 9 * 5);
    const direct = new Float32Array(3 * 9 * 5);
    sampleChw({ rgb: bgr, width, height }, fromCopy, 0, 9, 5, window, mean, std);
    sampleChw({ rgb, width, height }, direct, 0, 9, 5, window, mean, std, 'bgr');
    expect(Array.from(direct)).toEqual(Array.from(fromCopy));
    // and it is not the RGB order: the first plane differs
    const rgbOrder = new Float32Array(3 * 9 * 5);
    sampleChw({ rgb, width, height }, rgbOrder, 0, 9, 5, window, mean, std);
    expect(Array.from(rgbOrder.subarray(0, 45))).not.toEqual(Array.from(direct.subarray(0, 45)));
  });
});
