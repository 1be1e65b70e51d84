#!/bin/bash
# One editor's whole cycle by mail, as people live it: the call reaches the
# contacts, two committees report (one photo), the editor gets the digest and
# replies to it (accept, a title, a date, a correction), asks for the proof,
# replies to the proof with PUBLIER, confirms by replying to the result, and
# the bulletin reaches the contacts. Every mail is read at smtp-sink and
# threaded to the one it answers. With EDITOR_CYCLE_DIR set, the mails as
# received at smtp-sink are copied there, numbered in order (NN-what.eml).
. "$(dirname "$0")/lib.sh"
sink_port=$(free_port); lmtp_port=$(free_port)
write_conf "smtp_relay = 127.0.0.1:$sink_port" "lmtp_listen = 127.0.0.1:$lmtp_port" \
    "bulletin_anchor = 2026-01-01" "queue_run_interval = 1s" "smtp_connections = 4" \
    "trusted_authserv_ids = mx.example.org" "list_name = Comités solidaires"
MLISTD_NOW=$(date -d '2026-01-15 10:00' +%s); export MLISTD_NOW
ctl init >/dev/null && ctl committee import "$top/contrib/demo-roster.csv" >/dev/null || fail setup
ed=redaction@example.org; dom=comites.example.org; anne=anne.legoff@rennes.example.org
ctl sender add "$ed" --role editor --name "Rédaction" >/dev/null || fail editor
lyon=$(grep -i '^Lyon;' "$top/contrib/demo-roster.csv" | head -1 | cut -d';' -f5)
db=$(ls "$work"/data/*.db | head -1); q() { sqlite3 -batch "$db" "$1"; }
DKIM="Authentication-Results: mx.example.org; dkim=pass header.d=example.org header.i=@example.org"
out=${EDITOR_CYCLE_DIR:-$work/cycle}; mkdir -p "$out"; n=0; touch "$work/seen"

cat >"$work/mt.py" <<'PY'
def text(m):
    for p in m.walk():
        if p.get_content_type() == "text/plain":
            return p.get_content()
    return ""
cmd = sys.argv[1]
if cmd == "find":	# find DIR SEEN RCPT REGEX
    next_mail(*sys.argv[2:6])
m = load(sys.argv[2])
if cmd == "header":
    print(m.get(sys.argv[3], ""))
elif cmd == "plain":
    print(text(m).replace("\u00a0", " "))
elif cmd == "reply":	# reply FILE FROM BODY [HEADER]: a reply quoting FILE, as a mail client writes it
    frm, body = sys.argv[3], sys.argv[4]
    to = m["Reply-To"] or m["From"]
    quoted = "\n".join("> " + l if l else ">" for l in text(m).rstrip("\n").split("\n"))
    subj = str(m["Subject"]); subj = subj if subj.startswith("Re:") else "Re: " + subj
    print("From: Rédaction <%s>" % frm)
    print("To: %s" % to); print("Subject: %s" % subj)
    print("Date: Thu, 15 Jan 2026 11:00:00 +0100")
    print("Message-ID: <%d@example.org>" % abs(hash(body)))
    print("In-Reply-To: %s" % m["Message-ID"]); print("References: %s" % m["Message-ID"])
    for h in sys.argv[5:]:
        if h:
            print(h)
    print("MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n")
    print(body + "\n\n-- \nLa rédaction\n\nLe jeu. 15 janv. 2026 à 10:00, %s a écrit :\n%s" % (m["From"], quoted))
PY
mt() { mailpy "$@" <"$work/mt.py"; }
# got RCPT REGEX NAME: wait for that mail, keep it as NN-NAME.eml; path in $mail.
got() {
    i=0
    until mail=$(mt find "$work/sink" "$work/seen" "$1" "$2"); do
        i=$((i + 1)); [ $i -gt 300 ] && fail "no mail to $1 matching '$2'"; sleep 0.1
    done
    n=$((n + 1)); cp "$mail" "$out/$(printf %02d $n)-$3.eml"
}
# answer FILE BODY [HEADER]: the editor replies to FILE over LMTP (To: its Reply-To).
answer() {
    mt reply "$1" "$ed" "$2" "${3:-}" >"$work/reply.eml"
    to=$(mt header "$work/reply.eml" To | grep -o '[^<> ]*@[^<> ]*')
    lmtp "$ed" "$to" --data "$work/reply.eml"
}
# threaded FILE PREVIOUS: FILE answers the editor's reply to PREVIOUS.
threaded() { [ -n "$(mt header "$1" In-Reply-To)" ] || fail "$1 is not threaded"; }
start_sink "$sink_port" "$work/sink"
"$build/mlistd" -c "$work/mlistd.conf" -f 2>>"$work/daemon.log" &
dpid=$!; pids="$pids $dpid"; wait_port "$lmtp_port"

# 1. The call for contributions reaches every contact.
got "$anne" "racontez" call-to-a-contact
wait_files "$work/sink" 40; for f in "$work"/sink/*; do echo "$f" >>"$work/seen"; done
ok "the call reaches the contacts"

# 2. Two reports: Rennes with a photo, Lyon in plain text; each acknowledged.
photo=$(base64 -w 76 "$top/tests/data/bulletin/photo.jpg")
cat >"$work/rennes.eml" <<MSG
From: Anne Le Goff <$anne>
To: bulletin@$dom
Subject: Atelier vélo au marché
Date: Sat, 10 Jan 2026 18:00:00 +0100
Message-ID: <rennes-1@rennes.example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Samedi 10 janvier, le comité a tenu un atelier de réparation de vélos
devant le marché des Lices. Trente personnes sont venues.

--b
Content-Type: image/jpeg; name="atelier.jpg"
Content-Disposition: attachment; filename="atelier.jpg"
Content-Transfer-Encoding: base64

$photo
--b--
MSG
lmtp "$anne" "bulletin@$dom" --data "$work/rennes.eml"
got "$anne" "." acknowledgement-to-rennes
printf 'From: <%s>\nTo: bulletin@%s\nSubject: Collecte de jouets\nDate: Mon, 12 Jan 2026 20:00:00 +0100\n\nLe 12 janvier, collecte de jouets a la mairie : 200 jouets pour les familles.\n' \
    "$lyon" "$dom" >"$work/lyon.eml"
lmtp "$lyon" "bulletin@$dom" --data "$work/lyon.eml"
got "$lyon" "." acknowledgement-to-lyon
s_ren=$(q "SELECT id FROM submission WHERE title LIKE 'Atelier%'")
s_lyo=$(q "SELECT id FROM submission WHERE title LIKE 'Collecte%'")
[ -n "$s_ren" ] && [ -n "$s_lyo" ] || fail "reports not filed"
ok "two reports filed and acknowledged"

# 3. The digest (the daemon's next tick: a restart here).
kill "$dpid"; wait "$dpid" 2>/dev/null
"$build/mlistd" -c "$work/mlistd.conf" -f 2>>"$work/daemon.log" &
dpid=$!; pids="$pids $dpid"; wait_port "$lmtp_port"
got "$ed" "à relire" digest; digest=$mail
mt plain "$digest" | grep -q "^  CORRIGER $s_ren — " || fail "the digest does not explain CORRIGER"
ok "the digest lists the reports and how to act by reply"

# 4. The editor replies to the digest: accept both, a title, a date, a correction.
answer "$digest" "ACCEPTER $s_ren $s_lyo
TITRE $s_ren Un atelier vélo au marché des Lices
DATE $s_lyo 12/01/2026
CORRIGER $s_lyo
Le 12 janvier, le comité a collecté 200 jouets à la mairie
pour les familles du quartier.
FIN" "$DKIM"
got "$ed" "résultat" result-of-the-corrections; threaded "$mail"
mt plain "$mail" | grep -q "^CORRIGER $s_lyo : fait" || fail "correction not done"
[ "$(q "SELECT title FROM submission WHERE id = $s_ren")" = "Un atelier vélo au marché des Lices" ] || fail title
ok "accept, title, date and correction by one reply to the digest"

# 5. EPREUVE: the proof to the editors.
answer "$mail" "EPREUVE" "$DKIM"
got "$ed" "résultat" result-of-epreuve
got "$ed" "PREUVE" proof; proof=$mail
mt plain "$proof" | grep -q "200 jouets" || fail "the proof lacks the correction"
ok "EPREUVE: the proof reaches the editor"

# 6. PUBLIER in a reply to the proof, then the confirmation by reply.
answer "$proof" "PUBLIER 1" "$DKIM"
got "$ed" "confirmez la publication du n°.1" publier-asks-confirmation; ask=$mail
mt header "$ask" Reply-To | grep -q "confirm+" || fail "no token to confirm PUBLIER"
answer "$ask" "Oui, on publie."
got "$ed" "résultat" result-published
mt plain "$mail" | grep -q "^PUBLIER 1 : fait, le bulletin part à 40 adresses" || fail "not published"
got "$anne" "Bulletin n" bulletin-as-a-contact-receives-it
ok "PUBLIER confirmed by a reply: the bulletin reaches the contacts"
echo "mails kept in $out: $(ls "$out" | wc -l)"
finish
