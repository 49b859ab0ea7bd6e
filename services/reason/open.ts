// Opens what answering needs (long-term memory, the model runtime, the chat client, ffmpeg for
// examples) and closes it after pending reinforcement writes. Shared by the reason role, the
// in-process `engram query` and the HTTP API, which calls answerQuestion(runtime.deps, ...).
import { join } from 'node:path';
import type { LoadedConfig } from '../../config/load.js';
import { ModelRepository } from '../../models/runtime/model-repository.js';
import { StoreMemory, RuntimeModels, chatPort } from '../../pipelines/reason/adapters.js';
import { answerQuestion, type ReasonDeps } from '../../pipelines/reason/answer-question.js';
import type { QueryAnswer, QueryRequest } from '../../pipelines/reason/answer-types.js';
import { systemTimeZone } from '../../pipelines/reason/clock.js';
import { ExampleMedia } from '../../pipelines/repositories/example-media.js';
import { loadLabelWords } from './label-words.js';
import { LlmClient } from '../../pipelines/repositories/llm.js';
import { MemoryWriteLock } from '../../pipelines/repositories/memory-lock.js';
import { MemoryStore } from '../../pipelines/repositories/memory-store.js';
import { PeopleStore } from '../../pipelines/repositories/people.js';
import { FaceRecognition } from '../../pipelines/reason/face-recognition.js';
import { blobStore } from '../runtime/storage.js';
import type { RedisRepository } from '../../pipelines/repositories/redis.js';
import type { LanceAccess } from '../../pipelines/repositories/memory-tables.js';
import type { Logger } from '../logger.js';

export interface ReasonRuntime {
  deps: ReasonDeps;
  /** Answers one question with these repositories. */
  ask(request: QueryRequest, signal: AbortSignal): Promise<QueryAnswer>;
  /** Waits for reinforcement writes still in flight, then closes models and memory. */
  close(): Promise<void>;
}

/**
 * `redis`: the memory write lock reinforcement takes (memory-lock.ts), so questions answered here
 * may strengthen events while consolidate workers write them. `access`: LanceDB's storage options
 * and commit lock (services/runtime/storage.ts).
 */
export async function openReason(loaded: LoadedConfig, log: Logger, redis: RedisRepository, access: LanceAccess = {}): Promise<ReasonRuntime> {
  const { config, paths } = loaded;
  const store = await MemoryStore.open(paths.lancedbUri, { ...access, reinforceDays: config.memory.reinforceDays });
  let models: ModelRepository;
  try {
    models = await ModelRepository.open({ config: config.models, paths, log });
  } catch (error) {
    await store.close();
    throw error;
  }
  // Faces off: no people tables are opened, and questions about people go to the detector or retrieval.
  let people: PeopleStore | undefined;
  try {
    people = config.faces.enabled ? await PeopleStore.open(paths.lancedbUri, blobStore(loaded), config.faces, access) : undefined;
  } catch (error) {
    await models.close();
    await store.close();
    throw error;
  }
  const pending = new Set<Promise<unknown>>();
  const chat = config.reason.useLlm ? chatPort(new LlmClient(config.llm)) : undefined;
  const labelWords = () => loadLabelWords(join(paths.dataDir, 'cache'));
  // Read (or, the first time, built from WordNet) while the first question is still being typed.
  labelWords().catch((error: unknown) => log.warn({ err: error }, 'cannot build the question word -> label map; questions about objects go to retrieval'));
  const deps: ReasonDeps = {
    memory: new StoreMemory(store, { writeLock: new MemoryWriteLock(redis.connection('memory-lock'), config.redis.prefix, { waitMs: config.reason.reinforceLockWaitMs }) }),
    models: new RuntimeModels(models),
    media: new ExampleMedia(),
    ...(people ? { people: new FaceRecognition(people, models, config.faces) } : {}),
    ...(chat ? { chat } : {}),
    settings: config.reason,
    labelWords,
    trackMemorySeconds: config.segment.tracks.memorySeconds,
    timeZone: config.reason.timeZone ?? systemTimeZone(),
    log,
    background: (work) => {
      pending.add(work);
      void work.finally(() => pending.delete(work));
    },
  };
  let closing: Promise<void> | undefined;
  return {
    deps,
    ask: (request, signal) => answerQuestion(deps, request, signal),
    close() {
      closing ??= (async () => {
        await Promise.allSettled([...pending]);
        await models.close();
        await people?.close();
        await store.close();
      })();
      return closing;
    },
  };
}
