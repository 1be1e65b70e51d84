#!/bin/bash
# The bimonthly bulletin end to end with real peers: Postfix's smtp-sink as
# the relay, swaks over LMTP, mlistctl inject, and the real daemon. A period
# opens and the call reaches every contact; reports arrive from several
# committees (a JPEG photo, a latin-1 message, an HTML-only webmail message,
# a reply quoting the call); acknowledgements go out; an editor accepts and
# rejects (mlistctl and by email); the proof reaches the editor only; the
# publication reaches every contact and the archive (HTML, text, PDF, photo)
# holds exactly the accepted texts; the archive search finds them. Then every
# malformed MIME sample sent to bulletin@ is handled without crash or hang.
. "$(dirname "$0")/lib.sh"
sink_port=$(free_port); lmtp_port=$(free_port)
write_conf "smtp_relay = 127.0.0.1:$sink_port" "lmtp_listen = 127.0.0.1:$lmtp_port" \
    "bulletin_anchor = 2026-01-01" "queue_run_interval = 1s" "smtp_connections = 4"
# Mid-January 2026: issue 1 (January-February) is open, deadline 18 February.
MLISTD_NOW=$(date -d '2026-01-15 10:00' +%s); export MLISTD_NOW
ctl init >/dev/null && ctl committee import "$top/contrib/demo-roster.csv" >/dev/null || fail setup
ctl sender add redaction@example.org --role editor >/dev/null || fail "editor"
ctl sender add bureau@national.example.org --role national >/dev/null || fail "national sender"
contacts=$(ctl contact list | grep -o '[a-z.]*@[a-z.]*example.org')
[ "$(echo "$contacts" | wc -l)" -eq 40 ] || fail "roster: $(echo "$contacts" | wc -l) contacts"
bdom=comites.example.org
# index: one line per dumped message, "FILE<TAB>RCPT<TAB>MAILFROM<TAB>Subject",
# the Subject decoded (RFC 2047) and unfolded; file names sorted.
index() {
    mailpy "$work/sink" <<'PY' >"$work/index"
for path, raw, m in mails(sys.argv[1]):
    mf = str(m["X-Mail-Args"] or "").split()
    print("%s\t%s\t%s\t%s" % (path, rcpt(m), mf[0].strip("<>") if mf else "", subject(m)))
PY
}
# with SUBJECT-REGEX [RCPT]: the files whose decoded Subject matches (and to RCPT).
with() { awk -F'\t' -v s="$1" -v r="${2:-}" '$4 ~ s && (r == "" || $2 == r) {print $1}' "$work/index"; }
# text FILE: the message's text parts, decoded to UTF-8.
text() {
    mailpy "$1" <<'PY'
for p in load(sys.argv[1]).walk():
    if p.get_content_maintype() == "text":
        print(p.get_content())
PY
}
start_sink "$sink_port" "$work/sink"

# 1. The period opens: the call for contributions reaches every contact once.
expect_rc 0 "mlistd --once opens issue 1" once
ctl bulletin show 1 >"$work/out" 2>&1; expect_out "état *ouvert" "issue 1 is open"
wait_files "$work/sink" 40
index
[ "$(with '^Bulletin n° ?1 : racontez-nous' | wc -l)" -eq 40 ] || fail "$(with '^Bulletin n°1' | wc -l) calls, wanted 40"
for c in $contacts; do [ "$(with '^Bulletin n° ?1 : racontez-nous' "$c" | wc -l)" -eq 1 ] || fail "$c: no call"; done
[ "$(ls "$work/sink" | wc -l)" -eq 40 ] || fail "other mail than the call"
call=$(with '^Bulletin n° ?1 : racontez-nous' | head -1)
grep -q "^From: .*<bulletin@$bdom>" "$call" || fail "call not from bulletin@"
text "$call" >"$work/t"; grep -q "18 février 2026" "$work/t" || fail "call does not give the deadline"
ok "the call for contributions reaches the 40 contacts once each, from bulletin@, with the deadline"
once
[ "$(ls "$work/sink" | wc -l)" -eq 40 ] || fail "the call was sent twice"
ok "a second run sends no second call"

# 2. Reports from seven senders: by LMTP (swaks) and by mlistctl inject.
"$build/mlistd" -c "$work/mlistd.conf" -f 2>>"$work/daemon.log" &
dpid=$!; pids="$pids $dpid"
wait_port "$lmtp_port"
inject() {	# inject FROM FILE
    ctl inject --rcpt "bulletin@$bdom" --sender "$1" <"$2" || fail "inject $2"
}
photo=$(base64 -w 76 "$top/tests/data/bulletin/photo.jpg")
# a one-page PDF flyer (made here: the archive must hold it byte for byte)
printf '%%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/MediaBox[0 0 595 842]/Parent 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%%%EOF\n' >"$work/flyer.pdf"
flyer64=$(base64 -w 76 "$work/flyer.pdf")
# a. Rennes: a JPEG photo and a signature with a phone number, by LMTP.
cat >"$work/rennes.eml" <<MSG
From: Anne Le Goff <anne.legoff@rennes.example.org>
To: bulletin@$bdom
Subject: =?UTF-8?Q?Atelier_v=C3=A9lo_au_march=C3=A9?=
Date: Sat, 10 Jan 2026 18:00:00 +0100
Message-ID: <rennes-1@rennes.example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b-rennes"

