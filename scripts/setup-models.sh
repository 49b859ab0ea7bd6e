#!/usr/bin/env bash
# The model steps of npm run setup, on their own so a test can run them against a fresh data
# directory (ENGRAM_DATA_DIR). engram's own models ship in npm packages: some are converted to ONNX
# here, and all are checked to be installed and to verify. Nothing here generates a model: the tiny
# test models belong to the test suite.
# An older data directory that still holds them gets engram's warning naming them and how to remove them.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*"; }

# The vision models ship as TF.js graphs in @vladmandic/human; engram's converter writes ONNX beside
# a manifest. Sources are verified against pinned sha256; up-to-date outputs are kept.
say "converting the @vladmandic/human vision models to ONNX"
node bin/engram.js models convert

say "checking the models that ship with engram"
node bin/engram.js models list --json | node --input-type=module -e "
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  const bad = JSON.parse(text).filter((m) => (m.origin === 'npm' || m.origin === 'converted') && (!m.installed || m.checksum !== 'ok'));
  for (const m of bad) console.error('setup: model ' + m.name + ' (' + m.origin + ') is ' + (m.installed ? 'installed but its checksum is ' + m.checksum : 'missing') + '; run npm ci and npm run setup again');
  process.exit(bad.length ? 1 : 0);
"
