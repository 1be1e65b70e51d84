#!/bin/bash
# Replies, bounces, committee coverage and the request address end to end
# with real peers: Postfix's smtp-sink as the relay, swaks over LMTP, the
# real daemon (background, and --once with MLISTD_NOW to move time):
# a member's reply forwarded and recorded, a vacation notice not; a DSN and
# a plain-text bounce disable a contact at the threshold with one notice to
# the office; a forged bounce token changes nothing; one coverage alert for
# a committee nobody can reach; every aide@ command in French and English,
# answered from <> with Auto-Submitted; a command storm rate-limited.
. "$(dirname "$0")/lib.sh"
sink_port=$(free_port); lmtp_port=$(free_port)
dom=comites.example.org
office=bureau@example.org
author=bureau@national.example.org
conf_common() {
    write_conf "smtp_relay = 127.0.0.1:$sink_port" "lmtp_listen = 127.0.0.1:$lmtp_port" \
        "approve_password = s3cret" "dmarc_mitigation = none" "admin_address = $office" \
        "bounce_score_threshold = 2" "coverage_alert_after = 60s" "max_autoresponses_per_day = 5" \
        "queue_run_interval = 1s" "retry_min = 60s" "$@" \
        "broadcast_report_after = 0"	# the time moved 2 h on: no broadcast report here (test_office)
}
conf_common "bulletin_anchor = 2099-01-01" "language = fr"
ctl init >/dev/null && ctl committee import "$top/contrib/demo-roster.csv" >/dev/null || fail setup
ctl sender add "$author" --role national >/dev/null || fail sender
# broadcast SUBJECT TARGET: an approved national broadcast over LMTP.
broadcast() {
    lmtp "$author" "national+$2@$dom" --header "Subject: $1" \
        --header "From: Bureau national <$author>" --header "Approved: s3cret" \
        --body "Bonjour, message du bureau national : $1."
}
# to ADDRESS DIR: the messages delivered to ADDRESS.
to() { grep -l -i "^X-Rcpt-Args: <$1>" "$2"/* 2>/dev/null; }
# show FILE: the decoded Subject and text of a message at the sink.
show() {
    mailpy "$1" <<'PY'
m = load(sys.argv[1])
print("Subject:", m["Subject"])
for part in m.walk():
    if part.get_content_type() == "text/plain":
        print(part.get_content())
PY
}
# verp ADDRESS SUBJECT-WORD: the VERP token of ADDRESS's copy of a broadcast.
verp() {
    f=$(grep -l "Bonjour, message du bureau national : $2" $(to "$1" "$work/sink")) || fail "no copy of $2 for $1"
    sed -n 's/^X-Mail-Args: <rebonds+\([0-9a-f]*\)@.*/\1/p' "$f"
}
sink=$work/sink
start_sink "$sink_port" "$sink"
start_daemon
lille="camille.moreau@lille.example.org denis.muller@lille.example.org elodie.noel@lille.example.org francois.girard@lille.example.org"

