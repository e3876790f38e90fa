#!/usr/bin/env bash
# A local Kafka Connect worker (standalone mode: one JVM, offsets in a file), no Docker needed.
#   connect.sh install                 resolve the worker and the file connectors with Maven into the cache folder
#   connect.sh start [CONNECTOR ...]   start the worker with these connector .properties files, wait until
#                                      its REST API answers and every connector and task is RUNNING
#   connect.sh stop                    stop it cleanly (SIGTERM, then SIGKILL after a bound)
#   connect.sh status                  say whether it runs, and each connector's state
# Settings (environment): KAFKA_BROKERS (127.0.0.1:9092), CONNECT_PORT (REST, 8083), CONNECT_DATA_DIR
#   (offsets file, pid, log; ~/.cache/streamrun/connect-data-<port>), CONNECT_CONNECTORS (connector
#   .properties files, space-separated, used when start is given none), STREAMRUN_CACHE
#   (~/.cache/streamrun), CONNECT_HEAP (256m), CONNECT_START_TIMEOUT (seconds, 90).
# The version is pom.xml's connect.version (why it is not the broker's: see there).
# The file connectors live on plugin.path, not the classpath: Kafka 4 ships connect-file outside the
# worker's classpath (a plugin, loaded in isolation), and this keeps the same layout.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
version=$(sed -n 's:.*<connect.version>\(.*\)</connect.version>.*:\1:p' "$here/pom.xml")
cache=${STREAMRUN_CACHE:-$HOME/.cache/streamrun}
home="$cache/connect-$version"
libs="$home/libs"
plugins="$home/plugins"
brokers=${KAFKA_BROKERS:-127.0.0.1:9092}
port=${CONNECT_PORT:-8083}
[[ "$port" =~ ^[1-9][0-9]*$ ]] || { printf 'connect: CONNECT_PORT must be a port number\n' >&2; exit 1; }
data=${CONNECT_DATA_DIR:-$cache/connect-data-$port}
pidfile="$data/connect.pid"
logfile="$data/connect.log"

say() { printf 'connect: %s\n' "$*"; }
die() { printf 'connect: %s\n' "$*" >&2; exit 1; }

# shellcheck source=../lib/processes.sh
. "$here/../lib/processes.sh"
running_pid() { pid_in "$pidfile"; }

# The body of `GET $1` on the worker's REST API, empty when it does not answer (no curl needed).
rest_get() {
  timeout 5 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 1
    printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n" "$1" >&3
    sed "1,/^\r\{0,1\}$/d" <&3' "$port" "$1" 2>/dev/null || true
}

install() {
  if [ -f "$home/.complete" ]; then return 0; fi
  command -v java >/dev/null || die "Java 17+ is required (java not found on PATH)"
  command -v mvn >/dev/null || die "Maven is required to fetch the Connect jars (mvn not found on PATH)"
  say "resolving Kafka Connect $version with Maven into $home"
  rm -rf "$home"
  mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
    -DexcludeArtifactIds=connect-file -DoutputDirectory="$libs" >&2 || die "Maven could not resolve connect-runtime:$version"
  # One folder per plugin under plugin.path: the worker gives each its own class loader.
  mvn -q -B -o -f "$here/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
    -DincludeArtifactIds=connect-file -DoutputDirectory="$plugins/connect-file" >&2 || die "Maven could not resolve connect-file"
  touch "$home/.complete"
}

write_config() {
  mkdir -p "$data"
  cat > "$data/worker.properties" <<PROPS
bootstrap.servers=$brokers
listeners=http://127.0.0.1:$port
rest.advertised.host.name=127.0.0.1
rest.advertised.port=$port
plugin.path=$plugins
# Every plugin here declares itself in META-INF/services: no slow scan of each jar's classes.
plugin.discovery=service_load
offset.storage.file.filename=$data/connect.offsets
# Kafka's 60s would leave a minute of a file re-read after a crash, and hold a sink's output back as
# long (FileStreamSink flushes its file when offsets are committed).
offset.flush.interval.ms=1000
# Connectors choose their converters; these only fill in for those that do not.
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.storage.StringConverter
# Lets a connector set its own clients' settings (consumer.override.*), as the sink example does.
connector.client.config.override.policy=All
PROPS
  cat > "$data/log4j2.properties" <<PROPS
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = $logfile
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %X{connector.context}%m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.reflections.name = org.reflections
logger.reflections.level = ERROR
PROPS
}

