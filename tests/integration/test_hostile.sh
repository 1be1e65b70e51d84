#!/bin/bash
# Issue 11 as an attacker tries it, over real LMTP (swaks, raw sockets) with
# the real daemon and Postfix's smtp-sink as the relay: for every case, what
# reaches the sink is checked, above all what must NOT go out.
#  1. forged DKIM results (a failed result with "dkim=pass" in a comment,
#     header.i of another domain, x-dkim) prove nothing;
#  3. a forged From (a stranger, innocent.victim@third.example) to
#     national@, bulletin@ and aide@: nobody is mailed, nothing is echoed;
#  4. a contact's From with ARRET / DESABONNER, an editor's From with
#     ACCEPTER: nothing changes without proof; the real owner is only asked;
#  6. slow LMTP clients (a byte a second, or silent while others wait) are
#     dropped with 421 and cannot starve the others.
#  2. the Approved secret (with & and <) never reaches a contact, in any part;
#  7. long header lines are folded (a 1 MB one refuses the broadcast); the
#     roster refuses control characters and the list's own addresses.
# Case 5 (catch-all mailbox) is tests/integration/test_catchall.sh; the
# details of 1, 2 and 7 are in test_trust.sh.
. "$(dirname "$0")/lib.sh"
sink_port=$(free_port); lmtp_port=$(free_port)
dom=comites.example.org
write_conf "smtp_relay = 127.0.0.1:$sink_port" "lmtp_listen = 127.0.0.1:$lmtp_port" \
    "approve_password = s3&cr<et" "trusted_authserv_ids = mx.example.org" \
    "dmarc_mitigation = none" "bulletin_anchor = 2099-01-01" "queue_run_interval = 1s" \
    "admin_address = admin@example.org" "lmtp_max_clients = 4" "lmtp_timeout = 2s" \
    "lmtp_min_data_rate = 200" "lmtp_session_deadline = 6s"
