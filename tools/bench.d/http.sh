# shellcheck shell=bash
# tools/bench.d/http.sh: the bench's HTTP section, sourced by tools/bench (uses its guest_start, record, progress).
# Keel's HTTP server (apps/Http, port 80) and nginx in the Linux guest (tools/linux-guest, keel.http=1: one worker,
# no access log, keep-alive on) both serve GET /bytes/612, 612 bytes of body, with identical QEMU options, one after
# the other in each run. Per guest: wrk with keep-alive at 1, 16, 64 and 256 connections and ab without keep-alive
# (one connection per request) at 1 and 64 connections, HTTP_T seconds each; requests/s (2xx/3xx responses only)
# and the client's p50/p99 latency. Results: guest keel|linux, config http, metrics TOOL_cC_rps|_p50|_p99.
HTTP_T="${HTTP_T:-10}"
HTTP_PATH=/bytes/612
HTTP_WRK_CONNS="1 16 64 256"
HTTP_AB_CONNS="1 64"

http_plan() { progress_plan $(( ($(wc -w <<<"$HTTP_WRK_CONNS $HTTP_AB_CONNS")) * (1 + DO_LINUX) )); }

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
  f="$OUT/logs/$(printf '%03d' "$G_N")-$G_KIND-http-r$RUN-$tool-c$c"
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
    record "$G_KIND" http "${m}_rps" "$RUN" fail "${v#fail: }"
    progress "$G_KIND http run $RUN $tool $c connection(s): FAIL: ${v#fail: }"
    return 1
  fi
  note="${v#*$'\t'}"; v="${v%%$'\t'*}"
  local rps p50 p99
  read -r rps p50 p99 <<<"$v"
  record "$G_KIND" http "${m}_rps" "$RUN" "$rps" "$note"
  record "$G_KIND" http "${m}_p50" "$RUN" "$p50"
  record "$G_KIND" http "${m}_p99" "$RUN" "$p99"
  progress "$G_KIND http run $RUN $tool $c connection(s): $rps req/s, p50 $p50 ms, p99 $p99 ms${note:+ ($note)}"
  # Let the connections of this run close (TIME_WAIT, FINs) before the next one.
  sleep 1
}

http_guest() {
  local kind="$1" append="$2" c
  if ! guest_start "$kind" http "$MEM" ping "$append" || ! http_wait; then
    record "$kind" http wrk_c1_rps "$RUN" fail "no HTTP answer from the guest"
    progress "$kind http run $RUN: FAIL: the guest does not boot or does not serve $HTTP_PATH"
    guest_stop
    return 1
  fi
  [ "$kind" = linux ] && linux_meta
  for c in $HTTP_WRK_CONNS; do http_cell wrk "$c"; done
  for c in $HTTP_AB_CONNS; do http_cell ab "$c"; done
  guest_stop
}

# One run of the section: Keel, then the Linux guest.
http_run() {
  http_guest keel ""
  [ "$DO_LINUX" = 1 ] && http_guest linux "keel.http=1"
  return 0
}
