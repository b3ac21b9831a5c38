# shellcheck shell=bash
# tools/bench.d/http.sh: the bench's HTTP section, sourced by tools/bench (uses its guest_start, record, progress).
# Keel's HTTP server (apps/Http, port 80) and nginx in the Linux guest (tools/linux-guest, keel.http=1: one worker,
# no access log, keep-alive on) both serve GET /bytes/612, 612 bytes of body, with identical QEMU options, one after
# the other in each run. Per guest: wrk with keep-alive at 1, 16, 64 and 256 connections and ab without keep-alive
# (one connection per request) at 1 and 64 connections, HTTP_T seconds each; requests/s (2xx/3xx responses only)
# and the client's p50/p99 latency. Results: guest keel|linux, config http, metrics TOOL_cC_rps|_p50|_p99.
# With --baseline the previous Keel binary runs the same cells right after (or before, alternating by run) this one:
# config http_baseline. Connection scale (tools/bench.d/connections.sh, once after the runs unless HTTP_CONNS is 0):
# HTTP_CONNS echo connections opened, held HTTP_CONNS_HOLD s and then each served; config conns, metrics established,
# open_rate, served, bytes_per_conn, sockets.
HTTP_T="${HTTP_T:-10}"
HTTP_CFG=http
HTTP_CONNS="${HTTP_CONNS:-10000}"
HTTP_CONNS_HOLD="${HTTP_CONNS_HOLD:-60}"
HTTP_PATH=/bytes/612
HTTP_WRK_CONNS="1 16 64 256"
HTTP_AB_CONNS="1 64"

http_plan() { progress_plan $(( ($(wc -w <<<"$HTTP_WRK_CONNS $HTTP_AB_CONNS")) * (1 + DO_LINUX + (${#BASELINE} > 0)) )); }

# http_wait: until the guest's server answers 200 for the page (nginx starts after the ready line).
http_wait() {
  local code i
  for i in $(seq 40); do
    code="$(netns_exec curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$GIP$HTTP_PATH" 2>/dev/null)"
    [ "$code" = 200 ] && return 0
    sleep 0.5
  done
  return 1
}

# http_cell wrk|ab CONNECTIONS: one client run against the running guest, recorded.
http_cell() {
  local tool="$1" c="$2" f v note
  f="$OUT/logs/$(printf '%03d' "$G_N")-$G_KIND-$HTTP_CFG-r$RUN-$tool-c$c"
  if ! netns_alive "$G_PID"; then guest_restart && http_wait || true; fi
  if [ "$tool" = wrk ]; then
    local t=2; [ "$c" -lt 2 ] && t=1
    netns_run timeout -k 2 $((HTTP_T + 30)) wrk --latency -t "$t" -c "$c" -d "${HTTP_T}s" --timeout 5s \
      "http://$GIP$HTTP_PATH" >"$f.out" 2>&1
    v="$(python3 "$HERE/sections.py" wrk "$f.out")"
  else
    netns_run timeout -k 2 $((HTTP_T + 40)) ab -q -r -s 10 -t "$HTTP_T" -n 10000000 -c "$c" -e "$f.csv" \
      "http://$GIP$HTTP_PATH" >"$f.out" 2>&1
    v="$(python3 "$HERE/sections.py" ab "$f.out" "$f.csv")"
  fi
  local m="${tool}_c$c"
  [[ "$v" =~ ^[0-9.]+\ [0-9.]+\ [0-9.]+ ]] || [[ "$v" == fail* ]] || v="fail: unreadable client output (${v:-nothing})"
  if [[ "$v" == fail* ]]; then
    record "$G_KIND" "$HTTP_CFG" "${m}_rps" "$RUN" fail "${v#fail: }"
    progress "$G_KIND $HTTP_CFG run $RUN $tool $c connection(s): FAIL: ${v#fail: }"
    return 1
  fi
  note="${v#*$'\t'}"; v="${v%%$'\t'*}"
  local rps p50 p99
  read -r rps p50 p99 <<<"$v"
  record "$G_KIND" "$HTTP_CFG" "${m}_rps" "$RUN" "$rps" "$note"
  record "$G_KIND" "$HTTP_CFG" "${m}_p50" "$RUN" "$p50"
  record "$G_KIND" "$HTTP_CFG" "${m}_p99" "$RUN" "$p99"
  progress "$G_KIND $HTTP_CFG run $RUN $tool $c connection(s): $rps req/s, p50 $p50 ms, p99 $p99 ms${note:+ ($note)}"
  # Let the connections of this run close (TIME_WAIT, FINs) before the next one.
  sleep 1
}

http_guest() {
  local kind="$1" append="$2" c
  if ! guest_start "$kind" "$HTTP_CFG" "$MEM" ping "$append" || ! http_wait; then
    record "$kind" "$HTTP_CFG" wrk_c1_rps "$RUN" fail "no HTTP answer from the guest"
    progress "$kind $HTTP_CFG run $RUN: FAIL: the guest does not boot or does not serve $HTTP_PATH"
    guest_stop
    return 1
  fi
  [ "$kind" = linux ] && linux_meta
  for c in $HTTP_WRK_CONNS; do http_cell wrk "$c"; done
  for c in $HTTP_AB_CONNS; do http_cell ab "$c"; done
  guest_stop
}

# http_baseline: the cells again with the --baseline binary (config http_baseline).
http_baseline() {
  G_KERNEL="$BASELINE" HTTP_CFG=http_baseline
  http_guest keel ""
  G_KERNEL="" HTTP_CFG=http
}

# One run of the section: Keel (and the previous binary, alternating which goes first), then the Linux guest.
http_run() {
  if [ -z "$BASELINE" ]; then http_guest keel ""
  elif [ $((RUN % 2)) = 1 ]; then http_guest keel ""; http_baseline
  else http_baseline; http_guest keel ""; fi
  [ "$DO_LINUX" = 1 ] && http_guest linux "keel.http=1"
  return 0
}

# Connection scale, once: tools/bench.d/connections.sh on this Keel binary (its own namespace and guest).
http_connections() {
  [ "$HTTP_CONNS" -gt 0 ] 2>/dev/null || return 0
  guest_stop
  local f="$OUT/logs/connections.out" json v
  log "keel conns: $HTTP_CONNS connections held ${HTTP_CONNS_HOLD}s (about $((HTTP_CONNS_HOLD + 60))s)"
  KEEL_ELF="$KEEL" NETNS_QUIET=1 timeout -k 5 $((HTTP_CONNS_HOLD + 900)) "$HERE/connections.sh" "$HTTP_CONNS" "$HTTP_CONNS_HOLD" >"$f" 2>&1
  json="$(grep -m1 '^{' "$f")"
  if [ -z "$json" ]; then
    record keel conns established 0 fail "connections.sh: $(tail -c 200 "$f" | tr '\n' ' ')"
    progress "keel conns: FAIL (see $f)"
    return 0
  fi
  for v in established connections_per_second served alive_after_hold; do
    record keel conns "$v" 0 "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$json" "$v")"
  done
  record keel conns requested 0 "$HTTP_CONNS"
  record keel conns hold_s 0 "$HTTP_CONNS_HOLD"
  record keel conns bytes_per_conn 0 "$(sed -n 's/^bytes per held connection beyond the socket table: //p' "$f")"
  record keel conns sockets 0 "$(sed -n 's/^sockets in the table (-m 256M): //p' "$f")"
  record keel conns socket_bytes 0 "$(sed -n 's/^socket table cost per socket (NetConfig.BytesPerSocket): //p' "$f")"
  progress "keel conns: $(grep -m1 '^{' "$f")"
}
