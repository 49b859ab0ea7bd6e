// Files through the real ingest role: real ffmpeg, real Redis, real BullMQ. Checks what a user
// of the chunks sees: times from the media, keyframes at the configured rate and at scene cuts,
// audio that matches the generated tone, and one perceive job per chunk.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Role, QueueName } from '../../pipelines/jobs.js';
import { AUDIO_RATE } from '../../pipelines/records/chunk.js';
import { ChunkStore } from '../../pipelines/repositories/chunk-store.js';
import { StreamRepository } from '../../pipelines/repositories/streams.js';
import { EngramContext } from '../../services/runtime/context.js';
import { startRoles } from '../../services/runtime/roles.js';
import { silentLogger } from '../../services/logger.js';
import { useTestEnv } from '../helpers/env.js';
import { CAR_DETECTION, SHARED_MEDIA, ffmpegRun, generateSceneCuts, generateVideo } from '../helpers/media.js';

const env = useTestEnv();
let context: EngramContext;
let streams: StreamRepository;
let chunks: ChunkStore;

beforeAll(async () => {
  const loaded = env.loaded({ ingest: { fileRoots: [env.dataDir, SHARED_MEDIA] } });
  context = await EngramContext.open(loaded, silentLogger());
  await startRoles(context, [Role.Ingest]);
  const redis = context.redis.connection('test');
  streams = new StreamRepository(redis, loaded.config.redis.prefix, context.queues);
  chunks = new ChunkStore(redis, loaded.config.redis.prefix, 60);
});
afterAll(async () => {
  await context?.close();
});

async function allChunks(stream: string, count: number) {
  const out = [];
  for (let seq = 0; seq < count; seq += 1) {
    const chunk = await chunks.get(stream, seq);
    expect(chunk, `chunk ${seq}`).toBeDefined();
    out.push(chunk!);
  }
  return out;
}

/** RMS and dominant-frequency estimate (zero crossings) of a tone. */
function tone(samples: Float32Array) {
  let sum = 0;
  let crossings = 0;
  for (let i = 0; i < samples.length; i += 1) {
    sum += samples[i]! * samples[i]!;
    if (i > 0 && samples[i - 1]! < 0 && samples[i]! >= 0) crossings += 1;
  }
  return { rms: Math.sqrt(sum / samples.length), hz: (crossings * AUDIO_RATE) / samples.length };
}

