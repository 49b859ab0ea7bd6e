// LlmClient against a local OpenAI-compatible HTTP server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../../test/helpers/fake-llm.js';
import { LlmClient } from './llm.js';

const base = { model: 'test-model', apiKey: 'sk-test', timeoutMs: 2_000, retries: 2, vision: true, maxImages: 2, failureCooldownMs: 0 };

describe('LlmClient', () => {
  let server: FakeLlm;
  beforeAll(async () => {
    server = await startFakeLlm();
  });
  afterAll(async () => {
    await server.close();
  });

  it('is not configured without a base URL and says so when used', async () => {
    const client = new LlmClient({ ...base, baseUrl: undefined });
    expect(client.isConfigured).toBe(false);
    await expect(client.chat({ messages: [{ role: 'user', content: 'hi' }] })).rejects.toThrow(/no LLM endpoint configured \(llm.baseUrl\)/);
  });

  it('sends model, key, JSON mode and images, and returns the reply', async () => {
    server.respond(() => ({ content: '{"summary":"a red car"}' }));
    const client = new LlmClient({ ...base, baseUrl: server.baseUrl });
    const reply = await client.chat({
      json: true,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'what?' }, { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,AAAA' } }] }],
    });
    expect(JSON.parse(reply)).toEqual({ summary: 'a red car' });
    const last = server.requests.at(-1);
    expect(last?.headers.authorization).toBe('Bearer sk-test');
    expect(last?.body).toMatchObject({ model: 'test-model', response_format: { type: 'json_object' } });
    expect(JSON.stringify(last?.body.messages)).toContain('data:image/jpeg;base64,AAAA');
  });

  it('retries 5xx and bad JSON a bounded number of times, then succeeds or fails', async () => {
    const client = new LlmClient({ ...base, baseUrl: server.baseUrl }, { backoffMs: 5 });
    const start = server.requests.length;
    server.respond((_b, n) => (n - start < 3 ? { status: 503, raw: 'busy' } : { content: 'fine' }));
    expect(await client.chat({ messages: [{ role: 'user', content: 'x' }] })).toBe('fine');
    expect(server.requests.length - start).toBe(3);

    const again = server.requests.length;
    server.respond(() => ({ content: 'not json' }));
    await expect(client.chat({ json: true, messages: [{ role: 'user', content: 'x' }] })).rejects.toThrow(/not the JSON asked for/);
    expect(server.requests.length - again).toBe(3);
  });

  it('does not retry a 401 and names the status', async () => {
    const client = new LlmClient({ ...base, baseUrl: server.baseUrl }, { backoffMs: 5 });
    const start = server.requests.length;
    server.respond(() => ({ status: 401, raw: '{"error":"bad key"}' }));
    await expect(client.chat({ messages: [{ role: 'user', content: 'x' }] })).rejects.toThrow(/answered 401/);
    expect(server.requests.length - start).toBe(1);
  });

  it('gives up after the timeout on each try', async () => {
    const client = new LlmClient({ ...base, baseUrl: server.baseUrl, timeoutMs: 100, retries: 1 }, { backoffMs: 5 });
    server.respond(() => ({ content: 'late', delayMs: 1_000 }));
    const t0 = Date.now();
    await expect(client.chat({ messages: [{ role: 'user', content: 'x' }] })).rejects.toThrow(/did not answer within 100 ms/);
    expect(Date.now() - t0).toBeLessThan(900);
  });
});
