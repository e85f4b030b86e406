#!/usr/bin/env bash
# `make check`: every suite in turn — unit, integration, fuzz, QEMU — each run to its end even
# when an earlier one failed, then one total line summing every suite's closing line:
#   check: N passed, N failed, N skipped
# A suite that exits non-zero without a closing line that says so counts as one failure.
set -u
cd "$(dirname "$0")/.." || exit 2
make=${MAKE:-make}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
total_p=0 total_f=0 total_s=0

# The closing lines of the suites, and no others (suites echo their sub-suites' lines too).
summary_re='^(unit|integration|fuzz|qemu|qemu vsock \([a-z]+\)): ([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?$'

run_suite() { # run_suite TARGET
	local target=$1 rc line f_before=$total_f
	"$make" --no-print-directory "$target" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	while IFS= read -r line; do
		[[ $line =~ $summary_re ]] || continue
		total_p=$((total_p + BASH_REMATCH[2]))
		total_f=$((total_f + BASH_REMATCH[3]))
		total_s=$((total_s + ${BASH_REMATCH[5]:-0}))
	done <"$out"
	if [ "$rc" -ne 0 ] && [ "$total_f" -eq "$f_before" ]; then
		echo "check: make $target failed (exit $rc) before its tests could report" >&2
		total_f=$((total_f + 1))
	fi
}

for suite in unit integration fuzz-check qemu-check; do
	run_suite "$suite"
done
echo "check: $total_p passed, $total_f failed, $total_s skipped"
[ "$total_f" -eq 0 ]
