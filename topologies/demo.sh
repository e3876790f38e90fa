#!/usr/bin/env bash
# npm run demo: the event pipeline with its API on :8080 (or $PORT), on a local Kafka broker (unless
# KAFKA_BROKERS names one) and the PostgreSQL in DATABASE_URL (else an embedded one). MQTT
# sensors are bridged when a broker answers on 127.0.0.1:1883 (or MQTT_URL names one).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${KAFKA_BROKERS:-}" ]; then
  bash docker/kafka/kafka.sh start
fi
if [ -z "${MQTT_URL+set}" ] && (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
  export MQTT_URL=mqtt://127.0.0.1:1883
fi
# PORT moves the API off 8080 (the pipeline's own default).
port="${PORT:-8080}"
sed "s/:8080/:${port}/g" <<'TRY'
demo: starting the event pipeline; once it logs "events running", try:

  curl -X POST "http://localhost:8080/events?eventType=Temperature&eventData=30C"
  curl http://localhost:8080/events
  curl -X POST http://localhost:8080/events -H 'content-type: application/json' \
       -d '[{"type":"humidity","payload":"55%"},{"type":"power","payload":{"value":3.2,"unit":"kW"}}]'
  curl http://localhost:8080/events/stats
  mosquitto_pub -q 1 -t sensors/kitchen/temperature -m 21.5C      # with MQTT
  open http://localhost:8080/docs                                   # the API, in OpenAPI

Stop with Ctrl-C: it drains, commits and exits.
TRY
exec node bin/streamrun.js start topologies/events.ts --state-dir "${STREAMRUN_STATE_DIR:-.streamrun-state/demo}" ${PORT:+--port "$PORT"}
