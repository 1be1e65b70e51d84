#!/bin/sh
# Run every test: the unit binaries (cmocka) and the integration scripts.
#   tests/run-tests.sh BUILD_DIR [unit|integration]
# Each test's output goes to BUILD_DIR/test-logs/NAME.log; a failed test's
# log is printed. The last line is the summary "N passed, N failed".
build=${1:-build}
what=${2:-all}
top=$(cd "$(dirname "$0")/.." && pwd)
logs="$build/test-logs"
mkdir -p "$logs"
pass=0; fail=0; failed=""
export MLISTD_TOP="$top" MLISTD_BUILD="$(cd "$build" && pwd)"

run_one() {	# name command...
    name=$1; shift
    start=$(date +%s)
    if "$@" >"$logs/$name.log" 2>&1; then
        pass=$((pass + 1)); status=ok
    else
        fail=$((fail + 1)); status=FAIL; failed="$failed $name"
        echo "---- $name output:"; tail -n 40 "$logs/$name.log"
    fi
    grep -h 'PASSED\|FAILED' "$logs/$name.log" | tail -n 2 | sed "s/^/$name: /"
    echo "$status $name ($(( $(date +%s) - start ))s)"
}

if [ "$what" != integration ]; then
    for t in "$build"/tests/test_*; do
        [ -x "$t" ] || continue
        run_one "$(basename "$t")" "$t"
    done
fi
if [ "$what" != unit ]; then
    for t in "$top"/tests/integration/test_*.sh; do
        [ -f "$t" ] || continue
        run_one "$(basename "$t" .sh)" timeout 600 bash "$t"
    done
fi
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
