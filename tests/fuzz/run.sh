#!/bin/sh
# Run every libFuzzer harness built by `make fuzz` for a while.
#   tests/fuzz/run.sh FUZZ_BUILD SECONDS [NAME...]
# Each harness starts from its seed corpus tests/fuzz/corpus/NAME/ (read,
# never written) and keeps what it learns in FUZZ_BUILD/fuzz/corpus-NAME/,
# so later runs go on from there. A crash, leak, sanitizer report or
# timeout leaves its input in FUZZ_BUILD/fuzz/artifacts/ and fails the run;
# replay it with FUZZ_BUILD/fuzz/fuzz_NAME FILE, then add it to the seed
# corpus once fixed (make check replays every seed). The harnesses' own
# output (log lines) is discarded; libFuzzer's and the sanitizers' reports
# are kept in FUZZ_BUILD/fuzz/NAME.log. The last line is
# "N harnesses passed, N failed".
build=${1:-build-fuzz}
secs=${2:-60}
shift 2 2>/dev/null
top=$(cd "$(dirname "$0")/../.." && pwd)
names=$*
[ -n "$names" ] || names=$(cd "$top/tests/fuzz" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
pass=0; fail=0; failed=""
mkdir -p "$build/fuzz/artifacts"
for name in $names; do
    bin="$build/fuzz/fuzz_$name"
    work="$build/fuzz/corpus-$name"
    log="$build/fuzz/$name.log"
    mkdir -p "$work"
    set -- -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 -close_fd_mask=3 \
        -artifact_prefix="$build/fuzz/artifacts/$name-"
    [ -f "$top/tests/fuzz/$name.dict" ] && set -- "$@" -dict="$top/tests/fuzz/$name.dict"
    if [ -x "$bin" ] && "$bin" "$@" "$work" "$top/tests/fuzz/corpus/$name" >"$log" 2>&1; then
        pass=$((pass + 1)); status=ok
    else
        fail=$((fail + 1)); status=FAIL; failed="$failed $name"
        echo "---- fuzz_$name output:"; grep -v '^#[0-9]' "$log" | tail -n 60
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    echo "$status fuzz_$name (${secs}s, ${execs:-0} runs, ${rate:-0} exec/s)"
done
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass harnesses passed, $fail failed"
[ "$fail" -eq 0 ]
