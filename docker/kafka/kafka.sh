#!/usr/bin/env bash
# Local Apache Kafka nodes (KRaft: broker + controller in one JVM each), no Docker needed.
#   kafka.sh install        resolve the broker jars with Maven into the cache folder
#   kafka.sh start          format the storage dirs once, start every node, wait until they answer
#   kafka.sh stop           stop them cleanly (SIGTERM, then SIGKILL after a bound)
#   kafka.sh status         say whether they run
#   kafka.sh start-node I   start node I (1..KAFKA_NODES) and wait until it answers
#   kafka.sh stop-node I    stop node I cleanly
#   kafka.sh kill-node I    SIGKILL node I, as a crash would
# Settings (environment): KAFKA_NODES (1), KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093 for one
#   node, else KAFKA_PORT + KAFKA_NODES), KAFKA_DATA_DIR (~/.cache/streamrun/kafka-data-<port>),
#   STREAMRUN_CACHE (~/.cache/streamrun), KAFKA_HEAP (512m, per node), KAFKA_START_TIMEOUT (seconds, 90).
# An extra SASL_SSL listener, off unless KAFKA_SASL_SSL_PORT is set (node I on KAFKA_SASL_SSL_PORT + I - 1):
#   KAFKA_SSL_KEYSTORE (PKCS12 file with the broker's key and certificate), KAFKA_SSL_KEYSTORE_PASSWORD,
#   KAFKA_SASL_USERS ("name:password,..."; each one for PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512),
#   KAFKA_SASL_SSL_HOST (the name it advertises, which the certificate must hold; localhost),
#   KAFKA_SSL_TRUSTSTORE and KAFKA_SSL_TRUSTSTORE_PASSWORD (PKCS12 with the CA of client certificates:
#   with them a client certificate is checked when one is shown; KAFKA_SSL_CLIENT_AUTH=required demands one).
#   Brokers talk to each other on the plain listener. SCRAM users are stored in the cluster when
#   the data dir is formatted: a later start with another KAFKA_SASL_USERS stops and says so.
# Node I listens on KAFKA_PORT + I - 1 and KAFKA_CONTROLLER_PORT + I - 1; all of them are voters of
# the controller quorum. With more than one node, node I keeps its data in KAFKA_DATA_DIR/node-I.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")
cache=${STREAMRUN_CACHE:-$HOME/.cache/streamrun}
libs="$cache/kafka-$version/libs"
nodes=${KAFKA_NODES:-1}
[[ "$nodes" =~ ^[1-9][0-9]*$ ]] || { printf 'kafka: KAFKA_NODES must be a positive number\n' >&2; exit 1; }
first_port=${KAFKA_PORT:-9092}
if [ "$nodes" -eq 1 ]; then first_controller_port=${KAFKA_CONTROLLER_PORT:-9093}; else first_controller_port=${KAFKA_CONTROLLER_PORT:-$((first_port + nodes))}; fi
cluster_data=${KAFKA_DATA_DIR:-$cache/kafka-data-$first_port}
# Internal topics get as many copies as there are nodes, up to three, and with three a write
# needs two of them: one node down stops no group and no transaction.
internal_rf=$((nodes < 3 ? nodes : 3))
internal_isr=$((nodes < 3 ? 1 : 2))
sasl_ssl_port=${KAFKA_SASL_SSL_PORT:-}
sasl_users=${KAFKA_SASL_USERS:-}
if [ -n "$sasl_ssl_port" ]; then
  [[ "$sasl_ssl_port" =~ ^[1-9][0-9]*$ ]] || { printf 'kafka: KAFKA_SASL_SSL_PORT must be a port number\n' >&2; exit 1; }
  [ -f "${KAFKA_SSL_KEYSTORE:-}" ] || { printf 'kafka: KAFKA_SASL_SSL_PORT needs KAFKA_SSL_KEYSTORE, a PKCS12 keystore file (got "%s")\n' "${KAFKA_SSL_KEYSTORE:-}" >&2; exit 1; }
  [ -n "${KAFKA_SSL_KEYSTORE_PASSWORD:-}" ] || { printf 'kafka: KAFKA_SASL_SSL_PORT needs KAFKA_SSL_KEYSTORE_PASSWORD\n' >&2; exit 1; }
  [ -z "${KAFKA_SSL_TRUSTSTORE:-}" ] || [ -f "$KAFKA_SSL_TRUSTSTORE" ] || { printf 'kafka: KAFKA_SSL_TRUSTSTORE: no such file "%s"\n' "$KAFKA_SSL_TRUSTSTORE" >&2; exit 1; }
  [[ "${KAFKA_SSL_CLIENT_AUTH:-requested}" =~ ^(requested|required)$ ]] || { printf 'kafka: KAFKA_SSL_CLIENT_AUTH must be requested or required\n' >&2; exit 1; }
  [[ "$sasl_users" =~ ^[^:,]+:[^,]+(,[^:,]+:[^,]+)*$ ]] || { printf 'kafka: KAFKA_SASL_SSL_PORT needs KAFKA_SASL_USERS as name:password[,name:password]\n' >&2; exit 1; }