--b-rennes
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Samedi 10 janvier, le comité a tenu un atelier de réparation de vélos
devant le marché des Lices. Trente personnes sont venues.

-- 
Anne Le Goff
06 12 34 56 78

--b-rennes
Content-Type: image/jpeg; name="atelier.jpg"
Content-Disposition: attachment; filename="atelier.jpg"
Content-Transfer-Encoding: base64

$photo
--b-rennes
Content-Type: application/pdf; name="tract-atelier.pdf"
Content-Disposition: attachment; filename="tract-atelier.pdf"
Content-Transfer-Encoding: base64

$flyer64
--b-rennes
Content-Type: application/pdf; name="programme.pdf"
Content-Disposition: attachment; filename="programme.pdf"

<html><script>alert(1)</script>not a PDF</html>
--b-rennes--
MSG
lmtp anne.legoff@rennes.example.org "bulletin@$bdom" --data "$work/rennes.eml"
# b. Lyon: HTML only, as Gmail writes it, quoting the call.
cat >"$work/lyon.eml" <<MSG
From: =?UTF-8?Q?S=C3=A9bastien_Blanc?= <sebastien.blanc@lyon.example.org>
To: bulletin@$bdom
Subject: Re: Collecte de jouets
Date: Mon, 12 Jan 2026 09:30:00 +0100
Message-ID: <CAF-lyon-1@mail.gmail.example.org>
MIME-Version: 1.0
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

<div dir=3D"ltr"><div>Le comit=C3=A9 de Lyon a organis=C3=A9 une <b>collect=
e de jouets</b> pour les enfants du quartier.</div><ul><li>120 jouets recue=
illis</li><li>15 b=C3=A9n=C3=A9voles</li></ul><div>Le programme : <a href=
=3D"https://lyon.example.org/collecte">notre site</a></div></div><br><div c=
lass=3D"gmail_quote"><div dir=3D"ltr" class=3D"gmail_attr">Le jeu. 8 janv. =
2026 =C3=A0 10:00, National &lt;<a href=3D"mailto:bulletin@$bdom">=
bulletin@$bdom</a>&gt; a =C3=A9crit=C2=A0:<br></div><blockquote c=
lass=3D"gmail_quote" style=3D"margin:0px 0px 0px 0.8ex;border-left:1px soli=
d rgb(204,204,204);padding-left:1ex">Bonjour,<br>Une r=C3=A9union, une f=C3=
=AAte, une action, une rencontre : racontez-nous !<br></blockquote></div>
MSG
lmtp sebastien.blanc@lyon.example.org "bulletin@$bdom" --data "$work/lyon.eml"
# c. Albi: plain text by LMTP (accepted later by the editor's email).
printf 'From: pascal.moreau@albi.example.org\nTo: bulletin@%s\nSubject: Galette des rois\nDate: Sun, 11 Jan 2026 17:00:00 +0100\n\nLa galette des rois a rassemblé quarante adhérents à la salle des fêtes.\n' \
    "$bdom" >"$work/albi.eml"
lmtp pascal.moreau@albi.example.org "bulletin@$bdom" --data "$work/albi.eml"
sleep 1
kill "$dpid"; wait "$dpid" 2>/dev/null
grep -q "stopping signal=15" "$work/daemon.log" || fail "the daemon did not stop cleanly"
ok "three reports accepted over LMTP (photo, HTML-only, plain)"
# d. Toulouse: ISO-8859-1, raw 8-bit bytes (0xE9 and friends).
printf 'From: =?iso-8859-1?Q?J=E9r=F4me_Morel?= <jerome.morel@toulouse.example.org>\nTo: bulletin@%s\nSubject: Kermesse de janvier\nDate: Sun, 11 Jan 2026 20:00:00 +0100\nMIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\nNotre kermesse a r\351uni les familles du quartier.\nLes b\351n\351voles ont pr\351par\351 des cr\352pes.\n' \
    "$bdom" >"$work/toulouse.eml"
