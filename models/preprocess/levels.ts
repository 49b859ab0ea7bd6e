// Audio level statistics: overall RMS and peak in dBFS, and per-window RMS with a silence flag.
export interface AudioLevels {
  rmsDb: number;
  peakDb: number;
  windows: { t: number; rmsDb: number; silent: boolean }[];
}

/** dBFS of a linear amplitude; digital silence is -Infinity clamped to -120 so JSON keeps a number. */
export const toDb = (amplitude: number) => (amplitude > 0 ? Math.max(-120, 20 * Math.log10(amplitude)) : -120);

export function audioLevels(pcm: Float32Array, sampleRate: number, options: { windowMs: number; silenceDb: number }): AudioLevels {
  if (!(sampleRate > 0)) throw new RangeError(`sample rate ${sampleRate} is not positive`);
  const size = Math.max(1, Math.round((sampleRate * options.windowMs) / 1000));
  let total = 0;
  let peak = 0;
  const windows: AudioLevels['windows'] = [];
  for (let start = 0; start < pcm.length; start += size) {
    const end = Math.min(pcm.length, start + size);
    let sq = 0;
    for (let i = start; i < end; i += 1) {
      const v = pcm[i] as number;
      sq += v * v;
      const a = v < 0 ? -v : v;
      if (a > peak) peak = a;
    }
    total += sq;
    const rmsDb = toDb(Math.sqrt(sq / (end - start)));
    windows.push({ t: start / sampleRate, rmsDb, silent: rmsDb < options.silenceDb });
  }
  return { rmsDb: toDb(Math.sqrt(total / Math.max(pcm.length, 1))), peakDb: toDb(peak), windows };
}
