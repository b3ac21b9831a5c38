#!/usr/bin/env bash
# tools/bench.d/connections.sh: the connection-scale figure. Boots Keel at -m 256M on a tap inside a private
# network namespace (tools/netns.sh, 198.18.0.0/24), opens COUNT (default 10000) echo connections as fast as
# the handshakes go, holds them HOLD (default 60) seconds, then each sends a line and must get it back
# (tests/Keel.BootTests/connscale.py). Prints the client's JSON line, then the guest's socket table size,
# memory free before and while the connections are held, and the memory each held connection took beyond the
# socket table made at start-up. Needs root; run it alone (it takes about HOLD + 60 s under TCG).
#
#   tools/bench.d/connections.sh [COUNT [HOLD]]
#   KEEL_ELF=path  kernel image (default build/keel.elf)
#
# The socket table itself costs NetConfig.BytesPerSocket (5 KiB) per socket, set aside whether used or not; an idle
# established connection holds no buffer pages, so "bytes per held connection" should be near 0.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
COUNT="${1:-10000}"
HOLD="${2:-60}"
KERNEL="${KEEL_ELF:-$ROOT/build/keel.elf}"
# shellcheck source=../netns.sh
source "$ROOT/tools/netns.sh"

metric() { # NAME: one series of the guest's /metrics (0 when absent)
    netns_exec curl -sS --max-time 20 "http://$NETNS_GUEST_IP/metrics" | awk -v n="$1" '$1 == n { print $2; found = 1 } END { if (!found) print 0 }'
}

netns_create
LOG="$(mktemp)"
netns_on_cleanup "rm -f '$LOG'"
netns_qemu --kernel "$KERNEL" -m 256M --append "ip=$NETNS_GUEST_IP/24" --serial "file:$LOG"
netns_wait_file_line "$LOG" '^Keel ready' 120 || { echo "connections: the guest did not boot" >&2; cat "$LOG" >&2; exit 1; }
netns_wait_ping "$NETNS_GUEST_IP" 60 || { echo "connections: no ping" >&2; exit 1; }
sockets="$(metric keel_net_sockets_max)"
free_before="$(metric keel_memory_pages_free)"
OUT="$(mktemp)"
netns_on_cleanup "rm -f '$OUT'"
# The client reports after the hold; sample the guest's memory in the middle of it.
netns_spawn python3 "$ROOT/tests/Keel.BootTests/connscale.py" hold --count "$COUNT" --hold "$HOLD" >"$OUT"
client=$NETNS_LAST_PID
deadline=$((SECONDS + HOLD + 600))
while [ "$(metric keel_net_sockets_in_use)" -lt "$COUNT" ] && [ $SECONDS -lt $deadline ] && netns_alive "$client"; do
    sleep 2
done
in_use="$(metric keel_net_sockets_in_use)"
free_held="$(metric keel_memory_pages_free)"
while netns_alive "$client" && [ $SECONDS -lt $deadline ]; do
    sleep 2
done
cat "$OUT"
echo "sockets in the table (-m 256M): $sockets"
echo "sockets in use while held: $in_use"
echo "pages free before: $free_before; while held: $free_held"
if [ "$in_use" -gt 0 ]; then
    echo "bytes per held connection beyond the socket table: $(( (free_before - free_held) * 4096 / in_use ))"
fi
echo "socket table cost per socket (NetConfig.BytesPerSocket): 5184"
grep -q '"served": '"$COUNT"',' "$OUT"