# 1. A broadcast to the Lille committee: its token and the VERP tokens.
broadcast "Reunion de rentree" lille
settle "$sink" 4
for c in $lille; do [ "$(to "$c" "$sink" | wc -l)" -eq 1 ] || fail "$c: no copy"; done
ok "the broadcast reaches the 4 Lille contacts"
short=$(ctl messages | awk '/Reunion de rentree/ {print $1}')
[ ${#short} -eq 8 ] || { ctl messages; fail "no broadcast id"; }
tok=$(sqlite3 "$work/data/mlistd.db" "SELECT token FROM message WHERE substr(token, 1, 8) = '$short'")
[ ${#tok} -eq 32 ] || fail "no broadcast token"
grep -q "^Reply-To: retour+$tok@$dom" $(to camille.moreau@lille.example.org "$sink") || fail "Reply-To is not retour+TOKEN"
victim=camille.moreau@lille.example.org
verp1=$(verp "$victim" "Reunion de rentree")
[ ${#verp1} -eq 32 ] || fail "no VERP token"
ok "Reply-To retour+$tok, VERP token for $victim"

# 2. A reply from a Lille contact: forwarded to the author, recorded.
lmtp denis.muller@lille.example.org "retour+$tok@$dom" --header "Subject: Re: Reunion de rentree" \
    --header "From: Denis Muller <denis.muller@lille.example.org>" --body "Nous serons trois."
settle "$sink" 5
f=$(grep -l "Nous serons trois" "$sink"/*) || fail "reply not forwarded"
grep -qi "^X-Rcpt-Args: <$author>" "$f" || { cat "$f"; fail "forward not to the author"; }
grep -q "^Subject: \[Lille\] Re: Reunion de rentree" "$f" || { cat "$f"; fail "no [Lille] in the Subject"; }
grep -q "^Reply-To: denis.muller@lille.example.org" "$f" || { cat "$f"; fail "member not in Reply-To"; }
ok "the reply is forwarded to the author, [Lille] in the Subject, the member as Reply-To"
ctl status "$tok" --replies >"$work/out" 2>&1 || { cat "$work/out"; fail "status --replies"; }
sed -n '/^Ont répondu/,/^N.ont pas/p' "$work/out" | grep -q "Lille .*denis.muller@lille.example.org" || { cat "$work/out"; fail "Lille not answered"; }
grep -q "1 comité(s) ont répondu sur 1" "$work/out" || { cat "$work/out"; fail "reply count"; }
ok "status --replies: Lille answered"
# A vacation notice from another contact: neither forwarded nor counted.
lmtp elodie.noel@lille.example.org "retour+$tok@$dom" --header "Subject: Absence du bureau" \
    --header "Auto-Submitted: auto-replied" --header "From: elodie.noel@lille.example.org" \
    --body "Je suis absente jusqu'au 30, merci de votre message."
wait_log "kind=reply from=elodie.noel@lille.example.org .*status=auto" 1
sleep 1
[ "$(nfiles "$sink")" -eq 5 ] || fail "the vacation notice produced mail"
ctl status "$tok" --replies >"$work/out" 2>&1
grep -q "1 comité(s) ont répondu sur 1" "$work/out" && ! grep -q "elodie" "$work/out" || { cat "$work/out"; fail "vacation notice counted"; }
ok "a vacation notice is neither forwarded nor counted"

# 3. Bounces: a Postfix DSN for the first broadcast, an Exim text bounce for
# a second one, same contact: disabled at threshold 2, the office told once.
broadcast "Calendrier des visites" lille
settle "$sink" 9
verp2=$(verp "$victim" "Calendrier des visites")
[ ${#verp2} -eq 32 ] && [ "$verp2" != "$verp1" ] || fail "second VERP token"
ctl contact list lille >"$work/contacts.before" 2>&1
dsn() { cat <<MSG
From: MAILER-DAEMON@mx.lille.example.org (Mail Delivery System)
To: rebonds+$1@$dom
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
Date: Tue, 14 May 2024 09:12:44 +0200
Message-Id: <4Vx2Lq0Kq2z9sRk.$1@mx.lille.example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="4Vx2Lq0Kq2z9sRk/mx.lille.example.org"

This is a MIME-encapsulated message.

--4Vx2Lq0Kq2z9sRk/mx.lille.example.org
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.lille.example.org.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

<$victim>: host mx.lille.example.org[192.0.2.25] said: 550 5.1.1
    <$victim>: Recipient address rejected: User unknown in
    virtual mailbox table (in reply to RCPT TO command)

--4Vx2Lq0Kq2z9sRk/mx.lille.example.org
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.lille.example.org
X-Postfix-Queue-ID: 4Vx2Lq0Kq2z9sRk
Arrival-Date: Tue, 14 May 2024 09:12:43 +0200 (CEST)

Final-Recipient: rfc822; $victim
Original-Recipient: rfc822;$victim
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.lille.example.org
Diagnostic-Code: smtp; 550 5.1.1 <$victim>: Recipient address
    rejected: User unknown in virtual mailbox table

--4Vx2Lq0Kq2z9sRk/mx.lille.example.org
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

Return-Path: <rebonds+$1@$dom>
From: Bureau national <$author>
To: national+lille@$dom
Subject: Reunion de rentree

--4Vx2Lq0Kq2z9sRk/mx.lille.example.org--
MSG
}
exim() { cat <<MSG
X-Failed-Recipients: $victim
Auto-Submitted: auto-replied
From: Mail Delivery System <Mailer-Daemon@smtp.lille.example.org>
To: rebonds+$1@$dom
Subject: Mail delivery failed: returning message to sender
Message-Id: <E1s79Qn-00071h-2B.$1@smtp.lille.example.org>
Date: Wed, 15 May 2024 10:03:21 +0200

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  $victim
    host mx.lille.example.org [198.51.100.7]
    SMTP error from remote mail server after RCPT TO:<$victim>:
    550 5.1.1 <$victim>: No such user here

------ This is a copy of the message, including all the headers. ------

Return-path: <rebonds+$1@$dom>
From: Bureau national <$author>
To: national+lille@$dom
Subject: Calendrier des visites

Bonjour, message du bureau national : Calendrier des visites.
MSG
}
dsn "$verp1" >"$work/dsn.eml"
lmtp "<>" "rebonds+$verp1@$dom" --data "$work/dsn.eml"
wait_log " bounce=hard " 1
sleep 0.5
ctl contact list lille | grep "$victim" | grep -q actif || { ctl contact list lille; fail "disabled after one bounce"; }
[ "$(nfiles "$sink")" -eq 9 ] || fail "mail after the first bounce"
ok "one hard DSN: the contact stays active (threshold 2)"
exim "$verp2" >"$work/exim.eml"
lmtp "<>" "rebonds+$verp2@$dom" --data "$work/exim.eml"
settle "$sink" 10
ctl contact list lille >"$work/out" 2>&1
grep "$victim" "$work/out" | grep -q inactif || { cat "$work/out"; fail "$victim not disabled"; }
[ "$(grep -c ' actif' "$work/out")" -eq 3 ] || { cat "$work/out"; fail "others touched"; }
ok "a plain-text Exim bounce for a second broadcast: $victim disabled, the others active"
[ "$(to "$office" "$sink" | wc -l)" -eq 1 ] || fail "$(to "$office" "$sink" | wc -l) notices to the office"
show "$(to "$office" "$sink")" >"$work/out"
grep -q "^Subject: Contact désactivé.*: Camille Moreau (Lille)" "$work/out" && grep -q "5.1.1" "$work/out" &&
    grep -q "joignables dans le comité Lille.*: 3" "$work/out" || { cat "$work/out"; fail "notice lacks name, committee, error or count"; }
ok "the office gets one contact-disabled notice naming Camille Moreau, Lille and the error"
# A forged token: nothing changes, nothing is sent.
ctl contact list >"$work/contacts.before" 2>&1
dsn 00000000000000000000000000000000 >"$work/forged.eml"
swaks --protocol LMTP --server 127.0.0.1 --port "$lmtp_port" --from "<>" \
    --to "rebonds+00000000000000000000000000000000@$dom" --data "$work/forged.eml" >"$work/swaks.log" 2>&1
wait_log "bounce=dropped reason=unknown-token" 1
sleep 1
[ "$(nfiles "$sink")" -eq 10 ] || fail "the forged bounce produced mail"
ctl contact list >"$work/contacts.after" 2>&1
cmp -s "$work/contacts.before" "$work/contacts.after" || { diff "$work/contacts.before" "$work/contacts.after"; fail "forged bounce changed the roster"; }
ok "a forged bounce token changes nothing and sends nothing"

# 4. Coverage: a broadcast nobody in Lille can receive (the relay answers
# 5xx to every RCPT), then two hours later: one alert naming Lille, once.
stop_sink
start_sink "$sink_port" "$work/sink5" -f rcpt
broadcast "Alerte inondation" lille
tok3=""
for i in $(seq 50); do
    tok3=$(ctl messages | awk '/Alerte inondation/ {print $1}')
    [ -n "$tok3" ] && [ "$(ctl status "$tok3" | grep -c ' refusé ')" -eq 3 ] && break
    sleep 0.2
done
[ "$(ctl status "$tok3" | grep -c ' refusé ')" -eq 3 ] || { ctl status "$tok3"; fail "deliveries not failed"; }
ok "broadcast $tok3: the 3 active Lille contacts refused (5xx)"
stop_daemon
stop_sink
start_sink "$sink_port" "$sink"
n=$(nfiles "$sink")
later=$(( $(date +%s) + 7200 ))
MLISTD_NOW=$later once || fail "--once"
[ "$(nfiles "$sink")" -eq $((n + 1)) ] || fail "$(( $(nfiles "$sink") - n )) new messages, wanted one alert"
f=$(ls -t "$sink"/* | head -1)
grep -qi "^X-Rcpt-Args: <$office>" "$f" || { cat "$f"; fail "the alert is not for the office"; }
show "$f" >"$work/out"
grep -q "^Subject: Comité injoignable.*: Lille" "$work/out" && grep -q "$tok3" "$work/out" &&
    grep -q "francois.girard@lille.example.org" "$work/out" || { cat "$work/out"; fail "alert content"; }
ok "two hours later: one coverage alert to the office naming Lille, the broadcast and its contacts"
MLISTD_NOW=$((later + 60)) once || fail "--once"
[ "$(nfiles "$sink")" -eq $((n + 1)) ] || fail "a second alert was sent"
ok "the next run sends no second alert"

# 5. The request address, French then English. ask FROM SUBJECT [BODY]:
# one answer reaches FROM, from <> with Auto-Submitted; decoded in $work/ans.
ask() {
    before=$(to "$1" "$sink" | sort)
    lmtp "$1" "${ask_rcpt:-aide@$dom}" --header "From: $1" --header "Subject: $2" --body "${3:-Merci.}"
    for i in $(seq 50); do
        [ "$(to "$1" "$sink" | wc -l)" -gt "$(echo -n "$before" | grep -c .)" ] && break
        sleep 0.1
    done
    ans=$(to "$1" "$sink" | sort | comm -13 <(echo "$before") -)
    [ "$(echo -n "$ans" | grep -c .)" -eq 1 ] || fail "no single answer to $1 for '$2'"
    grep -q "^X-Mail-Args: <>" "$ans" || { cat "$ans"; fail "answer to $1 not from <>"; }
    grep -q "^Auto-Submitted: auto-replied" "$ans" || { cat "$ans"; fail "answer to $1 not auto-replied"; }
    show "$ans" >"$work/ans"
}
# confirmed FROM: the last answer asks FROM to confirm by reply to
# confirm+TOKEN@ (Reply-To); reply to it, the new answer in $work/ans.
confirmed() {
    c=$(grep -i '^Reply-To:' "$ans" | grep -o 'confirm+[0-9a-f]*@[^> ]*')
    [ -n "$c" ] || { cat "$ans"; fail "no confirm+TOKEN@ Reply-To for $1"; }
    ask_rcpt=$c ask "$1" "Re: confirmation" "oui"
}
# says WORDS...: the last answer holds each of these.
says() { for w in "$@"; do grep -q -- "$w" "$work/ans" || { cat "$work/ans"; fail "answer lacks '$w'"; }; done; }
start_daemon
ask sebastien.blanc@lyon.example.org "aide"
says "^Subject: Aide.*: ce que vous pouvez demander" "CONTACTS" "DESABONNER"
ok "AIDE answered in French, from <> with Auto-Submitted"
ask denis.muller@lille.example.org "Contacts"
says "^Subject: Les contacts de votre comité" "Lille, contacts actifs.*: 3" "Élodie Noël" "François Girard"
! grep -q camille "$work/ans" || fail "a disabled contact is listed"
ok "CONTACTS lists the active Lille contacts"
ask jerome.morel@toulouse.example.org "Statut"
says "^Subject: Le prochain bulletin" "Aucun bulletin"
ok "STATUT: no open issue"
ask pascal.moreau@albi.example.org "Arrêt"
says "^Subject: Confirmez votre demande" "Rien n'est encore changé"
ctl contact list albi | grep pascal.moreau | grep -q ' actif' || { ctl contact list albi; fail "ARRET acted before the confirmation"; }
confirmed pascal.moreau@albi.example.org
says "^Subject: C'est noté" "Albi"
ctl contact list albi | grep pascal.moreau | grep -q inactif || { ctl contact list albi; fail "ARRET did not deactivate"; }
for i in $(seq 30); do to "$office" "$sink" | xargs grep -l "pascal.moreau" >/dev/null && break; sleep 0.1; done
to "$office" "$sink" | xargs grep -l "pascal.moreau" >/dev/null || fail "the office was not told of the ARRET"
ok "ARRET: confirmed by reply, contact deactivated, the office told"
ask lecteur@example.org "abonner"
says "^Subject: Confirmez votre abonnement au bulletin \[[0-9a-f]*\]"
stok=$(sed -n 's/^Subject: .*\[\([0-9a-f]*\)\]$/\1/p' "$work/ans")
grep -q "^Reply-To: aide+$stok@$dom" "$ans" || { cat "$ans"; fail "confirmation Reply-To"; }
ask_rcpt="aide+$stok@$dom" ask lecteur@example.org "Re: confirmation" "oui"
says "^Subject: Abonnement au bulletin" "C'est fait"
ok "ABONNER then the reply to aide+TOKEN@: subscribed"
ask lecteur@example.org "DESABONNER"
says "^Subject: Confirmez votre demande"
confirmed lecteur@example.org
says "^Subject: Désabonnement du bulletin" "C'est fait"
ok "DESABONNER: unsubscribed"

stop_daemon
conf_common "bulletin_anchor = 2099-01-01" "language = en"
start_daemon
ask valerie.morel@grenoble.example.org "help"
says "^Subject: Help: what you can ask" "SUBSCRIBE"
ok "HELP answered in English"
ask anne.legoff@rennes.example.org "CONTACTS"
says "^Subject: Your committee's contacts" "Rennes" "Bernard Roux"
ok "CONTACTS in English"
ask karine.bernard@toulouse.example.org "status"
says "^Subject: The next bulletin" "No bulletin"
ok "STATUS in English"
ask ines.morel@arras.example.org "STOP"
says "^Subject: Confirm your request" "Nothing has changed yet"
confirmed ines.morel@arras.example.org
says "^Subject: Done: you will no longer receive our messages" "Arras"
ctl contact list arras | grep ines.morel | grep -q inactive || fail "STOP did not deactivate"
ok "STOP: contact deactivated"
ask reader@example.org "subscribe"
says "^Subject: Confirm your subscription to the bulletin \[[0-9a-f]*\]"
stok=$(sed -n 's/^Subject: .*\[\([0-9a-f]*\)\]$/\1/p' "$work/ans")
ask_rcpt="aide+$stok@$dom" ask reader@example.org "Re: confirm" "yes"
says "^Subject: You are subscribed to the bulletin"
ask reader@example.org "unsubscribe"
confirmed reader@example.org
says "^Subject: You are unsubscribed from the bulletin" "Done"
ok "SUBSCRIBE, confirmation, UNSUBSCRIBE in English"

# A storm of 20 commands from one address: at most max_autoresponses_per_day.
for i in $(seq 20); do lmtp storm@example.org "aide@$dom" --header "Subject: HELP" --body "help $i"; done
wait_log "from=storm@example.org status=\(answered\|unanswered\)" 20
sleep 1
[ "$(to storm@example.org "$sink" | wc -l)" -eq 5 ] || fail "$(to storm@example.org "$sink" | wc -l) answers to the storm, wanted 5"
ok "a storm of 20 commands gets 5 answers (max_autoresponses_per_day)"
# Never to an automatic mail nor to a list.
lmtp vacances@example.org "aide@$dom" --header "Subject: HELP" --header "Auto-Submitted: auto-replied" --body "help"
lmtp liste@example.org "aide@$dom" --header "Subject: HELP" --header "Precedence: bulk" --body "help"
wait_log "from=vacances@example.org status=dropped" 1; wait_log "from=liste@example.org status=dropped" 1
sleep 1
[ "$(to vacances@example.org "$sink" | wc -l)" -eq 0 ] && [ "$(to liste@example.org "$sink" | wc -l)" -eq 0 ] ||
    fail "a request answered an auto-reply or a list"
ok "no answer to Auto-Submitted nor to Precedence: bulk"
stop_daemon
finish
