// Who is in which of ../shared/media/people's clips (ATTRIBUTION.md), and the pairwise F1 the face
// tests score identities by: a pair of clips is right when "same identity" agrees with "same person".

/** ATTRIBUTION.md: clip name (without .mkv) -> person. */
export const PERSON: Record<string, string> = { again: 'misfits', brother: 'misfits', bird: 'grey', milk: 'grey', book: 'yellow', learn: 'yellow', eat: 'black', night: 'black', hungry: 'glasses' };
export const CLIPS = Object.keys(PERSON);

/** Pairwise F1 over clip pairs: same identity given vs same person in truth; an unassigned clip matches nothing. */
export function pairwiseF1(assigned: Record<string, string | undefined>): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let a = 0; a < CLIPS.length; a += 1) {
    for (let b = a + 1; b < CLIPS.length; b += 1) {
      const truth = PERSON[CLIPS[a]!] === PERSON[CLIPS[b]!];
      const given = assigned[CLIPS[a]!] !== undefined && assigned[CLIPS[a]!] === assigned[CLIPS[b]!];
      if (truth && given) tp += 1;
      else if (given) fp += 1;
      else if (truth) fn += 1;
    }
  }
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}