inject jerome.morel@toulouse.example.org "$work/toulouse.eml"
# e. Lille: a reply quoting the call, "Le ... a écrit :" then "> " lines.
{
    printf 'From: Camille Moreau <camille.moreau@lille.example.org>\nTo: bulletin@%s\n' "$bdom"
    printf 'Subject: Re: Bulletin n°1 : racontez-nous la vie de votre comité\n'
    printf 'In-Reply-To: %s\n' "$(grep -i '^Message-Id:' "$call" | cut -d' ' -f2)"
    printf 'Date: Tue, 13 Jan 2026 08:15:00 +0100\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n'
    printf 'Nous avons fait un pique-nique au parc de la Citadelle, sous le soleil.\n\n'
    printf 'Le jeu. 15 janv. 2026 à 10:00, National <bulletin@%s> a écrit :\n' "$bdom"
    text "$call" | sed 's/^/> /'
} >"$work/lille.eml"
inject camille.moreau@lille.example.org "$work/lille.eml"
# f. Brest: plain text (rejected later).
printf 'From: denis.moreau@brest.example.org\nTo: bulletin@%s\nSubject: Vente de calendriers\nDate: Wed, 14 Jan 2026 12:00:00 +0100\n\nNos calendriers sont en vente au local.\n' \
    "$bdom" >"$work/brest.eml"
inject denis.moreau@brest.example.org "$work/brest.eml"
# g. The national office is no committee contact: held for an editor.
printf 'From: bureau@national.example.org\nTo: bulletin@%s\nSubject: Mot du bureau\nDate: Wed, 14 Jan 2026 12:30:00 +0100\n\nLe bureau salue les comités.\n' \
    "$bdom" >"$work/bureau.eml"
inject bureau@national.example.org "$work/bureau.eml"
expect_rc 0 "mlistd --once takes the injected reports" once
wait_files "$work/sink" 48	# 40 calls, 6 acknowledgements, 1 hold notice, 1 digest
index

# 3. Each sender gets an acknowledgement from bulletin@ showing the title and the text.
ack() {	# ack RCPT TITLE: the one acknowledgement, checked, its text in $work/t
    f=$(with "^Compte rendu reçu : $2\$" "$1")
    [ "$(echo "$f" | grep -c .)" -eq 1 ] || fail "$1: $(echo "$f" | grep -c .) acknowledgements for '$2'"
    grep -q "^From: .*<bulletin@$bdom>" "$f" || fail "$1: acknowledgement not from bulletin@"
    grep -q '^X-Mail-Args: <>' "$f" || fail "$1: acknowledgement not from <>"
    text "$f" >"$work/t"
}
ack anne.legoff@rennes.example.org "Atelier vélo au marché"
grep -q "atelier de réparation de vélos" "$work/t" || fail "rennes ack text"
grep -q "atelier.jpg" "$work/t" || fail "rennes ack does not list the photo"
! grep -q "06 12 34 56 78" "$work/t" || fail "rennes ack keeps the signature"
ack sebastien.blanc@lyon.example.org "Collecte de jouets"
grep -q "collecte de jouets" "$work/t" && grep -q "15 bénévoles" "$work/t" || fail "lyon ack text"
! grep -q "a écrit\|racontez-nous !" "$work/t" || fail "lyon ack keeps the Gmail quote"
ack pascal.moreau@albi.example.org "Galette des rois"
ack jerome.morel@toulouse.example.org "Kermesse de janvier"
grep -q "Les bénévoles ont préparé des crêpes" "$work/t" || fail "toulouse ack: latin-1 not decoded"
# a reply to the call: not titled with the call's subject
ack camille.moreau@lille.example.org "Compte rendu — Lille"
grep -q "pique-nique au parc de la Citadelle" "$work/t" || fail "lille ack text"
! grep -q "a écrit\|Une réunion, une fête" "$work/t" || fail "lille ack keeps the quoted call"
ack denis.moreau@brest.example.org "Vente de calendriers"
ok "six acknowledgements from bulletin@ (<>) with the title and the trimmed, decoded text"
held=$(with '^Compte rendu en attente : Mot du bureau$' bureau@national.example.org)
[ -n "$held" ] || fail "the national office is not told its report is held"
ok "a report from outside the committees is held and its sender told"

# 4. The submissions, with the right committees.
ctl bulletin submissions >"$work/subs" || fail "bulletin submissions"
sub() {	# sub VAR SLUG TITLE: VAR = the id of the one new submission TITLE from SLUG
    id=$(grep "^[0-9]* *nouveau .* $2 .* $3" "$work/subs" | awk '{print $1}')
    [ "$(echo "$id" | grep -c .)" -eq 1 ] || { cat "$work/subs"; fail "no single submission '$3' from $2"; }
    printf -v "$1" '%s' "$id"
}
sub s_rennes rennes "Atelier vélo"
sub s_lyon lyon "Collecte de jouets"
sub s_albi albi "Galette des rois"
sub s_toulouse toulouse "Kermesse de janvier"
sub s_lille lille "Compte rendu — Lille"
sub s_brest brest "Vente de calendriers"
grep " en attente .*bureau@national.example.org .*Mot du bureau" "$work/subs" >/dev/null || { cat "$work/subs"; fail "held report"; }
grep -q "^$s_rennes .* 1  *Atelier" "$work/subs" || { cat "$work/subs"; fail "photo count"; }
[ "$(grep -c ' nouveau ' "$work/subs")" -eq 6 ] || { cat "$work/subs"; fail "states"; }
ok "bulletin submissions: six new ones with their committees, the photo counted, one held"

