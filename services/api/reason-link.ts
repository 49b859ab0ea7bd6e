// Question answering for the API: the reason stage's runtime (the same code as the reason role
// and `engram query`), answering in this process, with time bounds read as `--since` reads them.
import type { LoadedConfig } from '../../config/load.js';
import { systemTimeZone } from '../../pipelines/reason/clock.js';
import { parseTimeBound } from '../../pipelines/reason/time-expressions.js';
import type { RedisRepository } from '../../pipelines/repositories/redis.js';
import type { LanceAccess } from '../../pipelines/repositories/memory-tables.js';
import type { Logger } from '../logger.js';
import { openReason } from '../reason/open.js';
import type { QueryPort } from './ports.js';

export interface ReasonLink {
  query: QueryPort;
  close(): Promise<void>;
}

export async function linkReason(loaded: LoadedConfig, log: Logger, redis: RedisRepository, access: LanceAccess = {}): Promise<ReasonLink> {
  const runtime = await openReason(loaded, log, redis, access);
  const timeZone = loaded.config.reason.timeZone ?? systemTimeZone();
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
            ...(input.image !== undefined ? { image: input.image } : {}),
            ...(input.audio !== undefined ? { audio: input.audio } : {}),
            ...(input.face !== undefined ? { face: input.face } : {}),
          },
          signal,
        ),
      parseTime: (text, now) => parseTimeBound(text, { now, timeZone }),
    },
    close: () => runtime.close(),
  };
}
