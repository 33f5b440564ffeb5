#!/usr/bin/env bash
# The compose topology for real, without Docker: network namespaces
# "redis", "listener" and "dialer" (each with only lo and one veth, no
# default route), joined by a bridge inside a fourth namespace, on a private
# subnet that exists only inside those namespaces (10.203.0.0/24 unless
# LP2P_NETNS_SUBNET=a.b.c says otherwise). Service names resolve through
# /etc/netns/<ns>/hosts, which `ip netns exec` mounts over /etc/hosts; each
# namespace's resolv.conf points at 127.0.0.1 so no lookup leaves it.
#
#   redis     10.203.0.2  redis-server :6379
#   listener  10.203.0.3  ip=0.0.0.0 redis_addr=redis:6379
#   dialer    10.203.0.4  redis_addr=redis:6379
#
# For each muxer: the address the listener publishes must be
# /ip4/10.203.0.3/tcp/<port>/p2p/<id> (its namespace's address, not
# 127.0.0.1 nor 0.0.0.0), the dialer must exit 0 with the JSON line, the
# listener must still be up, then exit promptly on SIGTERM.
# Binary: build-packaging/lp2p-interop (tests/packaging/image.sh) if there,
# else build/lp2p-interop; LP2P_BIN overrides. Needs root and iproute2.
set -euo pipefail
# shellcheck source=tests/packaging/lib.sh
source "$(dirname "$0")/lib.sh"

need_root
IP=$(command -v ip || true)
[[ -n $IP ]] || need "ip (iproute2) not installed"
command -v python3 >/dev/null || need "python3 not found"
find_redis
pick_binary

NET=${LP2P_NETNS_SUBNET:-10.203.0}
TAG=lp2p$$
NS_BR=$TAG-br NS_REDIS=$TAG-redis NS_LISTENER=$TAG-listener NS_DIALER=$TAG-dialer
ALL_NS=("$NS_REDIS" "$NS_LISTENER" "$NS_DIALER" "$NS_BR")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/lp2p-netns.XXXXXX")
REDIS_PID= LISTENER_PID= DIALER_PID=

