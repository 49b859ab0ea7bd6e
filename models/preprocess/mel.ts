// Log-mel spectrograms for the audio model families: Whisper (80 mels, n_fft 400, hop 160, log10,
// clamp to max-8, (x+4)/4) and CLAP (64 mels, n_fft 1024, hop 480, power in dB). Slaney mel scale
// and filter normalisation as in librosa / transformers' mel_filter_bank. A direct DFT with tables
// because Whisper's 400-point window is not a power of two.

export interface MelSpec {
  sampleRate: number;
  nFft: number;
  hop: number;
  nMels: number;
  fMin: number;
  fMax: number;
  frames: number;
}

const hzToMel = (hz: number) => {
  const fSp = 200 / 3;
  const minLogHz = 1000;
  const minLogMel = minLogHz / fSp;
  const logStep = Math.log(6.4) / 27;
  return hz >= minLogHz ? minLogMel + Math.log(hz / minLogHz) / logStep : hz / fSp;
};
const melToHz = (mel: number) => {
  const fSp = 200 / 3;
  const minLogHz = 1000;
  const minLogMel = minLogHz / fSp;
  const logStep = Math.log(6.4) / 27;
  return mel >= minLogMel ? minLogHz * Math.exp(logStep * (mel - minLogMel)) : fSp * mel;
};

export function melFilters(spec: MelSpec): Float32Array[] {
  const bins = spec.nFft / 2 + 1;
  const fftFreqs = Array.from({ length: bins }, (_, i) => (i * spec.sampleRate) / spec.nFft);
  const mMin = hzToMel(spec.fMin);
  const mMax = hzToMel(spec.fMax);
  const points = Array.from({ length: spec.nMels + 2 }, (_, i) => melToHz(mMin + ((mMax - mMin) * i) / (spec.nMels + 1)));
  const out: Float32Array[] = [];
  for (let m = 0; m < spec.nMels; m += 1) {
    const lo = points[m] as number;
    const mid = points[m + 1] as number;
    const hi = points[m + 2] as number;
    const enorm = 2 / (hi - lo);
    const row = new Float32Array(bins);
    for (let k = 0; k < bins; k += 1) {
      const f = fftFreqs[k] as number;
      row[k] = Math.max(0, Math.min((f - lo) / (mid - lo), (hi - f) / (hi - mid))) * enorm;
    }
    out.push(row);
  }
  return out;
}

interface Tables {
  cos: Float32Array;
  sin: Float32Array;
  window: Float32Array;
  filters: Float32Array[];
}
const tablesCache = new Map<string, Tables>();

function tables(spec: MelSpec): Tables {
  const key = JSON.stringify(spec);
  const hit = tablesCache.get(key);
  if (hit) return hit;
  const n = spec.nFft;
  const bins = n / 2 + 1;
  const cos = new Float32Array(bins * n);
  const sin = new Float32Array(bins * n);
  for (let k = 0; k < bins; k += 1) {
    for (let t = 0; t < n; t += 1) {
      const a = (2 * Math.PI * k * t) / n;
      cos[k * n + t] = Math.cos(a);
      sin[k * n + t] = Math.sin(a);
    }
  }
  // periodic Hann, as torch.hann_window and transformers' window_function use
  const window = Float32Array.from({ length: n }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
  const made = { cos, sin, window, filters: melFilters(spec) };
  tablesCache.set(key, made);
  return made;
}

/** Mel power spectrogram, [nMels][frames] row-major, from audio padded/truncated to frames*hop samples. */
export function melPower(audio: Float32Array, spec: MelSpec): Float32Array {
  const { nFft: n, hop, nMels, frames } = spec;
  const { cos, sin, window, filters } = tables(spec);
  const bins = n / 2 + 1;
  const want = frames * hop;
  const x = new Float32Array(want);
  x.set(audio.subarray(0, want));
  // centre padding with reflection, as torch.stft(center=True)
  const half = n / 2;
  const padded = new Float32Array(want + n);
  padded.set(x, half);
  for (let i = 0; i < half; i += 1) {
    padded[half - 1 - i] = x[Math.min(i + 1, want - 1)] as number;
    padded[half + want + i] = x[Math.max(want - 2 - i, 0)] as number;
  }
  const out = new Float32Array(nMels * frames);
  const frame = new Float32Array(n);
  const power = new Float32Array(bins);
  for (let f = 0; f < frames; f += 1) {
    const start = f * hop;
    for (let t = 0; t < n; t += 1) frame[t] = (padded[start + t] as number) * (window[t] as number);
    for (let k = 0; k < bins; k += 1) {
      let re = 0;
      let im = 0;
      const base = k * n;
      for (let t = 0; t < n; t += 1) {
        const v = frame[t] as number;
        re += v * (cos[base + t] as number);
        im -= v * (sin[base + t] as number);
      }
      power[k] = re * re + im * im;
    }
    for (let m = 0; m < nMels; m += 1) {
      const row = filters[m] as Float32Array;
      let s = 0;
      for (let k = 0; k < bins; k += 1) s += (row[k] as number) * (power[k] as number);
      out[m * frames + f] = s;
    }
  }
  return out;
}

/** Whisper's input_features: [80][3000] log-mel, clamped to 8 below the max and scaled. */
export function whisperFeatures(audio: Float32Array, spec: MelSpec): Float32Array {
  const mel = melPower(audio, spec);
  let max = -Infinity;
  for (let i = 0; i < mel.length; i += 1) {
    const v = Math.log10(Math.max(mel[i] as number, 1e-10));
    mel[i] = v;
    if (v > max) max = v;
  }
  for (let i = 0; i < mel.length; i += 1) mel[i] = (Math.max(mel[i] as number, max - 8) + 4) / 4;
  return mel;
}

/** CLAP's input_features: [frames][64] power in dB (time-major, as the export expects [1, frames, 64]). */
export function clapFeatures(audio: Float32Array, spec: MelSpec): Float32Array {
  const mel = melPower(audio, spec);
  const out = new Float32Array(mel.length);
  for (let m = 0; m < spec.nMels; m += 1) {
    for (let f = 0; f < spec.frames; f += 1) out[f * spec.nMels + m] = 10 * Math.log10(Math.max(mel[m * spec.frames + f] as number, 1e-10));
  }
  return out;
}

/** Linear resampling; enough for 16 kHz -> 48 kHz where no content above 8 kHz exists to alias. */
export function resampleLinear(pcm: Float32Array, from: number, to: number): Float32Array {
  if (from === to) return pcm;
  const length = Math.floor((pcm.length * to) / from);
  const out = new Float32Array(length);
  const ratio = from / to;
  for (let i = 0; i < length; i += 1) {
    const p = i * ratio;
    const i0 = Math.floor(p);
    const i1 = Math.min(i0 + 1, pcm.length - 1);
    const w = p - i0;
    out[i] = (pcm[i0] as number) * (1 - w) + (pcm[i1] as number) * w;
  }
  return out;
}
