// Renders a scripted video with known ground truth: scenes of a background colour or a lavfi
// source, on-screen text (drawtext), and a spoken sentence (espeak-ng) surrounded by silence.
// Returns where each scene and each sentence really is, so tests can score segmentation, OCR, VAD
// and retrieval against the truth. Uses the real ffmpeg and espeak-ng, like the product does.
//
//   const video = await renderScript([
//     { seconds: 6, color: 'red', text: 'Kitchen', speech: 'The kettle is boiling.' },
//     { seconds: 5, source: 'testsrc2', text: 'Garage' },
//   ], join(dir, 'script.mp4'));
//   video.boundaries  // [6]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Scene {
  /** Length of the scene in seconds. */
  seconds: number;
  /** Solid background: an ffmpeg colour name or #RRGGBB. Ignored when `source` is set. @defaultValue 'black' */
  color?: string;
  /** A lavfi video source instead of a colour, e.g. 'testsrc2', 'mandelbrot', 'life'. */
  source?: string;
  /** Text drawn centred on the picture for the whole scene. */
  text?: string;
  /** A sentence spoken by espeak-ng inside the scene. */
  speech?: string;
  /** When the sentence starts, seconds after the scene starts. @defaultValue 0.5 */
  speechAt?: number;
}

export interface RenderOptions {
  width?: number;
  height?: number;
  fps?: number;
  /** espeak-ng voice. @defaultValue 'en' */
  voice?: string;
  /** Words per minute for espeak-ng. @defaultValue 160 */
  wordsPerMinute?: number;
  /** Leave out the audio track entirely. @defaultValue false */
  noAudio?: boolean;
  /** Font size of the on-screen text in pixels. @defaultValue height / 8 */
  fontSize?: number;
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

function run(command: string, args: string[], signal?: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], signal });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(`${command} exited with ${code}: ${err.trim().split('\n').slice(-5).join('\n')}`));
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
  if (scenes.length === 0) throw new Error('renderScript: the script has no scenes');
  scenes.forEach((scene, i) => {
    if (!(scene.seconds > 0)) throw new Error(`renderScript: scene ${i} has no length (seconds: ${scene.seconds})`);
    if (scene.text !== undefined && /[\n\r]/.test(scene.text)) throw new Error(`renderScript: scene ${i} text must be one line`);
  });
}

export async function renderScript(scenes: readonly Scene[], outPath: string, options: RenderOptions = {}): Promise<RenderedScript> {
  validate(scenes);
  const width = options.width ?? 640;
  const height = options.height ?? 360;
  const fps = options.fps ?? 25;
  const fontSize = options.fontSize ?? Math.round(height / 8);
  const dir = mkdtempSync(join(tmpdir(), 'engram-script-'));
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
          throw new Error(`renderScript: scene ${i} is ${scene.seconds} s but its sentence needs ${(at + length).toFixed(2)} s from the scene start; lengthen the scene or shorten the sentence`);
        }
        audio.set(voiced, Math.round((start + at) * SAMPLE_RATE));
        speech = { text: scene.speech, start: start + at, end: start + at + length };
      }
      rendered.push({
        start,
        end: start + scene.seconds,
        color: scene.source ? null : (scene.color ?? 'black'),
        source: scene.source ?? null,
        text: scene.text ?? null,
        speech,
      });
      start += scene.seconds;
    }

    const args = ['-hide_banner', '-loglevel', 'error', '-y'];
    const filters: string[] = [];
    scenes.forEach((scene, i) => {
      const size = `s=${width}x${height}:r=${fps}:d=${scene.seconds}`;
      const source = scene.source ? `${scene.source}=${size}` : `color=c=${scene.color ?? 'black'}:${size}`;
      args.push('-f', 'lavfi', '-i', source);
      let chain = `[${i}:v]format=yuv420p,setsar=1`;
      if (scene.text) {
        // textfile= avoids every drawtext escaping rule for the text itself.
        const file = join(dir, `text-${i}.txt`);
        writeFileSync(file, scene.text);
        chain += `,drawtext=fontfile=${FONT}:textfile=${file}:fontsize=${fontSize}:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=12:x=(w-text_w)/2:y=(h-text_h)/2`;
      }
      filters.push(`${chain}[v${i}]`);
    });
    filters.push(`${scenes.map((_s, i) => `[v${i}]`).join('')}concat=n=${scenes.length}:v=1:a=0[v]`);
    const maps = ['-map', '[v]'];
    if (!options.noAudio) {
      const pcm = join(dir, 'audio.f32');
      writeFileSync(pcm, Buffer.from(audio.buffer, audio.byteOffset, audio.byteLength));
      args.push('-f', 'f32le', '-ar', String(SAMPLE_RATE), '-ac', '1', '-i', pcm);
      maps.push('-map', `${scenes.length}:a`, '-c:a', 'aac', '-b:a', '96k');
    }
    args.push('-filter_complex', filters.join(';'), ...maps, '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-r', String(fps), '-t', String(duration), '-movflags', '+faststart', outPath);
    await run('ffmpeg', args, options.signal);
    return { path: outPath, duration, boundaries: rendered.slice(1).map((s) => s.start), scenes: rendered };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