# 5. The editor's decisions: mlistctl, and by email.
for s in $s_rennes $s_lyon $s_toulouse $s_lille; do
    expect_rc 0 "bulletin accept $s" ctl bulletin accept "$s"
done
expect_rc 0 "bulletin reject $s_brest" ctl bulletin reject "$s_brest"
# bulletin edit: $EDITOR gets "title, blank line, text"; here it appends to the title.
EDITOR='sed -i -e 1s/$/\ au\ village/' ctl bulletin edit "$s_toulouse" >/dev/null || fail "bulletin edit"
ctl bulletin submissions >"$work/subs"
grep -q "^$s_toulouse .*Kermesse de janvier au village" "$work/subs" || { cat "$work/subs"; fail "edit not applied"; }
ok "bulletin edit through \$EDITOR changes the title"
printf 'From: Rédaction <redaction@example.org>\nTo: bulletin@%s\nSubject: Re: Bulletin : contributions à relire\nDate: Thu, 15 Jan 2026 09:00:00 +0100\n\nACCEPTER %s\n\n-- \nLa rédaction\n' \
    "$bdom" "$s_albi" >"$work/editor.eml"
inject redaction@example.org "$work/editor.eml"
once
wait_files "$work/sink" 49
index
# Without a DKIM proof the editor is asked to confirm by reply first.
ask=$(with '^Bulletin.: confirmez vos commandes' redaction@example.org)
[ "$(echo "$ask" | grep -c .)" -eq 1 ] || fail "no confirmation request for the editor"
ctl bulletin submissions --all | grep -q "^$s_albi  *accepté" && fail "applied before the confirmation"
confirm=$(grep -i '^Reply-To:' "$ask" | grep -o 'confirm+[0-9a-f]*@[^> ]*')
[ -n "$confirm" ] || fail "no confirm+TOKEN@ Reply-To"
printf 'From: redaction@example.org\nTo: %s\nSubject: Re: Bulletin\n\nOui\n' "$confirm" |
    ctl inject --rcpt "$confirm" --sender redaction@example.org || fail "inject confirmation"
once
wait_files "$work/sink" 50
index
res=$(with '^Bulletin.: résultat' redaction@example.org)
[ "$(echo "$res" | grep -c .)" -eq 1 ] || fail "no single result mail for the editor"
text "$res" >"$work/t"
grep -q "^ACCEPTER $s_albi.: fait" "$work/t" || { cat "$work/t"; fail "the result does not say ACCEPTER $s_albi : fait"; }
ctl bulletin submissions --all >"$work/subs"
grep -q "^$s_albi  *accepté" "$work/subs" || { cat "$work/subs"; fail "ACCEPTER by email not applied"; }
grep -q "^$s_brest  *refusé" "$work/subs" || { cat "$work/subs"; fail "reject not applied"; }
[ "$(grep -c ' accepté ' "$work/subs")" -eq 5 ] || { cat "$work/subs"; fail "accepted count"; }
! grep -q "redaction@example.org" "$work/subs" || { cat "$work/subs"; fail "the editor's command mail became a submission"; }
ok "ACCEPTER by email: applied, answered to the editor, not a submission"

# 6. The proof: to the editor only, text and HTML with the photo inline.
expect_rc 0 "bulletin proof 1" ctl bulletin proof 1
before=$(ls "$work/sink" | wc -l)
once
wait_files "$work/sink" $((before + 1))
index
proof=$(with '^.ÉPREUVE. National — Bulletin n° 1,')
[ "$(echo "$proof" | grep -c .)" -eq 1 ] || fail "$(echo "$proof" | grep -c .) proofs"
grep -q "^X-Rcpt-Args: <redaction@example.org>" "$proof" || fail "proof not to the editor"
sleep 0.5
[ "$(ls "$work/sink" | wc -l)" -eq $((before + 1)) ] || fail "the proof went to others"
mailpy "$proof" <<'PY' || fail "proof structure"
m = load(sys.argv[1])
types = types(m)
assert m.is_multipart(), types
assert "multipart/alternative" in types and "text/plain" in types and "text/html" in types, types
assert "image/jpeg" in types, types
PY
mailpy "$proof" <<'PY' || fail "the proof is not visibly a proof"
import html.parser
raw = open(sys.argv[1], "rb").read()
m = load(sys.argv[1])
hdr = raw.split(b"\r\n\r\n", 1)[0]
assert b"\nSubject: =?" in hdr, hdr.decode("latin-1")
assert all(c < 128 for c in hdr), "8-bit header"
assert m["Subject"].startswith("[ÉPREUVE] "), m["Subject"]
assert [a.addr_spec for a in m["To"].addresses] == ["redaction@example.org"], m["To"]
assert [a.addr_spec for a in m["Reply-To"].addresses] == ["bulletin@comites.example.org"], m["Reply-To"]
for h in ("List-Unsubscribe", "List-Post", "List-Id", "List-Help", "Precedence"):
    assert m[h] is None, (h, m[h])
