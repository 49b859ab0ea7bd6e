// engram demo: renders a scripted 2-minute scene video (scene changes, on-screen notices, spoken
// sentences with silence between them), ingests it through every pipeline role in this process,
// then asks questions about it and prints the answers with their times. It keeps its own data
// directory (<dataDir>/demo, emptied at each run) so it never mixes with real memory.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { EngramError } from '../../config/errors.js';
import { loadConfig } from '../../config/load.js';
import type { QueryAnswer } from '../../pipelines/reason/answer-types.js';
import { systemTimeZone } from '../../pipelines/reason/clock.js';
import { isAlive, readPid } from '../../pipelines/repositories/lock-file.js';
import { DEMO_QUESTIONS, DEMO_RENDER, DEMO_SCENES, renderScene } from '../../pipelines/repositories/scripted-scene.js';
import { openReason } from '../reason/open.js';
import { requestFromJob } from '../reason/main.js';
import { globals, logger, printJson, withContext } from './common.js';
import { ingestAndWait } from './ingest.js';
import { modelStatus } from './models.js';
import { formatAnswer } from './query.js';
import { lanceAccess } from '../runtime/storage.js';

export const DEMO_STREAM = 'demo';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('render a scripted 2-minute scene video, ingest it, and ask questions about it')
    .option('--json', 'print the ingest report and the answers as JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const { config: configFile } = globals(command);
      const base = loadConfig(configFile ? { configFile } : {});
      const demoDir = join(base.paths.dataDir, 'demo');
      // A demo still running in this directory owns its managed Redis; do not pull it away.
      const redisPid = readPid(join(demoDir, 'redis', 'redis.pid'));
      if (redisPid !== undefined && isAlive(redisPid)) throw new EngramError(`another engram demo is running (redis-server pid ${redisPid} in ${demoDir})`);
      if (existsSync(demoDir)) rmSync(demoDir, { recursive: true, force: true });
      mkdirSync(demoDir, { recursive: true });
      const prefix = `${base.config.redis.prefix}-demo`;
      // Warnings only: the demo's own lines are the output people read.
      // Models stay where `engram models fetch` and setup put them, so fetched models improve the
      // demo; generated test models never answer it, whatever the configuration says.
      const loaded = loadConfig({
        ...(configFile ? { configFile } : {}),
        overrides: { dataDir: demoDir, log: { level: 'warn' }, redis: { prefix }, models: { dir: base.paths.modelsDir, allowTestModels: false } },
      });
      const log = logger(loaded, { cmd: 'demo' });
      const say = (line: string) => {
        if (!options.json) process.stdout.write(`${line}\n`);
      };
      const timeZone = loaded.config.reason.timeZone ?? systemTimeZone();
      const video = join(demoDir, 'demo.mp4');
      const duration = DEMO_SCENES.reduce((sum, scene) => sum + scene.seconds, 0);

      say(`Rendering a ${duration} s scripted scene video with ffmpeg and espeak-ng: ${DEMO_SCENES.length} scenes, ${DEMO_SCENES.filter((s) => s.speech).length} spoken sentences...`);
      await renderScene(DEMO_SCENES, video, DEMO_RENDER);

      const result = await withContext(loaded, log, async (context) => {
        say('Ingesting it through ingest, perceive, segment and consolidate (in this process)...');
        const { info, report } = await ingestAndWait(context, { name: DEMO_STREAM, source: video });
        if (info.state === 'failed') throw new EngramError(`the demo stream failed: ${info.error ?? 'unknown error'}`);
        say(`  ${report.chunks} chunks, ${report.keyframes} keyframes, ${report.events} events in ${(report.elapsedMs / 1000).toFixed(1)} s (${report.realtimeFactor}x real time)`);
        const runtime = await openReason(loaded, log, context.redis, lanceAccess(loaded, context.redis));
        const answers: { question: string; answer: QueryAnswer }[] = [];
        try {
          // The last question needs a transcript, so it is asked only when a speech model is installed.
          const canTranscribe = (await modelStatus(loaded, log)).some((m) => m.task === 'speech-recognition' && m.installed);
          const questions = DEMO_QUESTIONS.filter((q) => !q.needs || canTranscribe);
          for (const { question } of questions) {
            const answer = await runtime.ask(requestFromJob({ question }, Date.now(), timeZone), context.signal);
            answers.push({ question, answer });
            say(`\nQ: ${question}`);
            say(formatAnswer(answer, timeZone).replace(/^/gm, '   '));
          }
          if (!canTranscribe) say('\n(With a speech model, `engram models fetch whisper-base` on a machine with internet, the demo also answers "What was said about the parcel?")');
        } finally {
          await runtime.close();
        }
        return { ingest: report, answers };
      });
      if (options.json) printJson({ video, durationS: duration, ...result });
      else say(`\nAsk your own questions about it: ENGRAM_DATA_DIR=${demoDir} ENGRAM_REDIS__PREFIX=${prefix} npx engram query "..."`);
    });
}
