#!/bin/bash
# The office by mail, end to end with real peers (swaks over LMTP into the
# real daemon, Postfix's smtp-sink as the relay; every mail parsed):
# broadcast_report_after after a broadcast its author gets ONE report
# (committees reached, not reached with their contacts' states, replies
# and who), never a second one after a kill -9 and a restart, none with 0;
# STATUT by mail from a national sender (reference, subject words,
# ambiguous words, nothing found), from a stranger (a refusal that says
# nothing of the broadcast) and from a forged national From (no mail at all).
. "$(dirname "$0")/lib.sh"
sink_port=$(free_port); lmtp_port=$(free_port)
dom=comites.example.org
author=bureau@national.example.org
conf() {
    write_conf "smtp_relay = 127.0.0.1:$sink_port" "lmtp_listen = 127.0.0.1:$lmtp_port" \
        "approve_password = s3cret" "dmarc_mitigation = none" "admin_address = admin@example.org" \
        "queue_run_interval = 1s" "retry_min = 60s" "bulletin_anchor = 2099-01-01" \
        "language = fr" "max_autoresponses_per_day = 50" "$@"
}
conf "broadcast_report_after = 4s"
ctl init >/dev/null && ctl committee import "$top/contrib/demo-roster.csv" >/dev/null || fail setup
ctl committee add Quimper --region Bretagne >/dev/null || fail "committee add"
ctl sender add "$author" --role national >/dev/null || fail sender
# broadcast SUBJECT TARGET: an approved national broadcast over LMTP.
broadcast() {
    lmtp "$author" "national+$2@$dom" --header "Subject: $1" \
        --header "From: Bureau national <$author>" --header "Approved: s3cret" \
        --header "Message-Id: <$3@national.example.org>" --body "Bonjour, message du bureau : $1."
}
# reports TOKEN: the timed reports on a broadcast (its forwarded replies
# name it too, but are not auto-generated).
reports() { grep -l "^X-Mlistd-Broadcast: $1" "$sink"/* | xargs -r grep -l "^Auto-Submitted: auto-generated"; }
# tok_of SUBJECT: the token of a broadcast, once the daemon has routed it.
tok_of() {
    for i in $(seq 100); do
        t=$(sqlite3 "$work/data/mlistd.db" "SELECT token FROM message WHERE kind = 'broadcast' AND subject = '$1'")
        [ -n "$t" ] && { echo "$t"; return 0; }
        sleep 0.1
    done
}
# parse FILE: checks every mail from us must pass (one text/plain UTF-8
# part, From aide@, Auto-Submitted, header lines ASCII and short), then prints
# "Header: value" lines for To, Subject (decoded), In-Reply-To,
# X-Mlistd-Broadcast, then the text.
parse() {
    mailpy "$1" <<'PY'
raw = open(sys.argv[1], "rb").read()
m = load(sys.argv[1])
assert not m.is_multipart(), types(m)
assert m.get_content_type() == "text/plain", m.get_content_type()
assert m.get_content_charset() == "utf-8", m.get_content_charset()
assert m["From"].addresses[0].addr_spec == "aide@comites.example.org", m["From"]
assert m["Auto-Submitted"].startswith("auto-"), m["Auto-Submitted"]
for line in raw.split(b"\r\n\r\n", 1)[0].splitlines():
    assert len(line) <= 998 and all(c < 128 for c in line), line[:80]
for h in ("To", "Subject", "In-Reply-To", "X-Mlistd-Broadcast"):
    print("%s: %s" % (h, m[h] or ""))
print(plain(m))
PY
}
sink=$work/sink
start_sink "$sink_port" "$sink"
start_daemon
nb=$(printf '\xc2\xa0')	# a no-break space, as French typography wants before ":"

# 1. A broadcast to Bretagne (Brest, Lorient, Rennes: 10 contacts; Quimper
# has none) and a reply from Rennes before the report is due.
broadcast "Assemblee generale" bretagne ag1
settle "$sink" 10
tok=$(tok_of "Assemblee generale"); [ ${#tok} -eq 32 ] || { ctl messages; fail "no token"; }
lmtp anne.legoff@rennes.example.org "retour+$tok@$dom" --header "Subject: Re: Assemblee generale" \
    --header "From: Anne Le Goff <anne.legoff@rennes.example.org>" --body "Nous viendrons a quatre."
settle "$sink" 11	# the reply, forwarded to the author
ok "a broadcast to 10 contacts of Bretagne and one reply from Rennes"

# 2. The report, once, broadcast_report_after (4 s) after the release.
wait_log "msgid=$tok rcpt=$author status=reported" 1
settle "$sink" 12
rep=$(reports "$tok"); [ -n "$rep" ] || fail "no report"
[ "$(echo "$rep" | wc -l)" -eq 1 ] || fail "$(echo "$rep" | wc -l) reports"
grep -qi "^X-Rcpt-Args: <$author>" "$rep" || fail "report not to the author"
parse "$rep" >"$work/rep" 2>"$work/parse.err" || { cat "$work/parse.err"; fail "the report does not parse as wanted"; }
grep -qx "To: $author" "$work/rep" || { cat "$work/rep"; fail "report To"; }
grep -qx "Subject: Bilan de l'envoi «${nb}Assemblee generale${nb}»" "$work/rep" || { cat "$work/rep"; fail "report Subject"; }
grep -qx "In-Reply-To: <ag1@national.example.org>" "$work/rep" || { cat "$work/rep"; fail "not in the broadcast's thread"; }
grep -qx "Comités atteints${nb}: 3 sur 4" "$work/rep" || { cat "$work/rep"; fail "reached count"; }
grep -qx "  Brest, Lorient, Rennes" "$work/rep" || { cat "$work/rep"; fail "reached names"; }
sed -n "/^Pas encore atteints${nb}: 1/,/^Réponses/p" "$work/rep" >"$work/unreached"
grep -q "^Quimper — aucun contact n'a reçu le message" "$work/unreached" &&
    grep -q "aucun contact actif au moment de l'envoi" "$work/unreached" || { cat "$work/rep"; fail "Quimper not reported"; }
grep -qx "Réponses reçues${nb}: 1" "$work/rep" &&
    grep -q "^  - anne.legoff@rennes.example.org (Rennes), le [0-3][0-9]/[01][0-9]/20[0-9][0-9] à [0-2][0-9]:[0-5][0-9]$" "$work/rep" ||
    { cat "$work/rep"; fail "replies"; }
grep -q "^STATUT ${tok:0:8}$" "$work/rep" || { cat "$work/rep"; fail "how to ask again"; }
! grep -Eq " [:;!?»]|« " "$work/rep" || { grep -E " [:;!?»]|« " "$work/rep"; fail "a plain space before : ; ! ? » (or after «)"; }
! grep -Eqi "sent|queued|deferred|failed|mlistctl" "$work/rep" || { cat "$work/rep"; fail "English state or a shell command"; }
ok "one report to the author: 3 of 4 reached, Quimper without contact, the reply of Rennes and who, in its thread"

# 3. kill -9 and a restart: the report is not sent again.
stop_daemon -KILL
start_daemon
sleep 6
[ "$(reports "$tok" | wc -l)" -eq 1 ] || fail "a second report after a restart"
[ "$(sqlite3 "$work/data/mlistd.db" "SELECT count(*) FROM broadcast_report r JOIN message m ON m.id = r.message_id WHERE m.token = '$tok'")" -eq 1 ] ||
    fail "broadcast_report row"
[ "$(nfiles "$sink")" -eq 12 ] || fail "mail after the restart"
ok "after kill -9 and a restart: still one report (one broadcast_report row)"

# 4. broadcast_report_after = 0: no report. With the relay down, the
# deliveries of a broadcast to Lille stay deferred.
stop_daemon
conf "broadcast_report_after = 0"
stop_sink
start_daemon
broadcast "Collecte de printemps" lille col1
tok2=$(tok_of "Collecte de printemps"); [ ${#tok2} -eq 32 ] || fail "no token 2"
wait_log "status=deferred" 4
start_sink "$sink_port" "$sink"
sleep 6
[ "$(nfiles "$sink")" -eq 12 ] || fail "mail with broadcast_report_after = 0"
! grep -q "msgid=$tok2 rcpt=$author status=reported" "$work/daemon.log" || fail "reported with 0"
ok "broadcast_report_after = 0: no report"

# 5. STATUT by the national sender (envelope = From): subject words.
statut() {	# FROM ENVELOPE TEXT
    lmtp "$2" "aide@$dom" --header "Subject: $3" --header "From: $1" --body "Merci."
}
statut "$author" "$author" "STATUT collecte"
settle "$sink" 13
f=$(ls -t "$sink"/* | head -1)
parse "$f" >"$work/s1" || { cat "$f"; fail "STATUT answer does not parse"; }
grep -qx "Subject: Bilan de l'envoi «${nb}Collecte de printemps${nb}»" "$work/s1" &&
    grep -qx "Comités atteints${nb}: 0 sur 1" "$work/s1" &&
    grep -q "^Lille — envoi en cours" "$work/s1" || { cat "$work/s1"; fail "STATUT words: report"; }
[ "$(grep -c "^  - [a-z.]*@lille.example.org${nb}: différé$" "$work/s1")" -eq 4 ] ||
    { cat "$work/s1"; fail "contacts' states in French"; }
grep -q "^    dernière erreur${nb}: ." "$work/s1" || { cat "$work/s1"; fail "last error"; }
grep -qx "X-Mlistd-Broadcast: " "$work/s1" || fail "the STATUT answer is not the timed report"
ok "STATUT collecte: Lille not reached, its 4 contacts delayed (in French) with the last error"

# A reference (8 characters) in the body, any case.
lmtp "$author" "aide@$dom" --header "Subject: question" --header "From: $author" \
    --body "statut ${tok:0:8}"
settle "$sink" 14
parse "$(ls -t "$sink"/* | head -1)" >"$work/s2" || fail "STATUT reference does not parse"
grep -qx "Comités atteints${nb}: 3 sur 4" "$work/s2" && grep -q "Assemblee generale" "$work/s2" ||
    { cat "$work/s2"; fail "STATUT reference"; }
ok "STATUT ${tok:0:8}: the report on that broadcast"

# Ambiguous words: both broadcasts listed; none: a short answer.
broadcast "Assemblee des jeunes" rennes ag2
settle "$sink" 18
tok3=$(tok_of "Assemblee des jeunes")
statut "$author" "$author" "STATUT assemblée"
settle "$sink" 19
parse "$(ls -t "$sink"/* | head -1)" >"$work/s3" || fail "ambiguous answer does not parse"
grep -q "^Plusieurs envois correspondent à «${nb}assemblée${nb}»${nb}:" "$work/s3" &&
    grep -q "^  ${tok3:0:8}  .*«${nb}Assemblee des jeunes${nb}»" "$work/s3" &&
    grep -q "^  ${tok:0:8}  .*«${nb}Assemblee generale${nb}»" "$work/s3" &&
    ! grep -q "Comités atteints" "$work/s3" || { cat "$work/s3"; fail "ambiguous words"; }
statut "$author" "$author" "STATUT kermesse"
settle "$sink" 20
parse "$(ls -t "$sink"/* | head -1)" >"$work/s4" || fail "none answer does not parse"
grep -q "^Aucun envoi ne correspond à «${nb}kermesse${nb}»" "$work/s4" || { cat "$work/s4"; fail "no match"; }
ok "STATUT assemblée: both broadcasts listed with their references; STATUT kermesse: none"

# 6. Strangers. A contact (not national) and an outsider: a refusal that
# names no broadcast; a forged national From: no mail at all.
statut anne.legoff@rennes.example.org anne.legoff@rennes.example.org "STATUT assemblee"
statut curieux@example.net curieux@example.net "STATUT ${tok:0:8}"
settle "$sink" 22
for f in $(ls -t "$sink"/* | head -2); do
    parse "$f" >"$work/s5" || fail "refusal does not parse"
    grep -q "réservé à l'équipe nationale" "$work/s5" || { cat "$work/s5"; fail "no refusal"; }
    ! grep -Eq "Assemblee|Comités atteints|Rennes|${tok:0:8}" "$work/s5" || { cat "$work/s5"; fail "the refusal tells about the broadcast"; }
done
ok "STATUT from a contact and from an outsider: a refusal naming no broadcast"
statut "$author" attacker@evil.example "STATUT assemblee"
wait_log "from=$author sender=attacker@evil.example status=withheld" 1
sleep 2
[ "$(nfiles "$sink")" -eq 22 ] || fail "a forged national From got an answer"
ok "STATUT with a forged national From (envelope elsewhere, no DKIM): no mail at all"

stop_daemon
finish
