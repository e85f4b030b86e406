#!/usr/bin/env bash
# Run every cmocka unit test binary given and count their cases: cmocka's own summary lines
# give each binary's passed, failed and skipped cases. A binary that exits 77 could not run
# on this host at all (it printed why): one skipped. A binary that fails without a cmocka
# failure line (a crash, a failed group set-up, a sanitizer report) counts as one failed.
# Closing line: "unit: N passed, N failed, N skipped".
set -u
pass=0 fail=0 skipped=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for t in "$@"; do
	[ -x "$t" ] || {
		echo "FAILED: $t: no such test binary" >&2
		fail=$((fail + 1))
		continue
	}
	"$t" >"$out" 2>&1
	rc=$?
	cat "$out"
	p=$(sed -nE 's/^\[  PASSED  \] ([0-9]+) test.*/\1/p' "$out" | tail -n 1)
	f=$(sed -nE 's/^\[  FAILED  \] ([0-9]+) test.*/\1/p' "$out" | tail -n 1)
	s=$(sed -nE 's/^\[  SKIPPED \] ([0-9]+) test.*/\1/p' "$out" | tail -n 1)
	p=${p:-0} f=${f:-0} s=${s:-0}
	if [ "$rc" -eq 77 ]; then
		s=$((s + 1))
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	[ "$f" -eq 0 ] || echo "FAILED: $t ($f failed)" >&2
	pass=$((pass + p)) fail=$((fail + f)) skipped=$((skipped + s))
done
echo "unit: $pass passed, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ]