# The `name=` of a connector .properties file.
connector_name() {
  local name
  name=$(sed -n 's/^[[:space:]]*name[[:space:]]*[=:][[:space:]]*\(.*[^[:space:]]\)[[:space:]]*$/\1/p' "$1" | tail -n 1)
  [ -n "$name" ] || die "$1 has no name="
  printf '%s' "$name"
}

# RUNNING when the connector and each of its tasks (at least one) run; FAILED when any failed; else empty.
connector_state() {
  local body states
  body=$(rest_get "/connectors/$1/status")
  states=$(printf '%s' "$body" | grep -o '"state":"[A-Z_]*"' | sort -u || true)
  if printf '%s' "$states" | grep -q FAILED; then printf 'FAILED'; return; fi
  if [ "$states" = '"state":"RUNNING"' ] && printf '%s' "$body" | grep -q '"tasks":\[{'; then printf 'RUNNING'; fi
}

fail_start() {
  tail -n 30 "$logfile" >&2 || true
  die "$1; log in $logfile"
}

start() {
  local connectors=("$@") file names=() pid started=$SECONDS
  if [ "${#connectors[@]}" -eq 0 ] && [ -n "${CONNECT_CONNECTORS:-}" ]; then read -ra connectors <<<"$CONNECT_CONNECTORS"; fi
  for file in "${connectors[@]}"; do
    [ -f "$file" ] || die "no connector file $file"
    names+=("$(connector_name "$file")")
  done
  install
  if pid=$(running_pid); then
    say "worker already running (pid $pid) on http://127.0.0.1:$port"
    return 0
  fi
  if port_open "$port"; then die "127.0.0.1:$port is taken by another process; stop it or set CONNECT_PORT"; fi
  write_config
  : >"$logfile"
  nohup java -Xms"${CONNECT_HEAP:-256m}" -Xmx"${CONNECT_HEAP:-256m}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$data/log4j2.properties" \
    -cp "$libs/*" org.apache.kafka.connect.cli.ConnectStandalone "$data/worker.properties" "${connectors[@]}" \
    >"$data/stdout.log" 2>&1 &
  pid=$!
  echo "$pid" >"$pidfile"
  local deadline=$((SECONDS + ${CONNECT_START_TIMEOUT:-90})) name state pending
  for (( ; ; )); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$pidfile"
      tail -n 20 "$data/stdout.log" >&2 || true
      fail_start "the worker exited during start-up"
    fi
    pending=()
    if [ "$(rest_get /connectors)" = "" ]; then pending=(REST); else
      for name in "${names[@]}"; do
        state=$(connector_state "$name")
        if [ "$state" = FAILED ]; then stop_worker >/dev/null; fail_start "connector $name failed: $(rest_get "/connectors/$name/status")"; fi
        [ "$state" = RUNNING ] || pending+=("$name")
      done
    fi
    [ "${#pending[@]}" -eq 0 ] && break
    if [ "$SECONDS" -ge "$deadline" ]; then
      stop_worker >/dev/null
      fail_start "not ready within ${CONNECT_START_TIMEOUT:-90}s (waiting for: ${pending[*]})"
    fi
    sleep 0.2
  done
  say "Kafka Connect $version worker up in $((SECONDS - started))s on http://127.0.0.1:$port (pid $pid, brokers $brokers, data in $data)${names[*]:+; running: ${names[*]}}"
}

stop_worker() { stop_process "$pidfile" worker; }

status() {
  local pid
  if ! pid=$(running_pid); then say "worker not running"; return 1; fi
  say "worker running (pid $pid) on http://127.0.0.1:$port: $(rest_get '/connectors?expand=status' || true)"
}

case "${1:-}" in
  install) install; say "Kafka Connect $version jars in $libs, file connectors in $plugins" ;;
  start) shift; start "$@" ;;
  stop) stop_worker ;;
  status) status ;;
  *) die "usage: connect.sh install|start [connector.properties ...]|stop|status" ;;
esac
