#!/usr/bin/env bash
# One local Apache Kafka node (KRaft: broker + controller in one JVM), no Docker needed.
#   kafka.sh install   resolve the broker jars with Maven into the cache folder
#   kafka.sh start     format the storage dir once, start the node, wait until it answers
#   kafka.sh stop      stop it cleanly (SIGTERM, then SIGKILL after a bound)
#   kafka.sh status    say whether it runs
# Settings (environment): KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093),
#   KAFKA_DATA_DIR (~/.cache/streamrun/kafka-data-<port>), STREAMRUN_CACHE (~/.cache/streamrun),
#   KAFKA_HEAP (512m), KAFKA_START_TIMEOUT (seconds, 90).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")
cache=${STREAMRUN_CACHE:-$HOME/.cache/streamrun}
libs="$cache/kafka-$version/libs"
port=${KAFKA_PORT:-9092}
controller_port=${KAFKA_CONTROLLER_PORT:-9093}
data=${KAFKA_DATA_DIR:-$cache/kafka-data-$port}
pidfile="$data/kafka.pid"
logfile="$data/server.log"

say() { printf 'kafka: %s\n' "$*"; }
die() { printf 'kafka: %s\n' "$*" >&2; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
running_pid() {
  [ -f "$pidfile" ] || return 1
  local pid; pid=$(cat "$pidfile")
  kill -0 "$pid" 2>/dev/null && printf '%s' "$pid"
}

install() {
  if [ -f "$libs/.complete" ]; then return 0; fi
  command -v java >/dev/null || die "Java 17+ is required (java not found on PATH)"
  command -v mvn >/dev/null || die "Maven is required to fetch the broker jars (mvn not found on PATH)"
  say "resolving Apache Kafka $version with Maven into $libs"
  rm -rf "$libs"
  mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$libs" >&2 || die "Maven could not resolve kafka_2.13:$version"
  touch "$libs/.complete"
}

write_config() {
  mkdir -p "$data/logs"
  cat > "$data/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$data/logs
num.partitions=1
num.network.threads=2
num.io.threads=4
# A single node: every internal topic must live with one replica, or groups and
# transactions never find their coordinator.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
default.replication.factor=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
# Like most production clusters: topics are created on purpose (streamrun creates its own).
auto.create.topics.enable=false
PROPS
  cat > "$data/log4j2.properties" <<PROPS
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = $logfile
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
PROPS
}

start() {
  local pid
  if pid=$(running_pid); then
    say "already running (pid $pid) on 127.0.0.1:$port"
    return 0
  fi
  if port_open "$port"; then
    die "127.0.0.1:$port is taken by another process; stop it or set KAFKA_PORT"
  fi
  install
  write_config
  local cp="$libs/*"
  if [ ! -f "$data/logs/meta.properties" ]; then
    local cluster_id
    cluster_id=$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
    java -Dlog4j2.configurationFile="$data/log4j2.properties" -cp "$cp" kafka.tools.StorageTool \
      format -t "$cluster_id" -c "$data/server.properties" >"$data/format.log" 2>&1 \
      || die "formatting the storage dir failed; see $data/format.log"
  fi
  : >"$logfile"
  local started=$SECONDS
  nohup java -Xms"${KAFKA_HEAP:-512m}" -Xmx"${KAFKA_HEAP:-512m}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$data/log4j2.properties" \
    -cp "$cp" kafka.Kafka "$data/server.properties" >"$data/stdout.log" 2>&1 &
  pid=$!
  echo "$pid" >"$pidfile"
  local deadline=$((SECONDS + ${KAFKA_START_TIMEOUT:-90}))
  until grep -q "Kafka Server started" "$logfile" 2>/dev/null && port_open "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$pidfile"
      tail -n 20 "$data/stdout.log" "$logfile" >&2 || true
      die "the broker exited during start-up; logs in $data"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      stop
      die "the broker did not answer within ${KAFKA_START_TIMEOUT:-90}s; logs in $data"
    fi
    sleep 0.2
  done
  say "Apache Kafka $version up on 127.0.0.1:$port (pid $pid, $((SECONDS - started))s, data in $data)"
}

stop() {
  local pid
  if ! pid=$(running_pid); then
    say "not running on 127.0.0.1:$port"
    rm -f "$pidfile"
    return 0
  fi
  kill -TERM "$pid"
  local deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "no clean stop within 30s; killing pid $pid"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  rm -f "$pidfile"
  say "stopped (pid $pid)"
}

status() {
  local pid
  if pid=$(running_pid); then say "running (pid $pid) on 127.0.0.1:$port"; else say "not running"; return 1; fi
}

case "${1:-}" in
  install) install; say "Apache Kafka $version jars in $libs" ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) die "usage: kafka.sh install|start|stop|status" ;;
esac
