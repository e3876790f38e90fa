#!/usr/bin/env bash
# A local Apicurio Registry with its Confluent-compatible API (/apis/ccompat/v7), no Docker needed.
#   registry.sh install   fetch Apicurio's Quarkus build with Maven and unpack it into the cache folder
#   registry.sh start     start it with in-memory storage, wait until the API answers
#   registry.sh stop      stop it cleanly (SIGTERM, then SIGKILL after a bound)
#   registry.sh status    say whether it runs
# Settings (environment): REGISTRY_PORT (8081), REGISTRY_DATA_DIR (~/.cache/streamrun/registry-data-<port>:
#   pid and log file only, schemas live in memory and go with the process), STREAMRUN_CACHE (~/.cache/streamrun),
#   REGISTRY_HEAP (256m), REGISTRY_COMPATIBILITY (BACKWARD, Confluent's default; Apicurio's own is none),
#   REGISTRY_START_TIMEOUT (seconds, 90).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
version=$(sed -n 's:.*<registry.version>\(.*\)</registry.version>.*:\1:p' "$here/pom.xml")
cache=${STREAMRUN_CACHE:-$HOME/.cache/streamrun}
home="$cache/registry-$version"
port=${REGISTRY_PORT:-8081}
[[ "$port" =~ ^[1-9][0-9]*$ ]] || { printf 'registry: REGISTRY_PORT must be a port number\n' >&2; exit 1; }
data=${REGISTRY_DATA_DIR:-$cache/registry-data-$port}
pidfile="$data/registry.pid"
logfile="$data/registry.log"
api=/apis/ccompat/v7

say() { printf 'registry: %s\n' "$*"; }
die() { printf 'registry: %s\n' "$*" >&2; exit 1; }

# shellcheck source=../lib/processes.sh
. "$here/../lib/processes.sh"
running_pid() { pid_in "$pidfile"; }
# The HTTP status of `$1 $2` with the JSON body $3, through bash's /dev/tcp: nothing beyond bash
# is needed to wait for the registry or to configure it.
http_status() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
    printf '%s %s HTTP/1.0\r\nHost: 127.0.0.1:%s\r\nContent-Type: application/vnd.schemaregistry.v1+json\r\nContent-Length: %s\r\nConnection: close\r\n\r\n%s' \
      "$1" "$2" "$port" "${#3}" "$3" >&3
    IFS=' ' read -r -t 5 _ code _ <&3 || exit 1
    printf '%s' "$code"
  ) 2>/dev/null
}

install() {
  if [ -f "$home/.complete" ]; then return 0; fi
  command -v java >/dev/null || die "Java 17+ is required (java not found on PATH)"
  command -v mvn >/dev/null || die "Maven is required to fetch the registry (mvn not found on PATH)"
  say "fetching Apicurio Registry $version with Maven into $home"
  local download; download=$(mktemp -d)
  mvn -q -B -f "$here/pom.xml" dependency:copy@registry -Dregistry.download="$download" >&2 \
    || { rm -rf "$download"; die "Maven could not fetch io.apicurio:apicurio-registry-app:$version:tar.gz:all"; }
  rm -rf "$home"
  mkdir -p "$home"
  tar -xzf "$download/registry.tar.gz" -C "$home" || { rm -rf "$download" "$home"; die "unpacking the registry failed"; }
  rm -rf "$download"
  [ -f "$home/apicurio-registry-app-$version-runner.jar" ] || die "no runner jar in the registry's build ($home)"
  touch "$home/.complete"
}

start() {
  install
  local pid
  if pid=$(running_pid); then
    say "already running (pid $pid) on http://127.0.0.1:$port$api"
    return 0
  fi
  if port_open "$port"; then die "127.0.0.1:$port is taken by another process; stop it or set REGISTRY_PORT"; fi
  mkdir -p "$data"
  : >"$logfile"
  local started=$SECONDS
  # Two cores are shared with a broker and the tests: a small serial-GC heap and the C1 compiler
  # only, which starts faster and costs less CPU than C2 would ever pay back in a test run. The
  # connection pool of the in-memory H2 database shrinks from 20 ready connections to 2.
  # Authentication stays off (a registry for local runs and tests); this build has no UI and no
  # telemetry exporter, so there is nothing else to turn off.
  nohup java -Xms64m -Xmx"${REGISTRY_HEAP:-256m}" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Djava.awt.headless=true \
    -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$port" \
    -Dapicurio.storage.kind=sql -Dapicurio.storage.sql.kind=h2 \
    -Dapicurio.datasource.jdbc.initial-size=2 -Dapicurio.datasource.jdbc.min-size=2 -Dapicurio.datasource.jdbc.max-size=20 \
    -Dquarkus.oidc.tenant-enabled=false \
    -jar "$home/apicurio-registry-app-$version-runner.jar" >"$logfile" 2>&1 &
  pid=$!
  echo "$pid" >"$pidfile"
  local deadline=$((SECONDS + ${REGISTRY_START_TIMEOUT:-90}))
  until [ "$(http_status GET "$api/subjects" "")" = 200 ]; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$pidfile"
      tail -n 30 "$logfile" >&2 || true
      die "the registry exited during start-up; log in $logfile"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail -n 30 "$logfile" >&2 || true
      stop
      die "the registry did not answer within ${REGISTRY_START_TIMEOUT:-90}s; log in $logfile"
    fi
    sleep 0.2
  done
  # Set through the API, not through Apicurio's default-rule property: with the property the rule
  # holds, but GET /config still says NONE.
  local level=${REGISTRY_COMPATIBILITY:-BACKWARD}
  [ "$(http_status PUT "$api/config" "{\"compatibility\":\"$level\"}")" = 200 ] \
    || { stop; die "the registry refused the global compatibility level $level; log in $logfile"; }
  say "Apicurio Registry $version up in $((SECONDS - started))s on http://127.0.0.1:$port$api (pid $pid, compatibility $level, log $logfile)"
}

stop() { stop_process "$pidfile" registry TERM 20; }

status() {
  local pid
  if pid=$(running_pid); then say "running (pid $pid) on http://127.0.0.1:$port$api"; else say "not running"; return 1; fi
}

case "${1:-}" in
  install) install; say "Apicurio Registry $version in $home" ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) die "usage: registry.sh install|start|stop|status" ;;
esac
