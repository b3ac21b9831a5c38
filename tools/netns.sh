# shellcheck shell=bash
# tools/netns.sh: a bash library for tests and benchmarks that need a network.
#
# Everything happens inside a private network namespace this library creates: a tap device is
# created inside it, the host end gets 198.18.0.1/24, QEMU, ping and iperf3 all run inside it,
# and the namespace (with its tap and every process in it) is removed at exit, on failure and
# on Ctrl-C. Addresses are restricted to 198.18.0.0/15. Nothing is bridged to a real interface.
#
#   source "$ROOT/tools/netns.sh"
#   netns_create                       # make the ns + tap, install the cleanup trap
#   netns_spawn CMD...                 # CMD in the background inside the ns (killed at cleanup);
#                                      #   its pid is left in NETNS_LAST_PID
#   netns_qemu [qemu-launch options]   # tools/qemu-launch --net tap:$NETNS_TAP ... in the background
#                                      #   inside the ns; pid in NETNS_QEMU_PID
#   netns_exec CMD...                  # CMD in the foreground inside the ns
#   netns_run CMD...                   # like netns_exec, but INT/TERM sent to the script alone
#                                      #   are handled at once (CMD runs in the background and
#                                      #   is waited for); use it for long commands (iperf3):
#                                      #   netns_run iperf3 -c "$NETNS_GUEST_IP" >"$out"
#   netns_wait_ping [IP] [SECS]        # ping IP (default guest) until it answers; 1 if not in SECS
#   netns_wait_file_line FILE REGEX SECS  # wait until FILE has a line matching REGEX (serial logs)
#   netns_alive PID                    # true while PID runs
#   netns_on_cleanup 'shell code'      # run this at cleanup, before the ns goes (its stdout and
#                                      #   stderr are the script's original stderr)
#   netns_cleanup                      # idempotent; runs automatically on EXIT/INT/TERM/HUP
#   netns_gc                           # remove keel-* namespaces left behind by dead shells
#
# Settings (environment, read by netns_create; defaults shown):
#   NETNS_NAME=keel-<pid>-<random>  NETNS_TAP=ktap0  NETNS_HOST_IP=198.18.0.1
#   NETNS_GUEST_IP=198.18.0.2       NETNS_PREFIXLEN=24  NETNS_MTU=1500
#   NETNS_TAP_MQ=0   (1: create the tap with multi_queue; QEMU must then use queues>1 or
#                     the tap is opened with IFF_MULTI_QUEUE by every user)
#   NETNS_TXQLEN=    tap txqueuelen = size of the queue from the host to QEMU (kernel default
#                    1000); frames sent by the host when it is full are dropped (tx_dropped)
#   NETNS_IPV6=0     (1: keep IPv6 on; by default it is off in the ns, so the host side sends
#                     the guest no IPv6 router solicitations / MLD reports: a quiet link)
#   NETNS_QUIET=0    (1: no progress messages on stderr)
#
# Do not install your own EXIT/INT/TERM trap after netns_create; use netns_on_cleanup.
# (A trap that existed before netns_create is kept and runs after the cleanup.)

NETNS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NETNS_NAME="${NETNS_NAME:-}"
NETNS_TAP="${NETNS_TAP:-ktap0}"
NETNS_HOST_IP="${NETNS_HOST_IP:-198.18.0.1}"
NETNS_GUEST_IP="${NETNS_GUEST_IP:-198.18.0.2}"
NETNS_PREFIXLEN="${NETNS_PREFIXLEN:-24}"
NETNS_MTU="${NETNS_MTU:-1500}"
NETNS_TAP_MQ="${NETNS_TAP_MQ:-0}"
NETNS_QUIET="${NETNS_QUIET:-0}"
NETNS_TXQLEN="${NETNS_TXQLEN:-}"
NETNS_IPV6="${NETNS_IPV6:-0}"
NETNS_LAST_PID=""
NETNS_QEMU_PID=""
_NETNS_PIDS=()
_NETNS_HOOKS=()
_NETNS_CREATED=0
_NETNS_CLEANED=0
_NETNS_PREV_EXIT=""

# The script's stderr as it was at netns_create: a signal can arrive while a command with its
# own redirections runs (netns_run ... 2>file), and the cleanup messages must not go there.
NETNS_ERR_FD=2
_netns_log() { [ "$NETNS_QUIET" = 1 ] || echo "netns: $*" >&"$NETNS_ERR_FD"; }

