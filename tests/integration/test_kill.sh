#!/bin/bash
# kill -9 in the middle of a fan-out (issue 12, case 2): the outcome of each
# SMTP transaction is durable before the next one starts on its connection
# (a line in data/queue.journal, in the database within 100 ms), so after a
# restart nobody is missing and at most smtp_connections contacts (the
# transactions in flight when the daemon died) get a second copy. The
# restart records what the journal holds first, a torn last line and a
# forged one ignored.
# 3,000 contacts, 4 connections; smtp-sink holds some replies to "." for a
# second (-W .:1:2) so that the kill lands while transactions are in flight.
. "$(dirname "$0")/lib.sh"
sink_port=$(free_port); lmtp_port=$(free_port)
conns=4
total=3000
write_conf "smtp_relay = 127.0.0.1:$sink_port" "lmtp_listen = 127.0.0.1:$lmtp_port" "approve_password = s3cret" \
    "smtp_connections = $conns" "queue_run_interval = 1s" "retry_min = 60s" \
    "bulletin_anchor = 2099-01-01" "dmarc_mitigation = none"
python3 - "$work/roster.csv" "$total" <<'PY' || fail roster
import sys
with open(sys.argv[1], "w") as f:
    f.write("comité;région;département;nom;courriel;tags\n")
    for i in range(int(sys.argv[2])):
        f.write("Comité %d;Bretagne;35;Membre %d;m%d@c%d.example.org;\n" % (i // 4, i, i, i // 4))
PY
ctl init >/dev/null && ctl committee import "$work/roster.csv" >/dev/null || fail "roster import"
ctl sender add bureau@national.example.org --role national >/dev/null || fail sender
[ "$(sqlite3 "$work/data/mlistd.db" "SELECT count(*) FROM contact")" -eq "$total" ] || fail "not $total contacts"
start_sink "$sink_port" "$work/sink" -W .:1:2
printf 'From: bureau@national.example.org\nApproved: s3cret\nSubject: Coupure\n\nBonjour.\n' |
    ctl inject --rcpt national@comites.example.org --sender bureau@national.example.org || fail inject
"$build/mlistd" -c "$work/mlistd.conf" -f 2>>"$work/daemon.log" &
dpid=$!; pids="$pids $dpid"	# stopped at exit if the test fails first
i=0
while [ "$(ls "$work/sink" | wc -l)" -lt $((total / 3)) ]; do
    i=$((i + 1)); [ $i -gt 600 ] && fail "the fan-out did not start"
    sleep 0.05
done
kill -9 "$dpid"; wait "$dpid" 2>/dev/null
sleep 2.5	# replies held by the sink go out to a dead client
got=$(ls "$work/sink" | wc -l)
[ "$got" -lt "$total" ] || fail "kill did not land mid fan-out ($got)"
journal="$work/data/queue.journal"
[ -f "$journal" ] || fail "no journal"
{ awk '$2 == "sent" { print $1 }' "$journal"
  sqlite3 "$work/data/mlistd.db" "SELECT id FROM delivery WHERE state = 'sent'"; } | sort -u > "$work/sent-ids"
recorded=$(wc -l < "$work/sent-ids")
in_db=$(sqlite3 "$work/data/mlistd.db" "SELECT count(*) FROM delivery WHERE state = 'sent'")
ok "killed with $got copies at the sink, $recorded recorded sent ($in_db in the database, $(wc -l < "$journal") lines in the journal)"
[ $((got - recorded)) -le "$conns" ] ||
    fail "$((got - recorded)) copies accepted but not recorded (more than $conns connections in flight)"
ok "accepted but unrecorded at the kill: $((got - recorded)) <= $conns"
# What a crash or a stranger may leave: a line that is not an outcome, one
# naming a row that does not exist, and a last line cut short.
printf 'garbage\n999999 sent 1 0 250 0 250 forged\n%s sent 1' "$(head -n 1 "$work/sent-ids")" >> "$journal"

"$build/mlistd" -c "$work/mlistd.conf" -f 2>>"$work/daemon.log" &
dpid=$!; pids="$pids $dpid"
wait_files "$work/sink" "$total" 120
i=0
while [ "$(sqlite3 "$work/data/mlistd.db" "SELECT count(*) FROM delivery WHERE state IN ('queued', 'deferred')")" -gt 0 ]; do
    i=$((i + 1)); [ $i -gt 600 ] && fail "deliveries still pending"
    sleep 0.2
done
sleep 1
grep -h '^X-Rcpt-Args:' "$work"/sink/* | tr 'A-Z' 'a-z' | sort | uniq -c | awk '{print $1}' > "$work/counts"
have=$(wc -l < "$work/counts")
dups=$(awk '$1 > 1 { d += $1 - 1 } END { print d + 0 }' "$work/counts")
[ "$have" -eq "$total" ] || fail "$((total - have)) contacts got nothing"
ok "after the restart all $total contacts have their copy"
grep -q "queue journal=queue.journal outcomes=[0-9]* status=recorded" "$work/daemon.log" ||
    fail "the restart did not record the journal"
[ ! -s "$journal" ] || fail "the journal is not emptied once recorded"
ok "the journal was recorded at the restart, then emptied"
[ "$dups" -le "$conns" ] || fail "$dups duplicates, more than smtp_connections ($conns)"
ok "duplicates: $dups <= smtp_connections ($conns)"
[ "$(sqlite3 "$work/data/mlistd.db" "SELECT count(*) FROM delivery WHERE state = 'sent'")" -eq "$total" ] ||
    fail "not every delivery recorded sent"
ok "every delivery recorded sent"
finish
