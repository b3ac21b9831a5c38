# shellcheck shell=bash
# tools/bench.d/latency.sh: the bench's latency section, sourced by tools/bench (uses its guest_start, record,
# progress). For Keel and the Linux guest in the same run: ping RTT percentiles (LAT_PINGS pings 10 ms apart, each
# reply's time) and TCP request/response latency (tools/bench.d/tcprr.py: 1-byte round trips on one TCP connection
# to the guest's echo server on port 7, LAT_RR_T seconds, as netperf's TCP_RR), first idle, then while one iperf3
# TCP stream runs host→guest and then guest→host at the guest's full rate, then at an equal capped rate (iperf3 -b:
# LAT_CAP, or half the lower of the two guests' full rates in that direction in the same run); plus the stream's
# throughput in each case. Results: guest keel|linux, config idle|full_h2g|full_g2h|cap_h2g|cap_g2h, metrics
# ping_p50|ping_p99|ping_p999|rr_p50|rr_p99|rr_p999 (ms), rr_rate (round trips/s), bulk_mbps (Mbit/s).
# Keel variants, measured in the same runs right after Keel (guest keel:NAME): LAT_VARIANTS, a blank-separated list of
# kernel command-line switch sets ("+" joins several switches in one set: "bql=off rcvsize=on+rcvmargin=400"), each
# on build/keel.elf; and with --baseline, the baseline kernel (guest keel:baseline).
LAT_PINGS="${LAT_PINGS:-1000}"
LAT_VARIANTS="${LAT_VARIANTS:-}"
LAT_RR_T="${LAT_RR_T:-5}"
LAT_CAP="${LAT_CAP:-}"

