// Renders a scripted scene with known content: coloured scenes, on-screen text (ffmpeg drawtext),
// sentences spoken by espeak-ng at known times over silence. The demo feeds it to engram and asks
// about it; the end-to-end tests check answers against the script.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ffmpeg from 'fluent-ffmpeg';
import { EngramError } from '../../config/errors.js';

const run = promisify(execFile);

export interface ScriptedScene {
  /** Seconds. */
  durationS: number;
  /** An ffmpeg colour name or #RRGGBB. */
  colour: string;
  /** Text drawn in the middle of the frame for the whole scene (letters, digits, spaces, - . , only). */
  text?: string;
  /** Colour of that text. @defaultValue 'black' */
  textColour?: string;
}

export interface ScriptedLine {
  /** Stream seconds at which the sentence starts. */
  atS: number;
  text: string;
}

export interface SceneScript {
  width: number;
  height: number;
  scenes: ScriptedScene[];
  speech: ScriptedLine[];
}

/** Where each scene lies in stream time, for checking answers. */
export function sceneSpans(script: SceneScript): { start: number; end: number; scene: ScriptedScene }[] {
  let t = 0;
  return script.scenes.map((scene) => {
    const span = { start: t, end: t + scene.durationS, scene };
    t += scene.durationS;
    return span;
  });
}

/** The demo's two minutes: a quiet driveway, a delivery, a conversation, the garage, a goodbye. */
export const DEMO_SCRIPT: SceneScript = {
  width: 640,
  height: 360,
  scenes: [
    { durationS: 15, colour: 'navy' },
    { durationS: 15, colour: 'white', text: 'DELIVERY NOTICE - PARCEL AT DOOR 3' },
    { durationS: 15, colour: 'green' },
    { durationS: 15, colour: 'orange' },
    { durationS: 15, colour: 'gray', text: 'GARAGE DOOR OPEN', textColour: 'white' },
    { durationS: 15, colour: 'purple' },
    { durationS: 15, colour: 'yellow' },
    { durationS: 15, colour: 'black', text: 'GOODBYE', textColour: 'white' },
  ],
  speech: [
    { atS: 32, text: 'Hello, I have a parcel for you. Please sign here.' },
    { atS: 62, text: 'The garage door is open. Close it before you leave.' },
    { atS: 92, text: 'See you tomorrow at nine.' },
  ],
};

/**
 * Questions the demo asks about DEMO_SCRIPT, with where the answer lies (stream seconds). The
 * first three need only the models that ship with engram (OCR reads the notices); the last needs a
 * speech model (`engram models fetch whisper-base`) to have a transcript to search.
 */
export const DEMO_QUESTIONS: { question: string; expectS: [number, number]; needs?: string }[] = [
  { question: 'What did the delivery notice say?', expectS: [15, 30] },
  { question: 'When was the garage door open?', expectS: [60, 75] },
  { question: 'What happened after the delivery notice?', expectS: [30, 45] },
  { question: 'What was said about the parcel?', expectS: [30, 45], needs: 'speech model' },
];

function drawtextEscape(text: string): string {
  if (!/^[A-Za-z0-9 .,-]*$/.test(text)) throw new EngramError(`scripted scene text ${JSON.stringify(text)}: use letters, digits, spaces and - . , only`);
  return text;
}

/** Renders the script to an MP4 (H.264 + AAC, 16 kHz mono audio). Needs ffmpeg and espeak-ng. */
export async function renderScene(script: SceneScript, out: string, signal?: AbortSignal): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'engram-scene-'));
  try {
    const wavs: string[] = [];
    for (const [i, line] of script.speech.entries()) {
      const wav = join(work, `line${i}.wav`);
      try {
        await run('espeak-ng', ['-v', 'en', '-s', '150', '-w', wav, line.text], { signal });
      } catch (error) {
        throw new EngramError(`espeak-ng could not speak ${JSON.stringify(line.text)}: ${(error as Error).message}`);
      }
      wavs.push(wav);
    }
    const total = script.scenes.reduce((sum, s) => sum + s.durationS, 0);
    const command = ffmpeg();
    const filters: string[] = [];
    script.scenes.forEach((scene, i) => {
      command.input(`color=c=${scene.colour}:s=${script.width}x${script.height}:r=25:d=${scene.durationS}`).inputFormat('lavfi');
      const draw = scene.text
        ? `drawtext=text='${drawtextEscape(scene.text)}':fontcolor=${scene.textColour ?? 'black'}:fontsize=${Math.round(script.height / 8)}:x=(w-text_w)/2:y=(h-text_h)/2`
        : 'null';
      filters.push(`[${i}:v]${draw}[v${i}]`);
    });
    filters.push(`${script.scenes.map((_, i) => `[v${i}]`).join('')}concat=n=${script.scenes.length}:v=1:a=0[v]`);
    command.input(`anullsrc=r=16000:cl=mono:d=${total}`).inputFormat('lavfi');
    const silence = script.scenes.length;
    const mixed = [`[${silence}:a]`];
    wavs.forEach((wav, i) => {
      command.input(wav);
      const ms = Math.round((script.speech[i]?.atS ?? 0) * 1000);
      filters.push(`[${silence + 1 + i}:a]aresample=16000,adelay=${ms}|${ms}[a${i}]`);
      mixed.push(`[a${i}]`);
    });
    filters.push(`${mixed.join('')}amix=inputs=${mixed.length}:duration=first:normalize=0[a]`);
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => command.kill('SIGKILL');
      signal?.addEventListener('abort', onAbort, { once: true });
      command
        .complexFilter(filters)
        .outputOptions(['-map [v]', '-map [a]', '-c:v libx264', '-pix_fmt yuv420p', '-preset veryfast', '-c:a aac', '-ac 1', '-ar 16000', `-t ${total}`])
        .on('error', (error: Error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(new EngramError(`ffmpeg could not render the scripted scene: ${error.message}`));
        })
        .on('end', () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        })
        .save(out);
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
