# Sourced by the scripts in docker/: background processes kept in pid files, and their ports.
# Each script defines say() (its own prefix) before it sources this.

# Whether something listens on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The pid in file $1, if that process runs.
pid_in() {
  [ -f "$1" ] || return 1
  local pid; pid=$(cat "$1")
  kill -0 "$pid" 2>/dev/null && printf '%s' "$pid"
}

# Sends signal $3 (default TERM) to the process in pid file $1, called $2 in what it says; kills
# it if it still runs after $4 seconds (default 30).
stop_process() {
  local pidfile=$1 name=$2 signal=${3:-TERM} bound=${4:-30} pid
  if ! pid=$(pid_in "$pidfile"); then
    say "$name not running"
    rm -f "$pidfile"
    return 0
  fi
  kill "-$signal" "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + bound))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "$name: no clean stop within ${bound}s; killing pid $pid"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    sleep 0.1
  done
  rm -f "$pidfile"
  say "$name stopped by SIG$signal (pid $pid)"
}