fi

say() { printf 'kafka: %s\n' "$*"; }
# Selects node $1: its ports, data dir, pid and log file.
node() {
  id=$1
  port=$((first_port + id - 1))
  if [ -n "$sasl_ssl_port" ]; then secure_port=$((sasl_ssl_port + id - 1)); fi
  controller_port=$((first_controller_port + id - 1))
  if [ "$nodes" -eq 1 ]; then data=$cluster_data; else data="$cluster_data/node-$id"; fi
  pidfile="$data/kafka.pid"
  logfile="$data/server.log"
}
voters() {
  local i list=""
  for ((i = 1; i <= nodes; i++)); do list+="${list:+,}$i@127.0.0.1:$((first_controller_port + i - 1))"; done
  printf '%s' "$list"
}
die() { printf 'kafka: %s\n' "$*" >&2; exit 1; }

# shellcheck source=../lib/processes.sh
. "$here/../lib/processes.sh"
running_pid() { pid_in "$pidfile"; }

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

# Each SASL user once per mechanism: PLAIN's live in the JAAS line, SCRAM's in the cluster metadata.
plain_users() {
  local pair out=""
  IFS=, read -ra pairs <<<"$sasl_users"
  for pair in "${pairs[@]}"; do out+=" user_${pair%%:*}=\"${pair#*:}\""; done
  printf '%s' "$out"
}
# `$1 '<mechanism>=[name=...,password=...]'` for every user and SCRAM mechanism.
each_scram_credential() {
  local pair mechanism
  IFS=, read -ra pairs <<<"$sasl_users"
  for pair in "${pairs[@]}"; do
    for mechanism in SCRAM-SHA-256 SCRAM-SHA-512; do "$1" "$mechanism=[name=${pair%%:*},password=${pair#*:}]"; done
  done
}