# 198.18.0.0/15 = 198.18.x.x and 198.19.x.x
_netns_check_ip() {
  local ip="$1"
  if ! [[ "$ip" =~ ^198\.1[89]\.([0-9]{1,3})\.([0-9]{1,3})$ ]] ||
     [ "${BASH_REMATCH[1]}" -gt 255 ] || [ "${BASH_REMATCH[2]}" -gt 255 ]; then
    echo "netns: address $ip is outside 198.18.0.0/15; refusing" >&2
    return 1
  fi
}

netns_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

netns_on_cleanup() { _NETNS_HOOKS+=("$1"); }

netns_create() {
  if [ "$_NETNS_CREATED" = 1 ]; then echo "netns: already created ($NETNS_NAME)" >&2; return 1; fi
  if [ "$(id -u)" != 0 ]; then echo "netns: must run as root" >&2; return 1; fi
  _netns_check_ip "$NETNS_HOST_IP" || return 1
  _netns_check_ip "$NETNS_GUEST_IP" || return 1
  [ -n "$NETNS_NAME" ] || NETNS_NAME="keel-$$-$(printf '%04x' $((RANDOM)))"
  command -v ip >/dev/null || { echo "netns: ip (iproute2) missing; run tools/setup" >&2; return 1; }
  netns_gc

  exec {NETNS_ERR_FD}>&2
  # Chain (keep) a pre-existing EXIT trap, then install ours.
  local prev
  prev="$(trap -p EXIT)"
  if [ -n "$prev" ]; then eval "set -- $prev"; _NETNS_PREV_EXIT="$3"; fi
  trap '_netns_on_exit' EXIT
  trap '_netns_on_signal 130' INT
  trap '_netns_on_signal 143' TERM
  trap '_netns_on_signal 129' HUP

  ip netns add "$NETNS_NAME" || return 1
  _NETNS_CREATED=1
  local mq=""
  [ "$NETNS_TAP_MQ" = 1 ] && mq="multi_queue"
  if [ "$NETNS_IPV6" != 1 ]; then
    ip netns exec "$NETNS_NAME" sh -c 'echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6; echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6' 2>/dev/null || true
  fi
  ip -n "$NETNS_NAME" link set lo up &&
  ip netns exec "$NETNS_NAME" ip tuntap add dev "$NETNS_TAP" mode tap $mq &&
  ip -n "$NETNS_NAME" link set "$NETNS_TAP" mtu "$NETNS_MTU" ${NETNS_TXQLEN:+txqueuelen "$NETNS_TXQLEN"} &&
  ip -n "$NETNS_NAME" addr add "$NETNS_HOST_IP/$NETNS_PREFIXLEN" dev "$NETNS_TAP" &&
  ip -n "$NETNS_NAME" link set "$NETNS_TAP" up || { echo "netns: setting up $NETNS_TAP failed" >&2; return 1; }
  _netns_log "created $NETNS_NAME: $NETNS_TAP $NETNS_HOST_IP/$NETNS_PREFIXLEN${mq:+ ($mq)}"
}

netns_exec() {
  [ "$_NETNS_CREATED" = 1 ] || { echo "netns: netns_create first" >&2; return 1; }
  ip netns exec "$NETNS_NAME" "$@"
}

netns_run() {
  [ "$_NETNS_CREATED" = 1 ] || { echo "netns: netns_create first" >&2; return 1; }
  ip netns exec "$NETNS_NAME" "$@" &
  local pid=$! rc=0
  _NETNS_PIDS+=("$pid")
  wait "$pid" || rc=$?
  _netns_forget "$pid"
  return "$rc"
}

_netns_ppid() {
  local st
  st="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0
  st="${st##*) }"          # after "pid (comm) ": state ppid ...
  st="${st#* }"
  echo "${st%% *}"
}

_netns_forget() {
  local keep=() p
  for p in ${_NETNS_PIDS[@]+"${_NETNS_PIDS[@]}"}; do [ "$p" = "$1" ] || keep+=("$p"); done
  _NETNS_PIDS=(${keep[@]+"${keep[@]}"})
}

netns_spawn() {
  [ "$_NETNS_CREATED" = 1 ] || { echo "netns: netns_create first" >&2; return 1; }
  ip netns exec "$NETNS_NAME" "$@" &
  NETNS_LAST_PID=$!
  _NETNS_PIDS+=("$NETNS_LAST_PID")
}

# netns_qemu [tools/qemu-launch options...]; stdout/stderr are inherited, redirect as needed:
#   netns_qemu --kernel build/keel.elf --serial file:"$log" >"$qlog" 2>&1
netns_qemu() {
  netns_spawn "$NETNS_ROOT/tools/qemu-launch" --net "tap:$NETNS_TAP" "$@"
  NETNS_QEMU_PID="$NETNS_LAST_PID"
}

