// Finite sources are finite: a file or URL whose duration ffprobe cannot tell (a single picture, a
// raw H.264 elementary stream, MPEG-TS served over http) ends when its bytes do. It is ingested
// once and the stream is done; it is never "reconnected" as if it were a camera.
import { createReadStream } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { IngestReport } from '../../services/cli/ingest.js';
import { runCli } from '../helpers/cli.js';
import { useTestEnv } from '../helpers/env.js';
import { ffmpegRun } from '../helpers/media.js';

const env = useTestEnv();
const servers: Server[] = [];
afterAll(async () => {
  for (const server of servers) await new Promise((r) => server.close(r));
});

async function ingest(source: string, name: string): Promise<{ report: IngestReport; stderr: string; ms: number }> {
  const t0 = Date.now();
  const r = await runCli(['ingest', source, '--name', name, '--json'], { env: env.childEnv({ ENGRAM_PERCEIVE__OCR: 'false' }), timeoutMs: 90_000 });
  expect(r.code, r.stderr).toBe(0);
  return { report: JSON.parse(r.stdout) as IngestReport, stderr: r.stderr, ms: Date.now() - t0 };
}

function expectEndedOnce(result: { report: IngestReport; stderr: string }, seconds: number): void {
  expect(result.report).toMatchObject({ state: 'done', gaps: 0 });
  expect(result.report.durationS).toBeGreaterThan(0);
  expect(result.report.durationS).toBeLessThanOrEqual(seconds + 1);
  expect(result.report.chunks).toBeLessThanOrEqual(Math.ceil(seconds) + 1);
  expect(result.stderr).not.toMatch(/reconnecting/);
}

describe('finite sources without a known duration', () => {
  it('ingests a single PNG once', async () => {
    const png = join(env.dataDir, 'still.png');
    await ffmpegRun(['-f', 'lavfi', '-i', 'color=c=red:size=160x120', '-frames:v', '1', png]);
    const result = await ingest(png, 'still');
    expectEndedOnce(result, 1);
    expect(result.report.keyframes).toBe(1);
  });

  it('ingests a raw .h264 elementary stream once', async () => {
    const raw = join(env.dataDir, 'clip.h264');
    await ffmpegRun(['-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=10:duration=4', '-c:v', 'libx264', '-preset', 'ultrafast', '-f', 'h264', raw]);
    const result = await ingest(raw, 'raw');
    expectEndedOnce(result, 4);
    expect(result.report.durationS).toBeGreaterThanOrEqual(3);
  });

  it('ingests MPEG-TS served over http once, and ends when the response does', async () => {
    const ts = join(env.dataDir, 'clip.ts');
    await ffmpegRun(['-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=10:duration=4', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=16000:duration=4', '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac', '-f', 'mpegts', ts]);
    let requests = 0;
    // Chunked, no length: as a restreamer or a script piping a recording would serve it.
    const server = createServer((_req, res) => {
      requests += 1;
      res.writeHead(200, { 'content-type': 'video/mp2t' });
      createReadStream(ts).pipe(res);
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/clip.ts`;
    const result = await ingest(url, 'http-ts');
    expectEndedOnce(result, 4);
    expect(result.report.durationS).toBeGreaterThanOrEqual(3);
    // ffprobe once and ffmpeg once: nothing came back to read it again.
    expect(requests).toBeLessThanOrEqual(2);
  });
});
