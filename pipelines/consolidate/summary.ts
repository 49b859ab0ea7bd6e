// Semantic summaries: through an OpenAI-compatible chat model when one is configured (keyframes
// as images for vision models, JSON output), otherwise, or when the endpoint fails, an extractive
// summary from transcript, on-screen text and tags, and the event is marked for a later upgrade.
import type { EventObjects } from '../records/event.js';
import type { ChatContentPart, ChatMessage } from '../repositories/llm.js';
import { describeObjects, objectFacts } from './objects.js';

/** What a summary is made from: a closed event, or a merged or stored one. */
export interface SummaryInput {
  stream: string;
  start: number;
  end: number;
  startedAt: number;
  transcript: string;
  ocr: string;
  tags: string[];
  /** Blob paths of keyframe thumbnails, the representative one first. */
  thumbnails: string[];
  /** What the detector saw (labels, counts, tracks); absent without a detector. */
  objects?: EventObjects;
}

export interface SummaryResult {
  summary: string;
  /** Extra tags the model suggested (lower-case words). */
  tags: string[];
  /** True when extractive: an LLM should upgrade it later. */
  needsSummary: boolean;
}

/** The part of LlmClient summaries need (so tests can pass a real client or a failing one). */
export interface ChatModel {
  readonly isConfigured: boolean;
  readonly vision: boolean;
  chat(request: { messages: ChatMessage[]; json?: boolean; signal?: AbortSignal }): Promise<string>;
}

const clip = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n - 1).trimEnd()}…`);

function describeTags(tags: string[], hasTranscript: boolean): string {
  const parts: string[] = [];
  const motion = tags.find((t) => t.startsWith('motion-'));
  if (motion) parts.push(`${motion.slice('motion-'.length)} motion`);
  // Voice activity without a speech model still tells people someone spoke, and when.
  if (tags.includes('speech') && !hasTranscript) parts.push('someone speaking');
  for (const t of tags) {
    if (t.startsWith('motion-') || t === 'speech' || t === 'text') continue;
    parts.push(t);
  }
  return parts.join(', ');
}

/**
 * A readable one-to-three sentence summary built only from what was perceived. `trackMemorySeconds`
 * (segment.tracks.memorySeconds) tells an object moved from one taken away (objects.ts).
 */
export function extractiveSummary(input: SummaryInput, trackMemorySeconds = 0): string {
  const seconds = Math.max(0, input.end - input.start);
  const parts: string[] = [];
  const speech = input.transcript.replace(/\s+/g, ' ').trim();
  const text = input.ocr.replace(/\s+/g, ' ').trim();
  // What was there comes first: it is what people ask a camera about.
  if (input.objects) parts.push(...describeObjects(input.objects, trackMemorySeconds));
  if (speech) parts.push(`Speech: "${clip(speech, 200)}".`);
  if (text) parts.push(`On screen: "${clip(text, 120)}".`);
  const scene = describeTags(input.tags, speech.length > 0);
  parts.push(`${scene ? `${scene[0]?.toUpperCase()}${scene.slice(1)}` : 'Scene'} on ${input.stream} for ${seconds.toFixed(seconds < 10 ? 1 : 0)} s.`);
  return parts.join(' ');
}

export function summaryMessages(input: SummaryInput, images: string[]): ChatMessage[] {
  const facts = [
    `Stream: ${input.stream}`,
    `Time: ${new Date(input.startedAt).toISOString()} (stream ${input.start.toFixed(1)}-${input.end.toFixed(1)} s)`,
    `Tags: ${input.tags.join(', ') || 'none'}`,
    `Transcript: ${input.transcript.trim() || '(none)'}`,
    `On-screen text: ${input.ocr.trim() || '(none)'}`,
    `Objects detected (label: distinct, most at once, tracks with stream times): ${input.objects ? `\n${objectFacts(input.objects)}` : '(no detector)'}`,
  ].join('\n');
  const content: ChatContentPart[] = [{ type: 'text', text: facts }];
  for (const url of images) content.push({ type: 'image_url', image_url: { url } });
  return [
    {
      role: 'system',
      content:
        'You summarise one event seen and heard by a camera or microphone for a searchable memory. ' +
        'Answer with a JSON object {"summary": string, "tags": string[]}: summary is one or two plain sentences ' +
        'saying what happened, who or what was involved and anything said or written; tags are a few lower-case words ' +
        '(objects, actions). State only what the facts or images show.',
    },
    { role: 'user', content },
  ];
}

/** Parses the model's JSON; undefined when it is not the shape asked for. */
export function parseSummaryReply(reply: string): { summary: string; tags: string[] } | undefined {
  try {
    const value = JSON.parse(reply) as { summary?: unknown; tags?: unknown };
    if (typeof value.summary !== 'string' || value.summary.trim() === '') return undefined;
    const tags = Array.isArray(value.tags)
      ? value.tags.filter((t): t is string => typeof t === 'string').map((t) => t.toLowerCase().trim().replace(/\s+/g, '-')).filter((t) => /^[a-z0-9][a-z0-9_-]{0,39}$/.test(t)).slice(0, 12)
      : [];
    return { summary: value.summary.trim().slice(0, 2000), tags };
  } catch {
    return undefined;
  }
}

export interface Summarizer {
  summarize(input: SummaryInput, signal?: AbortSignal): Promise<SummaryResult>;
}

/**
 * A summarizer over a chat model and an image loader (blob path -> data URL). Never throws for an
 * endpoint failure: it returns the extractive summary, marked for upgrade, and reports the error.
 */
export function makeSummarizer(
  model: ChatModel,
  loadImage: (blobPath: string) => Promise<string | undefined>,
  options: { maxImages: number; onError?: (error: unknown) => void; failureCooldownMs?: number; now?: () => number; trackMemorySeconds?: number },
): Summarizer {
  const now = options.now ?? Date.now;
  // After a failure the endpoint is left alone for a while: every event would otherwise wait
  // out the full retries and timeouts, and the consolidate queue would fall behind.
  let skipUntil = 0;
  return {
    async summarize(input, signal) {
      const fallback: SummaryResult = { summary: extractiveSummary(input, options.trackMemorySeconds), tags: [], needsSummary: true };
      if (!model.isConfigured || now() < skipUntil) return fallback;
      const failed = (error: unknown) => {
        skipUntil = now() + (options.failureCooldownMs ?? 0);
        options.onError?.(error);
        return fallback;
      };
      try {
        const images: string[] = [];
        if (model.vision) {
          // The representative thumbnail is usually also a moment's; send each picture once.
          for (const path of [...new Set(input.thumbnails)].slice(0, options.maxImages)) {
            const url = await loadImage(path);
            if (url) images.push(url);
          }
        }
        const reply = await model.chat({ messages: summaryMessages(input, images), json: true, signal });
        const parsed = parseSummaryReply(reply);
        if (!parsed) return failed(new Error(`summary reply is not {"summary", "tags"}: ${reply.slice(0, 200)}`));
        return { ...parsed, needsSummary: false };
      } catch (error) {
        if (signal?.aborted) throw error;
        return failed(error);
      }
    },
  };
}
