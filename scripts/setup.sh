#!/usr/bin/env bash
# npm run setup: make this machine able to run engram and its tests. Idempotent: what is already
# there is kept. On Debian/Ubuntu as root, missing system packages are installed with apt-get;
# elsewhere the missing ones are named and setup stops.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*"; }

# command -> Debian package. chromium and the fonts are for the test suite (browser test, OCR test
# frames drawn with several fonts); engram itself needs only the first three.
declare -A PKG=(
  [ffmpeg]=ffmpeg [ffprobe]=ffmpeg [redis-server]=redis-server [espeak-ng]=espeak-ng [chromium]=chromium
)
FONT_FILES=(
  /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:fonts-dejavu-core
  /usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf:fonts-liberation
)

missing_pkgs=()
missing_desc=()
for cmd in ffmpeg ffprobe redis-server espeak-ng chromium; do
  if ! command -v "$cmd" >/dev/null 2>&1; then
    missing_pkgs+=("${PKG[$cmd]}")
    missing_desc+=("$cmd (Debian package ${PKG[$cmd]})")
  fi
done
for entry in "${FONT_FILES[@]}"; do
  file=${entry%%:*}
  pkg=${entry##*:}
  if [ ! -f "$file" ]; then
    missing_pkgs+=("$pkg")
    missing_desc+=("font $file (Debian package $pkg)")
  fi
done

if [ ${#missing_pkgs[@]} -gt 0 ]; then
  # shellcheck disable=SC2207
  uniq_pkgs=($(printf '%s\n' "${missing_pkgs[@]}" | sort -u))
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing ${uniq_pkgs[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${uniq_pkgs[@]}" >/dev/null
  else
    say "missing on this machine:"
    for d in "${missing_desc[@]}"; do printf '  - %s\n' "$d"; done
    say "install them (as root on Debian/Ubuntu: apt-get install -y ${uniq_pkgs[*]}) and run npm run setup again"
    exit 1
  fi
fi

# npm ci deletes node_modules every time, so run it only when the lock file or Node changed.
# onnxruntime-node's install step downloads CUDA libraries from outside the npm registry; skip it
# unless the caller asked for it (GPU hosts: ONNXRUNTIME_NODE_INSTALL=cuda12 npm run setup).
export ONNXRUNTIME_NODE_INSTALL="${ONNXRUNTIME_NODE_INSTALL:-skip}"
stamp=".setup-stamp"
want="$(node -p 'process.version')-$ONNXRUNTIME_NODE_INSTALL-$(sha256sum package-lock.json | cut -c1-16)"
if [ ! -d node_modules ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "npm ci (ONNXRUNTIME_NODE_INSTALL=$ONNXRUNTIME_NODE_INSTALL)"
  npm ci --no-audit --no-fund
  echo "$want" > "$stamp"
else
  say "node_modules up to date"
fi

# npm 11 may skip install scripts of dependencies; make sure the native packages really load.
node --input-type=module -e "
  const checks = [['onnxruntime-node', m => m.InferenceSession], ['@lancedb/lancedb', m => m.connect]];
  for (const [name, pick] of checks) {
    try { if (!pick(await import(name))) throw new Error('unexpected exports'); }
    catch (e) { console.error('setup: native package ' + name + ' does not load: ' + e.message); process.exit(1); }
  }
"

say "building"
npm run --silent build

bash scripts/setup-models.sh
say "ready: try npm run demo, or npx engram --help"
