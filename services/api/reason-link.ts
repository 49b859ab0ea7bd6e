// Question answering for the API comes from the reason stage (services/reason/open.ts), which is
// built on its own branch. Until both are in one build it is loaded by name at start-up: when
// this build has it, /api/query answers with it; when not, /api/query says the reason role is
// missing (503). Once reason is merged this file can become two static imports.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LoadedConfig } from '../../config/load.js';
import type { Logger } from '../logger.js';
import type { QueryPort } from './ports.js';

interface ReasonRuntime {
  ask(request: { question: string; now: number; stream?: string; since?: number; until?: number }, signal: AbortSignal): Promise<unknown>;
  close(): Promise<void>;
}

interface OpenModule {
  openReason(loaded: LoadedConfig, log: Logger): Promise<ReasonRuntime>;
}

interface TimeModule {
  parseTimeBound(text: string, context: { now: number; timeZone: string }): number | undefined;
}

interface ClockModule {
  systemTimeZone(): string;
}

// Specifiers in variables: the type checker must not require modules this build may not have.
const OPEN = '../reason/open.js';
const TIME = '../../pipelines/reason/time-expressions.js';
const CLOCK = '../../pipelines/reason/clock.js';

async function optional<T>(specifier: string): Promise<T | undefined> {
  const url = new URL(specifier, import.meta.url);
  const path = fileURLToPath(url);
  // From source (tsx, vitest) the module is .ts, from dist/ it is .js. Absent: this build has no
  // reason stage. Present but broken: the import throws and start-up says why.
  if (!existsSync(path) && !existsSync(path.replace(/\.js$/, '.ts'))) return undefined;
  return (await import(url.href)) as T;
}

export interface ReasonLink {
  query: QueryPort;
  close(): Promise<void>;
}

export async function linkReason(loaded: LoadedConfig, log: Logger): Promise<ReasonLink | undefined> {
  const open = await optional<OpenModule>(OPEN);
  const time = await optional<TimeModule>(TIME);
  const clock = await optional<ClockModule>(CLOCK);
  if (!open || !time || !clock) return undefined;
  const runtime = await open.openReason(loaded, log);
  const configured = (loaded.config as { reason?: { timeZone?: string } }).reason?.timeZone;
  const timeZone = configured ?? clock.systemTimeZone();
  return {
    query: {
      answer: (input, signal) =>
        runtime.ask(
          {
            question: input.question,
            now: input.now,
            ...(input.stream !== undefined ? { stream: input.stream } : {}),
            ...(input.since !== undefined ? { since: input.since } : {}),
            ...(input.until !== undefined ? { until: input.until } : {}),
          },
          signal,
        ),
      parseTime: (text, now) => time.parseTimeBound(text, { now, timeZone }),
    },
    close: () => runtime.close(),
  };
}
