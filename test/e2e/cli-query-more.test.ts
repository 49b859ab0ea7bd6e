// engram query through the built CLI, continued (see cli-query.test.ts): bad input, the path through
// a running reason worker, and answering through an OpenAI-compatible endpoint (a local fake server
// that records the prompt and cites one invented event).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGRAM_BIN, runCli } from '../helpers/cli.js';
import { useTestEnv } from '../helpers/env.js';
import { seedGarageMemory } from '../helpers/garage-memory.js';
import { QueueName } from '../../pipelines/jobs.js';
import { silentLogger } from '../../services/logger.js';
import { EngramContext } from '../../services/runtime/context.js';

const env = useTestEnv();
const EPOCH = Date.now() - 30 * 60_000; // half an hour ago: "in the last hour" includes it, "in the last 10 minutes" does not

beforeAll(() => seedGarageMemory(env.dataDir, EPOCH));

const cli = (args: string[], extra: Record<string, string> = {}) => runCli(args, { env: env.childEnv({ ENGRAM_REASON__TIME_ZONE: 'UTC', ...extra }), timeoutMs: 60_000 });

describe('engram query: bad input', () => {
  it('refuses bad input with one line that names the problem', async () => {
    const noQuestion = await cli(['query']);
    expect(noQuestion.code).toBe(2);
    expect(noQuestion.stderr).toBe('engram: ask a question, or give --image, --audio or --face to search by example\n');
    const badSince = await cli(['query', 'cars', '--since', 'soonish']);
    expect(badSince.code).toBe(2);
    expect(badSince.stderr).toContain('--since "soonish" is not a time');
    const badStream = await cli(['query', 'cars', '--stream', 'attic']);
    expect(badStream.code).toBe(2);
    expect(badStream.stderr).toBe('engram: no stream "attic" in memory (streams: garage, porch)\n');
    const missing = await cli(['query', '--image', '/nonexistent/picture.png']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('engram: --image /nonexistent/picture.png: cannot be read (ENOENT)\n');
  });
});

describe('engram query through a running reason worker', () => {
  let worker: ChildProcess | undefined;
  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      worker.kill('SIGTERM');
      await new Promise((resolve) => worker?.once('exit', resolve));
    }
  });

  it('sends the question to the worker and prints its answer', async () => {
    worker = spawn(process.execPath, [ENGRAM_BIN, 'worker', 'reason'], { env: env.childEnv({ ENGRAM_REASON__TIME_ZONE: 'UTC' }), stdio: ['ignore', 'ignore', 'pipe'] });
    // Wait until the worker has registered on the reason queue.
    const context = await EngramContext.open(env.loaded(), silentLogger());
    try {
      for (let i = 0; i < 150 && (await context.queues.workerCount(QueueName.Reason)) === 0; i += 1) await sleep(100);
      expect(await context.queues.workerCount(QueueName.Reason)).toBe(1);
    } finally {
      await context.close();
    }
    const r = await cli(['query', 'What did the delivery notice say?', '--json'], { ENGRAM_LOG__LEVEL: 'debug' });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('a reason worker is running; asking it');
    expect(JSON.parse(r.stdout).evidence[0].eventId).toBe('garage.0000030000');
    const status = JSON.parse((await cli(['status', '--json'])).stdout);
    expect(status.queues.reason.completed).toBeGreaterThanOrEqual(1);
  });
});

describe('engram query through an OpenAI-compatible endpoint', () => {
  let server: Server;
  const bodies: { messages: { role: string; content: string }[]; response_format?: unknown }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        bodies.push(JSON.parse(body));
        const content = JSON.stringify({ answer: 'The screen showed a delivery notice [garage.0000030000] [garage.0000999000].', citations: ['garage.0000030000', 'garage.0000999000'] });
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ choices: [{ message: { role: 'assistant', content } }] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

  it('puts the evidence in the prompt and drops citations the model invented', async () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const r = await cli(['query', 'What did the delivery notice say?', '--json'], { ENGRAM_LLM__BASE_URL: `http://127.0.0.1:${port}/v1` });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.answer).toBe('The screen showed a delivery notice [garage.0000030000].');
    expect(out.evidence.map((e: { eventId: string }) => e.eventId)).toEqual(['garage.0000030000']);
    expect(bodies).toHaveLength(1);
    const prompt = bodies[0]!.messages.map((m) => m.content).join('\n');
    expect(prompt).toContain('Question: What did the delivery notice say?');
    expect(prompt).toContain('id: garage.0000030000');
    expect(prompt).toContain('on screen: DELIVERY NOTICE');
    expect(bodies[0]!.response_format).toEqual({ type: 'json_object' });
  });
});
