// Log-mel spectrograms for the audio model families: Whisper (80 mels, n_fft 400, hop 160, log10,
// clamp to max-8, (x+4)/4) and CLAP (64 mels, n_fft 1024, hop 480, power in dB). Slaney mel scale
// and filter normalisation as in librosa / transformers' mel_filter_bank. A radix-2 FFT (Bluestein
// for sizes that are not a power of two) because Whisper's 400-point window is not a power of two.

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

/** In-place iterative radix-2 FFT on re/im of power-of-two length; inverse when sign is +1. */
function fft2(re: Float64Array, im: Float64Array, sign: -1 | 1): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i += 1) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      const tr = re[i] as number; re[i] = re[j] as number; re[j] = tr;
      const ti = im[i] as number; im[i] = im[j] as number; im[j] = ti;
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (sign * 2 * Math.PI) / len;
    const wr = Math.cos(ang);
    const wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < len / 2; k += 1) {
        const a = i + k;
        const b = a + len / 2;
        const xr = (re[b] as number) * cr - (im[b] as number) * ci;
        const xi = (re[b] as number) * ci + (im[b] as number) * cr;
        re[b] = (re[a] as number) - xr; im[b] = (im[a] as number) - xi;
        re[a] = (re[a] as number) + xr; im[a] = (im[a] as number) + xi;
        const ncr = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = ncr;
      }
    }
  }
}

interface Tables {
  window: Float32Array;
  filters: Float32Array[];
  /** Bluestein chirp and the FFT of its conjugate, for sizes that are not a power of two. */
  m: number;
  chirpRe: Float64Array;
  chirpIm: Float64Array;
  bRe: Float64Array;
  bIm: Float64Array;
}
const tablesCache = new Map<string, Tables>();

function tables(spec: MelSpec): Tables {
  const key = JSON.stringify(spec);
  const hit = tablesCache.get(key);
  if (hit) return hit;
  const n = spec.nFft;
  // periodic Hann, as torch.hann_window and transformers' window_function use
  const window = Float32Array.from({ length: n }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
  const pow2 = (n & (n - 1)) === 0;
  let m = n;
  if (!pow2) for (m = 1; m < 2 * n - 1; m <<= 1);
  const chirpRe = new Float64Array(n);
  const chirpIm = new Float64Array(n);
  const bRe = new Float64Array(m);
  const bIm = new Float64Array(m);
  if (!pow2) {
    for (let k = 0; k < n; k += 1) {
      const a = (Math.PI * ((k * k) % (2 * n))) / n;
      chirpRe[k] = Math.cos(a);
      chirpIm[k] = -Math.sin(a);
      bRe[k] = Math.cos(a);
      bIm[k] = Math.sin(a);
      if (k > 0) {
        bRe[m - k] = Math.cos(a);
        bIm[m - k] = Math.sin(a);
      }
    }
    fft2(bRe, bIm, -1);
  }
  const made = { window, filters: melFilters(spec), m, chirpRe, chirpIm, bRe, bIm };
  tablesCache.set(key, made);
  return made;
}

/** DFT of a real frame into re/im (length m scratch); radix-2 directly, Bluestein otherwise. */
function dft(frame: Float64Array, re: Float64Array, im: Float64Array, t: Tables): void {
  const n = frame.length;
  re.fill(0);
  im.fill(0);
  if (t.m === n) {
    re.set(frame);
    fft2(re, im, -1);
    return;
  }
  for (let k = 0; k < n; k += 1) {
    re[k] = (frame[k] as number) * (t.chirpRe[k] as number);
    im[k] = (frame[k] as number) * (t.chirpIm[k] as number);
  }
  fft2(re, im, -1);
  for (let k = 0; k < t.m; k += 1) {
    const r = (re[k] as number) * (t.bRe[k] as number) - (im[k] as number) * (t.bIm[k] as number);
    im[k] = (re[k] as number) * (t.bIm[k] as number) + (im[k] as number) * (t.bRe[k] as number);
    re[k] = r;
  }
  fft2(re, im, 1);
  for (let k = 0; k < n; k += 1) {
    const cr = (re[k] as number) / t.m;
    const ci = (im[k] as number) / t.m;
    re[k] = cr * (t.chirpRe[k] as number) - ci * (t.chirpIm[k] as number);
    im[k] = cr * (t.chirpIm[k] as number) + ci * (t.chirpRe[k] as number);
  }
}

/** Mel power spectrogram, [nMels][frames] row-major, from audio padded/truncated to frames*hop samples. */
export function melPower(audio: Float32Array, spec: MelSpec): Float32Array {
  const { nFft: n, hop, nMels, frames } = spec;
  const tab = tables(spec);
  const { window, filters } = tab;
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
  const frame = new Float64Array(n);
  const re = new Float64Array(tab.m);
  const im = new Float64Array(tab.m);
  const power = new Float32Array(bins);
  for (let f = 0; f < frames; f += 1) {
    const start = f * hop;
    for (let t = 0; t < n; t += 1) frame[t] = (padded[start + t] as number) * (window[t] as number);
    dft(frame, re, im, tab);
    for (let k = 0; k < bins; k += 1) power[k] = (re[k] as number) ** 2 + (im[k] as number) ** 2;
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
