#!/usr/bin/env bash
# `make test`: each stage in order, stopping at the first that fails, then how long each took, so a
# slow or growing stage shows on every run (CI's and a laptop's alike). The times are also kept in
# build/test-stages.json, which `make bench` reports against the 20-minute budget.
set -uo pipefail

names=()
times=()
results=()
status=0
for stage in "$@"; do
  start=$SECONDS
  "${MAKE:-make}" --no-print-directory "$stage"
  status=$?
  result=ok
  [[ $status -eq 0 ]] || result=FAILED
  names+=("$stage")
  times+=($((SECONDS - start)))
  results+=("$result")
  [[ $status -eq 0 ]] || break
done

printf '\n%-12s %7s  %s\n' stage time result
for i in "${!names[@]}"; do
  printf '%-12s %6ds  %s\n' "${names[$i]}" "${times[$i]}" "${results[$i]}"
done
printf '%-12s %6ds   (%s test workers per stage)\n' total "$SECONDS" "${WORKERS:-1}"

complete=false
[[ $status -eq 0 && ${#names[@]} -eq $# ]] && complete=true
mkdir -p build
{
  printf '{"workers": %s, "complete": %s, "total_seconds": %s, "stages": [' "${WORKERS:-1}" "$complete" "$SECONDS"
  for i in "${!names[@]}"; do
    ((i)) && printf ', '
    printf '{"stage": "%s", "seconds": %s, "result": "%s"}' "${names[$i]}" "${times[$i]}" "${results[$i]}"
  done
  printf ']}\n'
} >build/test-stages.json
exit "$status"
