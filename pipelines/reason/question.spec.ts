import { describe, expect, it } from 'vitest';
import { fromLocal } from './clock.js';
import { bestQuote, compounds, coverage, keywords } from './keywords.js';
import { ModalityHint, OrderDirection, parseQuestion, QuestionType } from './question.js';
import { findStreams } from './streams-in-question.js';

const TZ = 'UTC';
const NOW = Date.UTC(2026, 10, 28, 15, 20);
const STREAMS = ['garage', 'front-door', 'kitchen-cam', 'car', 'lobby2'];
const ctx = { now: NOW, timeZone: TZ, streams: STREAMS };

describe('findStreams', () => {
  it('matches "on the garage camera" to the stream garage and removes the phrase', () => {
    const m = findStreams('what was said on the garage camera?', STREAMS);
    expect(m.streams).toEqual(['garage']);
    expect(m.rest).not.toMatch(/garage|camera/);
  });

  it('matches multi-word names written with spaces, and names with device words', () => {
    expect(findStreams('who was at the front door', STREAMS).streams).toEqual(['front-door']);
    expect(findStreams('anything in the kitchen?', STREAMS).streams).toEqual(['kitchen-cam']);
    expect(findStreams('LOBBY2 at noon', STREAMS).streams).toEqual(['lobby2']);
  });

  it('does not read an ordinary word as a one-word stream unless pointed at as one', () => {
    expect(findStreams('when did the red car leave', STREAMS).streams).toEqual([]);
    expect(findStreams('what did the car camera see', STREAMS).streams).toEqual(['car']);
  });

  it('finds nothing when no known stream is named', () => {
    expect(findStreams('what happened on the porch camera', STREAMS).streams).toEqual([]);
  });
});

describe('keywords', () => {
  it('drops question words, modality verbs, time and device words', () => {
    expect(keywords('What was said about the parcel on the camera yesterday?')).toEqual(['parcel']);
    expect(keywords('When did the red van arrive?')).toEqual(['red', 'van', 'arrive']);
  });

  it('measures coverage on stems, so inflections count', () => {
    expect(coverage(['delivery', 'parcels'], 'Deliveries: one parcel at the door')).toBe(1);
    expect(coverage(['delivery', 'van'], 'a parcel at the door')).toBe(0);
    expect(coverage([], 'anything')).toBe(0);
  });

  it('finds keywords that OCR ran together, and offers the compounds to full-text search', () => {
    expect(coverage(['delivery', 'notice'], 'On screen: DELIVERYNOTICE')).toBe(1);
    expect(coverage(['door'], 'FRONTDOOR')).toBe(1);
    expect(coverage(['live'], 'DELIVERYNOTICE')).toBe(0); // inside, not at an end
    expect(compounds(['delivery', 'notice', 'door'])).toEqual(['deliverynotice', 'noticedoor']);
  });

  it('quotes the sentence that covers most keywords', () => {
    expect(bestQuote(['parcel'], 'Hello there. Your parcel is at the door. Goodbye.')).toBe('Your parcel is at the door.');
  });
});

describe('parseQuestion', () => {
  it('routes a speech question to audio and keeps its content words', () => {
    const q = parseQuestion('What did the courier say about the parcel?', ctx);
    expect(q.type).toBe(QuestionType.Audio);
    expect(q.hints).toContain(ModalityHint.Speech);
    expect(q.keywords).toEqual(['courier', 'parcel']);
  });

  it('routes "what was written" and colour questions to visual', () => {
    const written = parseQuestion('What was written on the sign?', ctx);
    expect(written.type).toBe(QuestionType.Visual);
    expect(written.hints).toContain(ModalityHint.Text);
    const colour = parseQuestion('When did I see a red scene?', ctx);
    expect(colour.type).toBe(QuestionType.Visual);
    expect(colour.searchText).toBe('red scene');
  });

  it('routes a question with both senses, or none, to audio-visual', () => {
    expect(parseQuestion('Did I see the dog when I heard the bark?', ctx).type).toBe(QuestionType.AudioVisual);
    expect(parseQuestion('the delivery van', ctx).type).toBe(QuestionType.AudioVisual);
  });

  it('routes "what happened this morning" to summary, with its time window', () => {
    const q = parseQuestion('What happened this morning on the garage camera?', ctx);
    expect(q.type).toBe(QuestionType.Summary);
    expect(q.streams).toEqual(['garage']);
    expect(q.wall).toEqual({ from: fromLocal({ year: 2026, month: 11, day: 28, hour: 5 }, TZ), to: fromLocal({ year: 2026, month: 11, day: 28, hour: 12 }, TZ) });
  });

  it('reads order questions as an anchor and a direction', () => {
    const q = parseQuestion('What happened after the doorbell rang?', ctx);
    expect(q.order).toEqual({ direction: OrderDirection.After, anchor: 'the doorbell rang', anchorKeywords: ['doorbell', 'rang'] });
    expect(q.type).not.toBe(QuestionType.Summary);
    const before = parseQuestion('What was said right before the van left?', ctx);
    expect(before.order?.direction).toBe(OrderDirection.Before);
    expect(before.order?.anchorKeywords).toEqual(['van', 'left']);
    expect(before.hints).toContain(ModalityHint.Speech);
  });

  it('does not read a clock time after "after" as an order question', () => {
    const q = parseQuestion('What happened after 2 pm?', ctx);
    expect(q.order).toBeUndefined();
    expect(q.wall?.from).toBe(Date.UTC(2026, 10, 28, 14));
  });

  it('keeps quoted phrases and ignores apostrophes inside words', () => {
    expect(parseQuestion('When did the screen say "DELIVERY NOTICE"?', ctx).quoted).toEqual(['DELIVERY NOTICE']);
    expect(parseQuestion("Where's the man's bag? I didn't see it", ctx).quoted).toEqual([]);
  });

  it('reads "on night" as the stream night, not a time of day; without "on" or "from" night is still the night', () => {
    const streams = { ...ctx, streams: ['night', 'morning', 'garage'] };
    const q = parseQuestion('when did someone appear on night?', streams);
    expect(q.streams).toEqual(['night']);
    expect(q.wall).toBeUndefined();
    expect(parseQuestion('what happened this morning from morning?', streams)).toMatchObject({ streams: ['morning'], wall: { from: fromLocal({ year: 2026, month: 11, day: 28, hour: 5 }, TZ) } });
    const last = parseQuestion('was anyone on the garage camera last night?', streams);
    expect(last.streams).toEqual(['garage']);
    expect(last.wall).toBeDefined();
  });

  it('combines stream, time and content', () => {
    const q = parseQuestion('What was on screen at 1:20 into the video on the garage camera?', ctx);
    expect(q.streamTime).toEqual({ start: 79, end: 81 });
    expect(q.streams).toEqual(['garage']);
    expect(q.keywords).toEqual([]);
  });
});
