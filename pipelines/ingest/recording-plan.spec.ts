import { describe, expect, it } from 'vitest';
import { parseSegmentLine } from '../repositories/media-types.js';
import { planRecording, recordArgs } from './recording-plan.js';

const options = { dir: '/data/recordings/cam', prefix: '1700000000000', segmentSeconds: 10 };

describe('recording plan', () => {
  it('copies H.264 and AAC into MPEG-TS segments listed on pipe 6', () => {
    const decision = planRecording({ video: { codec: 'h264' }, audio: { codec: 'aac' } }, options);
    expect(decision.record).toBe(true);
    if (!decision.record) return;
    const args = recordArgs(decision.plan);
    expect(args.join(' ')).toBe(
      '-map 0:v:0 -c:v copy -map 0:a:0 -c:a copy -f segment -segment_time 10 -segment_format mpegts -segment_list pipe:6 -segment_list_type csv /data/recordings/cam/1700000000000-%06d.ts',
    );
  });

  it('re-encodes only audio MPEG-TS cannot carry, and refuses raw or MJPEG video by name', () => {
    const pcm = planRecording({ video: { codec: 'hevc' }, audio: { codec: 'pcm_s16le' } }, options);
    expect(pcm.record && pcm.plan.audio).toBe('aac');
    const mjpeg = planRecording({ video: { codec: 'mjpeg' }, audio: undefined }, options);
    expect(mjpeg.record).toBe(false);
    expect(!mjpeg.record && mjpeg.reason).toMatch(/mjpeg is not recorded/);
    const mic = planRecording({ video: undefined, audio: { codec: 'pcm_s16le' } }, options);
    expect(mic.record && recordArgs(mic.plan).slice(0, 4)).toEqual(['-map', '0:a:0', '-c:a', 'aac']);
  });

  it('reads the segment list', () => {
    expect(parseSegmentLine('1700000000000-000001.ts,10.021333,20.021333')).toEqual({ file: '1700000000000-000001.ts', start: 10.021333, end: 20.021333 });
    expect(parseSegmentLine('garbage')).toBeUndefined();
    expect(parseSegmentLine('a.ts,5,4')).toBeUndefined();
  });
});
