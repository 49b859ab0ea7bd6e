// Renders a scripted video with known content, and returns the ground truth with it: scenes of a
// colour or a lavfi source, on-screen text (ffmpeg drawtext), sentences spoken by espeak-ng over
// silence. The demo feeds it to engram and asks about it; tests score segmentation, OCR, voice
// activity and retrieval against the truth it returns. Real ffmpeg and espeak-ng, as in the product.
//
//   const video = await renderScene([
//     { seconds: 6, color: 'red', text: 'Kitchen', speech: 'The kettle is boiling.' },
//     { seconds: 5, source: 'testsrc2', text: 'Garage' },
//   ], join(dir, 'script.mp4'));
//   video.boundaries  // [6]
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngramError } from '../../config/errors.js';

export interface Scene {
  /** Length of the scene in seconds. */
  seconds: number;
  /** Solid background: an ffmpeg colour name or #RRGGBB. Ignored when `source` is set. @defaultValue 'black' */
  color?: string;
  /** A lavfi video source instead of a colour, e.g. 'testsrc2', 'mandelbrot', 'life'. */
  source?: string;
  /** Text drawn centred on the picture for the whole scene (one line). */
  text?: string;
  /** Colour of that text. @defaultValue 'white' */
  textColor?: string;
  /** A sentence spoken by espeak-ng inside the scene. */
  speech?: string;
  /** When the sentence becomes audible, seconds after the scene starts. @defaultValue 0.5 */
  speechAt?: number;
}

export interface RenderOptions {
  /** @defaultValue 640 */
  width?: number;
  /** @defaultValue 360 */
  height?: number;
  /** @defaultValue 25 */
  fps?: number;
  /** espeak-ng voice. @defaultValue 'en' */
  voice?: string;
  /** Words per minute for espeak-ng. @defaultValue 160 */
  wordsPerMinute?: number;
  /** Leave out the audio track entirely. @defaultValue false */
  noAudio?: boolean;
  /** Font size in pixels, or 'fit' to shrink long lines into the frame. @defaultValue height / 8 */
  fontSize?: number | 'fit';
  /** A font file for drawtext; null for ffmpeg's default font. @defaultValue DejaVu Sans Bold */
  font?: string | null;
  /** Draw the text on a dark box, as camera overlays do. @defaultValue true */
  textBox?: boolean;
  signal?: AbortSignal;
}

export interface RenderedScene {
  /** Stream seconds. */
  start: number;
  end: number;
  color: string | null;
  source: string | null;
  text: string | null;
  /** The sentence and where it is actually audible (espeak-ng's own leading/trailing silence trimmed). */
  speech: { text: string; start: number; end: number } | null;
}

export interface RenderedScript {
  path: string;
  duration: number;
  /** Inner scene boundaries, seconds (every scene start but the first). */
  boundaries: number[];
  scenes: RenderedScene[];
}

const SAMPLE_RATE = 16_000;
const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf';

/** The demo's two minutes: a quiet driveway, a delivery, a conversation, the garage, a goodbye. */
export const DEMO_SCENES: readonly Scene[] = [
  { seconds: 15, color: 'navy' },
  { seconds: 15, color: 'white', text: 'DELIVERY NOTICE - PARCEL AT DOOR 3', textColor: 'black' },
  { seconds: 15, color: 'green', speech: 'Hello, I have a parcel for you. Please sign here.', speechAt: 2 },
  { seconds: 15, color: 'orange' },
  { seconds: 15, color: 'gray', text: 'GARAGE DOOR OPEN', speech: 'The garage door is open. Close it before you leave.', speechAt: 2 },
  { seconds: 15, color: 'purple' },
  { seconds: 15, color: 'yellow', speech: 'See you tomorrow at nine.', speechAt: 2 },
  { seconds: 15, color: 'black', text: 'GOODBYE' },
];

/** How the demo draws: plain text in ffmpeg's default font, fitted to the frame, spoken a little slower. */
export const DEMO_RENDER: RenderOptions = { width: 640, height: 360, wordsPerMinute: 150, fontSize: 'fit', font: null, textBox: false };

/**
 * Questions the demo asks about DEMO_SCENES, with where the answer lies (stream seconds). The
 * first three need only the models that ship with engram (OCR reads the notices); the last needs a
 * speech model (`engram models fetch whisper-base`) to have a transcript to search.
 */
export const DEMO_QUESTIONS: { question: string; expectS: [number, number]; needs?: string }[] = [
  { question: 'What did the delivery notice say?', expectS: [15, 30] },
  { question: 'When was the garage door open?', expectS: [60, 75] },
  { question: 'What happened after the delivery notice?', expectS: [30, 45] },
  { question: 'What was said about the parcel?', expectS: [30, 45], needs: 'speech model' },
];

function run(command: string, args: string[], signal?: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(signal ? { signal } : {}) });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (error) => reject(new EngramError(`${command} could not run: ${error.message}`, { cause: error })));
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new EngramError(`${command} exited with ${code}: ${err.trim().split('\n').slice(-5).join('\n')}`));
    });
  });
}

/** Speaks a sentence and returns it as 16 kHz mono float samples. */
async function speak(text: string, dir: string, index: number, options: RenderOptions): Promise<Float32Array> {
  const wav = join(dir, `speech-${index}.wav`);
  await run('espeak-ng', ['-v', options.voice ?? 'en', '-s', String(options.wordsPerMinute ?? 160), '-w', wav, text], options.signal);
  const raw = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', wav, '-f', 'f32le', '-ac', '1', '-ar', String(SAMPLE_RATE), '-'], options.signal);
  const samples = new Float32Array(raw.byteLength / 4);
  new Uint8Array(samples.buffer).set(raw);
  return samples;
}

