// engram config print: the configuration after defaults, --config FILE and ENGRAM_* variables.
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { load } from './common.js';

/** Secrets are shown as *** (API keys, passwords in URLs). */
export function redact(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => redact(v, key));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k)]));
  }
  if (typeof value === 'string') {
    if (/key|secret|token|password/i.test(key) && value !== '') return '***';
    return value.replace(/(\/\/[^:/@]*:)[^@/]*@/, '$1***@');
  }
  return value;
}

export function registerConfig(program: Command): void {
  const config = program.command('config').description('inspect configuration');
  config
    .command('print')
    .description('print the resolved configuration (secrets hidden)')
    .option('--json', 'print JSON instead of YAML')
    .action((options: { json?: boolean }, command: Command) => {
      const loaded = load(command);
      const shown = { ...(redact(loaded.config) as object), resolvedPaths: loaded.paths };
      process.stdout.write(options.json ? `${JSON.stringify(shown, null, 2)}\n` : stringify(shown));
    });
}