write_config() {
  mkdir -p "$data/logs"
  local listeners="PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port"
  local advertised="PLAINTEXT://127.0.0.1:$port"
  local protocols="PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
  if [ -n "$sasl_ssl_port" ]; then
    listeners+=",SASL_SSL://127.0.0.1:$secure_port"
    advertised+=",SASL_SSL://${KAFKA_SASL_SSL_HOST:-localhost}:$secure_port"
    protocols+=",SASL_SSL:SASL_SSL"
  fi
  cat > "$data/server.properties" <<PROPS
process.roles=broker,controller
node.id=$id
controller.quorum.voters=$(voters)
listeners=$listeners
advertised.listeners=$advertised
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=$protocols
log.dirs=$data/logs
num.partitions=1
num.network.threads=2
num.io.threads=4
# Internal topics cannot have more replicas than nodes (on a single node, one), or groups and
# transactions never find their coordinator.
offsets.topic.replication.factor=$internal_rf
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=$internal_rf
transaction.state.log.min.isr=$internal_isr
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=$internal_rf
share.coordinator.state.topic.min.isr=$internal_isr
# Kafka's own defaults: a topic's replication is chosen where it is created (streamrun chooses
# three copies, two in sync, for its own on three nodes or more).
default.replication.factor=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
# Like most production clusters: topics are created on purpose (streamrun creates its own).
auto.create.topics.enable=false
PROPS
  if [ -n "$sasl_ssl_port" ]; then
    cat >> "$data/server.properties" <<PROPS
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required$(plain_users);
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PKCS12
ssl.keystore.location=$KAFKA_SSL_KEYSTORE
ssl.keystore.password=$KAFKA_SSL_KEYSTORE_PASSWORD
PROPS
    if [ -n "${KAFKA_SSL_TRUSTSTORE:-}" ]; then
      cat >> "$data/server.properties" <<PROPS
ssl.truststore.type=PKCS12
ssl.truststore.location=$KAFKA_SSL_TRUSTSTORE
ssl.truststore.password=${KAFKA_SSL_TRUSTSTORE_PASSWORD:-}
listener.name.sasl_ssl.ssl.client.auth=${KAFKA_SSL_CLIENT_AUTH:-requested}
PROPS
    fi
  fi
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

# One id for every node of the cluster, made once: nodes formatted with different ids never form a quorum.
cluster_id() {
  local file="$cluster_data/cluster.id"
  if [ ! -f "$file" ]; then
    mkdir -p "$cluster_data"
    java -cp "$libs/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1 >"$file"
  fi
  cat "$file"
}

# Starts the selected node's JVM without waiting for it; returns at once if it runs already.
launch() {
  local pid
  if pid=$(running_pid); then
    say "node $id already running (pid $pid) on 127.0.0.1:$port"
    return 0
  fi
  if port_open "$port"; then
    die "127.0.0.1:$port is taken by another process; stop it or set KAFKA_PORT"
  fi
  write_config
  local cp="$libs/*"
  if [ ! -f "$data/logs/meta.properties" ]; then
    local scram=()
    add_scram() { scram+=(--add-scram "$1"); }
    if [ -n "$sasl_ssl_port" ]; then each_scram_credential add_scram; fi
    java -Dlog4j2.configurationFile="$data/log4j2.properties" -cp "$cp" kafka.tools.StorageTool \
      format -t "$(cluster_id)" -c "$data/server.properties" "${scram[@]}" >"$data/format.log" 2>&1 \
      || die "formatting the storage dir failed; see $data/format.log"
    if [ -n "$sasl_ssl_port" ]; then printf '%s' "$sasl_users" >"$data/sasl-users"; fi
  elif [ -n "$sasl_ssl_port" ] && [ "$(cat "$data/sasl-users" 2>/dev/null)" != "$sasl_users" ]; then
    # The jars here have no kafka-configs (kafka-tools) to change them in a running cluster.
    die "KAFKA_SASL_USERS differs from the users $data was formatted with (SCRAM users are stored at format time); use a fresh KAFKA_DATA_DIR"
  fi
  : >"$logfile"
  nohup java -Xms"${KAFKA_HEAP:-512m}" -Xmx"${KAFKA_HEAP:-512m}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$data/log4j2.properties" \
    -cp "$cp" kafka.Kafka "$data/server.properties" >"$data/stdout.log" 2>&1 &
  echo "$!" >"$pidfile"
}

# Waits until the selected node answers; stops every node if it does not.
await_node() {
  local pid deadline=$((SECONDS + ${KAFKA_START_TIMEOUT:-90}))
  pid=$(cat "$pidfile")
  until grep -q "Kafka Server started" "$logfile" 2>/dev/null && port_open "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$pidfile"
      tail -n 20 "$data/stdout.log" "$logfile" >&2 || true
      die "node $id exited during start-up; logs in $data"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      die "node $id did not answer within ${KAFKA_START_TIMEOUT:-90}s; logs in $data"
    fi
    sleep 0.2
  done
  say "Apache Kafka $version node $id up on 127.0.0.1:$port (pid $pid, data in $data)"
  if [ -n "$sasl_ssl_port" ]; then say "node $id: SASL_SSL on ${KAFKA_SASL_SSL_HOST:-localhost}:$secure_port"; fi
}

# All nodes at once: a node's broker waits for a quorum of controllers, that is for the others.
start() {
  install
  local i started=$SECONDS
  for ((i = 1; i <= nodes; i++)); do node "$i"; launch; done
  for ((i = 1; i <= nodes; i++)); do
    node "$i"
    (await_node) || { stop; exit 1; }
  done
  say "$nodes node(s) up in $((SECONDS - started))s: $(bootstrap)"
}

bootstrap() {
  local i list=""
  for ((i = 1; i <= nodes; i++)); do list+="${list:+,}127.0.0.1:$((first_port + i - 1))"; done
  printf '%s' "$list"
}

# Sends $1 to the selected node; with TERM waits up to a bound for a clean stop, then kills it.
signal_node() { stop_process "$pidfile" "node $id" "$1"; }

# All nodes at once: each one's controlled shutdown needs the controllers, which every JVM
# keeps until its broker is done; one after the other, the last would have no quorum left.
stop() {
  local i
  for ((i = 1; i <= nodes; i++)); do (node "$i"; signal_node TERM) & done
  wait
}

status() {
  local i pid down=0
  for ((i = 1; i <= nodes; i++)); do
    node "$i"
    if pid=$(running_pid); then say "node $i running (pid $pid) on 127.0.0.1:$port"; else say "node $i not running"; down=1; fi
  done
  return "$down"
}

# Selects node $1, which must be one of the cluster's.
one_node() {
  [[ "${1:-}" =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ] && [ "$1" -le "$nodes" ] || die "a node number from 1 to $nodes is needed"
  node "$1"
}

case "${1:-}" in
  install) install; say "Apache Kafka $version jars in $libs" ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  start-node) one_node "${2:-}"; install; launch; await_node ;;
  stop-node) one_node "${2:-}"; signal_node TERM ;;
  kill-node) one_node "${2:-}"; signal_node KILL ;;
  *) die "usage: kafka.sh install|start|stop|status|start-node I|stop-node I|kill-node I" ;;
esac
