// Stream names in a question: "on the garage camera" picks the stream "garage" (or "garage-cam",
// "cam_garage"), matched against the streams memory actually holds, never guessed.

/** Words that name the device rather than the place, so "garage camera" matches "garage". */
const DEVICE_WORDS = new Set(['cam', 'camera', 'cams', 'cameras', 'mic', 'microphone', 'feed', 'stream', 'video', 'audio', 'rtsp', 'ip']);

function parts(name: string): string[] {
  return name
    .toLowerCase()
    .split(/[-_\s]+/)
    .filter((p) => p.length > 0 && !DEVICE_WORDS.has(p));
}

export interface StreamMention {
  streams: string[];
  /** The question with the phrases naming those streams blanked out. */
  rest: string;
  phrases: string[];
}

/**
 * Finds known streams named in a question. With `pointedOnly`, only those named right after "on"
 * or "from" ("on night"), which are read before times of day so a stream called "night" or
 * "morning" is not taken for one. A stream is named when every distinctive part of its
 * name appears as a word ("front-door" needs both "front" and "door"), optionally followed by a
 * device word ("camera") and preceded by "on/from/at/in the". Longer names win over their prefixes.
 */
export function findStreams(question: string, known: readonly string[], options: { pointedOnly?: boolean } = {}): StreamMention {
  let rest = question.toLowerCase();
  const found: string[] = [];
  const phrases: string[] = [];
  const candidates = [...known].sort((a, b) => parts(b).length - parts(a).length || b.length - a.length);
  for (const name of candidates) {
    const p = parts(name);
    if (p.length === 0) continue;
    const escaped = p.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    // The full name as written ("garage-cam") or its parts separated by spaces/dashes ("front door").
    const body = `(?:${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}|${escaped.join('[\\s_-]+')})`;
    const pattern = new RegExp(
      String.raw`(\b(?:on|from|at|in|by|through|via|for)\s+)?(?:(?:the|my|our)\s+)?\b${body}\b(\s+(?:${[...DEVICE_WORDS].join('|')})\b)?`,
      'g',
    );
    // A one-word name that is also an ordinary word ("car", "door") only counts as a stream when
    // the question points at it as one: "on the car camera", "from car".
    const distinctive = p.length > 1 || /\d/.test(name);
    let matched = false;
    rest = rest.replace(pattern, (m, preposition: string | undefined, device: string | undefined) => {
      if (!distinctive && !preposition && !device) return m;
      if (options.pointedOnly && !/^(?:on|from)\s/.test(preposition ?? '')) return m;
      matched = true;
      phrases.push(m.trim());
      return ' '.repeat(m.length);
    });
    if (matched) found.push(name);
  }
  return { streams: found, rest, phrases };
}