ctl init >/dev/null && ctl committee import "$top/contrib/demo-roster.csv" >/dev/null || fail setup
ctl sender add bureau@national.example.org --role national >/dev/null || fail sender
ctl sender add redaction@example.org --role editor >/dev/null || fail editor
start_sink "$sink_port" "$work/sink"
"$build/mlistd" -c "$work/mlistd.conf" -f 2>"$work/daemon.log" &
dpid=$!; pids="$pids $dpid"
wait_port "$lmtp_port"
# nwith PATTERN: messages at the sink holding PATTERN (anywhere)
nwith() { grep -l "$1" "$work"/sink/* 2>/dev/null | wc -l; }
# sentinel WORD: a proven broadcast to Lille (4 contacts) sent after the
# hostile mail; once its copies are out, whatever the hostile mail caused
# (handled before it, queued before it) is out too.
n_sent=0
sentinel() {
    n_sent=$((n_sent + 1)); before=$(nsink)
    lmtp bureau@national.example.org "national+lille@$dom" --header "Subject: Sentinelle $n_sent" \
        --header "From: bureau@national.example.org" --header "Approved: s3&cr<et" --body "x"
    wait_files "$work/sink" $((before + 4))
    sleep 1
}
active() { ctl contact list | grep "$1" | grep -q ' actif'; }

# 1. Forged DKIM results from a national sender's address: no broadcast.
for ar in 'mx.example.org; dkim=fail (bad sig; dkim=pass header.d=national.example.org) header.d=national.example.org' \
    'mx.example.org; dkim=pass header.d=attacker.example header.i=@national.example.org' \
    'mx.example.org; dkim=neutral header.d=national.example.org; x-dkim=pass header.d=national.example.org' \
    'evil.example.net; dkim=pass header.d=national.example.org'; do
    lmtp attacker@attacker.example "national@$dom" --header "Authentication-Results: $ar" \
        --header "From: bureau@national.example.org" --header "Subject: Faux DKIM" --body "Achetez."
done
sentinel
[ "$(nwith '^Subject: Faux DKIM')" -eq 0 ] || fail "a forged DKIM result was taken as a proof"
[ "$(q "SELECT count(*) FROM delivery d JOIN message m ON m.id = d.message_id WHERE m.subject = 'Faux DKIM' AND m.kind = 'broadcast'")" -eq 0 ] ||
    fail "fan-out rows for a forged proof"
[ "$(q "SELECT count(*) FROM message WHERE subject = 'Faux DKIM' AND state = 'held'")" -eq 4 ] || fail "not held"
grep -l -i '^X-Rcpt-Args: <attacker@attacker.example>' "$work"/sink/* >/dev/null 2>&1 && fail "the attacker was mailed"
ok "forged DKIM results (comment, header.i, x-dkim, untrusted host): held, sent to no contact"
# the real author is asked to confirm (he is in the roster): that mail carries no attacker text
for f in $(grep -l -i '^X-Rcpt-Args: <bureau@national.example.org>' "$work"/sink/*); do
    ! grep -q 'Achetez' "$f" || fail "the attacker's text reached the author"
done
ok "the national sender is only asked to confirm, without the attacker's text"

# 2. The secret in the HTML alternative (escaped) and in the text: never sent.
cat >"$work/secret.eml" <<'EOF'
From: Bureau national <bureau@national.example.org>
To: national@comites.example.org
Subject: Secret HTML
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8

Approved: s3&cr<et

Bonjour a tous.
--b1
Content-Type: text/html; charset=utf-8

<html><body><p>Approved: s3&amp;cr&lt;et</p><p>Bonjour a tous.</p></body></html>
--b1--
EOF
before=$(nsink)
lmtp bureau@national.example.org "national@$dom" --data "$work/secret.eml"
wait_files "$work/sink" $((before + 40))
sleep 1
[ "$(nwith '^Subject: Secret HTML')" -eq 40 ] || fail "secret broadcast: $(nwith '^Subject: Secret HTML') copies"
leaks=$(mailpy "$work/sink" <<'PY'
n = 0
for path, raw, m in mails(sys.argv[1], b"Secret HTML"):
    seen = [raw.decode("utf-8", "replace")] + texts(m)
    n += any(s in t for t in seen for s in ("s3&cr<et", "s3&amp;cr&lt;et", "cr&lt;et", "cr<et"))
print(n)
PY
)
[ "$leaks" -eq 0 ] || fail "the secret reached $leaks contacts"
ok "Approved secret with & and <: cut from the text and the HTML part of all 40 copies"

# 7. A 2,000-byte header line is folded; a 1 MB one refuses the broadcast.
long=$(python3 -c 'print(" ".join(["mot%d" % i for i in range(400)]))')
lmtp bureau@national.example.org "national+brest@$dom" --header "Subject: Long entete" \
    --header "From: bureau@national.example.org" --header "Approved: s3&cr<et" --header "X-Long: $long" --body "x"
python3 -c 'print("From: bureau@national.example.org\nSubject: Enorme entete\nApproved: s3&cr<et\nX-Huge: " + "a" * 1048576 + "\n\nx")' >"$work/huge.eml"
lmtp bureau@national.example.org "national+brest@$dom" --data "$work/huge.eml"
sentinel
[ "$(nwith '^Subject: Long entete')" -eq 3 ] || fail "long header: $(nwith '^Subject: Long entete') copies"
grep -l '^Subject: Long entete' "$work"/sink/* | xargs awk 'length($0) > 999 { exit 1 }' ||
    fail "a line over 998 bytes went out"
[ "$(nwith '^Subject: Enorme entete')" -eq 0 ] || fail "the 1 MB header went out"
ok "a 2,000-byte header line goes out folded (no line over 998); a 1 MB header goes nowhere"
expect_rc 65 "the list's own address refused as a contact" ctl contact add brest "national@$dom"
expect_rc 65 "a contact name with a line feed refused" ctl contact add brest x@example.org --name "$(printf 'X\nBcc: y@example.org')"

# 3. Backscatter: a stranger's forged From to each of our addresses.
victim=innocent.victim@third.example
for rcpt in "national@$dom" "bulletin@$dom" "aide@$dom"; do
    for cmd in "AIDE" "ABONNER" "CHERCHER viagra"; do
        lmtp spammer@attacker.example "$rcpt" --header "From: <$victim>" \
            --header "Subject: $cmd Cheap pills http://attacker.example/" --body "$cmd"
    done
done
sentinel
[ "$(count_rcpt "$work/sink" "$victim")" -eq 0 ] || fail "backscatter: the victim got $(count_rcpt "$work/sink" "$victim") mails"
[ "$(count_rcpt "$work/sink" spammer@attacker.example)" -eq 0 ] || fail "the envelope sender was mailed"
[ "$(nwith 'Cheap pills')" -eq 0 ] || fail "the stranger's Subject went out"
[ "$(grep -c "rcpt=$victim sender=<spammer@attacker.example> status=withheld" "$work/daemon.log")" -ge 3 ] ||
    fail "withheld answers not logged"
[ "$(q "SELECT count(*) FROM submission WHERE sender = '$victim'")" -eq 3 ] || fail "the reports were not kept"
[ "$(q "SELECT count(*) FROM message WHERE kind = 'broadcast' AND author = '$victim' AND state = 'held'")" -eq 3 ] ||
    fail "the would-be broadcasts were not held"
ok "forged From to national@, bulletin@, aide@: nothing to the victim nor the spammer; reports and broadcasts held, answers withheld (logged)"

# 4. Anyone can stop a contact? From a contact, envelope elsewhere.
office_before=$(count_rcpt "$work/sink" admin@example.org)
lmtp attacker@attacker.example "aide@$dom" --header "From: anne.legoff@rennes.example.org" \
    --header "Subject: ARRET" --body "ARRET"
lmtp attacker@attacker.example "aide@$dom" --header "From: bernard.roux@rennes.example.org" \
    --header "Subject: DESABONNER" --body "DESABONNER"
s_id=$(printf 'From: camille.perrin@rennes.example.org\nSubject: Rapport\n\nTexte.\n' |
    ctl inject --rcpt "bulletin@$dom" --sender camille.perrin@rennes.example.org >/dev/null; sleep 2;
    q "SELECT max(id) FROM submission")
lmtp attacker@attacker.example "bulletin@$dom" --header "From: redaction@example.org" \
    --header "Subject: Re: Bulletin" --body "REFUSER $s_id"
sentinel
active anne.legoff@rennes.example.org || fail "a forged ARRET stopped a contact"
active bernard.roux@rennes.example.org || fail "a forged DESABONNER stopped a contact"
[ "$(q "SELECT state FROM submission WHERE id = $s_id")" != rejected ] || fail "a forged editor command was applied"
[ "$(count_rcpt "$work/sink" admin@example.org)" -eq "$office_before" ] || fail "the office was told of a stop"
ask=$(grep -l -i '^X-Rcpt-Args: <anne.legoff@rennes.example.org>' "$work"/sink/* | xargs grep -l '^Reply-To: confirm+' | head -1)
[ -n "$ask" ] || fail "the contact was not asked to confirm"
confirm=$(grep -i '^Reply-To:' "$ask" | grep -o 'confirm+[0-9a-f]*@[^> ]*')
ok "forged ARRET, DESABONNER, REFUSER: nothing changed; the real owners are asked to confirm"
# the attacker cannot confirm for her; she can
lmtp attacker@attacker.example "$confirm" --header "From: attacker@attacker.example" --body "oui"
sentinel
active anne.legoff@rennes.example.org || fail "the attacker confirmed the stop"
lmtp anne.legoff@rennes.example.org "$confirm" --header "From: anne.legoff@rennes.example.org" \
    --header "Subject: Re: Confirmez votre demande" --body "oui"
sentinel
! active anne.legoff@rennes.example.org || fail "the owner's confirmation did not stop her"
grep -q "confirm=.* from=anne.legoff@rennes.example.org action=stop status=confirmed" "$work/daemon.log" || fail "no log"
lmtp anne.legoff@rennes.example.org "$confirm" --header "From: anne.legoff@rennes.example.org" --body "oui"
sentinel
[ "$(grep -c "action=stop status=confirmed" "$work/daemon.log")" -eq 1 ] || fail "a token worked twice"
ok "the confirmation works from the owner only, once"

# 6. Slow clients: 4 slots, 4 clients trickling a byte a second, then a normal one.
python3 - "$lmtp_port" "$work/slow.ready" >"$work/slow.out" 2>&1 <<'PY' &
import socket, sys, time, threading
port = int(sys.argv[1]); out = {}
def slow(i):
    s = socks[i]
    t0 = time.time(); data = b""
    for b in b"LHLO slow.example.org\r\n":
        try:
            s.send(bytes([b]))
        except OSError:
            break
        time.sleep(1)
        s.setblocking(False)
        try:
            data += s.recv(1000)
        except BlockingIOError:
            pass
        except OSError:
            break
        s.setblocking(True)
        if b"421" in data or time.time() - t0 > 20:
            break
    out[i] = (data.decode(errors="replace").strip(), round(time.time() - t0))
socks = []
for i in range(4):
    s = socket.create_connection(("127.0.0.1", port)); s.settimeout(30); s.recv(1000); socks.append(s)
open(sys.argv[2], "w").close()	# every slot is taken: the shell may probe
ts = [threading.Thread(target=slow, args=(i,)) for i in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
for i in sorted(out): print(i, out[i][1], out[i][0])
PY
slow_pid=$!; pids="$pids $slow_pid"
i=0; until [ -f "$work/slow.ready" ]; do i=$((i + 1)); [ $i -gt 100 ] && fail "slow clients not connected"; sleep 0.05; done
# while the 4 slots are taken, a fifth client is told 421 (busy) ...
exec 3<>/dev/tcp/127.0.0.1/$lmtp_port; read -r -t 5 line <&3; exec 3<&-
case "$line" in 421*) ;; *) fail "a fifth client got '$line' while 4 slow ones held the slots" ;; esac
# ... and a few seconds later the slow ones are gone and mail flows again
t0=$(date +%s)
wait "$slow_pid"
cat "$work/slow.out"
[ "$(grep -c '421 4.4.2 .*too slow' "$work/slow.out")" -eq 4 ] || fail "slow clients not dropped with 421 4.4.2"
! awk '$2 > 6' "$work/slow.out" | grep -q . || fail "a slow client held its slot more than 6 s"
lmtp bureau@national.example.org "national+brest@$dom" --header "Subject: Apres les lents" \
    --header "From: bureau@national.example.org" --header "Approved: s3&cr<et" --body "x"
ok "4 clients sending a byte a second: dropped with 421 4.4.2 within seconds; the MTA gets through again"
# clients that connect and say nothing: once one is turned away, they go
python3 - "$lmtp_port" >"$work/idle.out" 2>&1 <<'PY'
import socket, sys, time
port = int(sys.argv[1]); idle = []
for i in range(4):
    s = socket.create_connection(("127.0.0.1", port)); s.settimeout(10); s.recv(1000); idle.append(s)
x = socket.create_connection(("127.0.0.1", port)); x.settimeout(5)
print("fifth", x.recv(1000).decode().strip()); t0 = time.time()
for s in idle:
    try:
        print("idle", s.recv(1000).decode().strip())
    except OSError as e:
        print("idle error", e)
print("after", round(time.time() - t0))
PY
cat "$work/idle.out"
grep -q '^fifth 421 4.3.2' "$work/idle.out" || fail "the fifth client was not turned away"
[ "$(grep -c '^idle 421 4.4.2' "$work/idle.out")" -eq 4 ] || fail "idle clients kept their slots"
grep -q '^after [0-3]$' "$work/idle.out" || fail "idle clients kept their slots too long"
lmtp bureau@national.example.org "national+brest@$dom" --header "Subject: Apres les muets" \
    --header "From: bureau@national.example.org" --header "Approved: s3&cr<et" --body "x"
ok "4 clients that say nothing: told 421 within 2 s once a client was turned away; mail flows again"
# a brisk client cannot keep a session past lmtp_session_deadline either
python3 - "$lmtp_port" >"$work/long.out" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s.settimeout(10)
f = s.makefile("rb"); f.readline(); t0 = time.time(); last = b""
while time.time() - t0 < 15:
    try:
        s.sendall(b"NOOP\r\n"); last = f.readline()
    except OSError:
        break
    if not last.startswith(b"250"):
        break
    time.sleep(0.5)
print(round(time.time() - t0), last.decode().strip())
PY
grep -q '^[5-7] 421 4.4.2 .*Session time limit' "$work/long.out" || { cat "$work/long.out"; fail "session deadline"; }
ok "a session of brisk NOOPs ends with 421 at lmtp_session_deadline (6 s)"
grep -q 'lmtp status=closed reason=too-slow' "$work/daemon.log" || fail "no log line for slow clients"
ok "each drop is logged (reason=too-slow, session-deadline)"

kill "$dpid"; wait "$dpid" 2>/dev/null
finish
