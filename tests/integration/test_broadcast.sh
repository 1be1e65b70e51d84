#!/bin/bash
# National broadcasts end to end with real peers: Postfix's smtp-sink as the
# relay, swaks and a raw socket client over LMTP, mlistctl inject, and the
# real daemon (background and --once): fan-out exactly once per contact with
# the list headers, targets, authorisation and confirmation, 4xx then 2xx,
# 5xx, kill -9 in the middle of a fan-out, and LMTP smuggling.
. "$(dirname "$0")/lib.sh"
sink_port=$(free_port); lmtp_port=$(free_port)
write_conf "smtp_relay = 127.0.0.1:$sink_port" "lmtp_listen = 127.0.0.1:$lmtp_port" \
    "approve_password = s3cret" "trusted_authserv_ids = mx.example.org" \
    "dmarc_mitigation = none" "bulletin_anchor = 2099-01-01" "queue_run_interval = 1s" "retry_min = 60s" "smtp_connections = 4"
ctl init >/dev/null && ctl committee import "$top/contrib/demo-roster.csv" >/dev/null || fail setup
ctl sender add bureau@national.example.org --role national >/dev/null || fail sender
contacts=$(ctl contact list | grep -o '[a-z.]*@[a-z.]*example.org')
start_sink "$sink_port" "$work/sink"
"$build/mlistd" -c "$work/mlistd.conf" -f 2>"$work/daemon.log" &
dpid=$!; pids="$pids $dpid"
wait_port "$lmtp_port"

# 1. A broadcast over LMTP with the shared secret: every contact exactly once.
swaks --protocol LMTP --server 127.0.0.1 --port "$lmtp_port" --from bureau@national.example.org \
    --to national@comites.example.org --header "Subject: Assemblée générale" \
    --header "From: Bureau national <bureau@national.example.org>" --header "Approved: s3cret" \
    --body "Bonjour à tous, l'AG aura lieu le 12 décembre." >"$work/swaks.log" 2>&1 || { cat "$work/swaks.log"; fail swaks; }
