// Understanding a question before retrieval: when (time windows), where (streams), through which
// sense (modality hints), what kind of question (HippoMM's routing: visual, audio, audio-visual,
// summary), whether it asks about order ("after the doorbell"), and the words worth searching for.
import { keywords } from './keywords.js';
import { findStreams } from './streams-in-question.js';
import { readTime, type StreamWindow, type TimeContext, type WallWindow } from './time-expressions.js';

/** The sense a question points at. */
export enum ModalityHint {
  /** saw, seen, shown, look, appear, colours: the picture. */
  Visual = 'visual',
  /** said, told, mentioned, talked: words spoken. */
  Speech = 'speech',
  /** heard, sound, noise, ring, bark: any sound. */
  Sound = 'sound',
  /** written, read, sign, on screen: text in the picture. */
  Text = 'text',
}

/** HippoMM's query routing: which memories to search first. */
export enum QuestionType {
  Visual = 'visual',
  Audio = 'audio',
  AudioVisual = 'audio-visual',
  /** "What happened this morning?": episodes and summaries, not one moment. */
  Summary = 'summary',
}

export enum OrderDirection {
  After = 'after',
  Before = 'before',
}

export interface OrderQuery {
  direction: OrderDirection;
  /** The thing the question is anchored on: "the doorbell rang". */
  anchor: string;
  anchorKeywords: string[];
}

export interface ParsedQuestion {
  question: string;
  /** Content words for full-text search (time, stream and filler words removed). */
  keywords: string[];
  /** The question's content as a phrase for text encoders ("a red car", not "when did I see a red car yesterday"). */
  searchText: string;
  /** The question without its time and stream phrases: what it asks about. */
  about: string;
  /** Exact phrases the user quoted ("the sign said 'CLOSED'"). */
  quoted: string[];
  wall?: WallWindow;
  streamTime?: StreamWindow;
  streams: string[];
  hints: ModalityHint[];
  type: QuestionType;
  order?: OrderQuery;
}

export interface QuestionContext extends TimeContext {
  /** Streams memory knows; only these can be matched by name. */
  streams: readonly string[];
}

const HINT_WORDS: Record<ModalityHint, RegExp> = {
  [ModalityHint.Visual]: /\b(saw|see|sees|seen|seeing|look(?:s|ed|ing)?|appear(?:s|ed|ing)?|visible|show(?:s|n|ed|ing)?|watch(?:ed)?|colou?rs?|red|green|blue|yellow|white|black|orange|purple|pink|brown|grey|gray|wear(?:ing|s)?|wore|picture|image|frame|scene|drove|driving|walk(?:s|ed|ing)?|enter(?:s|ed)?|left|arriv(?:e|ed|es|al)|pass(?:ed|es|ing)?)\b/,
  [ModalityHint.Speech]: /\b(said|say|says|saying|told|tell|mention(?:s|ed)?|talk(?:s|ed|ing)?|spoke|speak(?:s|ing)?|words?|asked|ask|announce(?:d|ment)?|conversation|voice|sentence|quote)\b/,
  [ModalityHint.Sound]: /\b(heard|hear|hearing|sounds?|noises?|ring(?:s|ing)?|rang|bark(?:s|ed|ing)?|beep(?:s|ed|ing)?|music|alarm|loud|quiet|silen(?:t|ce)|audio|listen(?:ed)?|knock(?:s|ed|ing)?|doorbell|siren)\b/,
  [ModalityHint.Text]: /\b(written|write|wrote|read|reads|sign|signs|text|label|caption|screen|display(?:s|ed)?|notice|banner|poster|subtitle|letters|printed|spell(?:s|ed)?)\b/,
};

// "What happened this morning?", "summarise the day", "give me an overview": the whole, not a moment.
const SUMMARY = /\b(summar(?:y|ise|ize|ised|ized)|overview|recap|rundown|highlights|everything|anything (?:interesting|unusual|notable)|(?:what|anything)\s+(?:has\s+|have\s+)?(?:happened|went on|was going on|going on|did i miss))\b/;

const ORDER = /\b(right\s+after|just\s+after|straight\s+after|soon\s+after|after|following|just\s+before|right\s+before|before|prior\s+to|preceding|leading\s+up\s+to)\s+(.+)$/;

/** Reads a question; pure: the same question, `now`, zone and stream list give the same result. */
export function parseQuestion(question: string, context: QuestionContext): ParsedQuestion {
  // Double quotes anywhere; single quotes only around words, so "didn't ... man's" is not a quote.
  const quoted = [...question.matchAll(/["“«]([^"”»]{2,})["”»]|(?<=^|\s)'([^']{2,})'(?=$|[\s?.!,])/g)]
    .map((m) => (m[1] ?? m[2] ?? '').trim())
    .filter(Boolean);
  // "on night" names the stream "night", not the night: streams pointed at by "on" or "from"
  // are read first, then times, then the other ways of naming a stream.
  const pointed = findStreams(question, context.streams, { pointedOnly: true });
  const time = readTime(pointed.rest, context);
  const others = findStreams(time.rest, context.streams.filter((s) => !pointed.streams.includes(s)));
  const named = { streams: [...pointed.streams, ...others.streams], rest: others.rest };
  let rest = named.rest;

  let order: OrderQuery | undefined;
  const orderMatch = ORDER.exec(rest);
  if (orderMatch) {
    const anchor = (orderMatch[2] ?? '').replace(/[?.!\s]+$/, '').trim();
    const anchorKeywords = keywords(anchor);
    if (anchorKeywords.length > 0) {
      const word = orderMatch[1] ?? '';
      order = {
        direction: /after|following/.test(word) ? OrderDirection.After : OrderDirection.Before,
        anchor,
        anchorKeywords,
      };
      // The anchor is found by its own search; what is asked about is the rest.
      rest = rest.slice(0, orderMatch.index);
    }
  }
  // Hints describe what is asked about: in "what happened after the notice", "notice" names the
  // anchor, not a wish for written text in the answer.
  const hints = (Object.keys(HINT_WORDS) as ModalityHint[]).filter((hint) => HINT_WORDS[hint].test(rest));

  const words = keywords(rest);
  const isSummary = SUMMARY.test(rest) && words.length <= 2 && !order;
  const visual = hints.includes(ModalityHint.Visual) || hints.includes(ModalityHint.Text);
  const audio = hints.includes(ModalityHint.Speech) || hints.includes(ModalityHint.Sound);
  const type = isSummary
    ? QuestionType.Summary
    : visual && !audio
      ? QuestionType.Visual
      : audio && !visual
        ? QuestionType.Audio
        : QuestionType.AudioVisual;

  const searchText = words.length > 0 ? words.join(' ') : (order?.anchorKeywords.join(' ') ?? '');
  return {
    question,
    keywords: words,
    searchText,
    about: named.rest,
    quoted,
    ...(time.wall ? { wall: time.wall } : {}),
    ...(time.streamTime ? { streamTime: time.streamTime } : {}),
    streams: named.streams,
    hints,
    type,
    ...(order ? { order } : {}),
  };
}
