#!/bin/bash
# Build and run the libFuzzer targets (docs/fuzzing.md).
#   fuzz/run.sh short [target...]   about 90 s of fuzzing in all (CI: make fuzz-check)
#   fuzz/run.sh long [target...]    5 minutes per target (make fuzz; FUZZ_SECONDS=n to change),
#                                   then the coverage report below
#   fuzz/run.sh cover [target...]   only the coverage report, from the corpora as they are
# The targets are built by make (Makefile, "fuzz targets": clang -fsanitize=fuzzer,address,
# undefined over every agent source). Each one's corpus lives in build/fuzz/corpus/<target>
# and grows from run to run; its seeds are written afresh into build/fuzz/seeds/<target>:
# fuzz_frame's here, from the Kata wire samples ($PD_TESTDATA, default tests/data/kata-wire)
# and a few hand-made frames; the others' by the target itself (FUZZ_WRITE_SEEDS), from the
# same samples, fuzz/seeds and inputs they build. fuzz/regressions/<target> holds the inputs
# that once made it fail: they run first, every time. A crash leaves build/fuzz/crash-* (or
# timeout-*, leak-*) and makes the script fail. The coverage report runs each corpus through
# the same target built for source-based coverage (build/fuzz-cov) and writes the lines
# covered per source file to build/fuzz/<target>.coverage (llvm-cov).
# fuzz_dispatch and fuzz_copyfile box themselves in namespaces of their own: they need root.
set -u

mode=${1:-short}
shift || true
# target -> seconds in a short run (the long run gives each the same time)
declare -A short_secs=([fuzz_frame]=10 [fuzz_dispatch]=35 [fuzz_oci]=15 [fuzz_parsers]=20
	[fuzz_copyfile]=10)
all=(fuzz_frame fuzz_dispatch fuzz_oci fuzz_parsers fuzz_copyfile)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
case $mode in
short | long | cover) ;;
*)
	echo "usage: $0 short|long|cover [target...]" >&2
	exit 2
	;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
build=${BUILD:-build}
out=$build/fuzz
testdata=${PD_TESTDATA:-$root/tests/data/kata-wire}
[ -d "$testdata" ] || {
	echo "fuzz: Kata wire seeds missing: $testdata is not a directory" >&2
	exit 2
}

die() {
	echo "fuzz: $*" >&2
	echo "fuzz: 0 passed, ${#targets[@]} failed"
	exit 1
}

# ---- build --------------------------------------------------------------------------------
mkdir -p "$out"
bins=()
for t in "${targets[@]}"; do
	[ -n "${short_secs[$t]:-}" ] || die "no target $t (targets: ${all[*]})"
	bins+=("$out/$t")
done
if [ "$mode" != short ]; then
	for t in "${targets[@]}"; do bins+=("$build/fuzz-cov/$t"); done
fi
make --no-print-directory -j2 BUILD="$build" "${bins[@]}" >"$out/build.log" 2>&1 ||
	{
		grep -E 'error|undefined' "$out/build.log" | head -20 >&2
		die "build failed, see $out/build.log"
	}

# ---- seeds --------------------------------------------------------------------------------
# byte N: one raw byte (the format is built on purpose: printf '\xNN')
# shellcheck disable=SC2059
byte() { printf "\\x$(printf %02x $(($1 & 255)))"; }
be32() {
	byte $(($1 >> 24))
	byte $(($1 >> 16))
	byte $(($1 >> 8))
	byte "$1"
}
# frame STREAM TYPE FLAGS: a header for the body read from stdin, then the body.
frame() {
	local body
	body=$(mktemp)
	cat >"$body"
	be32 "$(stat -c %s "$body")"
	be32 "$1"
	byte "$2"
	byte "$3"
	cat "$body"
	rm -f "$body"
}
check_body() { printf '\x0a\x0bgrpc.Health\x12\x05Check'; }