netns_wait_ping() {
  local ip="${1:-$NETNS_GUEST_IP}" secs="${2:-30}" deadline
  _netns_check_ip "$ip" || return 1
  deadline=$((SECONDS + secs))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if [ -n "$NETNS_QEMU_PID" ] && ! netns_alive "$NETNS_QEMU_PID"; then
      echo "netns: QEMU (pid $NETNS_QEMU_PID) exited while waiting for $ip" >&2
      return 1
    fi
    if ip netns exec "$NETNS_NAME" ping -n -q -c 1 -W 1 "$ip" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "netns: $ip did not answer ping within ${secs}s" >&2
  return 1
}

netns_wait_file_line() {
  local file="$1" re="$2" secs="${3:-30}" deadline
  deadline=$((SECONDS + secs))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if [ -f "$file" ] && grep -a -q -E "$re" "$file"; then return 0; fi
    if [ -n "$NETNS_QEMU_PID" ] && ! netns_alive "$NETNS_QEMU_PID"; then
      grep -a -q -E "$re" "$file" 2>/dev/null && return 0
      echo "netns: QEMU exited before '$re' appeared in $file" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "netns: '$re' did not appear in $file within ${secs}s" >&2
  return 1
}

_netns_kill_wait() {
  # _netns_kill_wait PID...: TERM, wait up to 3 s, then KILL.
  local p n
  for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
  for _ in $(seq 30); do
    local any=0
    for p in "$@"; do netns_alive "$p" && any=1; done
    [ "$any" = 0 ] && return 0
    sleep 0.1
  done
  for p in "$@"; do kill -KILL "$p" 2>/dev/null || true; done
}

netns_cleanup() {
  [ "$_NETNS_CLEANED" = 1 ] && return 0
  _NETNS_CLEANED=1
  local h
  for h in ${_NETNS_HOOKS[@]+"${_NETNS_HOOKS[@]}"}; do eval "$h" >&"$NETNS_ERR_FD" 2>&1 || true; done
  # Only our own children (guards against a recycled pid).
  local mine=() p
  for p in ${_NETNS_PIDS[@]+"${_NETNS_PIDS[@]}"}; do
    [ "$(_netns_ppid "$p")" = "$BASHPID" ] && mine+=("$p")
  done
  if [ "${#mine[@]}" -gt 0 ]; then _netns_kill_wait "${mine[@]}"; fi
  if [ "$_NETNS_CREATED" = 1 ]; then
    # Anything still running in our namespace was started by this script: end it.
    local rest
    rest="$(ip netns pids "$NETNS_NAME" 2>/dev/null | tr '\n' ' ')"
    # shellcheck disable=SC2086
    [ -n "${rest// /}" ] && _netns_kill_wait $rest
    ip -n "$NETNS_NAME" link del "$NETNS_TAP" 2>/dev/null || true
    ip netns del "$NETNS_NAME" 2>/dev/null || true
    _netns_log "removed $NETNS_NAME"
  fi
  for h in ${_NETNS_PIDS[@]+"${_NETNS_PIDS[@]}"}; do wait "$h" 2>/dev/null || true; done
  return 0
}

_netns_on_exit() {
  local rc=$?
  netns_cleanup
  if [ -n "$_NETNS_PREV_EXIT" ]; then eval "$_NETNS_PREV_EXIT"; fi
  exit "$rc"
}

_netns_on_signal() {
  echo "netns: interrupted, cleaning up" >&"$NETNS_ERR_FD"
  exec 1>&"$NETNS_ERR_FD" 2>&"$NETNS_ERR_FD"
  exit "$1"   # runs the EXIT trap
}

# Remove namespaces named keel-<pid>-* whose creating shell is gone (after a SIGKILL).
netns_gc() {
  local ns pid
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
    [[ "$ns" =~ ^keel-([0-9]+)-[0-9a-f]+$ ]] || continue
    pid="${BASH_REMATCH[1]}"
    [ "$ns" = "$NETNS_NAME" ] && continue
    if ! kill -0 "$pid" 2>/dev/null; then
      local rest
      rest="$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"
      # shellcheck disable=SC2086
      [ -n "${rest// /}" ] && _netns_kill_wait $rest
      ip netns del "$ns" 2>/dev/null && _netns_log "removed stale $ns"
    fi
  done
  return 0
}
