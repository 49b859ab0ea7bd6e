// No Docker engine is available where engram is built and tested, so the images are checked by
// reading: the facts that broke before (a base whose ffmpeg lacks -fps_mode, no redis-server for
// managed mode) and the ones an image cannot run without (Node 20, the onnxruntime-node install
// mode, every path the build copies, the converted vision models).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../config/load.js';

const root = packageRoot();

/**
 * ffmpeg in each distribution release an engram image may use (the distributions' own package
 * versions). -fps_mode, which ingest passes, arrived in ffmpeg 5.1.
 */
const DISTRO_FFMPEG: Record<string, [number, number]> = {
  bullseye: [4, 3],
  bookworm: [5, 1],
  trixie: [7, 1],
  'ubuntu22.04': [4, 4],
  'ubuntu24.04': [6, 1],
};

interface Stage {
  from: string;
  name: string | undefined;
  env: Map<string, string>;
  packages: string[];
  copies: string[];
  lines: string[];
}

/** Stages of a Dockerfile, with their ENV values, apt-get packages and COPY sources (from the build context). */
function stages(path: string): Stage[] {
  const text = readFileSync(join(root, path), 'utf8').replace(/\\\n/g, ' ');
  const out: Stage[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) {
      out.push({ from: from[1]!, name: from[2], env: new Map(), packages: [], copies: [], lines: [] });
      continue;
    }
    const stage = out[out.length - 1];
    if (!stage) throw new Error(`${path}: "${line}" before any FROM`);
    stage.lines.push(line);
    if (/^ENV\s/i.test(line)) for (const m of line.slice(4).matchAll(/(\w+)=(\S+)/g)) stage.env.set(m[1]!, m[2]!);
    for (const m of line.matchAll(/apt-get install ((?:-\S+\s+)*)([^&|;]+)/g)) stage.packages.push(...m[2]!.trim().split(/\s+/));
    const copy = /^COPY\s+(?!--from)(.+)\s+\S+$/i.exec(line);
    if (copy) stage.copies.push(...copy[1]!.trim().split(/\s+/));
  }
  return out;
}

/** The distribution release a base image is built on, from its tag. */
function releaseOf(image: string): string {
  const node = /^node:\d+-(\w+)/.exec(image);
  if (node) return node[1]!;
  const cuda = /^nvidia\/cuda:[\d.]+-.*-(ubuntu\d+\.\d+)$/.exec(image);
  if (cuda) return cuda[1]!;
  throw new Error(`no known release in base image ${image}`);
}

const atLeast = (version: [number, number], min: [number, number]) => version[0] > min[0] || (version[0] === min[0] && version[1] >= min[1]);

describe.each([
  { file: 'docker/Dockerfile', install: 'skip' },
  { file: 'docker/Dockerfile.cuda', install: 'cuda12' },
])('$file', ({ file, install }) => {
  const all = stages(file);
  const final = all[all.length - 1]!;
  const build = all.find((s) => s.name === 'build');

  it('runs on a release whose ffmpeg has -fps_mode (5.1 or newer)', () => {
    const release = releaseOf(final.from);
    const ffmpeg = DISTRO_FFMPEG[release];
    expect(ffmpeg, `ffmpeg version of ${release}`).toBeDefined();
    expect(atLeast(ffmpeg!, [5, 1]), `${final.from}: ffmpeg ${ffmpeg!.join('.')}`).toBe(true);
    // The build stage compiles native modules against the same release it will run on.
    expect(releaseOf(build!.from)).toBe(release);
  });

  it('installs ffmpeg, redis-server (managed Redis without REDIS_URL) and tini in the image that runs', () => {
    for (const pkg of ['ffmpeg', 'redis-server', 'tini', 'ca-certificates']) expect(final.packages, pkg).toContain(pkg);
    expect(final.lines.find((l) => l.startsWith('ENTRYPOINT'))).toBe('ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/engram.js"]');
  });

  it('uses Node 20, as package.json requires', () => {
    const engines = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    expect(engines).toBe('>=20');
    const nodeImages = all.map((s) => s.from).filter((f) => f.startsWith('node:'));
    expect(nodeImages.length).toBeGreaterThan(0);
    for (const image of nodeImages) expect(image).toMatch(/^node:20-/);
    // An image not based on node: gets the binary from a node:20 stage.
    if (!final.from.startsWith('node:')) expect(final.lines).toContain('COPY --from=node /usr/local/bin/node /usr/local/bin/node');
  });

  it(`installs onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=${install}`, () => {
    expect(build!.env.get('ONNXRUNTIME_NODE_INSTALL')).toBe(install);
    const npmCi = build!.lines.findIndex((l) => /npm ci/.test(l));
    const envAt = build!.lines.findIndex((l) => /ONNXRUNTIME_NODE_INSTALL=/.test(l));
    expect(envAt).toBeGreaterThanOrEqual(0);
    expect(envAt).toBeLessThan(npmCi);
    if (install === 'cuda12') {
      expect(final.from).toMatch(/^nvidia\/cuda:12\.[\d.]+-cudnn-runtime-/);
      expect(final.env.get('ENGRAM_MODELS__PROVIDER')).toBe('cuda');
    }
  });

  it('converts the shipped vision models at build time and seeds the data directory with them', () => {
    const convert = build!.lines.find((l) => /bin\/engram\.js models convert/.test(l));
    expect(convert).toBeDefined();
    const seed = /ENGRAM_DATA_DIR=(\S+)/.exec(convert!)?.[1];
    expect(seed).toBeDefined();
    const dataDir = final.env.get('ENGRAM_DATA_DIR');
    expect(final.lines).toContain(`COPY --from=build ${seed}/models ${dataDir}/models`);
    // The image's models directory is the data directory's (config models.dir, relative).
    const defaults = readFileSync(join(root, 'config/default.yaml'), 'utf8');
    expect(defaults).toMatch(/^ {2}dir: models\b/m);
  });

  it('copies only paths that exist, and everything the build compiles', () => {
    for (const path of build!.copies) expect(existsSync(join(root, path)), path).toBe(true);
    const tsconfig = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
    for (const dir of tsconfig.include) expect(build!.copies, `tsconfig.build.json includes ${dir}`).toContain(dir);
    for (const path of final.copies) expect(existsSync(join(root, path)), path).toBe(true);
  });
});
