# shellcheck shell=bash
# tools/bench.d/progress.sh: one progress line per measurement while the bench runs, sourced by tools/bench.
#   progress_plan N    N more measurements are planned (sections add theirs before the runs start)
#   progress TEXT      a measurement is done: "bench: [ 123s] [12/57] TEXT" on stderr (through tools/bench's log)
# The plan is an estimate (a failed boot skips measurements, a retry adds none); the count never shows more done
# than planned.
PROGRESS_N=0 PROGRESS_TOTAL=0
progress_plan() { PROGRESS_TOTAL=$((PROGRESS_TOTAL + $1)); }
progress() {
  PROGRESS_N=$((PROGRESS_N + 1))
  local total=$PROGRESS_TOTAL
  [ "$PROGRESS_N" -gt "$total" ] && total=$PROGRESS_N
  log "[$PROGRESS_N/$total] $*"
}