lat_plan() {
  local n
  n=$(wc -w <<<"$LAT_VARIANTS")
  progress_plan $(( 14 * (1 + DO_LINUX + n + (${#BASELINE_SRC} > 0)) ))
}

# lat_probe CFG: ping, then TCP_RR, against the running guest; recorded under CFG.
lat_probe() {
  local cfg="$1" f v n p50 p99 p999 loss
  f="$OUT/logs/$(printf '%03d' "$G_N")-${LAT_LABEL//[:=+]/_}-lat-r$RUN-$cfg"
  netns_run timeout $((LAT_PINGS / 50 + 15)) ping -n -i 0.01 -c "$LAT_PINGS" -W 1 "$GIP" >"$f.ping" 2>&1
  v="$(python3 "$HERE/sections.py" ping-pct "$f.ping")"
  if [[ "$v" == fail* ]]; then
    record "$LAT_LABEL" "$cfg" ping_p50 "$RUN" fail "${v#fail: }"
    progress "$LAT_LABEL $cfg run $RUN ping: FAIL: ${v#fail: }"
  else
    read -r p50 p99 p999 loss <<<"$v"
    record "$LAT_LABEL" "$cfg" ping_p50 "$RUN" "$p50" "$([ "$loss" != 0 ] && echo "loss $loss%")"
    record "$LAT_LABEL" "$cfg" ping_p99 "$RUN" "$p99"
    record "$LAT_LABEL" "$cfg" ping_p999 "$RUN" "$p999"
    progress "$LAT_LABEL $cfg run $RUN ping: p50/p99/p99.9 $p50/$p99/$p999 ms, loss $loss%"
  fi
  netns_run timeout $((LAT_RR_T + 15)) python3 "$HERE/tcprr.py" "$GIP" 7 "$LAT_RR_T" >"$f.rr" 2>&1
  v="$(tail -n 1 "$f.rr")"
  if [[ ! "$v" =~ ^[0-9]+\ [0-9.]+\ [0-9.]+\ [0-9.]+$ ]]; then
    record "$LAT_LABEL" "$cfg" rr_p50 "$RUN" fail "${v#fail: }"
    progress "$LAT_LABEL $cfg run $RUN TCP_RR: FAIL: ${v#fail: }"
  else
    read -r n p50 p99 p999 <<<"$v"
    record "$LAT_LABEL" "$cfg" rr_p50 "$RUN" "$p50"
    record "$LAT_LABEL" "$cfg" rr_p99 "$RUN" "$p99"
    record "$LAT_LABEL" "$cfg" rr_p999 "$RUN" "$p999"
    record "$LAT_LABEL" "$cfg" rr_rate "$RUN" "$(awk -v n="$n" -v t="$LAT_RR_T" 'BEGIN{printf "%.0f", n / t}')"
    progress "$LAT_LABEL $cfg run $RUN TCP_RR: p50/p99/p99.9 $p50/$p99/$p999 ms ($n round trips)"
  fi
}

# lat_loaded CFG DIRECTION [iperf3 options]: lat_probe while one iperf3 stream runs; the stream's rate recorded as
# bulk_mbps (with LAT_NOTE as its note).
lat_loaded() {
  local cfg="$1" dir="$2"; shift 2
  local f secs pid v try
  f="$OUT/logs/$(printf '%03d' "$G_N")-${LAT_LABEL//[:=+]/_}-lat-r$RUN-$cfg-bulk"
  # The stream outlasts both probes: its start (2 s before them) and their length, with a margin.
  secs=$((2 + LAT_PINGS / 100 + 2 + LAT_RR_T + 3))
  if ! netns_alive "$G_PID"; then guest_restart || true; fi
  for try in 1 2 3 4 5 6; do
    netns_spawn timeout -k 2 $((secs + 15)) iperf3 -c "$GIP" -t "$secs" --connect-timeout 3000 --json "$@" \
      >"$f.json" 2>"$f.err"
    pid=$NETNS_LAST_PID
    sleep 2
    netns_alive "$pid" && break
    wait "$pid" 2>/dev/null
    grep -q -E 'Connection refused|server is busy' "$f.json" "$f.err" 2>/dev/null || break
    sleep 1
  done
  lat_probe "$cfg"
  wait "$pid" 2>/dev/null
  v="$("${LIB[@]}" iperf-tcp "$f.json")"
  if [[ "$v" == fail* ]]; then
    record "$LAT_LABEL" "$cfg" bulk_mbps "$RUN" fail "${v#fail: }"
    progress "$LAT_LABEL $cfg run $RUN bulk stream: FAIL: ${v#fail: }"
  else
    record "$LAT_LABEL" "$cfg" bulk_mbps "$RUN" "$v" "${LAT_NOTE:-}"
    progress "$LAT_LABEL $cfg run $RUN bulk stream $dir${*:+ (iperf3 $*)}: $v Mbit/s"
  fi
  sleep 1
}

# lat_guest KIND full|cap [VARIANT]: idle and full rate (full), or the capped rate (cap), on one boot. VARIANT (Keel
# only): baseline (the --baseline kernel) or a "+"-joined set of kernel command-line switches; recorded as keel:VARIANT.
lat_guest() {
  local kind="$1" part="$2" variant="${3:-}" append="" ok=0
  [ "$kind" = linux ] && append="keel.echo=1"
  LAT_LABEL="$kind"
  if [ -n "$variant" ]; then
    LAT_LABEL="keel:$variant"
    [ "$variant" = baseline ] || append="${variant//+/ }"
  fi
  G_KERNEL=""
  [ "$variant" = baseline ] && G_KERNEL="$BASELINE"
  guest_start "$kind" lat "$MEM" ping "$append" && ok=1
  if [ "$ok" = 0 ]; then
    G_KERNEL=""
    record "$LAT_LABEL" "${part}_h2g" bulk_mbps "$RUN" fail "guest does not boot"
    progress "$LAT_LABEL latency run $RUN: FAIL: the guest does not boot"
    return 1
  fi
  [ "$kind" = linux ] && { linux_meta; sleep 1; }   # the init script starts iperf3 -s and the echo server
  if [ "$part" = full ]; then
    lat_probe idle
    lat_loaded full_h2g host→guest
    lat_loaded full_g2h guest→host -R
  else
    LAT_NOTE="capped at $LAT_CAP_H2G Mbit/s" lat_loaded cap_h2g host→guest -b "${LAT_CAP_H2G}M"
    LAT_NOTE="capped at $LAT_CAP_G2H Mbit/s" lat_loaded cap_g2h guest→host -R -b "${LAT_CAP_G2H}M"
  fi
  guest_stop
  G_KERNEL=""
}

# lat_cap DIR: the capped rate (Mbit/s) for this run: LAT_CAP, or half the lower full rate of the guests measured.
lat_cap() {
  if [ -n "$LAT_CAP" ]; then
    awk -v c="$LAT_CAP" 'BEGIN{ m = c + 0; if (c ~ /[Gg]$/) m *= 1000; if (c ~ /[Kk]$/) m /= 1000; printf "%d", m }'
    return
  fi
  awk -F'\t' -v run="$RUN" -v cfg="full_$1" '
    ($1 == "keel" || $1 == "linux") && $2 == cfg && $3 == "bulk_mbps" && $4 == run && $5 + 0 > 0 { if (min == "" || $5 + 0 < min) min = $5 + 0 }
    END { if (min != "") printf "%d", min / 2 }' "$RES"
}

# lat_variants full|cap: the Keel variants (LAT_VARIANTS, then the baseline), each on its own boot.
lat_variants() {
  local v
  for v in $LAT_VARIANTS; do lat_guest keel "$1" "$v"; done
  [ -n "$BASELINE" ] && lat_guest keel "$1" baseline
  return 0
}

# One run of the section: both guests (and the Keel variants) idle and at full rate, then at the capped rate.
latency_run() {
  local kinds="keel" kind
  [ "$DO_LINUX" = 1 ] && kinds="keel linux"
  lat_guest keel full
  lat_variants full
  [ "$DO_LINUX" = 1 ] && lat_guest linux full
  LAT_CAP_H2G="$(lat_cap h2g)" LAT_CAP_G2H="$(lat_cap g2h)"
  if [ -z "$LAT_CAP_H2G" ] || [ -z "$LAT_CAP_G2H" ]; then
    log "latency run $RUN: no full-rate figure to cap at; capped cases skipped"
    for kind in $kinds; do record "$kind" cap_h2g bulk_mbps "$RUN" fail "no full-rate figure to cap at"; done
    return 0
  fi
  lat_guest keel cap
  lat_variants cap
  [ "$DO_LINUX" = 1 ] && lat_guest linux cap
  return 0
}
