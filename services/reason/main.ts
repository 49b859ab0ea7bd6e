// Composition root of the reason role: opens memory, models and the chat client once, and answers
// AnswerQuery jobs; the answer is the job's return value, so `engram query` and the API can wait
// on it. A question that can never be answered as asked fails without retries.
import { isEngramError, PermanentError } from '../../config/errors.js';
import { JobName, type JobOf } from '../../pipelines/jobs.js';
import type { QueryRequest } from '../../pipelines/reason/answer-types.js';
import { parseTimeBound } from '../../pipelines/reason/time-expressions.js';
import { systemTimeZone } from '../../pipelines/reason/clock.js';
import { EngramError } from '../../config/errors.js';
import type { EngramContext } from '../runtime/context.js';
import type { HandlerMap } from '../runtime/registry.js';
import type { RoleModule } from '../runtime/role-module.js';
import { openReason } from './open.js';
import { lanceAccess } from '../runtime/storage.js';

/** A queued question as a request: bounds parsed, examples decoded from base64. */
export function requestFromJob(data: JobOf<JobName.AnswerQuery>, now: number, timeZone: string): QueryRequest {
  const bound = (name: string, text: string | undefined) => {
    if (text === undefined) return undefined;
    const value = parseTimeBound(text, { now, timeZone });
    if (value === undefined) throw new EngramError(`${name} "${text}" is not a time (ISO date or date-time, HH:MM, "2pm", "yesterday", or a duration like 10m, 2h, 3d)`, { exitCode: 2 });
    return value;
  };
  const since = bound('--since', data.since);
  const until = bound('--until', data.until);
  return {
    question: data.question,
    now,
    ...(data.stream !== undefined ? { stream: data.stream } : {}),
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
    ...(data.image !== undefined ? { image: Buffer.from(data.image, 'base64') } : {}),
    ...(data.audio !== undefined ? { audio: Buffer.from(data.audio, 'base64') } : {}),
    ...(data.face !== undefined ? { face: Buffer.from(data.face, 'base64') } : {}),
  };
}

export async function handlers(context: EngramContext): Promise<HandlerMap> {
  const runtime = await openReason(context.loaded, context.log.child({ role: 'reason' }), context.redis, lanceAccess(context.loaded, context.redis));
  context.onClose('reason', runtime);
  const timeZone = context.config.reason.timeZone ?? systemTimeZone();
  return {
    [JobName.AnswerQuery]: async (data, { signal }) => {
      try {
        const answer = await runtime.ask(requestFromJob(data, Date.now(), timeZone), signal);
        return { status: 'done', result: answer };
      } catch (error) {
        // A question that failed for a reason a person can act on fails the same way on retry.
        if (isEngramError(error)) throw new PermanentError(error.message, { cause: error });
        throw error;
      }
    },
  };
}

const role: RoleModule = { handlers };
export default role;
