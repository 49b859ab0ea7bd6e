// Answering through an OpenAI-compatible chat model: the evidence goes into the prompt with its
// event ids, the model answers in JSON citing ids, and any id that was not in the evidence is
// dropped (a model that invents a citation must not make engram claim proof it does not have).
import { formatClock, formatDate, formatStreamTime } from './clock.js';
import type { ScoredEvent } from './extractive-answer.js';
import type { ParsedQuestion } from './question.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

const SYSTEM = [
  'You answer questions about what cameras and microphones recorded, using ONLY the evidence given.',
  'Each evidence item is an event with an id, a stream, its time, a summary, and what was said or written.',
  'Say when and where things happened (stream and time). If the evidence does not answer the question, say',
  'plainly that memory holds nothing about it; never guess or add facts that are not in the evidence.',
  'Reply with one JSON object: {"answer": string, "citations": [event ids from the evidence that support the answer]}.',
].join(' ');

/** One evidence item as the model reads it. Text fields are trimmed so a long transcript cannot crowd out the rest. */
function evidenceBlock(item: ScoredEvent, timeZone: string): string {
  const e = item.event;
  const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
  const lines = [
    `id: ${e.id}`,
    `stream: ${e.stream}`,
    `time: ${formatDate(e.startedAt, timeZone)} ${formatClock(e.startedAt, timeZone, true)} (${formatStreamTime(e.start)}-${formatStreamTime(e.end)} into the stream)`,
    `role: ${item.role}`,
  ];
  if (e.summary) lines.push(`summary: ${clip(e.summary, 400)}`);
  if (e.transcript) lines.push(`said: ${clip(e.transcript, 600)}`);
  if (e.ocr) lines.push(`on screen: ${clip(e.ocr, 300)}`);
  if (e.tags.length > 0) lines.push(`tags: ${e.tags.join(', ')}`);
  return lines.join('\n');
}

export function buildAnswerMessages(parsed: ParsedQuestion, items: readonly ScoredEvent[], timeZone: string, now: number): ChatMessage[] {
  const evidence = items.length > 0 ? items.map((i) => evidenceBlock(i, timeZone)).join('\n\n') : '(no evidence: memory holds nothing relevant)';
  const order = parsed.order ? `\nThe question asks what happened ${parsed.order.direction} "${parsed.order.anchor}": the anchor and what followed are marked by role.` : '';
  const user = [
    `Now: ${formatDate(now, timeZone)} ${formatClock(now, timeZone, true)} (${timeZone}).`,
    `Question: ${parsed.question}${order}`,
    '',
    'Evidence:',
    evidence,
  ].join('\n');
  return [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: user },
  ];
}

export interface LlmAnswer {
  answer: string;
  /** Cited ids that are in the evidence, in the model's order, without duplicates. */
  citations: string[];
  /** Cited ids that were not in the evidence (logged, never shown as proof). */
  dropped: string[];
}

function extractJson(raw: string): unknown {
  const text = raw.trim();
  try {
    return JSON.parse(text);
  } catch {
    // Models sometimes wrap JSON in a code fence or prose; take the outermost object.
    const start = text.indexOf('{');
    const end = text.lastIndexOf('}');
    if (start < 0 || end <= start) return undefined;
    try {
      return JSON.parse(text.slice(start, end + 1));
    } catch {
      return undefined;
    }
  }
}

/**
 * Reads the model's reply. Returns undefined when it is not the JSON asked for, so the caller
 * falls back to the extractive answer instead of showing a malformed reply.
 */
export function parseAnswerReply(raw: string, evidenceIds: ReadonlySet<string>): LlmAnswer | undefined {
  const value = extractJson(raw);
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const answer = typeof record.answer === 'string' ? record.answer.trim() : '';
  if (!answer) return undefined;
  const cited = Array.isArray(record.citations) ? record.citations : Array.isArray(record.evidence) ? record.evidence : [];
  const citations: string[] = [];
  const dropped: string[] = [];
  for (const c of cited) {
    const id = typeof c === 'string' ? c.trim() : typeof c === 'object' && c !== null && typeof (c as { id?: unknown }).id === 'string' ? ((c as { id: string }).id).trim() : '';
    if (!id) continue;
    if (evidenceIds.has(id)) {
      if (!citations.includes(id)) citations.push(id);
    } else if (!dropped.includes(id)) {
      dropped.push(id);
    }
  }
  // An invented id quoted inline ("[garage.0000099000]") goes too.
  let cleaned = answer;
  for (const id of dropped) cleaned = cleaned.split(`[${id}]`).join('').split(id).join('');
  cleaned = cleaned.replace(/\s{2,}/g, ' ').replace(/\s+([.,;:])/g, '$1').trim();
  return { answer: cleaned, citations, dropped };
}
