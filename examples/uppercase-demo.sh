#!/usr/bin/env bash
# npm run demo:uppercase: a local broker (unless KAFKA_BROKERS points at one), then the uppercase walk-through.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${KAFKA_BROKERS:-}" ]; then
  bash docker/kafka/kafka.sh start
fi
exec node --conditions=streamrun-source --import tsx examples/demo.ts
