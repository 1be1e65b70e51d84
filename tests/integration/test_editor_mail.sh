#!/bin/bash
# The editors' whole job by mail, end to end: reports arrive over LMTP at the
# real daemon, the digest and every answer are read at Postfix's smtp-sink
# (MIME structure, headers, text), the state in the database. Every command
# (ACCEPTER, REFUSER, ATTENTE, ATTRIBUER, TITRE, DATE, TEXTE, CORRIGER,
# EPREUVE, PUBLIER, AIDE, an unknown one) and the forged variants: a
# non-editor, an editor without proof (token), a replayed, a foreign and an
# expired token, commands in quoted text, PUBLIER without a proof and after a
# correction made after the proof. With EDITOR_CYCLE_DIR set, the mails of
# one editor's cycle are copied there, numbered in order.
. "$(dirname "$0")/lib.sh"
sink_port=$(free_port); lmtp_port=$(free_port)
write_conf "smtp_relay = 127.0.0.1:$sink_port" "lmtp_listen = 127.0.0.1:$lmtp_port" \
    "bulletin_anchor = 2026-01-01" "queue_run_interval = 1s" "smtp_connections = 4" \
    "trusted_authserv_ids = mx.example.org"
MLISTD_NOW=$(date -d '2026-01-15 10:00' +%s); export MLISTD_NOW
ctl init >/dev/null && ctl committee import "$top/contrib/demo-roster.csv" >/dev/null || fail setup
ed=redaction@example.org; ed2=relecture@example.org
ctl sender add "$ed" --role editor >/dev/null && ctl sender add "$ed2" --role editor >/dev/null ||
    fail "editors"
