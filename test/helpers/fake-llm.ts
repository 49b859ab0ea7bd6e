// A local OpenAI-compatible server (node:http) for tests: POST /v1/chat/completions answers with
// whatever the test's responder returns, and every request body is kept for assertions.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeReply {
  status?: number;
  /** The assistant message content; ignored when `raw` is given. */
  content?: string;
  raw?: string;
  /** Delay before answering, to test timeouts. */
  delayMs?: number;
}

export interface FakeLlm {
  baseUrl: string;
  requests: { headers: Record<string, string | string[] | undefined>; body: Record<string, unknown> }[];
  respond: (fn: (body: Record<string, unknown>, n: number) => FakeReply) => void;
  close: () => Promise<void>;
}

export async function startFakeLlm(): Promise<FakeLlm> {
  let responder: (body: Record<string, unknown>, n: number) => FakeReply = () => ({ content: '{"summary":"ok","tags":[]}' });
  const requests: FakeLlm['requests'] = [];
  const server: Server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404).end('not found');
        return;
      }
      const body = JSON.parse(data) as Record<string, unknown>;
      requests.push({ headers: req.headers, body });
      const reply = responder(body, requests.length);
      const send = () => {
        if (res.destroyed) return;
        const text = reply.raw ?? JSON.stringify({ id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: reply.content ?? '' }, finish_reason: 'stop' }] });
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/json' }).end(text);
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    respond: (fn) => {
      responder = fn;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
