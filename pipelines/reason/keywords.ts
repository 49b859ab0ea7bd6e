// Words that carry the content of a question, for full-text search and for measuring how much of
// a question an event's text covers. Question words, time words, modality verbs and filler are
// dropped: "what was said on the garage camera about the parcel" searches for "parcel".

const STOP_WORDS = new Set(
  `a about above after again against all am an and any anything are aren't around as at be been before being below
  between both but by can could couldn't did didn't do does doesn't doing don't down during each ever every few for
  from further had has have having he her here hers him his how i if in into is isn't it it's its itself just me
  more most my no nor not now of off on once only or other our ours out over own same she should so some something
  somebody someone such than that that's the their theirs them then there these they this those through to too under
  until up very was wasn't we were weren't what what's when where which while who whom why will with would you your
  yours ok okay please tell show me let us know happen happened happening happens occur occurred going go went get got
  thing things stuff kind sort any anyone anybody everything everyone time times moment moments
  say said says saying told tell telling mention mentioned talk talked talking spoke speak speaking hear heard hearing
  listen see saw seen seeing look looked looking appear appeared appears shown showed visible watch watched
  written write wrote read display displayed screen onscreen
  camera cameras cam video videos stream streams recording footage feed clip mic microphone
  today yesterday tonight morning afternoon evening night last past previous recent recently ago earlier later first
  minute minutes hour hours second seconds day days week weeks
  like just also really there's`.split(/\s+/).filter(Boolean),
);

/** Whether a (lower-case) word is filler that never names what a question is about. */
export function isStopWord(word: string): boolean {
  return STOP_WORDS.has(word);
}

/** Lower-cased words of a text: letters and digits, apostrophes inside words kept. */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+(?:['’][\p{L}]+)*/gu) ?? [];
}

/** The content words of a question, in order, without duplicates. */
export function keywords(text: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const word of words(text)) {
    const w = word.replace(/’/g, "'");
    if (STOP_WORDS.has(w) || seen.has(w)) continue;
    if (w.length < 2 && !/\d/.test(w)) continue;
    seen.add(w);
    out.push(w);
  }
  return out;
}

/** A light stemmer for matching only ("deliveries" ~ "delivery", "parked" ~ "park"), never shown. */
export function stem(word: string): string {
  let w = word.toLowerCase();
  if (w.length > 4 && w.endsWith('ies')) w = `${w.slice(0, -3)}y`;
  else if (w.length > 4 && w.endsWith('es') && /(?:s|x|z|ch|sh)es$/.test(w)) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss')) w = w.slice(0, -1);
  if (w.length > 5 && w.endsWith('ing')) w = w.slice(0, -3);
  else if (w.length > 4 && w.endsWith('ed')) w = w.slice(0, -2);
  return w;
}

/**
 * Adjacent keywords run together ("delivery notice" -> "deliverynotice"): OCR often reads words on
 * a sign without the space between them, and full-text search matches whole tokens only.
 */
export function compounds(keywordList: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < keywordList.length; i += 1) out.push(`${keywordList[i]}${keywordList[i + 1]}`);
  return out;
}

/** A text token this long may be several words OCR ran together; keywords are looked for inside it. */
const RUN_TOGETHER = 8;

/**
 * Share of the keywords found in a text (0..1), matched on stems so inflections count, and inside
 * long tokens where OCR ran words together (at their ends). Zero when there are no keywords: an empty question
 * covers nothing.
 */
export function coverage(keywordList: readonly string[], text: string): number {
  if (keywordList.length === 0) return 0;
  const tokens = words(text);
  const present = new Set(tokens.map(stem));
  const long = tokens.filter((t) => t.length >= RUN_TOGETHER);
  let hit = 0;
  for (const k of keywordList) {
    const key = stem(k);
    // Only at either end of a run-together token: "deliverynotice" holds "delivery" and "notice",
    // not "live".
    if (present.has(key) || (key.length >= 3 && long.some((t) => t !== key && (t.startsWith(key) || t.endsWith(key))))) hit += 1;
  }
  return hit / keywordList.length;
}

/** The sentence or line of a text that covers most keywords: the quote an answer shows. */
export function bestQuote(keywordList: readonly string[], text: string, maxLength = 160): string {
  const pieces = text
    .split(/(?<=[.!?])\s+|\n+|\s+\|\s+/)
    .map((p) => p.trim())
    .filter(Boolean);
  if (pieces.length === 0) return '';
  let best = pieces[0] ?? '';
  let bestScore = -1;
  for (const piece of pieces) {
    const score = coverage(keywordList, piece);
    if (score > bestScore) {
      best = piece;
      bestScore = score;
    }
  }
  return best.length > maxLength ? `${best.slice(0, maxLength - 1).trimEnd()}…` : best;
}
