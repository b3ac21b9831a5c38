# shellcheck shell=bash
# tools/bench.d/ipv6.sh: the IPv6 section of tools/bench (sourced by it; uses its guest_start, ping_test,
# iperf_test, record, log, netns_exec and GIP/GMAC/MEM/DO_LINUX/RUN).
#
# Each run boots Keel and the Linux guest once more, with the same QEMU options as their IPv4 rows, and
# measures over IPv6 what the IPv4 rows measure: ping RTT, iperf3 TCP host→guest and guest→host with 1 and
# 4 streams, UDP 1400 B received. Results are recorded under the configuration "ipv6" (the IPv4 rows are
# "base" of the same run), and ipv6_report puts them beside each other.
#
# Addresses (the network rule: documentation prefix or link-local only): the host side of the tap gets
# 2001:db8::1/64 (no DAD); Keel takes 2001:db8::2/64 from ip6= on its command line (it still does DAD: the
# boot wait pings that address until it answers); the Linux guest is reached at its link-local address, the
# EUI-64 one Linux derives from the guest MAC (fe80::5054:ff:fe12:3456%tap). Both get static neighbour
# entries on the host, as the IPv4 address does. IPv6 is switched on in the namespace only for the section
# and off again after it, so the other sections keep a quiet link (no router solicitations, no MLD).
#
# Before the throughput tests a 1 s iperf3 probe checks that the guest takes TCP over IPv6 at all; when it
# does not, every throughput row of that guest is recorded as "fail" with the probe's reason (rather than
# waiting out each test and rebooting after each).

IPV6_HOST="2001:db8::1"
# ipv6_plan: the measurements of one run of the section (tools/bench.d/progress.sh): ping and five iperf3 tests
# for each guest.
ipv6_plan() { progress_plan $((6 * (1 + DO_LINUX))); }

IPV6_KEEL="2001:db8::2"

# The EUI-64 link-local address of a MAC (RFC 4291 appendix A): the universal/local bit flipped, ff:fe inserted.
ipv6_eui64_link_local() {
  local IFS=: b
  read -r -a b <<<"$1"
  printf 'fe80::%x:%x:%x:%x\n' $(((0x${b[0]} ^ 2) << 8 | 0x${b[1]})) $((0x${b[2]} << 8 | 0xff)) \
    $((0xfe << 8 | 0x${b[3]})) $((0x${b[4]} << 8 | 0x${b[5]}))
}

ipv6_link() {
  local tap="$NETNS_TAP"
  if [ "$1" = up ]; then
    netns_exec sysctl -q -w "net.ipv6.conf.$tap.accept_ra=0" "net.ipv6.conf.$tap.accept_dad=0" \
      "net.ipv6.conf.$tap.router_solicitations=0" "net.ipv6.conf.$tap.disable_ipv6=0" >/dev/null 2>&1
    netns_exec ip -6 addr replace "$IPV6_HOST/64" dev "$tap" nodad
  else
    netns_exec ip -6 neigh flush dev "$tap" >/dev/null 2>&1
    netns_exec ip -6 addr flush dev "$tap" >/dev/null 2>&1
    netns_exec sysctl -q -w "net.ipv6.conf.$tap.disable_ipv6=1" >/dev/null 2>&1
  fi
}

# ipv6_probe: empty when the guest ($GIP) takes an iperf3 TCP connection over IPv6, else the reason.
ipv6_probe() {
  local f; f="$OUT/logs/$(printf '%03d' "$G_N")-$G_KIND-$G_CFG-r$RUN-probe"
  netns_run timeout -k 2 15 iperf3 -c "$GIP" -t 1 --connect-timeout 3000 --json >"$f.json" 2>"$f.err"
  local v; v="$("${LIB[@]}" iperf-tcp "$f.json")"
  [[ "$v" == fail* ]] && echo "no TCP over IPv6: ${v#fail: }"
  return 0
}

# ipv6_guest KIND ADDRESS APPEND: one guest over IPv6, the IPv4 address kept on its command line.
ipv6_guest() {
  local kind="$1" address="$2" append="$3" why m
  local gip4="$GIP"
  netns_exec ip -6 neigh replace "${address%%%*}" lladdr "$GMAC" dev "$NETNS_TAP" nud permanent
  # guest_start and iperf_test reach the guest at $GIP; guest_start also puts it in the IPv4 ip= of the
  # command line, where the later ip= in APPEND overrides it (the last one wins for both guests).
  GIP="$address"
  if guest_start "$kind" ipv6 "$MEM" ping "$append"; then
    record "$kind" ipv6 boot_ms "$RUN" "$BOOT_MS"
    log "$kind ipv6 r$RUN boot -> first ping -6 ${BOOT_MS} ms"
    [ "$kind" = linux ] && sleep 1   # let the init script start iperf3 -s
    ping_test
    why="$(ipv6_probe)"
    if [ -z "$why" ]; then
      iperf_test tcp_h2g_1 "$TCP_T" tcp
      iperf_test udp1400_rx "$UDP_T" udp:1400 -u -b 0 -l 1400
      iperf_test tcp_h2g_4 "$TCP_T" tcp -P 4
      iperf_test tcp_g2h_1 "$TCP_T" tcp -R
      iperf_test tcp_g2h_4 "$TCP_T" tcp -R -P 4
    else
      log "$kind ipv6 r$RUN: $why"
      for m in tcp_h2g_1 udp1400_rx tcp_h2g_4 tcp_g2h_1 tcp_g2h_4; do record "$kind" ipv6 "$m" "$RUN" fail "$why"; done
    fi
  else
    record "$kind" ipv6 boot_ms "$RUN" fail "no ping -6 reply from $address"
  fi
  guest_stop
  GIP="$gip4"
}

# ipv6_section: one run of the IPv6 rows (Keel, then the Linux guest unless --no-linux).
ipv6_section() {
  ipv6_link up
  ipv6_guest keel "$IPV6_KEEL" "ip=$GIP/$NETNS_PREFIXLEN ip6=$IPV6_KEEL/64"
  if [ "$DO_LINUX" = 1 ]; then
    ipv6_guest linux "$(ipv6_eui64_link_local "$GMAC")%$NETNS_TAP" "keel.ip=$GIP/$NETNS_PREFIXLEN"
  fi
  ipv6_link down
}

# ipv6_report: the IPv6 table (after the main report): printed and appended to BENCHMARKS-run.md.
ipv6_report() {
  python3 "$HERE/ipv6_report.py" "$RES" "$OUT/BENCHMARKS-run.md"
}
