#!/bin/bash
# The SMTP client without the interposition (issue 12, case 7): with
# MLISTD_NO_INTERPOSE=1 the interposed poll(), connect() and write() are
# libc's, as when a libesmtp build does not reach them. The start-up
# self-test must see it, say so, and fall back to stock libesmtp with one
# thread per connection: every contact still gets exactly one copy.
. "$(dirname "$0")/lib.sh"
sink_port=$(free_port); lmtp_port=$(free_port)
write_conf "smtp_relay = 127.0.0.1:$sink_port" "lmtp_listen = 127.0.0.1:$lmtp_port" \
    "approve_password = s3cret" "smtp_connections = 4" "retry_min = 60s" \
    "bulletin_anchor = 2099-01-01" "dmarc_mitigation = none"
ctl init >/dev/null && ctl committee import "$top/contrib/demo-roster.csv" >/dev/null || fail setup
ctl sender add bureau@national.example.org --role national >/dev/null || fail sender
contacts=$(ctl contact list | grep -o '[a-z.]*@[a-z.]*example.org')
start_sink "$sink_port" "$work/sink"

expect_rc 0 "mlistd -n with the interposition" "$build/mlistd" -c "$work/mlistd.conf" -n
expect_out "libesmtp reaches the interposed poll(), connect(), write()" "mlistd -n: interposition in effect"
MLISTD_NO_INTERPOSE=1 expect_rc 0 "mlistd -n without it" "$build/mlistd" -c "$work/mlistd.conf" -n
expect_out "interposition not in effect" "mlistd -n: the fallback is told"

printf 'From: bureau@national.example.org\nApproved: s3cret\nSubject: Sans interposition\n\nBonjour.\n' |
    ctl inject --rcpt national@comites.example.org --sender bureau@national.example.org || fail inject
MLISTD_NO_INTERPOSE=1 once || fail "mlistd --once"
grep -q 'relay status=degraded reason="interposition not in effect (MLISTD_NO_INTERPOSE=1): stock libesmtp, one thread per connection' \
    "$work/daemon.log" || fail "the fallback is not logged"
ok "the start-up self-test logs the fallback"
! grep -q 'relay interposition=ok' "$work/daemon.log" || fail "self-test passed without the interposition"
ok "and does not claim the interposition"
wait_files "$work/sink" 40
sleep 1
[ "$(ls "$work/sink" | wc -l)" -eq 40 ] || fail "$(ls "$work/sink" | wc -l) copies, wanted 40"
for c in $contacts; do [ "$(count_rcpt "$work/sink" "$c")" -eq 1 ] || fail "$c: $(count_rcpt "$work/sink" "$c") copies"; done
[ "$(sqlite3 "$work/data/mlistd.db" "SELECT count(*) FROM delivery WHERE state = 'sent'")" -eq 40 ] ||
    fail "not every delivery recorded sent"
ok "fallback: 40 contacts, one copy each, all recorded sent"

# With the interposition (the default), the same run says so.
printf 'From: bureau@national.example.org\nApproved: s3cret\nSubject: Avec interposition\n\nBonjour.\n' |
    ctl inject --rcpt national@comites.example.org --sender bureau@national.example.org || fail inject
: > "$work/daemon.log"
once || fail "mlistd --once"
grep -q 'relay interposition=ok' "$work/daemon.log" || fail "no self-test line"
ok "by default the self-test finds the interposition in effect"
wait_files "$work/sink" 80
finish
