# Sourced by the benchmark and process-test scripts: a work directory and
# the background processes they start, all ended and removed on exit, a
# free loopback port, and a private redis-server on one.
#
#   work_dir NAME     sets WORK (a fresh temp dir) and PIDS, and a trap that
#                     ends every pid in PIDS and removes WORK on exit
#   free_port         prints a free TCP port on 127.0.0.1
#   start_redis       starts redis-server on a free loopback port (pid in
#                     PIDS, log in $WORK/redis.log), waits for PONG, sets
#                     REDIS_PORT; returns 1 when it does not answer

work_dir() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
  PIDS=()
  trap work_cleanup EXIT
}

work_cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

start_redis() {
  REDIS_PORT=$(free_port)
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    >"$WORK/redis.log" 2>&1 &
  PIDS+=($!)
  local _
  for _ in $(seq 50); do
    [[ $(redis-cli -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]] && return 0
    sleep 0.1
  done
  return 1
}