want = "ÉPREUVE — envoyée aux rédacteurs seulement (redaction@example.org)"
text = plain(m)
assert text.startswith(want), text[:200]
assert "PUBLIER 1\n" in text.split("\n\n")[0] + "\n", text[:300]
class Body(html.parser.HTMLParser):
    inbody, words = False, []
    def handle_starttag(self, tag, a): self.inbody |= tag == "body"
    def handle_data(self, d):
        if self.inbody and d.strip(): self.words.append(d.strip())
b = Body(); b.feed(m.get_body(("html",)).get_content())
first = " ".join(b.words[:6])
assert first.startswith("ÉPREUVE — envoyée aux rédacteurs seulement (redaction@example.org)"), first
assert "PUBLIER 1" in first, first
PY
text "$proof" >"$work/t"
grep -q "Kermesse de janvier" "$work/t" && ! grep -q "Vente de calendriers" "$work/t" || fail "proof content"
ok "the proof reaches the editor only: multipart/alternative, text/html, the photo inline"
ok "the proof is a proof: [ÉPREUVE] (RFC 2047), To the editor, no List-*, first line of text and HTML says to whom and PUBLIER 1"

# 7. Publication: every contact once; the archive holds exactly the accepted texts.
expect_rc 0 "bulletin publish 1" ctl bulletin publish 1
before=$(ls "$work/sink" | wc -l)
once
wait_files "$work/sink" $((before + 40))
sleep 0.5
index
pub=$(with '^National — Bulletin n° 1,')
[ "$(echo "$pub" | grep -c .)" -eq 40 ] || fail "$(echo "$pub" | grep -c .) copies of the bulletin, wanted 40"
for c in $contacts; do [ "$(with '^National — Bulletin n° 1,' "$c" | wc -l)" -eq 1 ] || fail "$c: no bulletin"; done
mailpy "$(echo "$pub" | head -1)" <<'PY' || fail "bulletin mail structure"
m = load(sys.argv[1])
types = types(m)
assert "text/plain" in types and "text/html" in types and "image/jpeg" in types, types
assert m["List-Unsubscribe"] and "bulletin@" in m["From"], (m["From"], m["List-Unsubscribe"])
PY
mailpy "$(echo "$pub" | head -1)" <<'PY' || fail "the publication carries the proof's marks"
m = load(sys.argv[1])
assert "ÉPREUVE" not in m["Subject"], m["Subject"]
assert [a.addr_spec for a in m["To"].addresses] == ["national@comites.example.org"], m["To"]
assert m["List-Id"] and m["Precedence"] == "list", (m["List-Id"], m["Precedence"])
assert m["Reply-To"].addresses[0].addr_spec.startswith("retour+"), m["Reply-To"]
for t in ("plain", "html"):
    body = m.get_body((t,)).get_content()
    assert "ÉPREUVE" not in body and "PUBLIER" not in body and "rédacteurs seulement" not in body, t
PY
[ "$(with '^National — Bulletin n° 1,' redaction@example.org | wc -l)" -eq 0 ] || fail "the editor, no contact, got the bulletin"
ok "the bulletin reaches the 40 contacts, once each, from bulletin@, text + HTML + photo"
arch="$work/data/archive"
for f in bulletin-1.html bulletin-1.txt bulletin-1.pdf; do [ -s "$arch/$f" ] || fail "no $f"; done
[ "$(head -c 4 "$arch/bulletin-1.pdf")" = "%PDF" ] || fail "bulletin-1.pdf is no PDF"
ok "archive: bulletin-1.html, .txt and .pdf (a PDF) written"
img=$(grep -o 'src="[^"]*"' "$arch/bulletin-1.html" | head -1 | sed 's/src="//; s/"$//')
[ -n "$img" ] && [ "$(identify -format '%m %wx%h' "$arch/$img")" = "JPEG 48x32" ] || fail "photo '$img' not beside the HTML"
for f in "$arch"/bulletin-1.html "$arch"/bulletin-1.txt "$arch"/bulletin-1.pdf "$arch/$img"; do
    [ "$(stat -c %a "$f")" = 644 ] || fail "$f: mode $(stat -c %a "$f"), wanted 644 (readable by a web server)"
