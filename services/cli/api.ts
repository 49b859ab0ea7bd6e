// engram api hash-key / new-key: make the SHA-256 hashes api.apiKeys holds, so the keys
// themselves never sit in a config file.
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { EngramError } from '../../config/errors.js';
import { hashKey } from '../api/auth.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function registerApi(program: Command): void {
  const api = program.command('api').description('HTTP API helpers');
  api
    .command('hash-key')
    .description('print the SHA-256 hash of an API key for api.apiKeys (reads the key from stdin when not given, so it stays out of shell history)')
    .argument('[key]', 'the key; omit to read it from stdin')
    .action(async (key: string | undefined) => {
      const text = key ?? (await readStdin()).replace(/\r?\n$/, '');
      if (text === '') throw new EngramError('no key given: pass it as an argument or on stdin', { exitCode: 2 });
      process.stdout.write(`${hashKey(text)}\n`);
    });
  api
    .command('new-key')
    .description('make a random API key and print it with its hash')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) => {
      const key = randomBytes(24).toString('base64url');
      const hash = hashKey(key);
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ key, hash })}\n`);
        return;
      }
      process.stdout.write(`key:  ${key}\nhash: ${hash}\n\nGive the key to the client (Authorization: Bearer KEY); put the hash in config:\n  api:\n    apiKeys: [${hash}]\n`);
    });
}
