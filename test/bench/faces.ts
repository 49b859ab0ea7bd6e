// Faces section of the models bench: faces per second per core (blazeface detect + quality gate +
// alignment + faceres describe, one intra-op thread) on the people clips, and the time to assign a
// sighting to its identity with 10,000 identities in memory (the nearest-centroid scan PeopleStore
// runs on every sighting). Needs the converted models in data/models (npm run setup).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../config/load.js';
import { ConfigSchema, ModelsSchema } from '../../config/schema.js';
import { ModelRepository } from '../../models/runtime/model-repository.js';
import { perceiveFaces } from '../../pipelines/faces/perceive-faces.js';
import { nearestIdentity, type IdentityCentroid } from '../../pipelines/records/identities.js';

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

export async function benchFaces(peopleDir: string): Promise<Record<string, unknown>> {
  const models = await ModelRepository.open({
    config: ModelsSchema.parse({ provider: 'cpu', intraOpThreads: 1, interOpThreads: 1 }),
    paths: { modelsDir: join(packageRoot(), 'data/models') },
    log: { info: () => undefined, warn: () => undefined },
  });
  if (models.faceDescriptorSize() === undefined) return { skipped: 'blazeface/faceres not installed in data/models (npm run setup)' };
  const options = ConfigSchema.parse({}).faces;
  const frames = ['again', 'bird', 'book', 'eat', 'hungry'].flatMap((clip) => {
    const raw = execFileSync('ffmpeg', ['-loglevel', 'error', '-i', join(peopleDir, `${clip}.mkv`), '-vf', 'fps=1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 64 << 20 });
    const per = 640 * 480 * 3;
    return Array.from({ length: Math.floor(raw.length / per) }, (_, i) => ({ rgb: new Uint8Array(raw.buffer, raw.byteOffset + i * per, per), width: 640, height: 480 }));
  });
  await perceiveFaces(frames.slice(0, 1), options, models); // warm-up: opens both sessions
  const started = performance.now();
  let faces = 0;
  for (let pass = 0; pass < 2; pass += 1) faces += (await perceiveFaces(frames, options, models)).length;
  const seconds = (performance.now() - started) / 1000;
  await models.close();

  const identities: IdentityCentroid[] = Array.from({ length: 10_000 }, (_, i) => {
    const v = new Float32Array(1024);
    for (let k = 0; k < v.length; k += 1) v[k] = Math.sin(i * 7.3 + k * 0.91);
    let s = 0;
    for (const x of v) s += x * x;
    for (let k = 0; k < v.length; k += 1) v[k] = (v[k] as number) / Math.sqrt(s);
    return { id: String(i), centroid: v, faces: 1 };
  });
  const probe = identities[4321]!.centroid;
  nearestIdentity(probe, identities);
  const t = performance.now();
  const reps = 20;
  for (let r = 0; r < reps; r += 1) nearestIdentity(probe, identities);
  return {
    models: 'blazeface + faceres (converted), 1 intra-op thread',
    frames: frames.length * 2,
    faces,
    facesPerSecondPerCore: round(faces / seconds, 2),
    msPerFrame: round((seconds * 1000) / (frames.length * 2)),
    assignMsWith10000Identities: round((performance.now() - t) / reps, 2),
  };
}