cleanup() {
  local rc=$? ns
  stop_pids $LISTENER_PID $DIALER_PID $REDIS_PID
  for ns in "${ALL_NS[@]}"; do
    if "$IP" netns list | grep -qw "^$ns"; then
      # Anything still inside is ours: stop it, then drop the namespace
      # (which takes its veths and the bridge with it).
      for pid in $("$IP" netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
      "$IP" netns del "$ns" 2>/dev/null || say "could not delete netns $ns"
    fi
    rm -rf "/etc/netns/$ns"
  done
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- namespaces, bridge, veths
"$IP" netns add "$NS_BR" 2>/dev/null || need "cannot create network namespaces"
"$IP" -n "$NS_BR" link add br0 type bridge
"$IP" -n "$NS_BR" link set br0 up
"$IP" -n "$NS_BR" link set lo up
host=2
for svc in redis listener dialer; do
  ns=$TAG-$svc
  "$IP" netns add "$ns"
  # Created inside the bridge namespace, the peer end moved straight into
  # the service namespace: nothing appears in the root namespace.
  "$IP" -n "$NS_BR" link add "v-$svc" type veth peer name eth0 netns "$ns"
  "$IP" -n "$NS_BR" link set "v-$svc" master br0 up
  "$IP" -n "$ns" link set lo up
  "$IP" -n "$ns" addr add "$NET.$host/24" dev eth0
  "$IP" -n "$ns" link set eth0 up
  eval "ADDR_$svc=$NET.$host"
  host=$((host + 1))
done
for svc in redis listener dialer; do
  mkdir -p "/etc/netns/$TAG-$svc"
  {
    printf '127.0.0.1\tlocalhost\n'
    printf '%s\tredis\n%s\tlistener\n%s\tdialer\n' "$ADDR_redis" "$ADDR_listener" "$ADDR_dialer"
  } >"/etc/netns/$TAG-$svc/hosts"
  echo "nameserver 127.0.0.1" >"/etc/netns/$TAG-$svc/resolv.conf"
done
say "namespaces up: redis=$ADDR_redis listener=$ADDR_listener dialer=$ADDR_dialer"

in_ns() { local ns=$1; shift; "$IP" netns exec "$ns" "$@"; }

# ---- redis, reachable by name from the dialer's namespace
start_redis() {
  in_ns "$NS_REDIS" "$REDIS_BIN" --port 6379 --bind 0.0.0.0 --protected-mode no \
    --save '' --appendonly no >"$WORK/redis.log" 2>&1 &
  REDIS_PID=$!
}
rcli() { in_ns "$NS_DIALER" redis-cli -h redis -p 6379 "$@"; }
wait_redis() {
  for _ in $(seq 1 50); do
    [[ $(rcli ping 2>/dev/null) == PONG ]] && return 0
    kill -0 "$REDIS_PID" 2>/dev/null || { dump "$WORK/redis.log"; die "redis-server died"; }
    sleep 0.1
  done
  die "redis not reachable as redis:6379 from the dialer namespace"
}
start_redis
wait_redis

run_role() {  # NS ROLE MUXER: the harness env only, as compose sets it
  local ns=$1 role=$2 muxer=$3
  exec timeout -k 5 40 "$IP" netns exec "$ns" env -i transport=tcp security=noise \
    muxer="$muxer" is_dialer="$role" ip=0.0.0.0 redis_addr=redis:6379 \
    test_timeout_seconds=30 "$BIN"
}

for muxer in yamux mplex; do
  rcli del listenerAddr >/dev/null
  run_role "$NS_LISTENER" false "$muxer" >"$WORK/listener.out" 2>"$WORK/listener.err" </dev/null &
  LISTENER_PID=$!
  PUBLISHED=
  for _ in $(seq 1 100); do
    PUBLISHED=$(rcli lindex listenerAddr 0 2>/dev/null || true)
    [[ -n $PUBLISHED ]] && break
    kill -0 "$LISTENER_PID" 2>/dev/null || { dump "$WORK/listener.err"; die "listener exited before publishing"; }
    sleep 0.1
  done
  [[ -n $PUBLISHED ]] || { dump "$WORK/listener.err"; die "listener published nothing under listenerAddr"; }
  [[ $PUBLISHED =~ ^/ip4/${ADDR_listener//./\\.}/tcp/[0-9]+/p2p/[1-9A-HJ-NP-Za-km-z]+$ ]] \
    || die "listener published '$PUBLISHED', want /ip4/$ADDR_listener/tcp/<port>/p2p/<id>"
  say "$muxer: listener published $PUBLISHED"

  rc=0
  (run_role "$NS_DIALER" true "$muxer") >"$WORK/dialer.out" 2>"$WORK/dialer.err" </dev/null || rc=$?
  if [[ $rc != 0 ]]; then
    dump "$WORK/listener.err" "$WORK/dialer.err" "$WORK/dialer.out"
    die "tcp/noise/$muxer: dialer exited $rc"
  fi
  if ! RES=$(check_json "$WORK/dialer.out" 2>&1); then
    dump "$WORK/dialer.err"; die "tcp/noise/$muxer: bad dialer output: $RES"
  fi
  kill -0 "$LISTENER_PID" 2>/dev/null || { dump "$WORK/listener.err"; die "listener exited before the dialer was done"; }
  kill -TERM "$LISTENER_PID"
  for _ in $(seq 1 50); do kill -0 "$LISTENER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$LISTENER_PID" 2>/dev/null && die "listener still running 5 s after SIGTERM"
  wait "$LISTENER_PID" 2>/dev/null || true
  LISTENER_PID=
  echo "PASS netns tcp/noise/$muxer $RES"
done

# ---- as compose starts them: listener and dialer at once, redis a second
# later (depends_on waits for the container, not for redis to listen).
stop_pids "$REDIS_PID"; REDIS_PID=
run_role "$NS_LISTENER" false yamux >"$WORK/listener.out" 2>"$WORK/listener.err" </dev/null &
LISTENER_PID=$!
(run_role "$NS_DIALER" true yamux) >"$WORK/dialer.out" 2>"$WORK/dialer.err" </dev/null &
DIALER_PID=$!
sleep 1
start_redis
rc=0
wait "$DIALER_PID" || rc=$?
[[ $rc == 0 ]] || { dump "$WORK/listener.err" "$WORK/dialer.err"; die "compose order: dialer exited $rc"; }
RES=$(check_json "$WORK/dialer.out" 2>&1) || die "compose order: bad dialer output: $RES"
kill -0 "$LISTENER_PID" 2>/dev/null || die "compose order: listener exited before the dialer was done"
echo "PASS netns compose-order (redis late) tcp/noise/yamux $RES"
say "ok"
