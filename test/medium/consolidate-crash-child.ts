// Child process for the crash test: consolidates one event from the inbox and SIGKILLs itself
// between the moments write and the event write, as a worker killed mid-job would stop.
import { loadConfig } from '../../config/load.js';
import { consolidateEvent } from '../../pipelines/consolidate/consolidate.js';
import { makeSummarizer } from '../../pipelines/consolidate/summary.js';
import { EventInbox } from '../../pipelines/repositories/event-inbox.js';
import { LlmClient } from '../../pipelines/repositories/llm.js';
import { MemoryStore } from '../../pipelines/repositories/memory-store.js';
import { RedisRepository } from '../../pipelines/repositories/redis.js';

const id = process.argv[2];
if (!id) throw new Error('usage: crash-child.ts EVENT_ID');
const loaded = loadConfig();
const redis = await RedisRepository.open(loaded.config, loaded.paths);
const inbox = new EventInbox(redis.connection('crash-child'), loaded.config.redis.prefix);
const event = await inbox.get(id);
if (!event) throw new Error(`event ${id} not in inbox`);
const store = await MemoryStore.open(loaded.paths.lancedbUri);
const summarizer = makeSummarizer(new LlmClient(loaded.config.llm), async () => undefined, { maxImages: 0 });
await consolidateEvent(event, {
  store,
  summarizer,
  memory: loaded.config.memory,
  afterMoments: () => {
    process.stdout.write('moments written\n');
    process.kill(process.pid, 'SIGKILL');
  },
});
process.stdout.write('not killed\n');
