// Reads configuration once: config/default.yaml, then --config FILE, then ENGRAM_*, REDIS_URL and AWS_*
// from the environment, validated by one schema. This is the only module that reads process.env.
import { readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { ConfigSchema, type Config } from './schema.js';

export interface LoadOptions {
  /** A YAML file whose values override the defaults. */
  configFile?: string;
  /** Environment to read ENGRAM_* and REDIS_URL from; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Values that win over everything (used by tests and by CLI flags). */
  overrides?: Record<string, unknown>;
  /** Directory relative paths are resolved against; defaults to process.cwd(). */
  cwd?: string;
}

export interface LoadedConfig {
  config: Config;
  paths: EngramPaths;
  /** Variables not consumed by the config but useful to the process (never secrets). */
  env: { isTty: boolean; onnxInstall: string | undefined };
}

export interface EngramPaths {
  root: string;
  dataDir: string;
  redisDir: string;
  lancedbUri: string;
  blobsDir: string;
  /** Segment files of live streams' recordings (recordings.dir). */
  recordingsDir: string;
  modelsDir: string;
}

type Json = Record<string, unknown>;

/** The package root: the folder holding package.json, from src (config/) or built (dist/config/). */
export function packageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return basename(dirname(here)) === 'dist' ? resolve(here, '../..') : resolve(here, '..');
}

export function defaultConfigPath(): string {
  return resolve(packageRoot(), 'config/default.yaml');
}

function readYamlFile(path: string, what: string): Json {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError([`${what} ${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`]);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new ConfigError([`${what} ${path}: not valid YAML (${(error as Error).message.split('\n')[0]})`]);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError([`${what} ${path}: expected a mapping of options at the top level`]);
  }
  return value as Json;
}

function isPlainObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function deepMerge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

/** Object keys of a zod schema at a path, unwrapping defaults and optionals. */
function shapeAt(schema: z.ZodType, path: string[]): Record<string, z.ZodType> | undefined {
  let current: z.ZodType = schema;
  for (let i = 0; i <= path.length; i += 1) {
    // unwrap wrappers (default, prefault, optional, nullable, pipe)
    for (;;) {
      const def = (current as unknown as { def: { type: string; innerType?: z.ZodType; in?: z.ZodType } }).def;
      if (def.innerType) current = def.innerType;
      else if (def.type === 'pipe' && def.in) current = def.in;
      else break;
    }
    if (!(current instanceof z.ZodObject)) return undefined;
    if (i === path.length) return current.shape as Record<string, z.ZodType>;
    const next = (current.shape as Record<string, z.ZodType>)[path[i] as string];
    if (!next) return undefined;
    current = next;
  }
  return undefined;
}

const normalise = (s: string) => s.toLowerCase().replace(/_/g, '');

/** The zod type name of the option at a path ('string', 'number', 'array', ...), wrappers unwrapped. */
function leafType(schema: z.ZodType, path: string[]): string | undefined {
  const parent = shapeAt(schema, path.slice(0, -1));
  let current = parent?.[path[path.length - 1] as string];
  while (current) {
    const def = (current as unknown as { def: { type: string; innerType?: z.ZodType; in?: z.ZodType } }).def;
    if (def.innerType) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else return def.type;
  }
  return undefined;
}

/**
 * A variable's text as the option's value. Text options take it verbatim: read as YAML, an IPv6
 * address like "::" would become a mapping. Lists take YAML flow syntax ([a, b]) or commas
 * (a,b). Everything else is a YAML scalar, so numbers and booleans keep their type.
 */
function envValue(raw: string, type: string | undefined): unknown {
  if (type === 'string' || type === 'enum') return raw;
  if (type === 'array' && !raw.trim().startsWith('[')) {
    return raw.trim() === '' ? [] : raw.split(',').map((item) => item.trim());
  }
  try {
    const value: unknown = parseYaml(raw);
    if (value === null) return raw;
    // A mapping is meant only where the option is one ({a: 1}); elsewhere the text was not YAML.
    return typeof value === 'object' && !Array.isArray(value) && type !== 'object' && type !== 'record' ? raw : value;
  } catch {
    return raw;
  }
}

/** Standard AWS variables and the storage.s3 option each sets. */
const AWS_VARIABLES: Record<string, string> = {
  AWS_ACCESS_KEY_ID: 'accessKeyId',
  AWS_SECRET_ACCESS_KEY: 'secretAccessKey',
  AWS_SESSION_TOKEN: 'sessionToken',
  AWS_REGION: 'region',
  AWS_ENDPOINT_URL: 'endpoint',
};

