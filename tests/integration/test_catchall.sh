#!/bin/bash
# A hosted catch-all mailbox read by polling (a local Maildir, role = auto):
# the provider adds "Delivered-To: national@..." (the mailbox's own name) to
# every message. The recipient must come from To, Cc and X-Original-To
# first: national+brest@ reaches Brest only, a reply to retour+ID@, a report
# to bulletin@ and a DSN to rebonds+TOKEN@ go where they were sent; a
# message whose recipient is unclear (national@ only in Delivered-To, or
# several of our addresses) is held for the administrator and sent to
# nobody else.
. "$(dirname "$0")/lib.sh"
sink_port=$(free_port)
box=$work/catchall
maildir_make "$box"
write_conf "smtp_relay = 127.0.0.1:$sink_port" "approve_password = s3cret" "dmarc_mitigation = none" \
    "bulletin_anchor = 2099-01-01" "admin_address = admin@example.org" "lmtp_listen =" \
    "[fetch catchall]" "url = maildir:$box" "role = auto"
ctl init >/dev/null && ctl committee import "$top/contrib/demo-roster.csv" >/dev/null || fail setup
ctl sender add bureau@national.example.org --role national >/dev/null || fail sender
start_sink "$sink_port" "$work/sink"
# put: stdin becomes a new message of the catch-all, as the provider stores it
put() { { echo "Delivered-To: national@comites.example.org"; cat; } | maildir_put "$box"; }

# 1. A broadcast to everyone (national@ in To): the 40 contacts.
put <<'EOF'
Return-Path: <bureau@national.example.org>
From: bureau@national.example.org
To: national@comites.example.org
Subject: Pour tous
Message-ID: <all-1@national.example.org>
Approved: s3cret

