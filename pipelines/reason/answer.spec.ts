import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../records/event.js';
import { EvidenceRole, QuoteSource, writeExtractiveAnswer, type ScoredEvent } from './extractive-answer.js';
import { buildAnswerMessages, parseAnswerReply } from './llm-answer.js';
import { parseQuestion } from './question.js';

const TZ = 'UTC';
const NOW = Date.UTC(2026, 10, 28, 15, 20);
const ctx = { now: NOW, timeZone: TZ, streams: ['garage'] };

function event(id: string, start: number, fields: Partial<StoredEvent> = {}): StoredEvent {
  return {
    id,
    stream: 'garage',
    start,
    end: start + 10,
    startedAt: Date.UTC(2026, 10, 28, 14, 0) + start * 1000,
    endedAt: Date.UTC(2026, 10, 28, 14, 0) + (start + 10) * 1000,
    summary: '',
    transcript: '',
    ocr: '',
    tags: [],
    thumbnail: null,
    strength: 1,
    recallCount: 0,
    lastRecalledAt: null,
    level: 0,
    needsSummary: false,
    labels: [],
    counts: {},
    tracks: [],
    people: [],
    ...fields,
  };
}

function item(e: StoredEvent, fields: Partial<ScoredEvent> = {}): ScoredEvent {
  return { event: e, score: 0.03, confidence: 0.9, role: EvidenceRole.Hit, quote: '', quoteSource: QuoteSource.None, thumbnail: null, ...fields };
}

describe('writeExtractiveAnswer', () => {
  it('says what, where and when from the best evidence', () => {
    const parsed = parseQuestion('What was written on the delivery notice?', ctx);
    const e = event('garage.0000080000', 80, { ocr: 'DELIVERY NOTICE parcel at door', summary: 'Text on screen: DELIVERY NOTICE' });
    const text = writeExtractiveAnswer([item(e, { quote: 'DELIVERY NOTICE parcel at door', quoteSource: QuoteSource.Ocr })], { parsed, timeZone: TZ, now: NOW, eventsInRange: 5, streams: [] });
    expect(text).toBe('At 14:01:20 (1:20–1:30 into garage): the picture showed the text "DELIVERY NOTICE parcel at door".');
  });

  it('quotes speech and lists other comparable hits', () => {
    const parsed = parseQuestion('What did they say about the parcel?', ctx);
    const a = item(event('garage.0000010000', 10), { quote: 'the parcel is here', quoteSource: QuoteSource.Transcript });
    const b = item(event('garage.0000050000', 50), { quote: 'parcel again', quoteSource: QuoteSource.Transcript, confidence: 0.8 });
    const c = item(event('garage.0000090000', 90), { confidence: 0.1 });
    const text = writeExtractiveAnswer([a, b, c], { parsed, timeZone: TZ, now: NOW, eventsInRange: 5, streams: [] });
    expect(text).toContain('someone said "the parcel is here"');
    expect(text).toContain('Also at 14:00:50 (0:50–1:00 into garage).');
    expect(text).not.toContain('1:30');
  });

  it('says plainly when nothing relevant is in memory, and when memory is empty in range', () => {
    const parsed = parseQuestion('What did the astronaut say about the moon on the garage camera?', ctx);
    expect(writeExtractiveAnswer([], { parsed, timeZone: TZ, now: NOW, eventsInRange: 12, streams: ['garage'] })).toBe(
      'I found nothing in memory about "astronaut moon" on garage. I will not guess.',
    );
    const inRange = parseQuestion('what happened in the last 5 minutes', ctx);
    expect(writeExtractiveAnswer([], { parsed: inRange, timeZone: TZ, now: NOW, eventsInRange: 0, streams: [] })).toBe('Memory holds no events in that time range, so I cannot answer that.');
  });

  it('answers an order question with the anchor and what followed it', () => {
    const parsed = parseQuestion('What happened after the doorbell?', ctx);
    const anchor = item(event('garage.0000020000', 20, { transcript: 'ding dong' }), { role: EvidenceRole.Anchor });
    const next = item(event('garage.0000030000', 30, { summary: 'A person opens the door' }), { role: EvidenceRole.Sequel });
    const text = writeExtractiveAnswer([anchor, next], { parsed, timeZone: TZ, now: NOW, eventsInRange: 5, streams: [] });
    expect(text).toBe('After the doorbell (at 14:00:20 (0:20–0:30 into garage)): A person opens the door, at 14:00:30 (0:30–0:40 into garage).');
  });

  it('dates evidence from another day', () => {
    const parsed = parseQuestion('the van', ctx);
    const old = event('garage.0000000000', 0, { startedAt: Date.UTC(2026, 10, 26, 9, 0), summary: 'A van parks' });
    expect(writeExtractiveAnswer([item(old)], { parsed, timeZone: TZ, now: NOW, eventsInRange: 1, streams: [] })).toMatch(/^On 2026-11-26 at 09:00:00/);
  });
});

describe('LLM answering', () => {
  it('puts every evidence item, with its id, time and text, into the prompt', () => {
    const parsed = parseQuestion('What was said after the doorbell?', ctx);
    const e = event('garage.0000020000', 20, { transcript: 'the parcel is at the door', ocr: 'DELIVERY' });
    const messages = buildAnswerMessages(parsed, [item(e, { role: EvidenceRole.Sequel })], TZ, NOW);
    const user = messages.find((m) => m.role === 'user')?.content ?? '';
    expect(user).toContain('id: garage.0000020000');
    expect(user).toContain('said: the parcel is at the door');
    expect(user).toContain('on screen: DELIVERY');
    expect(user).toContain('0:20-0:30 into the stream');
    expect(user).toContain('Question: What was said after the doorbell?');
    expect(messages[0]?.content).toMatch(/ONLY the evidence/);
  });

  it('keeps citations that are in the evidence and drops invented ones, also from the text', () => {
    const ids = new Set(['garage.0000020000', 'garage.0000030000']);
    const reply = JSON.stringify({ answer: 'A parcel was delivered [garage.0000020000] [garage.0009999999].', citations: ['garage.0000020000', 'garage.0009999999', 'garage.0000020000'] });
    expect(parseAnswerReply(reply, ids)).toEqual({ answer: 'A parcel was delivered [garage.0000020000].', citations: ['garage.0000020000'], dropped: ['garage.0009999999'] });
  });

  it('reads JSON wrapped in a code fence and refuses replies that are not the JSON asked for', () => {
    const ids = new Set(['a']);
    expect(parseAnswerReply('```json\n{"answer":"yes","citations":["a"]}\n```', ids)?.citations).toEqual(['a']);
    expect(parseAnswerReply('The van came at noon.', ids)).toBeUndefined();
    expect(parseAnswerReply('{"citations":["a"]}', ids)).toBeUndefined();
  });
});