/**
 * ENGRAM_SECTION__KEY=value sets section.key (double underscore nests, single underscores and case
 * are ignored when matching option names: ENGRAM_DATA_DIR sets dataDir, ENGRAM_LOG__LEVEL sets
 * log.level). Values are read as YAML scalars, so numbers and booleans keep their type.
 */
export function envOverrides(env: NodeJS.ProcessEnv): { values: Json; problems: string[] } {
  // The AWS SDK's own variable names first, so a host set up for the aws CLI needs nothing more;
  // ENGRAM_STORAGE__S3__* merged after them wins.
  let values: Json = {};
  for (const [name, key] of Object.entries(AWS_VARIABLES)) {
    const raw = env[name]?.trim();
    if (raw) values = deepMerge(values, { storage: { s3: { [key]: raw } } });
  }
  const problems: string[] = [];
  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined) continue;
    if (name === 'REDIS_URL') {
      if (raw.trim() !== '') values = deepMerge(values, { redis: { url: raw.trim() } });
      continue;
    }
    if (!name.startsWith('ENGRAM_')) continue;
    const segments = name.slice('ENGRAM_'.length).split('__');
    const path: string[] = [];
    let ok = true;
    for (const segment of segments) {
      const shape = shapeAt(ConfigSchema, path);
      const key = shape ? Object.keys(shape).find((k) => normalise(k) === normalise(segment)) : undefined;
      if (!key) {
        problems.push(`${name}: no option ${[...path, segment.toLowerCase()].join('.')} (ENGRAM_* variables name config keys, "__" between levels)`);
        ok = false;
        break;
      }
      path.push(key);
    }
    if (!ok) continue;
    const value = envValue(raw, leafType(ConfigSchema, path));
    let nested: unknown = value;
    for (const key of [...path].reverse()) nested = { [key]: nested };
    values = deepMerge(values, nested as Json);
  }
  return { values, problems };
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const key = issue.path.length ? issue.path.join('.') : '(top level)';
  if (issue.code === 'unrecognized_keys') {
    const where = issue.path.length ? `${issue.path.join('.')}.` : '';
    return `${issue.keys.map((k) => `${where}${k}`).join(', ')}: unknown option${issue.keys.length > 1 ? 's' : ''}`;
  }
  let got = input as unknown;
  for (const p of issue.path) got = isPlainObject(got) || Array.isArray(got) ? (got as Record<PropertyKey, unknown>)[p as PropertyKey] : undefined;
  const shown = got === undefined ? '' : ` (got ${JSON.stringify(got)})`;
  return `${key}: ${issue.message}${shown}`;
}

export function parseConfig(input: Json, extraProblems: string[] = []): Config {
  const result = ConfigSchema.safeParse(input);
  const problems = [...extraProblems];
  if (!result.success) problems.push(...result.error.issues.map((issue) => describeIssue(issue, input)));
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  return result.data;
}

export function resolvePaths(config: Config, cwd: string): EngramPaths {
  const dataDir = resolve(cwd, config.dataDir);
  const lancedb = config.storage.lancedbUri;
  const isUri = /^[a-z][a-z0-9+.-]*:\/\//i.test(lancedb);
  return {
    root: packageRoot(),
    dataDir,
    redisDir: resolve(dataDir, 'redis'),
    lancedbUri: isUri || isAbsolute(lancedb) ? lancedb : resolve(dataDir, lancedb),
    blobsDir: resolve(dataDir, 'blobs'),
    recordingsDir: resolve(dataDir, config.recordings.dir),
    modelsDir: resolve(dataDir, config.models.dir),
  };
}

export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  let merged = readYamlFile(defaultConfigPath(), 'default config');
  if (options.configFile) merged = deepMerge(merged, readYamlFile(resolve(cwd, options.configFile), 'config file'));
  const fromEnv = envOverrides(env);
  merged = deepMerge(merged, fromEnv.values);
  if (options.overrides) merged = deepMerge(merged, options.overrides);
  const config = parseConfig(merged, fromEnv.problems);
  return {
    config,
    paths: resolvePaths(config, cwd),
    env: { isTty: Boolean(process.stderr.isTTY), onnxInstall: env.ONNXRUNTIME_NODE_INSTALL },
  };
}
