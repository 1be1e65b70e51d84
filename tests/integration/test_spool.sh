#!/bin/bash
# A poison message never blocks the others, with the real daemon over LMTP
# and Postfix's smtp-sink as the relay: a broadcast to every committee on
# an empty roster (refused: held at once) and a broadcast whose notice has
# no template (failing for the time being: retried with back-off, held
# after handler_max_attempts) are followed by an AIDE request and a
# report, which are handled and answered; the postmaster gets one mail per
# held message; mlistctl spool list shows them, retry has one handled once
# the cause is fixed, drop deletes the other (only with --yes).
. "$(dirname "$0")/lib.sh"
sink_port=$(free_port); lmtp_port=$(free_port)
dom=comites.example.org
author=bureau@national.example.org
pm=postmaster@$dom
tpl=$work/templates
cp -r "$top/templates" "$tpl" && rm "$tpl"/*/broadcast-unknown-target.txt || fail "templates"
write_conf "templates_dir = $tpl" "smtp_relay = 127.0.0.1:$sink_port" \
    "lmtp_listen = 127.0.0.1:$lmtp_port" "approve_password = s3cret" "dmarc_mitigation = none" \
    "queue_run_interval = 1s" "handler_max_attempts = 3" "handler_retry_min = 1s"
ctl init >/dev/null || fail init
ctl sender add "$author" --role national >/dev/null || fail "sender add"
sink=$work/sink
start_sink "$sink_port" "$sink"
"$build/mlistd" -c "$work/mlistd.conf" -f 2>>"$work/daemon.log" &
dpid=$!; pids="$pids $dpid"
wait_port "$lmtp_port"
to() { grep -l -i "^X-Rcpt-Args: <$1>" "$sink"/* 2>/dev/null; }
# wait_count ADDRESS N: until the sink holds N messages to ADDRESS (20 s at most).
wait_count() {
    for i in $(seq 200); do
        [ "$(to "$1" | wc -l)" -ge "$2" ] && return 0
        sleep 0.1
    done
    fail "$(to "$1" | wc -l) messages to $1, wanted $2"
}
# held_id SUBJECT: the spool id of the held message with that subject.
held_id() { grep -l "^Subject: $1" "$work/data/spool/hold/"* 2>/dev/null | xargs -r -n1 basename; }

# 1. Two poisons, then a request and a report.
lmtp "$author" "national@$dom" --header "Subject: A tous" --header "From: <$author>" \
    --header "Approved: s3cret" --body "Bonjour a tous."
lmtp "$author" "national+nulle-part@$dom" --header "Subject: A personne" \
    --header "From: <$author>" --header "Approved: s3cret" --body "Bonjour."
lmtp "$author" "aide@$dom" --header "Subject: aide" --header "From: <$author>" --body "AIDE"
lmtp "$author" "bulletin@$dom" --header "Subject: Notre fete" --header "From: <$author>" \
    --body "Nous avons fait une fete de quartier."
wait_count "$author" 2
grep -l "^Auto-Submitted: auto-replied" $(to "$author") | wc -l | grep -qx 2 ||
    fail "the answers are not automatic replies"
ok "the request and the report behind the poisons are answered"
wait_count "$pm" 2
sleep 3	# every retry is due by now: nothing more may come
[ "$(to "$pm" | wc -l)" -eq 2 ] || fail "$(to "$pm" | wc -l) mails to the postmaster, wanted 2"
[ "$(to "$author" | wc -l)" -eq 2 ] || fail "the author got $(to "$author" | wc -l) mails, wanted 2"
ok "one mail to the postmaster per held message, nothing twice"
[ "$(ls "$work/data/spool/hold" | wc -l)" -eq 2 ] || fail "hold/ does not hold the two poisons"
[ "$(find "$work/data/spool/incoming" "$work/data/spool/deferred" "$work/data/spool/active" -type f | wc -l)" -eq 0 ] ||
    fail "files left in incoming/, deferred/ or active/"
a=$(held_id "A tous"); b=$(held_id "A personne")
[ -n "$a" ] && [ -n "$b" ] || fail "the poisons are not in hold/"
ok "both poisons in hold/"
[ "$(grep -c "status=deferred" "$work/daemon.log")" -eq 2 ] || fail "not two deferrals"
[ "$(grep -c "spoolid=$b status=held attempts=3" "$work/daemon.log")" -eq 1 ] ||
    fail "no held line for the failing one after 3 attempts"
[ "$(grep -c "spoolid=$a status=held attempts=1 reason=\"a broadcast to every committee" "$work/daemon.log")" -eq 1 ] ||
    fail "no held line for the refused one"
grep -q "tempfail reason=\"not an error\"" "$work/daemon.log" && fail "a reason that says nothing"
ok "one log line per held message, with its reason"

# 2. The postmaster's mail: a plain text in French naming the message and what to do.
mailpy "$(grep -l "$b" $(to "$pm"))" "$b" <<'PY' || fail "the postmaster's mail"
m = load(sys.argv[1])
ident = sys.argv[2]
assert m.get_content_type() == "text/plain", m.get_content_type()
assert m["Subject"] == "Message mis de côté\u00a0: A personne", m["Subject"]
assert m["Auto-Submitted"] == "auto-replied", m["Auto-Submitted"]
body = m.get_content()
for want in ("Identifiant\u00a0: " + ident, "Tentatives\u00a0: 3",
             "notice broadcast-unknown-target: template not found",
             "INSTALL, section 4", "national+nulle-part@comites.example.org"):
    assert want in body, (want, body)
assert "mlistctl" not in body, body
PY
ok "the postmaster's mail names the message, the reason and where to read what to do"

# 3. mlistctl spool list.
expect_rc 0 "spool list" ctl spool list
[ "$(grep -c "  mis de côté  " "$work/out")" -eq 2 ] || { cat "$work/out"; fail "list does not show two held"; }
bshort=${b##*-}; bshort=${bshort:0:8}
expect_out "^$bshort  mis de côté  .*tentatives.3" "list: short id, queue, date, attempts"
expect_out "raison.*template not found" "list: the reason"
expect_out "pour.*: national+nulle-part@$dom" "list: the recipients"
expect_out "de.*: $author" "list: the sender"
[ -n "${SHOW:-}" ] && { cat "$work/out"; cat $(grep -l "$b" $(to "$pm")); }

# 4. retry once the template is back: handled, the author is told once.
cp "$top/templates/fr/broadcast-unknown-target.txt" "$tpl/fr/" || fail "template back"
expect_rc 65 "retry of an unknown id" ctl spool retry 20990101T000000.000000-0000000000
expect_rc 0 "spool retry" ctl spool retry "$b"
wait_count "$author" 3
for i in $(seq 50); do [ -e "$work/data/spool/hold/$b" ] || [ -e "$work/data/spool/incoming/$b" ] || break; sleep 0.1; done
[ ! -e "$work/data/spool/hold/$b" ] && [ ! -e "$work/data/spool/incoming/$b" ] || fail "still queued after retry"
grep -q "^Subject: .*A personne" $(to "$author") || fail "no refusal notice for the retried broadcast"
ok "the retried message is handled and its author told"

# 5. drop: only with --yes.
expect_rc 64 "drop without --yes" ctl spool drop "$a"
expect_out "ajoutez --yes" "drop says how to confirm"
[ -e "$work/data/spool/hold/$a" ] || fail "dropped without --yes"
expect_rc 0 "drop --yes" ctl spool drop "$a" --yes
[ -e "$work/data/spool/hold/$a" ] && fail "still in hold/ after drop"
expect_rc 0 "spool list when empty" ctl spool list
expect_out "aucun message en attente" "nothing left"
sleep 1.5
[ "$(to "$pm" | wc -l)" -eq 2 ] || fail "new mails to the postmaster"
[ "$(to "$author" | wc -l)" -eq 3 ] || fail "the author got $(to "$author" | wc -l) mails, wanted 3"
ok "nothing sent twice"
finish
