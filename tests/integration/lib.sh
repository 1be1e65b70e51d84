# Shared helpers for the integration tests (sourced). Each test runs in its
# own temporary directory, removed at exit with every process it started.
set -u
top=${MLISTD_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${MLISTD_BUILD:-$top/build}
work=$(mktemp -d /tmp/mlistd-it-XXXXXX)
pids=""
checks=0
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    sleep 0.2
    for p in $pids; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

fail() { echo "FAIL: $*"; exit 1; }
ok() { checks=$((checks + 1)); echo "ok $checks - $*"; }
# expect_rc WANT DESCRIPTION command...
expect_rc() {
    want=$1; what=$2; shift 2
    "$@" >"$work/out" 2>"$work/err"; rc=$?
    [ "$rc" -eq "$want" ] || { cat "$work/out" "$work/err"; fail "$what: exit $rc, wanted $want"; }
    ok "$what"
}
# expect_out PATTERN DESCRIPTION: last command's stdout+stderr matches
expect_out() {
    cat "$work/out" "$work/err" | grep -q -- "$1" || { cat "$work/out" "$work/err"; fail "$2: no '$1'"; }
    ok "$2"
}
# A free TCP port on 127.0.0.1.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# wait_port PORT: until something listens (5 s at most).
wait_port() {
    i=0
    while ! (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null; do
        i=$((i + 1)); [ $i -gt 50 ] && fail "nothing listens on port $1"
        sleep 0.1
    done
}
# write_conf EXTRA...: a configuration in $work/mlistd.conf
write_conf() {
    {
        echo "domain = comites.example.org"
        echo "data_dir = $work/data"
        echo "templates_dir = $top/templates"
        for l in "$@"; do echo "$l"; done
    } > "$work/mlistd.conf"
}
ctl() { "$build/mlistctl" -c "$work/mlistd.conf" "$@"; }
finish() { echo "$checks passed, 0 failed"; }