Bonjour a tous.
EOF
once || fail "mlistd --once"
wait_files "$work/sink" 40
[ "$(subj 'Pour tous')" -eq 40 ] || fail "everyone: $(subj 'Pour tous')"
ok "To: national@ in a catch-all: the 40 contacts"
token=$(q "SELECT token FROM message WHERE kind = 'broadcast' AND subject = 'Pour tous'")
copy=$(grep -l -i '^X-Rcpt-Args: <anne.legoff@rennes.example.org>' $(grep -l '^Subject: Pour tous' "$work"/sink/*))
verp=$(sed -n 's/^X-Mail-Args: <rebonds+\([0-9a-f]*\)@.*/\1/p' "$copy")
[ ${#verp} -eq 32 ] || fail "no VERP token"

# 2. national+brest@ with Delivered-To: national@: Brest only, never widened.
put <<'EOF'
Return-Path: <bureau@national.example.org>
From: bureau@national.example.org
To: national+brest@comites.example.org
Subject: Pour Brest
Message-ID: <brest-1@national.example.org>
Approved: s3cret

Bonjour Brest.
EOF
# 3. A reply to the broadcast, 4. a report, 5. a DSN for Anne's copy.
put <<EOF
Return-Path: <bernard.roux@rennes.example.org>
From: bernard.roux@rennes.example.org
To: retour+$token@comites.example.org
Subject: Re: Pour tous
Message-ID: <reply-1@rennes.example.org>

Merci, nous serons la.
EOF
put <<'EOF'
Return-Path: <camille.perrin@rennes.example.org>
From: camille.perrin@rennes.example.org
To: bulletin@comites.example.org
Subject: Fete du quartier
Message-ID: <cr-1@rennes.example.org>

Nous avons tenu un stand samedi.
EOF
put <<EOF
Return-Path: <>
From: MAILER-DAEMON@mx.rennes.example.org (Mail Delivery System)
To: rebonds+$verp@comites.example.org
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
Message-ID: <dsn-1@mx.rennes.example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

<anne.legoff@rennes.example.org>: 550 5.1.1 User unknown

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.rennes.example.org

Final-Recipient: rfc822; anne.legoff@rennes.example.org
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--B--
EOF
# 6. Reply-all: retour+ID@ in To, national@ in Cc: the reply.
put <<EOF
Return-Path: <denis.martin@rennes.example.org>
From: denis.martin@rennes.example.org
To: retour+$token@comites.example.org
Cc: national@comites.example.org
Subject: Re: Pour tous (a tous)
Message-ID: <reply-2@rennes.example.org>

Merci a tous.
EOF
# 7. A Bcc to the list: national@ known only from Delivered-To.
put <<'EOF'
Return-Path: <bureau@national.example.org>
From: bureau@national.example.org
To: bureau@national.example.org
Subject: En copie cachee
Message-ID: <bcc-1@national.example.org>
Approved: s3cret

Bonjour.
EOF
# 8. Two of our roles in To and Cc.
put <<'EOF'
Return-Path: <bureau@national.example.org>
From: bureau@national.example.org
To: national@comites.example.org
Cc: bulletin@comites.example.org
Subject: Deux adresses
Message-ID: <two-1@national.example.org>
Approved: s3cret

Bonjour.
EOF
before=$(nsink)
once || fail "mlistd --once"
wait_files "$work/sink" $((before + 8))
sleep 1
[ "$(subj 'Pour Brest')" -eq 3 ] || fail "Brest: $(subj 'Pour Brest') copies"
! grep -l '^Subject: Pour Brest' "$work"/sink/* | xargs grep -h '^X-Rcpt-Args' | grep -qv '@brest.example.org' ||
    fail "national+brest@ reached someone outside Brest"
ok "national+brest@ with Delivered-To: national@: the 3 Brest contacts only"
[ "$(q "SELECT count(*) FROM message WHERE kind = 'reply'")" -eq 2 ] || fail "replies not recorded"
grep -q "kind=reply from=bernard.roux@rennes.example.org .*status=forwarded" "$work/daemon.log" || fail "reply"
grep -q "kind=reply from=denis.martin@rennes.example.org .*status=forwarded" "$work/daemon.log" || fail "reply-all"
ok "a reply to retour+ID@ (and a reply-all with national@ in Cc) is recorded as a reply"
[ "$(q "SELECT count(*) FROM submission WHERE sender = 'camille.perrin@rennes.example.org'")" -eq 1 ] ||
    fail "report not filed"
[ "$(count_rcpt "$work/sink" camille.perrin@rennes.example.org)" -eq 2 ] || fail "camille: broadcast + report notice"
! grep -q 'from=camille.perrin.*not a national sender' "$work/daemon.log" || fail "report taken for a broadcast"
ok "a report to bulletin@ is filed as a report, not held as a broadcast"
grep -q "bounce=.* status=" "$work/daemon.log" && ! grep -q "bounce=dropped" "$work/daemon.log" || fail "DSN dropped"
ok "a DSN to rebonds+TOKEN@ is counted against the contact"
[ "$(subj 'En copie cachee')" -eq 0 ] && [ "$(subj 'Deux adresses')" -eq 0 ] || fail "an unclear message was sent"
[ "$(q "SELECT count(*) FROM message WHERE kind = 'broadcast' AND state = 'held' AND reason LIKE 'address unclear%'")" -eq 2 ] ||
    fail "unclear messages not held"
grep -q 'fetch=catchall .*status=unclear reason="national@comites.example.org is named only by Delivered-To' "$work/daemon.log" ||
    fail "no log for the Bcc"
grep -q 'fetch=catchall .*status=unclear reason="several of our addresses' "$work/daemon.log" || fail "no log for two roles"
[ "$(count_rcpt "$work/sink" admin@example.org)" -eq 2 ] || fail "admin not told twice"
# the office gets the two forwarded replies, and nothing about the held ones
[ "$(count_rcpt "$work/sink" bureau@national.example.org)" -eq 2 ] || fail "the sender was told or asked"
[ "$(grep -l -i '^X-Rcpt-Args: <bureau@national.example.org>' "$work"/sink/* | xargs grep -l '^Subject: .*Re: Pour tous' | wc -l)" -eq 2 ] ||
    fail "the office got something else than the two replies"
ok "national@ only in Delivered-To, or two of our roles: held for the admin (told), sent to nobody"
[ "$(nsink)" -eq $((before + 8)) ] || fail "$(($(nsink) - before)) mails, wanted 3 + 1 + 2 + 2"
ok "nothing else went out"
id=$(q "SELECT token FROM message WHERE subject = 'En copie cachee'")
ctl release "$id" >/dev/null || fail "release"
once
wait_files "$work/sink" $((before + 8 + 40))
! grep -l '^Subject: En copie cachee' "$work"/sink/* | xargs grep -q '^X-Mlistd-Hold' || fail "hold header sent out"
ok "the admin can release it; the hold mark does not go out"
finish
