import { describe, expect, it } from 'vitest';
import { normaliseSource } from './ingest.js';

describe('engram ingest SOURCE', () => {
  it('makes paths absolute, reads file:// URLs as the paths they name, and leaves URLs and - alone', () => {
    expect(normaliseSource('clip.mp4', '/home/me')).toBe('/home/me/clip.mp4');
    expect(normaliseSource('file:///home/me/My%20clip.mp4')).toBe('/home/me/My clip.mp4');
    expect(normaliseSource('file://server/share/a.mp4')).toBe('file://server/share/a.mp4'); // refused later, by name
    expect(normaliseSource('rtsp://cam.lan/s')).toBe('rtsp://cam.lan/s');
    expect(normaliseSource('-')).toBe('-');
  });
});