done
[ "$(stat -c %a "$arch/bulletin-1")" = 755 ] || fail "bulletin-1/: mode $(stat -c %a "$arch/bulletin-1")"
[ -z "$(exiftool -q -s -EXIF:all -XMP:all "$arch/$img")" ] || fail "photo '$img' keeps its metadata"
ok "the photo is beside the HTML ($img, a JPEG rendition); every archive file has mode 0644"
# The PDF flyer of Rennes: beside the page as received, linked from it by
# its name; named in the text archive; the archive directory is 0755. Its
# forged twin (HTML declared application/pdf) is kept for the editors only:
# exactly one link, one .pdf in the archive.
python3 - "$arch/bulletin-1.html" "$work/flyer.pdf" <<'PY' || fail "the flyer in the archive"
import html.parser, os, sys
page, flyer = sys.argv[1], open(sys.argv[2], "rb").read()
links = []
class P(html.parser.HTMLParser):
    href = None
    def handle_starttag(self, tag, attrs):
        if tag == "a": self.href = dict(attrs).get("href")
    def handle_data(self, data):
        if self.href and self.href.endswith(".pdf"): links.append((self.href, data))
    def handle_endtag(self, tag):
        if tag == "a": self.href = None
P().feed(open(page, encoding="utf-8").read())
assert [t for _, t in links] == ["tract-atelier.pdf"], links
f = os.path.join(os.path.dirname(page), links[0][0])
assert open(f, "rb").read() == flyer, "the archived flyer differs"
assert oct(os.stat(f).st_mode & 0o777) == "0o644", oct(os.stat(f).st_mode)
pdfs = [n for n in os.listdir(os.path.dirname(f)) if n.endswith(".pdf")]
assert len(pdfs) == 1, pdfs
PY
grep -q "tract-atelier.pdf (PDF, 1 Ko)" "$arch/bulletin-1.txt" || fail "the text archive does not name the flyer"
[ "$(stat -c %a "$arch")" = 755 ] || fail "archive/: mode $(stat -c %a "$arch")"
ok "the PDF flyer is beside the archive page byte for byte (0644), linked by its name, named in the text"
for f in bulletin-1.html bulletin-1.txt; do
    iconv -f UTF-8 -t UTF-8 "$arch/$f" >/dev/null || fail "$f: not UTF-8"
    for t in "Atelier vélo au marché" "Collecte de jouets" "Galette des rois" "Kermesse de janvier au village" \
        "Compte rendu — Lille" "atelier de réparation de vélos" \
        "15 bénévoles" "pique-nique au parc de la Citadelle" "Notre kermesse a réuni les familles" \
        "Les bénévoles ont préparé des crêpes" "rassemblé quarante adhérents"; do
        grep -q "$t" "$arch/$f" || fail "$f: no '$t'"
    done
    for t in "Vente de calendriers" "calendriers" "Mot du bureau" "06 12 34 56 78" "a écrit" \
        "Une réunion, une fête" "racontez-nous !" "ACCEPTER"; do
        ! grep -q "$t" "$arch/$f" || fail "$f: '$t' should not be there"
    done
done
grep -q "Comptes rendus.*: 5 " "$arch/bulletin-1.txt" || fail "entry count"
grep -q "lyon.example.org/collecte" "$arch/bulletin-1.txt" || fail "the HTML link was lost"
ok "archive HTML and text: exactly the 5 accepted texts, trimmed, latin-1 as UTF-8"
# page SOURCE NPHOTOS TEXT...: parse the archive page (a file) or the HTML part
# of a mail (mail:FILE) as a browser would: the doctype first, no template
# markup, every TEXT in the visible text, exactly NPHOTOS images, each one
# found (beside the page, or as an inline part of the mail).
page() {
    mailpy "$@" <<'PY'
import html.parser
src, nphotos, texts = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
cids = {}
if src.startswith("mail:"):
    m = load(src[5:])
    parts = [p for p in m.walk() if p.get_content_type() == "text/html"]
    assert len(parts) == 1, "%d HTML parts" % len(parts)
    doc = parts[0].get_payload(decode=True).decode(parts[0].get_content_charset())
    for p in m.walk():
        if p["Content-ID"]:
            cids[p["Content-ID"].strip("<>")] = p.get_payload(decode=True)
    base = None
else:
    doc = open(src, encoding="utf-8").read()
    base = os.path.dirname(src)
assert doc.startswith("<!DOCTYPE html>"), "before the doctype: %r" % doc[:80]
assert "{{" not in doc and "}}" not in doc, "template markup left"
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.text = []; self.imgs = []; self.skip = 0
    def handle_starttag(self, tag, attrs):
        if tag in ("style", "title"): self.skip += 1
        if tag == "img": self.imgs.append(dict(attrs)["src"])
    def handle_endtag(self, tag):
        if tag in ("style", "title"): self.skip -= 1
    def handle_data(self, d):
        if not self.skip: self.text.append(d)
p = P(); p.feed(doc); p.close()
text = " ".join(" ".join(p.text).split())
for t in texts:
    assert t in text, "text missing: %r" % t
assert len(p.imgs) == nphotos, "%d images, wanted %d" % (len(p.imgs), nphotos)
for s in p.imgs:
    if base is None:
        assert s.startswith("cid:") and s[4:] in cids, "image %s not in the mail" % s
    else:
        assert os.path.getsize(os.path.join(base, s)) > 0, s
PY
}
accepted=("Atelier vélo au marché" "Collecte de jouets" "Galette des rois" "Kermesse de janvier au village"
    "atelier de réparation de vélos" "15 bénévoles" "pique-nique au parc de la Citadelle"
    "Notre kermesse a réuni les familles" "rassemblé quarante adhérents")
