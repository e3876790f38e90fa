#!/usr/bin/env bash
# Local Prometheus and Alertmanager for streamrun runners, from the Debian packages
# (apt-get install prometheus prometheus-alertmanager), no Docker needed. They run the configs of
# docker/prometheus and docker/alertmanager unchanged, as Docker Compose does.
#   monitoring.sh start     write the targets and the webhook file, start both, wait until they answer
#   monitoring.sh stop      stop them (SIGTERM, then SIGKILL after a bound)
#   monitoring.sh status    say whether they run
# Settings (environment): STREAMRUN_TARGETS (127.0.0.1:8080: each runner's host and --port,
#   comma-separated), PROMETHEUS_PORT (9090), ALERTMANAGER_PORT (9093), SLACK_WEBHOOK_URL (none:
#   alerts only show on Alertmanager's page), MONITORING_DATA_DIR (~/.cache/streamrun/monitoring),
#   MONITORING_START_TIMEOUT (seconds, 30).
# Prometheus re-reads MONITORING_DATA_DIR/prometheus/targets/streamrun.yml when it changes: edit
# it to add runners while it runs.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
data=${MONITORING_DATA_DIR:-${STREAMRUN_CACHE:-$HOME/.cache/streamrun}/monitoring}
prometheus_port=${PROMETHEUS_PORT:-9090}
alertmanager_port=${ALERTMANAGER_PORT:-9093}
targets=${STREAMRUN_TARGETS:-127.0.0.1:8080}

say() { printf 'monitoring: %s\n' "$*"; }
die() { printf 'monitoring: %s\n' "$*" >&2; exit 1; }

# shellcheck source=lib/processes.sh
. "$here/lib/processes.sh"
# Both answer /-/ready with 200 once they serve (Prometheus: once its storage is open).
ready() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'GET /-/ready HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    read -r status <&3
    [[ "$status" == *" 200 "* ]]
  ) 2>/dev/null
}

# Prometheus resolves the rule and target files beside its config file, so the shipped files are
# linked into one folder with targets written for this machine.
prepare_prometheus() {
  local dir="$data/prometheus" file target
  local -a list
  mkdir -p "$dir/targets" "$dir/tsdb"
  for file in prometheus.yml recording-rules.yml alert-rules.yml; do ln -sfn "$here/prometheus/$file" "$dir/$file"; done
  IFS=',' read -ra list <<<"$targets"
  { printf -- '- targets:\n'; for target in "${list[@]}"; do printf "    - '%s'\n" "$target"; done; } >"$dir/targets/streamrun.yml"
  printf -- "- targets: ['127.0.0.1:%s']\n" "$alertmanager_port" >"$dir/targets/alertmanager.yml"
}

# The webhook URL goes to a file only its owner reads (see docker/alertmanager/alertmanager.yml).
prepare_alertmanager() {
  local dir="$data/alertmanager"
  mkdir -p "$dir/data"
  [ -n "${SLACK_WEBHOOK_URL:-}" ] || say "SLACK_WEBHOOK_URL is not set: alerts only show on http://127.0.0.1:$alertmanager_port"
  (umask 077 && printf '%s' "${SLACK_WEBHOOK_URL:-}" >"$dir/slack-webhook-url")
}

# Starts $1 (a name) listening on $2 with the command after them, from folder $data/$1.
launch() {
  local name=$1 port=$2 pid; shift 2
  local dir="$data/$name"
  if pid=$(pid_in "$dir/$name.pid"); then
    say "$name already running (pid $pid) on 127.0.0.1:$port"
    return 0
  fi
  port_open "$port" && die "127.0.0.1:$port is taken by another process; stop it or set the port's variable"
  (cd "$dir" && exec nohup "$@" >"$dir/$name.log" 2>&1) &
  echo "$!" >"$dir/$name.pid"
}

await_ready() {
  local name=$1 port=$2 pid deadline=$((SECONDS + ${MONITORING_START_TIMEOUT:-30}))
  pid=$(cat "$data/$name/$name.pid")
  until ready "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$data/$name/$name.pid"
      tail -n 20 "$data/$name/$name.log" >&2 || true
      die "$name exited during start-up; log in $data/$name/$name.log"
    fi
    [ "$SECONDS" -lt "$deadline" ] || die "$name did not answer within ${MONITORING_START_TIMEOUT:-30}s; log in $data/$name/$name.log"
    sleep 0.2
  done
  say "$name up on http://127.0.0.1:$port (pid $pid, data in $data/$name)"
}

start() {
  command -v prometheus >/dev/null || die "prometheus not found on PATH (apt-get install prometheus)"
  command -v prometheus-alertmanager >/dev/null || die "prometheus-alertmanager not found on PATH (apt-get install prometheus-alertmanager)"
  prepare_alertmanager
  prepare_prometheus
  # One Alertmanager, not a cluster: no gossip port to collide with.
  launch alertmanager "$alertmanager_port" prometheus-alertmanager \
    --config.file="$here/alertmanager/alertmanager.yml" --storage.path="$data/alertmanager/data" \
    --web.listen-address="127.0.0.1:$alertmanager_port" --cluster.listen-address=
  launch prometheus "$prometheus_port" prometheus \
    --config.file="$data/prometheus/prometheus.yml" --storage.tsdb.path="$data/prometheus/tsdb" \
    --web.listen-address="127.0.0.1:$prometheus_port"
  (await_ready alertmanager "$alertmanager_port" && await_ready prometheus "$prometheus_port") || { stop; exit 1; }
  say "scraping $targets"
}

stop_one() { stop_process "$data/$1/$1.pid" "$1"; }

stop() {
  stop_one prometheus
  stop_one alertmanager
}

status() {
  local name pid down=0
  for name in prometheus alertmanager; do
    if pid=$(pid_in "$data/$name/$name.pid"); then say "$name running (pid $pid)"; else say "$name not running"; down=1; fi
  done
  return "$down"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) die "usage: monitoring.sh start|stop|status" ;;
esac
