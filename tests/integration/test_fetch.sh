#!/bin/bash
# Ingress by polling with real peers: Dovecot (IMAP, IMAPS, STARTTLS, POP3)
# on loopback with throw-away users and Maildirs, Postfix's smtp-sink as the
# relay, and the real daemon (--once and in the background with IDLE):
# a national message, a report and a command fetched and handled once;
# processed mail moved, flagged or deleted; a connection cut between spool
# and flag loses and doubles nothing; Message-ID dedupe; wrong password and
# untrusted certificate; POP3 and a local Maildir; and the provider rate
# limit (smtp_rate_per_minute) with the wait shown by mlistctl status.
. "$(dirname "$0")/lib.sh"
grep -q 'fetch mailboxes=' "$build/mlistd" || { echo "SKIP: mlistd has no fetch thread yet (daemon.c wiring)"; exit 0; }
sink_port=$(free_port)
start_dovecot national bulletin aide popbox
ok "dovecot started (imap, imaps, pop3)"

# deliver USER: stdin becomes a new message in USER's Maildir new/
deliver() { maildir_put "$mail/$1"; }
# per_rcpt SUBJECT ADDRESS: copies of SUBJECT to ADDRESS
per_rcpt() { grep -l "^Subject: $1" "$work"/sink/* | xargs grep -l -i "^X-Rcpt-Args: <$2>" | wc -l; }
unseen() { find "$mail/$1/new" "$mail/$1/cur" -type f ! -name '*:2,*S*' | wc -l; }
for u in national bulletin aide popbox; do echo "pw-$u" > "$work/pw-$u"; done

write_conf "smtp_relay = 127.0.0.1:$sink_port" "approve_password = s3cret" "dmarc_mitigation = none" "bulletin_anchor = 2099-01-01" \
    "retry_min = 60s" "fetch_interval = 60s" "lmtp_listen = 127.0.0.1:$(free_port)" \
    "[fetch national]" "url = imap://127.0.0.1:$imap_port" "role = national" "user = national" \
    "password_file = $work/pw-national" "processed = Traites" \
    "[fetch bulletin]" "url = imaps://127.0.0.1:$imaps_port" "role = bulletin" "user = bulletin" \
    "password = pw-bulletin" "ca_file = $dv/cert.pem" \
    "[fetch aide]" "url = imap://127.0.0.1:$imap_port" "starttls = yes" "ca_file = $dv/cert.pem" \
    "role = request" "user = aide" "password = pw-aide" "processed = delete"
ctl init >/dev/null && ctl committee import "$top/contrib/demo-roster.csv" >/dev/null || fail setup
ctl sender add bureau@national.example.org --role national >/dev/null || fail sender
contacts=$(ctl contact list | grep -o '[a-z.]*@[a-z.]*example.org')
start_sink "$sink_port" "$work/sink"

# 1. A national message (IMAP), a report (IMAPS) and a command (IMAP+STARTTLS).
deliver national <<'EOF'
Return-Path: <bureau@national.example.org>
Delivered-To: national@comites.example.org
From: Bureau national <bureau@national.example.org>
To: national@comites.example.org
Subject: Assemblee generale
Message-ID: <ag-1@national.example.org>
Approved: s3cret

Bonjour a tous, l'AG aura lieu le 12 decembre.
EOF
deliver bulletin <<'EOF'
Return-Path: <anne.legoff@rennes.example.org>
Delivered-To: bulletin@comites.example.org
From: Anne Le Goff <anne.legoff@rennes.example.org>
To: bulletin@comites.example.org
Subject: Compte rendu de la fete du quartier
Message-ID: <cr-1@rennes.example.org>

Nous avons tenu un stand samedi.
EOF
deliver aide <<'EOF'
Return-Path: <anne.legoff@rennes.example.org>
Delivered-To: aide@comites.example.org
From: anne.legoff@rennes.example.org
To: aide@comites.example.org
Subject: AIDE
Message-ID: <aide-1@rennes.example.org>

AIDE
EOF
once || fail "mlistd --once"
wait_files "$work/sink" 40
sleep 1
[ "$(subj 'Assemblee generale')" -eq 40 ] || fail "broadcast copies: $(subj 'Assemblee generale')"
for c in $contacts; do [ "$(per_rcpt 'Assemblee generale' "$c")" -eq 1 ] || fail "$c did not get exactly one copy"; done
grep -q '^X-Mail-Args: <rebonds+[0-9a-f]\{32\}@comites.example.org>' "$(grep -l '^Subject: Assemblee' "$work"/sink/* | head -1)" || fail "VERP"
ok "fetched national message reaches the 40 contacts once each (VERP)"
grep -q 'fetch=national .*sender=<bureau@national.example.org> rcpt=<national@comites.example.org>.*status=spooled' \
    "$work/daemon.log" || fail "national envelope"
grep -q 'fetch=bulletin .*sender=<anne.legoff@rennes.example.org> rcpt=<bulletin@comites.example.org>.*status=spooled' \
    "$work/daemon.log" || fail "bulletin envelope"
grep -q 'fetch=aide .*rcpt=<aide@comites.example.org>.*status=spooled' "$work/daemon.log" || fail "aide envelope"
ok "envelope: sender from Return-Path, recipient from the role"
[ "$(q "SELECT count(*) FROM submission")" -eq 1 ] || fail "report not filed once"
[ "$(grep -c 'from=anne.legoff@rennes.example.org status=answered' "$work/daemon.log")" -eq 1 ] || fail "command not answered once"
[ "$(count_rcpt "$work/sink" anne.legoff@rennes.example.org)" -eq 3 ] || fail "anne: broadcast + report notice + answer"
[ -z "$(find "$work/data/spool/incoming" "$work/data/spool/corrupt" -type f)" ] || fail "spool not empty"
ok "the report is filed and the command answered, once each"
[ "$(unseen national)" -eq 0 ] && [ "$(ls "$mail/national/.Traites/cur" | wc -l)" -eq 1 ] || fail "national not moved"
ls "$mail/national/.Traites/cur/" | grep -q ':2,.*S' || fail "moved message not \\Seen"
ok "national: moved to Traites and \\Seen"
[ "$(ls "$mail/bulletin/cur" | grep -c ':2,.*S')" -eq 1 ] && [ "$(unseen bulletin)" -eq 0 ] || fail "bulletin not flagged"
ok "bulletin (processed empty): kept and \\Seen (IMAPS, verified with ca_file)"
[ -z "$(find "$mail/aide/new" "$mail/aide/cur" -type f)" ] || fail "aide not deleted"
ok "aide (processed = delete, STARTTLS): deleted"
sinkn=$(ls "$work/sink" | wc -l)
once
[ "$(ls "$work/sink" | wc -l)" -eq "$sinkn" ] || fail "second pass sent something"
ok "a second pass fetches nothing again"

# 2. The connection is cut after the spool commit, before the flag.
deliver national <<'EOF'
Return-Path: <bureau@national.example.org>
Delivered-To: national+lille@comites.example.org
From: bureau@national.example.org
To: national+lille@comites.example.org
Subject: Pour Lille
Message-ID: <lille-1@national.example.org>
Approved: s3cret

Bonjour Lille.
EOF
deliver national <<'EOF'
Return-Path: <bureau@national.example.org>
Delivered-To: national+albi@comites.example.org
From: bureau@national.example.org
To: national+albi@comites.example.org
Subject: Pour Albi
Message-ID: <albi-1@national.example.org>
Approved: s3cret

Bonjour Albi.
EOF
MLISTD_FETCH_TEST_DROP_AFTER_SPOOL=1 "$build/mlistd" -c "$work/mlistd.conf" --once 2>>"$work/daemon.log"
grep -q 'fetch=national status=test-drop' "$work/daemon.log" || fail "drop hook did not fire"
[ "$(q "SELECT count(*) FROM fetch_seen WHERE mailbox = 'national'")" -eq 2 ] || fail "fetch_seen after drop"
[ "$(unseen national)" -eq 2 ] || fail "both messages should still be unflagged in INBOX"
ok "connection cut after one spool: both still unflagged in the mailbox"
once
wait_files "$work/sink" $((sinkn + 4 + 3))
sleep 1
[ "$(subj 'Pour Lille')" -eq 4 ] || fail "Lille copies: $(subj 'Pour Lille')"
[ "$(subj 'Pour Albi')" -eq 3 ] || fail "Albi copies: $(subj 'Pour Albi')"
[ "$(ls "$work/sink" | wc -l)" -eq $((sinkn + 7)) ] || fail "$(ls "$work/sink" | wc -l) messages, wanted $((sinkn + 7))"
[ "$(unseen national)" -eq 0 ] && [ "$(ls "$mail/national/.Traites/cur" | wc -l)" -eq 3 ] || fail "not finished"
[ "$(q "SELECT count(*) FROM message WHERE kind = 'broadcast'")" -eq 3 ] || fail "broadcast rows"
ok "next pass: the spooled one only finished, the other fetched: nothing lost, nothing doubled"

# 3. The same message again (new UID, same Message-ID): recognised, not sent again.
deliver national < "$(ls "$mail"/national/.Traites/cur/* | xargs grep -l 'ag-1@' | head -1)"
once
grep -q 'fetch=national .*status=duplicate' "$work/daemon.log" || fail "no duplicate log"
[ "$(subj 'Assemblee generale')" -eq 40 ] && [ "$(unseen national)" -eq 0 ] || fail "duplicate spooled"
ok "same Message-ID from the same mailbox: moved, not spooled"

# 4. POP3 (role auto, processed = delete) and a local Maildir (role bulletin).
cat >> "$work/mlistd.conf" <<EOF
[fetch popbox]
url = pop3://127.0.0.1:$pop_port
role = auto
user = popbox
password = pw-popbox
processed = delete
[fetch local]
url = maildir:$work/localmd
role = bulletin
EOF
mkdir -p "$work/localmd/new" "$work/localmd/cur" "$work/localmd/tmp"
deliver popbox <<'EOF'
Return-Path: <camille.perrin@rennes.example.org>
Delivered-To: popbox@provider.example.org
From: camille.perrin@rennes.example.org
To: Aide <aide@comites.example.org>
Subject: CONTACTS
Message-ID: <pop-1@rennes.example.org>

CONTACTS
EOF
deliver popbox <<'EOF'
Return-Path: <someone@example.org>
From: someone@example.org
To: someone-else@example.org
Subject: not for us
Message-ID: <pop-2@example.org>

x
EOF
printf 'Return-Path: <denis.martin@rennes.example.org>\nFrom: denis.martin@rennes.example.org\nTo: bulletin+rennes@comites.example.org\nSubject: Rapport local\nMessage-ID: <md-1@rennes.example.org>\n\nTexte.\n' \
    > "$work/localmd/new/1.local.test"
once
grep -q 'fetch=popbox .*rcpt=<aide@comites.example.org>.*status=spooled' "$work/daemon.log" || fail "pop3 auto"
grep -q 'fetch=popbox .*status=kept' "$work/daemon.log" || fail "pop3 kept"
[ "$(find "$mail/popbox/cur" "$mail/popbox/new" -type f | wc -l)" -eq 1 ] || fail "pop3 DELE"
[ "$(q "SELECT count(*) FROM message WHERE rcpt = 'aide@comites.example.org'")" -eq 2 ] || fail "pop3 routed"
ok "POP3: role auto finds aide@ in To, DELE after spooling; a message not for us stays"
grep -q 'fetch=local .*rcpt=<bulletin+rennes@comites.example.org>.*status=spooled' "$work/daemon.log" || fail "maildir"
ls "$work/localmd/cur/" | grep -q '^1.local.test:2,S$' || fail "maildir not marked S"
ok "Maildir: bulletin+rennes@ kept from To, file renamed to cur/ with :2,S"
once
[ "$(grep -c 'fetch=popbox .*status=spooled' "$work/daemon.log")" -eq 1 ] || fail "pop3 twice"
[ "$(grep -c 'fetch=local .*status=spooled' "$work/daemon.log")" -eq 1 ] || fail "maildir twice"
ok "second pass: nothing fetched twice (POP3, Maildir)"

# 5. The daemon: IDLE wakes on new mail; a wrong password is logged once per interval;
#    an untrusted certificate is refused.
cat >> "$work/mlistd.conf" <<EOF
[fetch wrongpw]
url = imap://127.0.0.1:$imap_port
user = national
password = wrong
[fetch untrusted]
url = imaps://127.0.0.1:$imaps_port
user = bulletin
password = pw-bulletin
EOF
"$build/mlistd" -c "$work/mlistd.conf" -f 2>"$work/bg.log" &
dpid=$!; pids="$pids $dpid"
i=0; until grep -q 'fetch=untrusted' "$work/bg.log"; do i=$((i + 1)); [ $i -gt 100 ] && fail "no first pass"; sleep 0.1; done
sleep 1	# the first pass is over: the national session is in IDLE
deliver national <<'EOF'
Return-Path: <bureau@national.example.org>
From: bureau@national.example.org
To: national+arras@comites.example.org
Subject: Pendant IDLE
Message-ID: <idle-1@national.example.org>
Approved: s3cret

Bonjour Arras.
EOF
i=0; while [ "$(subj 'Pendant IDLE')" -lt 3 ]; do i=$((i + 1)); [ $i -gt 150 ] && { grep -v "status=queued" "$work/bg.log"; fail "IDLE: not fetched"; }; sleep 0.1; done
ok "IDLE: a new message is broadcast within seconds (fetch_interval is 60 s)"
sleep 2
kill "$dpid"; wait "$dpid" 2>/dev/null
[ "$(grep -c 'fetch=wrongpw .*login refused' "$work/bg.log")" -eq 1 ] || { cat "$work/bg.log"; fail "wrong password log count"; }
ok "wrong password: logged once in the interval"
[ "$(grep -c 'fetch=untrusted .*TLS: certificate not trusted' "$work/bg.log")" -eq 1 ] || fail "untrusted cert: not refused once"
ok "self-signed certificate without ca_file: refused, logged once in the interval"
grep -q "stopping signal=15" "$work/bg.log" || fail "no clean stop"
ok "SIGTERM stops the fetch thread cleanly"

# 6. Provider limit: 10 messages a minute, 30 contacts.
stop_sink
rm -rf "$work/data"
write_conf "smtp_relay = 127.0.0.1:$sink_port" "approve_password = s3cret" "dmarc_mitigation = none" "bulletin_anchor = 2099-01-01" \
    "smtp_rate_per_minute = 10"
{ echo "comité;région;département;nom;courriel;tags"
  for i in $(seq 1 10); do for j in 1 2 3; do echo "Comite $i;Region;01;Contact $j;c$j@comite$i.example.org;"; done; done
} > "$work/roster30.csv"
ctl init >/dev/null && ctl committee import "$work/roster30.csv" >/dev/null || fail "setup 30"
ctl sender add bureau@national.example.org --role national >/dev/null || fail sender
start_sink "$sink_port" "$work/sink30"
printf 'From: bureau@national.example.org\nApproved: s3cret\nSubject: Limite\n\nx\n' \
    | ctl inject --rcpt national@comites.example.org --sender bureau@national.example.org || fail inject
once
sleep 1
[ "$(ls "$work/sink30" | wc -l)" -eq 10 ] || fail "$(ls "$work/sink30" | wc -l) sent, wanted 10"
ok "rate 10/min: 10 of 30 sent in the first run"
id=$(ctl messages | awk 'NR==2 {print $1}')
ctl status "$id" >"$work/out" 2>&1
grep -q "dernier envoi prévu vers [0-9][0-9]:[0-9][0-9]\|last contact will be served around" "$work/out" \
    || { cat "$work/out"; fail "status does not show the wait"; }
[ "$(grep -cE ' en file( |$)' "$work/out")" -eq 20 ] || fail "20 should stay queued"
ok "status: 20 queued, last one served around HH:MM"
once
[ "$(ls "$work/sink30" | wc -l)" -eq 10 ] || fail "sent before the window allowed"
MLISTD_NOW=$(( $(date +%s) + 61 )) "$build/mlistd" -c "$work/mlistd.conf" --once 2>>"$work/daemon.log"
sleep 0.5
[ "$(ls "$work/sink30" | wc -l)" -eq 20 ] || fail "$(ls "$work/sink30" | wc -l) after one minute"
MLISTD_NOW=$(( $(date +%s) + 122 )) "$build/mlistd" -c "$work/mlistd.conf" --once 2>>"$work/daemon.log"
sleep 0.5
[ "$(ls "$work/sink30" | wc -l)" -eq 30 ] || fail "$(ls "$work/sink30" | wc -l) after two minutes"
[ "$(grep -h '^X-Rcpt-Args:' "$work"/sink30/* | sort -u | wc -l)" -eq 30 ] || fail "a contact got two copies"
ok "then 10 more each minute: 30 after two minutes, each once"
kill "$dovecot_pid"; wait "$dovecot_pid" 2>/dev/null
finish
