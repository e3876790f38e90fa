#!/usr/bin/env bash
# npm run test:busy: the e2e suite (on both clients) while two busy loops keep both cores at 100 %, so a test that
# only passes on a quiet machine fails here. Extra arguments go to vitest (e.g. a file).
set -euo pipefail
cd "$(dirname "$0")/.."
node -e 'for (;;) {}' & a=$!
node -e 'for (;;) {}' & b=$!
trap 'kill "$a" "$b" 2>/dev/null || true' EXIT
npx vitest run --project e2e --project e2e-kafkats "$@"