page "$arch/bulletin-1.html" 1 "${accepted[@]}" || fail "the archive page"
page "mail:$(echo "$pub" | head -1)" 1 "${accepted[@]}" || fail "the bulletin mail's HTML part"
page "mail:$proof" 1 "${accepted[@]}" || fail "the proof's HTML part"
ok "archive page, bulletin and proof HTML parsed: doctype first, no template markup, the 5 texts, the 1 photo"
# 7b. The publication is a tracked mailing; replies to it reach the office.
ctl bulletin show 1 >"$work/out" 2>&1
expect_out "publication, .*envoyés 40, en attente 0, refusés 0" "bulletin show counts the 40 copies sent"
first=$(echo "$pub" | head -1)
rt=$(echo 'm = load(sys.argv[1]); print(str(m["Reply-To"]).strip(), str(m["Message-ID"]).strip())' | mailpy "$first")
reply_to=${rt% *}; bmid=${rt#* }
case "$reply_to" in retour+*@$bdom) ;; *) fail "the bulletin's Reply-To is '$reply_to'";; esac
[ -n "$(ls "$work/data/mailings/" 2>/dev/null)" ] || fail "no stored body in data/mailings"
[ "$(ls "$work/data/mailings/" | wc -l)" -le 2 ] || fail "more than the proof and the publication stored"
ok "the bulletin carries Reply-To $reply_to; its body is stored once, as a file"
thanks() {	# thanks RCPT SUBJECT: a member's reply to the bulletin
    printf 'From: Anne Le Goff <anne.legoff@rennes.example.org>\nTo: %s\nCc: national@%s\nSubject: %s\nMessage-ID: <thanks-%s@rennes.example.org>\nIn-Reply-To: %s\nReferences: %s\nDate: Tue, 03 Mar 2026 09:00:00 +0100\n\nMerci pour ce bulletin !\n' \
        "$1" "$bdom" "$2" "$3" "$bmid" "$bmid" >"$work/thanks.eml"
}
# Reply-All: one copy to retour+TOKEN@, one to national@ (same Message-ID).
thanks "$reply_to" "Re: National — Bulletin n° 1" all
ctl inject --rcpt "$reply_to" --sender anne.legoff@rennes.example.org <"$work/thanks.eml" || fail "inject reply"
ctl inject --rcpt "national@$bdom" --sender anne.legoff@rennes.example.org <"$work/thanks.eml" || fail "inject reply-all"
# A client that ignores Reply-To: the thanks reaches bulletin@.
thanks "bulletin@$bdom" "Re: National — Bulletin n° 1" bulletin
ctl inject --rcpt "bulletin@$bdom" --sender anne.legoff@rennes.example.org <"$work/thanks.eml" || fail "inject reply to bulletin@"
before=$(ls "$work/sink" | wc -l)
mark=$(wc -l <"$work/daemon.log")
once
sleep 0.5
index
tail -n +$((mark + 1)) "$work/daemon.log" >"$work/replies.log"
fw=$(with '^\[Rennes\] Re: National — Bulletin n° 1$')
[ "$(echo "$fw" | grep -c .)" -eq 2 ] || { cat "$work/replies.log"; fail "$(echo "$fw" | grep -c .) forwards of the thanks, wanted 2 (retour and bulletin@; the Reply-All copy once)"; }
grep -q "^X-Rcpt-Args: <bureau@national.example.org>" $fw || fail "the thanks did not reach the office"
[ -z "$(with 'refus|Refus|non distribu' anne.legoff@rennes.example.org)" ] || fail "the member got a refusal"
grep -q 'status=dropped reason="duplicate' "$work/replies.log" || fail "the Reply-All copy was not recognised"
ctl bulletin submissions 2 --all >"$work/subs" 2>&1; ctl bulletin submissions 1 --all >>"$work/subs" 2>&1
! grep -q "Merci\|Re: National" "$work/subs" || { cat "$work/subs"; fail "the thanks became a report"; }
ok "a reply to the bulletin reaches the office once (Reply-All too), is never a report nor refused"

