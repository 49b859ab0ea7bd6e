import { execFileSync } from 'node:child_process';
import { ConfigSchema } from './config/schema.js';
import { ModelRepository } from './models/runtime/model-repository.js';
const config = ConfigSchema.parse({});
const grab = (t: number) => new Uint8Array(execFileSync('ffmpeg', ['-loglevel', 'error', '-ss', String(t), '-i', '/work/shared/media/car-detection.mp4', '-frames:v', '1', '-vf', 'scale=640:360', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-']));
const models = await ModelRepository.open({ config, paths: { modelsDir: 'data/models' }, log: { info() {}, warn() {} } });
for (const t of [5.04, 6.0]) {
  const f = { rgb: grab(t), width: 640, height: 360 };
  console.log(t, 'full', JSON.stringify(await models.detectObjects([f], config.detect)));
  for (const w of [{ x: 320, y: 180, w: 320, h: 180 }, { x: 240, y: 135, w: 400, h: 225 }, { x: 200, y: 100, w: 400, h: 225 }, { x: 0, y: 0, w: 640, h: 360 }]) console.log(t, JSON.stringify(w), JSON.stringify(await models.detectObjectsIn([{ frame: f, window: w }], config.detect)));
}
await models.close();