/** First and last sample index above a small amplitude: where the voice is actually audible. */
function audibleRange(samples: Float32Array): [number, number] {
  const floor = 0.01;
  let first = 0;
  while (first < samples.length && Math.abs(samples[first] as number) < floor) first += 1;
  let last = samples.length - 1;
  while (last > first && Math.abs(samples[last] as number) < floor) last -= 1;
  return [first, last + 1];
}

function validate(scenes: readonly Scene[]): void {
  if (scenes.length === 0) throw new EngramError('scripted scene: the script has no scenes');
  scenes.forEach((scene, i) => {
    if (!(scene.seconds > 0)) throw new EngramError(`scripted scene: scene ${i} has no length (seconds: ${scene.seconds})`);
    if (scene.text !== undefined && /[\n\r]/.test(scene.text)) throw new EngramError(`scripted scene: scene ${i} text must be one line`);
  });
}

/** An eighth of the height, smaller for long lines so the whole text stays inside the frame (capitals are about 0.7 em wide). */
function fontSizeFor(text: string, width: number, height: number, option: RenderOptions['fontSize']): number {
  if (typeof option === 'number') return option;
  if (option === 'fit') return Math.max(12, Math.min(Math.round(height / 8), Math.floor((width * 0.9) / (text.length * 0.7))));
  return Math.round(height / 8);
}

/** Renders the scenes to an MP4 (H.264, AAC 16 kHz mono) and returns where everything really is. */
export async function renderScene(scenes: readonly Scene[], outPath: string, options: RenderOptions = {}): Promise<RenderedScript> {
  validate(scenes);
  const width = options.width ?? 640;
  const height = options.height ?? 360;
  const fps = options.fps ?? 25;
  const font = options.font === undefined ? FONT : options.font;
  const dir = await mkdtemp(join(tmpdir(), 'engram-scene-'));
  try {
    const duration = scenes.reduce((sum, s) => sum + s.seconds, 0);
    const audio = new Float32Array(Math.round(duration * SAMPLE_RATE));
    const rendered: RenderedScene[] = [];
    let start = 0;
    for (const [i, scene] of scenes.entries()) {
      let speech: RenderedScene['speech'] = null;
      if (scene.speech && !options.noAudio) {
        const samples = await speak(scene.speech, dir, i, options);
        const [first, last] = audibleRange(samples);
        const voiced = samples.subarray(first, last);
        const at = scene.speechAt ?? 0.5;
        const length = voiced.length / SAMPLE_RATE;
        if (at + length > scene.seconds) {
          throw new EngramError(`scripted scene: scene ${i} is ${scene.seconds} s but its sentence needs ${(at + length).toFixed(2)} s from the scene start; lengthen the scene or shorten the sentence`);
        }
        audio.set(voiced, Math.round((start + at) * SAMPLE_RATE));
        speech = { text: scene.speech, start: start + at, end: start + at + length };
      }
      rendered.push({ start, end: start + scene.seconds, color: scene.source ? null : (scene.color ?? 'black'), source: scene.source ?? null, text: scene.text ?? null, speech });
      start += scene.seconds;
    }

    const args = ['-hide_banner', '-loglevel', 'error', '-y'];
    const filters: string[] = [];
    for (const [i, scene] of scenes.entries()) {
      const size = `s=${width}x${height}:r=${fps}:d=${scene.seconds}`;
      args.push('-f', 'lavfi', '-i', scene.source ? `${scene.source}=${size}` : `color=c=${scene.color ?? 'black'}:${size}`);
      let chain = `[${i}:v]format=yuv420p,setsar=1`;
      if (scene.text) {
        // textfile= avoids every drawtext escaping rule for the text itself.
        const file = join(dir, `text-${i}.txt`);
        await writeFile(file, scene.text);
        const box = options.textBox === false ? '' : ':box=1:boxcolor=black@0.6:boxborderw=12';
        chain += `,drawtext=${font ? `fontfile=${font}:` : ''}textfile=${file}:fontsize=${fontSizeFor(scene.text, width, height, options.fontSize)}:fontcolor=${scene.textColor ?? 'white'}${box}:x=(w-text_w)/2:y=(h-text_h)/2`;
      }
      filters.push(`${chain}[v${i}]`);
    }
    filters.push(`${scenes.map((_s, i) => `[v${i}]`).join('')}concat=n=${scenes.length}:v=1:a=0[v]`);
    const maps = ['-map', '[v]'];
    if (!options.noAudio) {
      const pcm = join(dir, 'audio.f32');
      await writeFile(pcm, Buffer.from(audio.buffer, audio.byteOffset, audio.byteLength));
      args.push('-f', 'f32le', '-ar', String(SAMPLE_RATE), '-ac', '1', '-i', pcm);
      maps.push('-map', `${scenes.length}:a`, '-c:a', 'aac', '-b:a', '96k');
    }
    args.push('-filter_complex', filters.join(';'), ...maps, '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-r', String(fps), '-t', String(duration), '-movflags', '+faststart', outPath);
    await run('ffmpeg', args, options.signal);
    return { path: outPath, duration, boundaries: rendered.slice(1).map((s) => s.start), scenes: rendered };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