grep -q "250 2.0.0" "$work/swaks.log" || fail "no 250 from LMTP"
ok "LMTP accepted the broadcast"
wait_files "$work/sink" 40
sleep 1
[ "$(ls "$work/sink" | wc -l)" -eq 40 ] || fail "$(ls "$work/sink" | wc -l) messages, wanted 40"
for c in $contacts; do [ "$(count_rcpt "$work/sink" "$c")" -eq 1 ] || fail "$c did not get exactly one copy"; done
ok "40 contacts, exactly one copy each"
f=$(ls "$work"/sink/* | head -1)
for h in '^List-Id: "National" <national.comites.example.org>' '^List-Unsubscribe: <mailto:aide@comites.example.org' \
    '^List-Help: ' '^Precedence: list' '^X-Loop: national@comites.example.org' \
    '^Reply-To: retour+[0-9a-f]*@comites.example.org' '^To: national@comites.example.org' \
    '^X-Mail-Args: <rebonds+[0-9a-f]\{32\}@comites.example.org>'; do
    grep -q "$h" "$f" || { cat "$f"; fail "missing header $h"; }
done
ok "list headers, VERP return path, To: stays the list"
! grep -qi "s3cret\|^Approved:" "$work"/sink/* || fail "the secret was relayed"
ok "the Approved secret is removed"
for c in $contacts; do n=$(grep -l -i "$c" "$work"/sink/* | wc -l); [ "$n" -eq 1 ] || fail "$c visible in $n messages"; done
ok "no contact sees another's address"
verps=$(grep -h '^X-Mail-Args:' "$work"/sink/* | sort -u | wc -l)
[ "$verps" -eq 40 ] || fail "VERP tokens not unique: $verps"
ok "one VERP token per contact"
id=$(ctl messages | awk 'NR==2 {print $1}')
ctl status "$id" | grep -q "12 comité(s) atteint(s) sur 12" || { ctl status "$id"; fail status; }
ok "status: 12 of 12 committees reached"
[ "$(ctl status "$id" --unreached)" = "12 comité(s) atteint(s) sur 12" ] ||
    { ctl status "$id" --unreached; fail "status --unreached lists reached committees"; }
ok "status --unreached: nothing when every committee is reached"

# 2. A targeted broadcast proven by a trusted Authentication-Results, by inject.
before=$(ls "$work/sink" | wc -l)
printf 'Authentication-Results: mx.example.org; dkim=pass header.d=national.example.org; spf=pass\nFrom: bureau@national.example.org\nTo: national+bretagne@comites.example.org\nSubject: Pour la Bretagne\n\nBonjour la Bretagne.\n' \
    | ctl inject --rcpt national+bretagne@comites.example.org --sender bureau@national.example.org || fail inject
wait_files "$work/sink" $((before + 10))
sleep 1
[ "$(grep -l 'Subject: Pour la Bretagne' "$work"/sink/* | wc -l)" -eq 10 ] || fail "bretagne count"
! grep -l 'Subject: Pour la Bretagne' "$work"/sink/* | xargs grep -h '^X-Rcpt-Args' | grep -qv 'rennes\|brest\|lorient' || fail "outside the target"
ok "national+bretagne reaches only the 10 Breton contacts (dkim=pass)"
# A forged Authentication-Results from an untrusted host proves nothing.
printf 'Authentication-Results: evil.example.net; dkim=pass header.d=national.example.org\nFrom: bureau@national.example.org\nSubject: Pas de preuve\n\nx\n' \
    | ctl inject --rcpt national+rennes@comites.example.org --sender x@example.org || fail inject
# 3. An unauthorised sender reaches nobody; told once.
printf 'From: intrus@example.org\nSubject: Spam pour tous\n\nAchetez.\n' | ctl inject --rcpt national@comites.example.org --sender x@example.org || fail inject
printf 'From: intrus@example.org\nSubject: Unknown target\nApproved: s3cret\n\nx\n' | ctl inject --rcpt national+atlantide@comites.example.org --sender x@example.org || fail inject
# 4. Unknown target from the office: refused with a clear reply.
printf 'From: bureau@national.example.org\nSubject: Cible inconnue\nApproved: s3cret\n\nx\n' | ctl inject --rcpt national+atlantide@comites.example.org --sender x@example.org || fail inject
sleep 3
[ "$(grep -l 'Subject: Spam pour tous' "$work"/sink/* 2>/dev/null | wc -l)" -eq 0 ] || fail "spam relayed"
[ "$(grep -l '^Subject: Pas de preuve' "$work"/sink/* 2>/dev/null | wc -l)" -eq 0 ] || fail "untrusted A-R accepted"
ok "unauthorised sender and untrusted Authentication-Results reach nobody"
# intrus@ with another envelope sender is not plausible: no backscatter.
[ "$(count_rcpt "$work/sink" intrus@example.org)" -eq 0 ] || fail "a forged From was answered"
grep -q 'notice=broadcast-refused rcpt=intrus@example.org sender=<x@example.org> status=withheld' \
    "$work/daemon.log" || fail "withheld answer not logged"
ok "a From that is not the envelope sender (nor in the roster) is not answered"
printf 'From: intrus@example.org\nSubject: Spam pour tous\n\nAchetez.\n' | ctl inject --rcpt national@comites.example.org --sender intrus@example.org || fail inject
i=0; until [ "$(count_rcpt "$work/sink" intrus@example.org)" -ge 1 ]; do
    i=$((i + 1)); [ $i -gt 100 ] && fail "intruder not told"; sleep 0.1; done
grep -l -i '^X-Rcpt-Args: <intrus@example.org>' "$work"/sink/* | xargs grep -q '^X-Mail-Args: <>' || fail "notice not from <>"
grep -l -i '^X-Rcpt-Args: <intrus@example.org>' "$work"/sink/* | xargs grep -q '^Auto-Submitted: auto-replied' || fail "notice not auto-replied"
ok "the same sender as envelope sender is told, from <> with Auto-Submitted"
grep -l -i '^X-Rcpt-Args: <bureau@national.example.org>' "$work"/sink/* | xargs grep -l 'atlantide' >/dev/null || fail "no unknown-target reply"
ok "unknown target: the office gets a clear reply"

# 5. No proof from a national sender: held, confirmation requested, reply releases it.
before=$(ls "$work/sink" | wc -l)
printf 'From: bureau@national.example.org\nSubject: Confirmez-moi\n\nMessage a confirmer.\n' | ctl inject --rcpt national+lille@comites.example.org --sender x@example.org || fail inject
sleep 3
conf=$(grep -l '^X-Rcpt-Args: <bureau@national.example.org>' "$work"/sink/* | xargs grep -l 'Confirmez-moi' | head -1)
[ -n "$conf" ] || fail "no confirmation request"
token=$(grep -o 'confirm+[0-9a-f]*@comites.example.org' "$conf" | head -1)
grep -q "^Reply-To: $token" "$conf" || fail "confirmation has no Reply-To"
[ "$(grep -l '^Subject: Confirmez-moi' "$work"/sink/* | wc -l)" -eq 0 ] || fail "held message was sent"
ok "held until confirmed; the request's Reply-To is the confirm address"
printf 'From: intrus@example.org\nSubject: Re: Confirmez\n\nok\n' | ctl inject --rcpt "$token" --sender x@example.org || fail inject
sleep 2
[ "$(grep -l '^Subject: Confirmez-moi' "$work"/sink/* | wc -l)" -eq 0 ] || fail "someone else confirmed"
ok "a confirmation from someone else releases nothing"
printf 'From: bureau@national.example.org\nSubject: Re: Confirmez votre envoi\n\nok\n' | ctl inject --rcpt "$token" --sender x@example.org || fail inject
wait_files "$work/sink" $((before + 1 + 4))
sleep 1
[ "$(grep -l '^Subject: Confirmez-moi' "$work"/sink/* | wc -l)" -eq 4 ] || fail "released copies"
ok "the author's reply releases the broadcast to the 4 Lille contacts"

# 6. Loops and automatic mail are never broadcast.
printf 'From: bureau@national.example.org\nX-Loop: national@comites.example.org\nApproved: s3cret\nSubject: Boucle\n\nx\n' | ctl inject --rcpt national@comites.example.org --sender x@example.org
[ $? -eq 65 ] || fail "inject should refuse our loop marker"
printf 'From: bureau@national.example.org\nAuto-Submitted: auto-replied\nApproved: s3cret\nSubject: Absence\n\nx\n' | ctl inject --rcpt national@comites.example.org --sender x@example.org || fail inject
sleep 2
[ "$(grep -l 'Subject: Absence' "$work"/sink/* | wc -l)" -eq 0 ] || fail "auto-reply broadcast"
ok "loop marker refused at the pipe (65); Auto-Submitted never broadcast"
expect_rc 67 "inject to an address that is not ours" sh -c "echo x | $build/mlistctl -c $work/mlistd.conf inject --rcpt someone@elsewhere.example.org --sender x@example.org"

# 7. SMTP smuggling over LMTP: bare-LF dot tricks stay one message.
before=$(ctl messages | wc -l)
python3 - "$lmtp_port" > "$work/smuggle.log" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
data = (b"LHLO test.example.org\r\nMAIL FROM:<bureau@national.example.org>\r\n"
        b"RCPT TO:<national@comites.example.org>\r\nDATA\r\n"
        b"From: bureau@national.example.org\r\nApproved: s3cret\r\nSubject: Smuggle carrier\r\n\r\nhello\n.\n"
        b"MAIL FROM:<bureau@national.example.org>\r\nRCPT TO:<national@comites.example.org>\r\nDATA\r\n"
        b"From: bureau@national.example.org\r\nApproved: s3cret\r\nSubject: Smuggled\r\n\r\nevil\r\n\r.\r\nmore\n.\r\nend\r\n.\r\nQUIT\r\n")
s.sendall(data)
time.sleep(1)
print(s.recv(65536).decode())
PY
sleep 3
[ "$(ctl messages | wc -l)" -eq $((before + 1)) ] || { ctl messages; fail "smuggling split the message"; }
ctl messages | grep -q "Smuggle carrier" || fail "carrier missing"
! ctl messages | grep -q "— Smuggled" || fail "smuggled message accepted"
ok "bare-LF smuggling stays one message"

# 8. 4xx then 2xx: deferred, then sent at the retry; 5xx: failed, never retried.
kill "$dpid"; wait "$dpid" 2>/dev/null
stop_sink
start_sink "$sink_port" "$work/sink4" -r rcpt
printf 'From: bureau@national.example.org\nSubject: Differe\n\nApproved: s3cret\nx\n' | ctl inject --rcpt national+albi@comites.example.org --sender x@example.org || fail inject
"$build/mlistd" -c "$work/mlistd.conf" --once 2>>"$work/daemon.log"
id=$(ctl messages | grep Differe | awk '{print $1}')
[ "$(ctl status "$id" | grep -c ' différé ')" -eq 3 ] || { ctl status "$id"; fail "not deferred"; }
ok "4xx gives deferred"
ctl search Differe | grep -q Differe || fail "the broadcast is not in the archive index"
ctl search s3cret | grep -q Differe && fail "the Approved secret (first body line) is in the archive index"
ok "the archive index has the broadcast, not its secret"
stop_sink
start_sink "$sink_port" "$work/sink2"
"$build/mlistd" -c "$work/mlistd.conf" --once 2>>"$work/daemon.log"
[ "$(ls "$work/sink2" | wc -l)" -eq 0 ] || fail "retried before next_try"
MLISTD_NOW=$(( $(date +%s) + 120 )) "$build/mlistd" -c "$work/mlistd.conf" --once 2>>"$work/daemon.log"
[ "$(ctl status "$id" | grep -c ' remis ')" -eq 3 ] || { ctl status "$id"; fail "not sent after retry"; }
[ "$(ls "$work/sink2" | wc -l)" -eq 3 ] || fail "retry count"
ok "then 2xx at the retry gives sent"
stop_sink
start_sink "$sink_port" "$work/sink5" -f rcpt
printf 'From: bureau@national.example.org\nApproved: s3cret\nSubject: Refuse\n\nx\n' | ctl inject --rcpt national+arras@comites.example.org --sender x@example.org || fail inject
"$build/mlistd" -c "$work/mlistd.conf" --once 2>>"$work/daemon.log"
id=$(ctl messages | grep Refuse | awk '{print $1}')
[ "$(ctl status "$id" | grep -c ' refusé ')" -eq 3 ] || { ctl status "$id"; fail "not failed"; }
ctl status "$id" | grep -q "injoignable" || fail "committee not unreachable"
MLISTD_NOW=$(( $(date +%s) + 86400 )) "$build/mlistd" -c "$work/mlistd.conf" --once 2>>"$work/daemon.log"
[ "$(ctl status "$id" | grep -c ' refusé ')" -eq 3 ] || fail "failed retried"
[ "$(ctl status "$id" --unreached | grep -c .)" -eq 3 ] && ctl status "$id" --unreached | grep -q "^Arras .*injoignable" && ctl status "$id" --unreached | grep -q "^comité  *état$" ||
    { ctl status "$id" --unreached; fail "status --unreached must list Arras alone"; }
ok "5xx gives failed, never retried; the committee is unreachable (and listed by --unreached)"

# 9. kill -9 in the middle of a fan-out: the restart sends only what is left.
stop_sink
start_sink "$sink_port" "$work/sink9" -w 1
printf 'From: bureau@national.example.org\nApproved: s3cret\nSubject: Coupure\n\nx\n' | ctl inject --rcpt national@comites.example.org --sender x@example.org || fail inject
"$build/mlistd" -c "$work/mlistd.conf" -f 2>>"$work/daemon.log" &
dpid=$!
sleep 3.5
kill -9 "$dpid"; wait "$dpid" 2>/dev/null
sleep 1.2
got=$(ls "$work/sink9" | wc -l)
[ "$got" -gt 0 ] && [ "$got" -lt 40 ] || fail "kill did not land mid fan-out ($got)"
ok "killed after $got of 40"
"$build/mlistd" -c "$work/mlistd.conf" -f 2>>"$work/daemon.log" &
dpid=$!; pids="$pids $dpid"
wait_files "$work/sink9" 40 40
sleep 2
[ "$(ls "$work/sink9" | wc -l)" -eq 40 ] || fail "$(ls "$work/sink9" | wc -l) after restart"
for c in $contacts; do [ "$(count_rcpt "$work/sink9" "$c")" -eq 1 ] || fail "$c: $(count_rcpt "$work/sink9" "$c") copies"; done
ok "after restart every contact has exactly one copy"
kill "$dpid"; wait "$dpid" 2>/dev/null
grep -q "stopping signal=15" "$work/daemon.log" || fail "no clean stop on SIGTERM"
ok "SIGTERM stops cleanly"
finish