describe('ingest of a file', () => {
  it('cuts a generated clip into 1 s chunks with media times, 1 keyframe/s and the tone', async () => {
    const file = await generateVideo(env.dataDir, 'tone', { duration: 5, size: '640x480', fps: 25, audio: 'sine', frequency: 1000 });
    await streams.add({ name: 'tone', source: file });
    const info = await streams.waitUntilProcessed('tone');
    expect(info.state, info.error ?? '').toBe('done');
    expect(info.chunks).toBe(5);
    expect(info.live).toBe(false);
    const list = await allChunks('tone', 5);
    list.forEach((chunk, i) => {
      expect(chunk.start).toBeCloseTo(i, 6);
      expect(chunk.end).toBeCloseTo(i + 1, 1); // the last one includes AAC's padding
      expect(chunk.audio!.length).toBeGreaterThan(AUDIO_RATE - 400);
      const { rms, hz } = tone(chunk.audio!);
      expect(rms).toBeGreaterThan(0.05);
      expect(hz).toBeGreaterThan(950);
      expect(hz).toBeLessThan(1050);
      expect(chunk.keyframes.length).toBe(1);
      const k = chunk.keyframes[0]!;
      expect(k.t).toBeGreaterThanOrEqual(chunk.start);
      expect(k.t).toBeLessThan(chunk.start + 0.05);
      expect([k.width, k.height]).toEqual([640, 480]);
      expect(k.rgb.length).toBe(640 * 480 * 3);
      expect(k.jpeg.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    });
    expect(list[4]!.final).toBe(true);
    const jobs = await context.queues.queue(QueueName.Perceive).getJobs(['waiting']);
    // One perceive job per chunk, its id made of this ingest run's id and the sequence number.
    const run = (await streams.runtime('tone'))!.jobId;
    const ids = jobs.map((j) => j.id).filter((id) => id?.startsWith('tone-')).sort();
    expect(ids).toEqual([0, 1, 2, 3, 4].map((seq) => `${run}-${seq}`));
    expect(info.progress[Role.Perceive]).toBe(5);
  });

  it('adds keyframes at scene cuts and keeps audio-less video', async () => {
    const file = await generateSceneCuts(env.dataDir, 'cuts', { segments: 3, segment: 1.5 });
    await streams.add({ name: 'cuts', source: file });
    const info = await streams.waitUntilProcessed('cuts');
    expect(info.state, info.error ?? '').toBe('done');
    const list = await allChunks('cuts', info.chunks);
    const frames = list.flatMap((c) => c.keyframes);
    const scene = frames.filter((k) => k.scene).map((k) => k.t);
    expect(scene.length).toBe(2);
    expect(scene[0]).toBeCloseTo(1.5, 1);
    expect(scene[1]).toBeCloseTo(3.0, 1);
    expect(list.every((c) => c.audio === null)).toBe(true);
    // frames carry the pixels of their time: red before the first cut, white after it
    const pixel = (t: number) => {
      const k = frames.find((f) => Math.abs(f.t - t) < 0.01)!;
      const at = (k.height / 2) * k.width * 3 + (k.width / 2) * 3;
      return [k.rgb[at]!, k.rgb[at + 1]!, k.rgb[at + 2]!];
    };
    const [r0, g0] = pixel(1);
    expect(r0).toBeGreaterThan(200);
    expect(g0).toBeLessThan(60);
    expect(pixel(2).every((c) => c > 200)).toBe(true);
  });

  it('reads real footage (car-detection.mp4) at 768x432 scaled to 640x360', async () => {
    await streams.add({ name: 'car', source: CAR_DETECTION });
    const info = await streams.waitUntilProcessed('car');
    expect(info.state, info.error ?? '').toBe('done');
    // 30.16 s of media in its streams: 30 full chunks and a last one holding the frame at 30.0 s.
    // The container says 30.208 s (ffprobe), which ffmpeg's log, read instead, rounds to 30.21.
    expect(info.durationS).toBeCloseTo(30.2, 1);
    expect(info.chunks).toBe(31);
    const list = await allChunks('car', 31);
    for (const chunk of list) {
      expect(chunk.keyframes.filter((k) => !k.scene).length).toBe(1);
      for (const k of chunk.keyframes) expect([k.width, k.height]).toEqual([640, 360]);
      // silent AAC: audio exists and is silent
      expect(chunk.audio).not.toBeNull();
    }
    expect(list[30]!.end).toBeCloseTo(30.16, 1);
    expect(list[30]!.final).toBe(true);
    // Every stored keyframe holds exactly the picture ffmpeg gives for it on its own: keyframe
    // buffers are reused once their chunk is stored (frame-pool.ts), so one reused too early
    // would hold a later picture.
    const select = "select='isnan(prev_selected_t)+gte(floor(t*1)-floor(prev_selected_t*1),1)+gt(scene,0.3)'";
    const own = execFileSync('ffmpeg', ['-v', 'error', '-i', CAR_DETECTION, '-vf', `${select},scale=w=640:h=360:flags=bilinear,format=rgb24`, '-fps_mode', 'passthrough', '-f', 'rawvideo', '-'], { maxBuffer: 1 << 26 });
    const stored = list.flatMap((c) => c.keyframes);
    const size = 640 * 360 * 3;
    expect(stored.length).toBe(own.length / size);
    stored.forEach((k, i) => expect(Buffer.compare(k.rgb, own.subarray(i * size, (i + 1) * size)), `keyframe ${i} at ${k.t} s`).toBe(0));
  });

  it('keeps audio and video aligned to within one frame', async () => {
    // A white flash and a beep start together at 2.0 s; everything else is black and silent.
    const file = join(env.dataDir, 'flash.mp4');
    await ffmpegRun([
      '-f', 'lavfi', '-i', "color=c=black:size=320x240:rate=25:duration=5,drawbox=c=white:t=fill:enable='between(t,2,3)'",
      '-f', 'lavfi', '-i', "aevalsrc='if(between(t,2,3),0.5*sin(2*PI*1000*t),0)':s=48000:d=5",
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', file,
    ]);
    await streams.add({ name: 'flash', source: file });
    const info = await streams.waitUntilProcessed('flash');
    expect(info.state, info.error ?? '').toBe('done');
    const list = await allChunks('flash', info.chunks);
    const bright = (k: { rgb: Uint8Array }) => k.rgb.reduce((a, b) => a + b, 0) / k.rgb.length;
    const flash = list.flatMap((c) => c.keyframes).filter((k) => bright(k) > 128).map((k) => k.t);
    expect(flash[0]).toBeCloseTo(2, 6);
    // The beep's first loud sample, in stream time, from the chunk that holds it.
    let onset = -1;
    for (const chunk of list) {
      const i = chunk.audio!.findIndex((v) => Math.abs(v) > 0.1);
      if (i >= 0) {
        onset = chunk.start + i / AUDIO_RATE;
        break;
      }
    }
    expect(Math.abs(onset - 2)).toBeLessThan(1 / 25);
  });

  it('carries on with the audio of a file whose video track stops early', async () => {
    const file = join(env.dataDir, 'short-video.mkv');
    await ffmpegRun([
      '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25:duration=2',
      '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=8',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'flac', file,
    ]);
    await streams.add({ name: 'short-video', source: file });
    const info = await streams.waitUntilProcessed('short-video');
    expect(info.state, info.error ?? '').toBe('done');
    expect(info.chunks).toBe(8);
    const list = await allChunks('short-video', info.chunks);
    expect(list.map((c) => c.keyframes.length)).toEqual([1, 1, 0, 0, 0, 0, 0, 0]);
    expect(list.every((c) => tone(c.audio!).rms > 0.05)).toBe(true);
  });

  it('makes a file wait (no drops) while perception is behind, then carries on', async () => {
    const file = await generateVideo(env.dataDir, 'slow', { duration: 6, audio: 'sine' });
    const loaded = env.loaded({ redis: { prefix: 'waiting' }, ingest: { fileRoots: [env.dataDir], maxChunksInFlight: 2 } });
    const ctx = await EngramContext.open(loaded, silentLogger());
    try {
      await startRoles(ctx, [Role.Ingest]);
      const repo = new StreamRepository(ctx.redis.connection('test'), 'waiting', ctx.queues);
      await repo.add({ name: 'slow', source: file });
      const deadline = Date.now() + 20_000;
      let info = (await repo.get('slow'))!;
      while (!(info.state === 'waiting' && info.chunks === 2) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        info = (await repo.get('slow'))!;
      }
      expect(info.state).toBe('waiting');
      await new Promise((r) => setTimeout(r, 500));
      expect((await repo.get('slow'))!.chunks).toBe(2); // it really waits
      // perception catches up, one chunk at a time
      while (info.state !== 'done' && Date.now() < deadline) {
        if ((info.progress[Role.Perceive] ?? 0) > 0) await repo.stageProgress('slow', Role.Perceive, -1);
        await new Promise((r) => setTimeout(r, 50));
        info = (await repo.get('slow'))!;
      }
      expect(info.state).toBe('done');
      expect(info.chunks).toBe(6);
      expect(info.droppedFrames).toBe(0);
      expect(info.keyframes).toBe(6);
    } finally {
      await ctx.close();
    }
  });
});
