// An OpenAI-compatible chat client (POST {baseUrl}/chat/completions): consolidate uses it for
// summaries and reason for answers. Bounded retries and a timeout per request, so a slow or dead
// endpoint costs a caller at most (retries + 1) * timeoutMs before it falls back.
import { EngramError } from '../../config/errors.js';
import type { Config } from '../../config/schema.js';

export type ChatContentPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string | ChatContentPart[];
}

export interface ChatRequest {
  messages: ChatMessage[];
  /** Ask for a JSON object (response_format json_object); the reply is checked to parse. */
  json?: boolean;
  signal?: AbortSignal;
  /** Sampling temperature; 0 by default so summaries are repeatable. */
  temperature?: number;
  maxTokens?: number;
}

export class LlmError extends EngramError {
  override readonly name = 'LlmError';
  /** HTTP status when the endpoint answered, undefined for network errors and timeouts. */
  readonly status: number | undefined;
  constructor(message: string, status?: number, cause?: unknown) {
    super(message, { cause });
    this.status = status;
  }
}

type LlmConfig = Config['llm'];

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    }, { once: true });
  });

/** 429 and 5xx are worth another try; other 4xx (bad key, unknown model) are not. */
function retryable(status: number | undefined): boolean {
  return status === undefined || status === 429 || status >= 500;
}

export class LlmClient {
  readonly #config: LlmConfig;
  /** Base delay between retries; tests shorten it. */
  readonly backoffMs: number;

  constructor(config: LlmConfig, options: { backoffMs?: number } = {}) {
    this.#config = config;
    this.backoffMs = options.backoffMs ?? 500;
  }

  /** True when a base URL is configured; callers fall back to extractive output otherwise. */
  get isConfigured(): boolean {
    return this.#config.baseUrl !== undefined;
  }

  get vision(): boolean {
    return this.#config.vision;
  }

  get model(): string {
    return this.#config.model;
  }

  /** The assistant's reply text. Throws LlmError after the configured retries. */
  async chat(request: ChatRequest): Promise<string> {
    const base = this.#config.baseUrl;
    if (base === undefined) throw new LlmError('no LLM endpoint configured (llm.baseUrl)');
    const url = `${base.replace(/\/+$/, '')}/chat/completions`;
    const body = JSON.stringify({
      model: this.#config.model,
      messages: request.messages,
      temperature: request.temperature ?? 0,
      ...(request.maxTokens ? { max_tokens: request.maxTokens } : {}),
      ...(request.json ? { response_format: { type: 'json_object' } } : {}),
    });
    let lastError: LlmError | undefined;
    for (let attempt = 0; attempt <= this.#config.retries; attempt += 1) {
      if (attempt > 0) await sleep(this.backoffMs * 2 ** (attempt - 1), request.signal);
      try {
        return await this.#once(url, body, request);
      } catch (error) {
        if (request.signal?.aborted) throw error;
        lastError = error instanceof LlmError ? error : new LlmError(`LLM request failed: ${(error as Error).message}`, undefined, error);
        if (!retryable(lastError.status)) break;
      }
    }
    throw lastError ?? new LlmError('LLM request failed');
  }

  async #once(url: string, body: string, request: ChatRequest): Promise<string> {
    const timeout = AbortSignal.timeout(this.#config.timeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.#config.apiKey) headers.authorization = `Bearer ${this.#config.apiKey}`;
    let response: Response;
    try {
      response = await fetch(url, { method: 'POST', headers, body, signal });
    } catch (error) {
      if (timeout.aborted) throw new LlmError(`LLM endpoint did not answer within ${this.#config.timeoutMs} ms`, undefined, error);
      throw error;
    }
    const text = await response.text();
    if (!response.ok) throw new LlmError(`LLM endpoint answered ${response.status}: ${text.slice(0, 200)}`, response.status);
    let parsed: { choices?: { message?: { content?: unknown } }[] };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      throw new LlmError(`LLM endpoint answered something that is not JSON: ${text.slice(0, 200)}`, response.status);
    }
    const content = parsed.choices?.[0]?.message?.content;
    if (typeof content !== 'string') throw new LlmError('LLM reply has no choices[0].message.content', response.status);
    if (request.json) {
      try {
        JSON.parse(content);
      } catch {
        // A model that ignored JSON mode may do better on another try.
        throw new LlmError(`LLM reply is not the JSON asked for: ${content.slice(0, 200)}`);
      }
    }
    return content;
  }
}

/** A JPEG/PNG file as a data URL for vision models. */