# Each seed starts with fuzz_frame's steering byte: piece-size seed, bit 7 = small limit.
seed_frame_corpus() {
	local dir=$1 n=0 f
	for f in "$testdata"/*.req-envelope.pb; do
		[ -f "$f" ] || continue
		{ printf '\x00'; frame 1 1 0 <"$f"; } >"$dir/seed-$(basename "$f" .req-envelope.pb)"
		n=$((n + 1))
	done
	[ "$n" -gt 0 ] || {
		echo "fuzz: no Kata wire samples in $testdata" >&2
		return 1
	}
	{ printf '\x00'; check_body | frame 1 1 0; } >"$dir/seed-check"
	{ # two requests in one buffer, fed in pieces from seed 5
		printf '\x05'
		check_body | frame 1 1 0
		printf '\x0a\x0bgrpc.Health\x12\x07Version' | frame 3 1 0
	} >"$dir/seed-two-calls"
	{ printf '\x00'; frame 1 1 0 </dev/null; } >"$dir/seed-empty-request"
	{ printf '\x00'; frame 5 3 5 </dev/null; } >"$dir/seed-data-close"
	{ printf '\x00'; printf 'abcd' | frame 7 7 0; } >"$dir/seed-unknown-type"
	{ # limit 16 bytes: the 20-byte Check is drained, the empty request after it parses
		printf '\x81'
		check_body | frame 1 1 0
		frame 3 1 0 </dev/null
	} >"$dir/seed-oversized"
	{ printf '\x00'; printf '\x0a\x00\x12\x02\x08\x01' | frame 1 2 0; } >"$dir/seed-response"
	{ # a Check with timeout_nano = 1 s and one metadata pair
		printf '\x00'
		{
			check_body
			printf '\x20\x80\x94\xeb\xdc\x03\x2a\x08\x0a\x01k\x12\x03val'
		} | frame 9 1 0
	} >"$dir/seed-meta"
}

write_seeds() {
	local t=$1 dir=$2
	rm -rf "$dir" && mkdir -p "$dir" || return 1
	if [ "$t" = fuzz_frame ]; then
		seed_frame_corpus "$dir"
	else
		FUZZ_WRITE_SEEDS=$dir "$out/$t" >"$out/$t.seeds.log" 2>&1 ||
			{
				cat "$out/$t.seeds.log" >&2
				return 1
			}
	fi
}

# ---- coverage per source file ----------------------------------------------------------------
# Each target's corpus and seeds through its coverage build; llvm-cov's report, the agent's
# files only, into build/fuzz/<target>.coverage; one line per target on stdout.
coverage() {
	local t=$1 cov=$out/cov
	if ! command -v llvm-profdata >/dev/null || ! command -v llvm-cov >/dev/null; then
		echo "fuzz: $t: no llvm-profdata/llvm-cov: no coverage report" >&2
		return 0
	fi
	mkdir -p "$cov"
	rm -f "$cov/$t".prof*
	if ! LLVM_PROFILE_FILE=$cov/$t.profraw "$build/fuzz-cov/$t" -runs=0 \
		-artifact_prefix="$cov/" "$out/corpus/$t" "$out/seeds/$t" >"$cov/$t.log" 2>&1 ||
		! llvm-profdata merge -sparse "$cov/$t.profraw" -o "$cov/$t.profdata" ||
		! llvm-cov report "$build/fuzz-cov/$t" -instr-profile="$cov/$t.profdata" \
			>"$cov/$t.report"; then
		echo "fuzz: $t: coverage report failed, see $cov/$t.log" >&2
		return 1
	fi
	# Filename Regions Missed Cover Functions Missed Executed Lines Missed Cover ...
	awk '$1 ~ /^(agent|init)\/.*\.c$/ && $6 < $5 {
		printf "%-36s lines %5d / %5d  %7s   functions %3d / %3d\n", $1, $8 - $9, $8, $10,
			$5 - $6, $5 }' "$cov/$t.report" >"$out/$t.coverage"
	awk -v t="$t" '{ c += $3; n += $5 }
		END { printf "fuzz: %s: coverage of the %d agent files it reaches: %d / %d lines (%s)\n",
			t, NR, c, n, "build/fuzz/" t ".coverage" }' "$out/$t.coverage"
}

# ---- run ----------------------------------------------------------------------------------
passed=0
failed=0
for t in "${targets[@]}"; do
	secs=${short_secs[$t]}
	[ "$mode" = long ] && secs=${FUZZ_SECONDS:-300}
	corpus=$out/corpus/$t
	seeds=$out/seeds/$t
	mkdir -p "$corpus"
	write_seeds "$t" "$seeds" || {
		echo "fuzz: $t: cannot write its seeds" >&2
		failed=$((failed + 1))
		continue
	}
	dict=()
	[ -f "fuzz/$t.dict" ] && dict=(-dict="fuzz/$t.dict")
	# The inputs that once crashed it run first, every time.
	regress=()
	[ -d "fuzz/regressions/$t" ] && regress=("fuzz/regressions/$t")
	if [ "$mode" = cover ]; then
		if coverage "$t"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
		continue
	fi
	echo "fuzz: $t: running ${secs}s (corpus $corpus)"
	if "$out/$t" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
		"${dict[@]}" -artifact_prefix="$out/" -print_final_stats=1 "$corpus" "$seeds" \
		"${regress[@]}" >"$out/$t.log" 2>&1; then
		passed=$((passed + 1))
		awk -v t="$t" '/^#[0-9]+.*DONE/ { cov = $4; ft = $6; corp = $8 }
			/^stat::number_of_executed_units/ { n = $2 }
			/^stat::average_exec_per_sec/ { r = $2 }
			END { printf "fuzz: %s: %d execs (%d/s), %s edges, %s features, corpus %s\n",
				t, n, r, cov, ft, corp }' "$out/$t.log"
		if [ "$mode" = long ]; then
			if ! coverage "$t"; then
				passed=$((passed - 1))
				failed=$((failed + 1))
			fi
		fi
	else
		failed=$((failed + 1))
		echo "fuzz: $t: FAILED, see $out/$t.log" >&2
		grep -E 'ERROR|SUMMARY|Test unit written|^fuzz_' "$out/$t.log" | head -8 >&2
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