# 7c. A relay that refuses every copy (5xx at the end of data): counted,
# the editors told once, and the refused copies sent again later.
stop_sink
start_sink "$sink_port" "$work/sink" -f .
expect_rc 0 "bulletin resend 1 (every copy)" ctl bulletin resend 1
mark=$(wc -l <"$work/daemon.log")
once; once
tail -n +$((mark + 1)) "$work/daemon.log" >"$work/refused.log"
grep -q "mailing=publication sent=0 deferred=0 failed=40 editors=1 .*status=reported" "$work/refused.log" || { cat "$work/refused.log"; fail "the editors were not told of the 40 refusals"; }
[ "$(grep -c 'status=reported' "$work/refused.log")" -eq 1 ] || fail "refusals reported more than once"
ctl bulletin show 1 >"$work/out" 2>&1; expect_out "publication, .*envoyés 0, en attente 0, refusés 40" "bulletin show: 40 refused"
stop_sink
start_sink "$sink_port" "$work/sink"
before=$(ls "$work/sink" | wc -l)
expect_rc 0 "bulletin resend 1 --failed" ctl bulletin resend 1 --failed
expect_out "40 exemplaire" "resend queues the 40 refused copies"
once
wait_files "$work/sink" $((before + 40))
ctl bulletin show 1 >"$work/out" 2>&1; expect_out "publication, .*envoyés 40, en attente 0, refusés 0" "after the resend, the 40 copies are sent"
ctl search kermesse >"$work/out" 2>&1; expect_out "Kermesse de janvier" "search finds an accepted text"
ctl search calendriers >"$work/out" 2>&1; expect_out "aucun résultat" "search does not find the rejected text"

# 8. Malformed MIME to bulletin@ (issue 2 open): no crash, no hang, each handled.
MLISTD_NOW=$(date -d '2026-03-15 10:00' +%s)
once || fail "opening issue 2"
ctl bulletin show 2 >"$work/out" 2>&1; expect_out "état *ouvert" "issue 2 is open"
n=0; refused=0
for f in "$top"/tests/data/malformed-mime/testmsgs/*.msg "$top"/tests/data/malformed-mime/mimetools-testmsgs/*.msg; do
    c=$(echo "$contacts" | sed -n "$((n % 40 + 1))p")
    ctl inject --rcpt "bulletin@$bdom" --sender "$c" <"$f" 2>>"$work/inject.err"; rc=$?
    case $rc in 0) ;; 65) refused=$((refused + 1)) ;; *) fail "inject $(basename "$f"): exit $rc" ;; esac
    n=$((n + 1))
done
mark=$(wc -l <"$work/daemon.log")
expect_rc 0 "one mlistd --once over $n malformed messages ($refused refused by inject)" once
tail -n +$((mark + 1)) "$work/daemon.log" >"$work/mal.log"
spool="$work/data/spool"
[ -z "$(find "$spool/incoming" "$spool/active" -type f)" ] || fail "messages left in spool/incoming or spool/active"
! grep -qi "status=tempfail\|sanitizer\|runtime error\|assertion\|segmentation\|core dumped" "$work/daemon.log" || fail "trouble in the log"
ok "spool/incoming and spool/active are empty, no tempfail or crash in the log"
handled=$(grep -o "spoolid=[^ ]* \(submission=\|sender=[^ ]* status=dropped\|status=corrupt\)" "$work/mal.log" \
    | cut -d' ' -f1 | sort -u | wc -l)
nsub=$(grep -c "report spoolid=.* submission=" "$work/mal.log")
ncorrupt=$(ls "$spool/corrupt" | wc -l)
[ "$ncorrupt" -eq "$(grep -c 'status=corrupt' "$work/mal.log")" ] || fail "corrupt files and log lines differ"
[ "$handled" -eq $((n - refused)) ] || fail "$handled of $((n - refused)) messages accounted for"
ctl bulletin submissions 2 --all >"$work/subs" || fail "submissions of issue 2"
[ "$(tail -n +3 "$work/subs" | grep -c .)" -eq "$nsub" ] || { cat "$work/subs"; fail "submissions listed"; }
ok "each of the $n messages accounted for: $nsub submissions or holds, $ncorrupt corrupt, $((handled - nsub - ncorrupt)) dropped, $refused refused"
finish