dom=comites.example.org
db="$work/data/mlistd.db"; [ -f "$db" ] || db=$(ls "$work"/data/*.db | head -1)
q() { sqlite3 -batch "$db" "$1"; }
DKIM="Authentication-Results: mx.example.org; dkim=pass header.d=example.org header.i=@example.org"
cycle=${EDITOR_CYCLE_DIR:-}; ncycle=0
touch "$work/seen"

cat >"$work/mt.py" <<'PY'
if sys.argv[1] == "find":	# find DIR SEEN RCPT REGEX: the first unseen match
    next_mail(*sys.argv[2:6])
m = load(sys.argv[2])
if sys.argv[1] == "check":	# check FILE: a plain, short mail to people
    assert not m.is_multipart(), "multipart answer"
    assert m.get_content_type() == "text/plain", m.get_content_type()
    assert m.get_content_charset() == "utf-8", m.get_content_charset()
    assert m["Auto-Submitted"], "no Auto-Submitted"
    t = m.get_content()
    assert "mlistctl" not in t.lower() and "mlistctl" not in str(m["Subject"]).lower(), "a shell command in a mail"
    for l in t.split("\n"):
        if "@" in l or "http" in l or "[[photo" in l:
            continue
        assert not re.search(r"(^|[^\u00a0])[!?;:»](\s|$)", l), "NBSP missing: " + repr(l)
        assert not re.search(r"«(?!\u00a0)", l), "NBSP missing after «: " + repr(l)
elif sys.argv[1] in ("text", "plain"):
    t = (m.get_content() if not m.is_multipart() else
          "\n".join(p.get_content() for p in m.walk() if p.get_content_maintype() == "text"))
    print(t.replace("\u00a0", " ") if sys.argv[1] == "plain" else t)
elif sys.argv[1] == "header":
    print(m.get(sys.argv[3], ""))
elif sys.argv[1] == "types":
    print(" ".join(p.get_content_type() for p in m.walk()))
PY
mt() { mailpy "$@" <"$work/mt.py"; }
# mail RCPT SUBJECT-REGEX: wait for that new mail at the sink; its path in $mail.
mail() {
    i=0
    until mail=$(mt find "$work/sink" "$work/seen" "$1" "$2"); do
        i=$((i + 1)); [ $i -gt 200 ] && { ls -l "$work/sink"; fail "no mail to $1 matching '$2'"; }
        sleep 0.1
    done
    [ -n "$cycle" ] && [ "$1" = "$ed" ] && { ncycle=$((ncycle + 1)); cp "$mail" "$cycle/$(printf %02d "$ncycle")-in.eml"; }
    return 0
}
# nomail RCPT: no other mail to RCPT came (after the queue ran).
nomail() {
    sleep 1.5
    ! mt find "$work/sink" "$work/seen" "$1" "." >/dev/null || fail "an unexpected mail to $1: $(tail -1 "$work/seen")"
}
# send FROM SUBJECT BODY [HEADER...]: a mail From FROM to bulletin@ over LMTP.
send() {
    from=$1; subj=$2; body=$3; shift 3
    { echo "From: <$from>"; echo "To: bulletin@$dom"; echo "Subject: $subj"
      echo "Date: Thu, 15 Jan 2026 09:00:00 +0100"; echo "Message-ID: <$RANDOM.$RANDOM@example.org>"
      for h in "$@"; do echo "$h"; done
      echo "MIME-Version: 1.0"; echo "Content-Type: text/plain; charset=utf-8"; echo
      printf '%s\n' "$body"; } >"$work/out.eml"
    [ -n "$cycle" ] && [ "$from" = "$ed" ] && { ncycle=$((ncycle + 1)); cp "$work/out.eml" "$cycle/$(printf %02d "$ncycle")-out.eml"; }
    lmtp "$from" "${rcpt:-bulletin@$dom}" --data "$work/out.eml"
}
# confirm_of FILE: the confirm+TOKEN@ address of its Reply-To.
confirm_of() { mt header "$1" Reply-To | grep -o 'confirm+[0-9a-f]*@[^> ]*'; }
state() { q "SELECT state FROM submission WHERE id = $1"; }
start_sink "$sink_port" "$work/sink"
start_daemon

# 1. The call, then reports from three committees (one with a photo).
photo=$(base64 -w 76 "$top/tests/data/bulletin/photo.jpg")
cat >"$work/rennes.eml" <<MSG
From: Anne Le Goff <anne.legoff@rennes.example.org>
To: bulletin@$dom
Subject: Atelier vélo
Date: Sat, 10 Jan 2026 18:00:00 +0100
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Samedi 10 janvier, un atelier de réparation de vélos au marché.

Trente personnes sont venues.

--b
Content-Type: image/jpeg; name="atelier.jpg"
Content-Disposition: attachment; filename="atelier.jpg"
Content-Transfer-Encoding: base64

$photo
--b--
MSG
wait_files "$work/sink" 40
for f in "$work"/sink/*; do echo "$f" >>"$work/seen"; done
lmtp anne.legoff@rennes.example.org "bulletin@$dom" --data "$work/rennes.eml"
rcpt= send "$(grep -i '^Lyon;' "$top/contrib/demo-roster.csv" | head -1 | cut -d';' -f5)" \
    "Collecte de jouets" "Le 12 janvier, collecte de jouets à la mairie."
rcpt= send "$(grep -i '^Brest;' "$top/contrib/demo-roster.csv" | head -1 | cut -d';' -f5)" \
    "Vente de calendriers" "Le 11 janvier, vente de calendriers."
rcpt= send bureau@national.example.org "Mot du bureau" "Le 13 janvier, le bureau s'est réuni."
i=0; until [ "$(q "SELECT count(*) FROM submission")" -eq 4 ]; do
    i=$((i + 1)); [ $i -gt 100 ] && fail "the four reports were not filed"; sleep 0.2; done
s_ren=$(q "SELECT id FROM submission WHERE title LIKE 'Atelier%'")
s_lyo=$(q "SELECT id FROM submission WHERE title LIKE 'Collecte%'")
s_bre=$(q "SELECT id FROM submission WHERE title LIKE 'Vente%'")
s_nat=$(q "SELECT id FROM submission WHERE title LIKE 'Mot du%'")
[ "$(state "$s_nat")" = held ] || fail "the national office's report is not held"
[ "$(q "SELECT body FROM submission WHERE id = $s_ren" | grep -c '^\[\[photo:1\]\]$')" -eq 1 ] ||
    fail "no photo marker in the Rennes report"
ok "four reports filed over LMTP (one with a photo marker, one held)"

# 2. The digest (sent by the daemon's first tick): how to act by reply, no shell.
stop_daemon; start_daemon
mail "$ed" "à relire"; digest=$mail
mt check "$digest" || fail "digest shape"
mt plain "$digest" >"$work/t"
grep -q "^  ACCEPTER $s_ren — " "$work/t" && grep -q "^  CORRIGER " "$work/t" && grep -q "^  PUBLIER 1 — " "$work/t" &&
    grep -q "^  EPREUVE — " "$work/t" || { cat "$work/t"; fail "the digest does not list the commands"; }
grep -q "répondez" "$work/t" || fail "the digest does not say to reply"
ok "the digest: one text/plain mail, every command explained by reply, no mlistctl, NBSP"

# 3. A non-editor's commands are a report, nothing changes.
send anne.legoff@rennes.example.org "Re: Bulletin" "ACCEPTER $s_ren"
sleep 1.5
[ "$(state "$s_ren")" = new ] || fail "a contact accepted a report"
ok "ACCEPTER from a contact changes nothing"

# 4. A forged editor's From (envelope elsewhere): only a confirmation to the real editor.
{ echo "From: <$ed>"; echo "To: bulletin@$dom"; echo "Subject: Re: Bulletin"; echo
  echo "REFUSER $s_ren"; } >"$work/forged.eml"
lmtp attacker@attacker.example "bulletin@$dom" --data "$work/forged.eml"
mail "$ed" "confirmez"; forged_confirm=$(confirm_of "$mail")
[ "$(state "$s_ren")" = new ] || fail "a forged From refused a report"
nomail attacker@attacker.example
ok "a forged editor From: nothing applied, the confirmation goes to the editor only"

# 5. An editor without proof: the commands wait for a reply to a one-time token.
send "$ed" "Re: Bulletin : contributions à relire" "Bonjour,

ACCEPTER $s_ren $s_lyo
ATTRIBUER $s_nat Lyon

Merci

Le jeu. 15 janv. 2026 à 08:00, Bulletin <bulletin@$dom> a écrit :
> ==== N° $s_lyo : Collecte de jouets
>     REFUSER $s_lyo     pour ne pas la publier"
mail "$ed" "confirmez"; ask=$mail
mt check "$ask" || fail "confirmation shape"
mt plain "$ask" >"$work/t"
grep -q "ACCEPTER $s_ren $s_lyo" "$work/t" && grep -q "ATTRIBUER $s_nat Lyon" "$work/t" ||
    { cat "$work/t"; fail "the confirmation does not list the commands"; }
! grep -q "REFUSER $s_lyo" "$work/t" || fail "a quoted line taken as a command"
token=$(confirm_of "$ask"); [ -n "$token" ] || fail "no confirm+TOKEN@ Reply-To"
[ "$(state "$s_ren")" = new ] || fail "applied before the confirmation"
# a reply from another address does nothing
rcpt=$token send anne.legoff@rennes.example.org "Re: confirmez" "oui"
sleep 1.5; [ "$(state "$s_ren")" = new ] || fail "confirmed by someone else"
rcpt=$token send "$ed" "Re: confirmez" "oui"
mail "$ed" "résultat"; res=$mail
mt check "$res" || fail "result shape"
mt plain "$res" >"$work/t"
grep -q "^ACCEPTER $s_ren : fait" "$work/t" && grep -q "^ACCEPTER $s_lyo : fait" "$work/t" &&
    grep -q "^ATTRIBUER $s_nat : fait" "$work/t" || { cat "$work/t"; fail "result lines"; }
[ "$(state "$s_ren")" = accepted ] && [ "$(state "$s_lyo")" = accepted ] && [ "$(state "$s_nat")" = new ] ||
    fail "states after the confirmation"
[ "$(q "SELECT c.slug FROM submission s JOIN committee c ON c.id = s.committee_id WHERE s.id = $s_nat")" = lyon ] ||
    fail "ATTRIBUER did not give the report to Lyon"
grep -q "^  TITRE " "$work/t" || fail "the result mail does not list the commands"
ok "without DKIM: a confirmation, then ACCEPTER x2 and ATTRIBUER applied, one result mail"
# the same token again, and the forged one after expiry are refused
rcpt=$token send "$ed" "Re: confirmez" "oui"
nomail "$ed"
grep -q "confirm=.* status=ignored" "$work/daemon.log" || fail "no log line for the used token"
ok "a replayed token does nothing"

# 6. With a trusted DKIM pass, at once: every editing command in one mail,
#    a quoted digest, an unknown command; one result mail.
send "$ed" "Re: Bulletin" "ATTENTE $s_bre
TITRE $s_ren Un atelier vélo au marché des Lices
DATE $s_ren 17/01/2026
DATE $s_lyo 12 janvier 2026
> REFUSER $s_ren
CORRIGER $s_ren
Samedi, un atelier de réparation de vélos
s'est tenu au marché des Lices.

Trente-deux personnes sont venues.
FIN
SUPPRIMER $s_bre
TEXTE $s_lyo

-- 
La rédaction

> ACCEPTER $s_bre
> REFUSER $s_ren" "$DKIM"
mail "$ed" "résultat"; res=$mail
mt check "$res" || fail "result shape"
mt plain "$res" >"$work/t"
for l in "ATTENTE $s_bre : fait" "TITRE $s_ren : fait" "DATE $s_ren : fait, date de l'activité : 17 janvier 2026" \
    "DATE $s_lyo : fait, date de l'activité : 12 janvier 2026" "CORRIGER $s_ren : fait" \
    "SUPPRIMER $s_bre : commande inconnue" "TEXTE $s_lyo : « Collecte de jouets »" "CORRIGER $s_lyo"; do
    grep -q "^$l" "$work/t" || { cat "$work/t"; fail "no result line '$l'"; }
done
[ "$(state "$s_bre")" = held ] || fail "ATTENTE not applied"
[ "$(state "$s_ren")" = accepted ] || fail "a quoted REFUSER was applied"
[ "$(q "SELECT title FROM submission WHERE id = $s_ren")" = "Un atelier vélo au marché des Lices" ] || fail "TITRE"
[ "$(q "SELECT activity_date FROM submission WHERE id = $s_ren")" = 2026-01-17 ] || fail "DATE JJ/MM/AAAA"
[ "$(q "SELECT activity_date FROM submission WHERE id = $s_lyo")" = 2026-01-12 ] || fail "DATE in French"
q "SELECT body FROM submission WHERE id = $s_ren" >"$work/body"
printf 'Samedi, un atelier de réparation de vélos\ns'"'"'est tenu au marché des Lices.\n\nTrente-deux personnes sont venues.\n\n[[photo:1]]\n' |
    diff - "$work/body" || fail "CORRIGER: the text, the photo kept after the second paragraph"
ok "DKIM pass: ATTENTE, TITRE, DATE (JJ/MM/AAAA and French), CORRIGER (photo kept), TEXTE, unknown command, quoted lines ignored"

# 7. PUBLIER before any proof is refused; EPREUVE sends the proof to the editors.
send "$ed" "Re: Bulletin" "PUBLIER 1" "$DKIM"
mail "$ed" "résultat"; mt plain "$mail" | grep -q "^PUBLIER 1 : aucune épreuve" ||
    { mt text "$mail"; fail "PUBLIER without proof not refused"; }
[ -z "$(mt header "$mail" Reply-To | grep confirm+)" ] || fail "a token for a refused PUBLIER"
send "$ed" "Re: Bulletin" "EPREUVE" "$DKIM"
mail "$ed" "résultat"; mt plain "$mail" | grep -q "^EPREUVE : l'épreuve du bulletin n° 1 (2 comptes rendus)" ||
    { mt text "$mail"; fail "EPREUVE result"; }
for who in "$ed" "$ed2"; do
    mail "$who" "PREUVE"; proof=$mail
    mt types "$proof" | grep -q "text/html" || fail "the proof has no HTML part"
done
mt text "$proof" | grep -q "Trente-deux personnes" || fail "the proof does not hold the correction"
[ -n "$(q "SELECT content_hash FROM bulletin_mailing WHERE kind LIKE 'proof-%'")" ] || fail "no fingerprint with the proof"
ok "PUBLIER without a proof refused; EPREUVE: the proof (text + HTML) to both editors, its fingerprint kept"

# 8. A correction after the proof: PUBLIER refused until a new proof.
send "$ed" "Re: Bulletin" "TITRE $s_lyo Grande collecte de jouets
PUBLIER 1" "$DKIM"
mail "$ed" "résultat"; mt plain "$mail" >"$work/t"
grep -q "^TITRE $s_lyo : fait" "$work/t" && grep -q "^PUBLIER 1 : le contenu a changé depuis la dernière épreuve" "$work/t" ||
    { cat "$work/t"; fail "PUBLIER after a correction not refused"; }
ok "PUBLIER after a correction made after the proof is refused"

# 9. A new proof, then PUBLIER: always a token, even with DKIM; then published.
send "$ed" "Re: Bulletin" "EPREUVE" "$DKIM"
mail "$ed" "résultat"; mail "$ed" "PREUVE"; mail "$ed2" "PREUVE"
send "$ed" "Re: [ÉPREUVE] Bulletin" "PUBLIER 1" "$DKIM"
mail "$ed" "confirmez la publication du n°.1"; res=$mail
mt check "$res" || fail "result shape"
ptoken=$(confirm_of "$res"); [ -n "$ptoken" ] || fail "PUBLIER gave no token"
mt plain "$res" | grep -q "Pour publier le bulletin n°.*1, répondez simplement" || fail "the result does not say how to publish"
sleep 1; [ "$(q "SELECT state FROM bulletin_issue WHERE number = 1")" != published ] || fail "published without confirmation"
# a reply from someone else to the token does nothing
rcpt=$ptoken send "$ed2" "Re: Bulletin" "oui" "$DKIM"
sleep 1.5; [ "$(q "SELECT state FROM bulletin_issue WHERE number = 1")" != published ] || fail "published by another address"
rcpt=$ptoken send "$ed" "Re: Bulletin" "oui"
mail "$ed" "résultat"; mt plain "$mail" | grep -q "^PUBLIER 1 : fait, le bulletin part à 40 adresses" ||
    { mt text "$mail"; fail "PUBLIER result"; }
[ "$(q "SELECT state FROM bulletin_issue WHERE number = 1")" = published ] || fail "not published"
i=0; until [ "$(q "SELECT count(*) FROM delivery d JOIN bulletin_issue b ON d.message_id = b.message_id WHERE b.number = 1 AND d.state = 'sent'")" -eq 40 ]; do
    i=$((i + 1)); [ $i -gt 300 ] && fail "the bulletin did not reach the 40 contacts"; sleep 0.1; done
[ -s "$work/data/archive/bulletin-1.html" ] || fail "no archive"
ok "PUBLIER: a one-time token even with DKIM, not by another address, then published to 40 contacts"
rcpt=$ptoken send "$ed" "Re: Bulletin" "oui"
sleep 1.5
[ "$(q "SELECT count(*) FROM bulletin_mailing WHERE kind = 'publication'")" -eq 1 ] || fail "published twice"
ok "the PUBLIER token replayed does nothing"

# 10. AIDE; an expired token.
send "$ed" "Re: Bulletin" "AIDE" "$DKIM"
mail "$ed" "résultat"; mt plain "$mail" | grep -q "^  PUBLIER " || fail "AIDE gives no list"
send "$ed" "Re: Bulletin" "REFUSER $s_lyo"
mail "$ed" "confirmez"; late=$(confirm_of "$mail")
stop_daemon
MLISTD_NOW=$((MLISTD_NOW + 4 * 86400)) start_daemon
rcpt=$late send "$ed" "Re: confirmez" "oui"
sleep 1.5
[ "$(state "$s_lyo")" = accepted ] || fail "an expired token was used"
rcpt=$forged_confirm send "$ed" "Re: confirmez" "oui"
sleep 1.5
[ "$(state "$s_ren")" = accepted ] || fail "the forged mail's expired token was used"
ok "AIDE lists the commands; an expired token does nothing"
grep -rl "mlistctl" "$work/sink" | grep -q . && fail "mlistctl named in a mail"
ok "no mail names mlistctl"
finish
