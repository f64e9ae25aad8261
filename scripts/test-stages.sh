#!/usr/bin/env bash
# `make test`: each stage in order, stopping at the first that fails, then how long each took, so a
# slow or growing stage shows on every run (CI's and a laptop's alike).
set -uo pipefail

rows=()
status=0
for stage in "$@"; do
  start=$SECONDS
  "${MAKE:-make}" --no-print-directory "$stage"
  status=$?
  result=ok
  [[ $status -eq 0 ]] || result=FAILED
  rows+=("$(printf '%-12s %6ds  %s' "$stage" $((SECONDS - start)) "$result")")
  [[ $status -eq 0 ]] || break
done

printf '\n%-12s %7s  %s\n' stage time result
printf '%s\n' "${rows[@]}"
printf '%-12s %6ds\n' total "$SECONDS"
exit "$status"
