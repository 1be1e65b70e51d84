#!/bin/bash
# Issue 11, cases 1, 2 and 7 end to end (mlistctl inject, mlistd --once,
# Postfix's smtp-sink as the relay): forged Authentication-Results never
# broadcast; the Approved secret ("s3&cr<et", which HTML escapes) is in no
# part of any relayed copy, whatever the encoding; a message where it still
# appears is held; header lines over 998 bytes are folded, a 1 MB header
# is refused with a notice to its (national) author.
. "$(dirname "$0")/lib.sh"
sink_port=$(free_port)
write_conf "smtp_relay = 127.0.0.1:$sink_port" "approve_password = s3&cr<et" \
    "trusted_authserv_ids = mx.example.org" "dmarc_mitigation = none" "bulletin_anchor = 2099-01-01"
printf 'comité;région;département;nom;courriel;tags\nBrest;Bretagne;29;Anne Le Goff;anne@brest.example.org;\nBrest;Bretagne;29;Bernard Roux;bernard@brest.example.org;\n' >"$work/roster.csv"
ctl init >/dev/null && ctl committee import "$work/roster.csv" >/dev/null || fail setup
ctl sender add bureau@national.example.org --role national >/dev/null || fail sender
start_sink "$sink_port" "$work/sink"
inject() { ctl inject --rcpt national@comites.example.org --sender bureau@national.example.org || fail "inject $1"; }
sent() { grep -l "^Subject: $1\$" "$work"/sink/* 2>/dev/null | grep -v -c NOTHING; }
export SECRET='s3&cr<et'

# 1. Authentication-Results: three forgeries, then the real thing.
ar() { printf 'Authentication-Results: %s\nFrom: bureau@national.example.org\nTo: national@comites.example.org\nSubject: %s\n\nBonjour.\n' "$1" "$2" | inject "$2"; }
ar 'mx.example.org; dkim=fail (bad sig; dkim=pass header.d=national.example.org) header.d=national.example.org' "Forge commentaire"
ar 'mx.example.org; dkim=pass header.d=attacker.example header.i=@national.example.org' "Forge header.i"
ar 'mx.example.org; dkim=neutral header.d=national.example.org; x-dkim=pass header.d=national.example.org' "Forge x-dkim"
printf 'Authentication-Results: mx.example.org; dkim=fail header.d=national.example.org\nAuthentication-Results: mx.example.org; dkim=pass header.d=national.example.org\nFrom: bureau@national.example.org\nSubject: Forge dessous\n\nBonjour.\n' | inject below
ar 'mx.example.org; dkim=pass (2048-bit key; secure) header.d=national.example.org header.b="Ab+/Cd"' "DKIM valide"

# 2. The secret in every encoding.
cat <<'EOF' | inject amp
From: bureau@national.example.org
Approved: s3&cr<et
Subject: Secret HTML
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="BB"

--BB
Content-Type: text/plain; charset=utf-8

Approved: s3&cr<et

Bonjour à tous.
--BB
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<html><body><p>Approved: <b>s3&amp;</b>cr&=
lt;et</p><p>Bonjour =C3=A0 tous.</p></body></html>
--BB--
EOF
cat <<'EOF' | inject numeric
From: bureau@national.example.org
Subject: Secret numerique
Content-Type: text/html; charset=utf-8

<div>Approved:&nbsp;s3&#38;cr&#x3c;et</div><div>Bonjour à tous.</div>
EOF
cat <<'EOF' | inject base64
From: bureau@national.example.org
Subject: Secret base64
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

QXBwcm92ZWQ6IHMzJmNyPGV0CgpCb25qb3VyIMOgIHRvdXMuCg==
EOF
printf 'From: bureau@national.example.org\nApproved: s3&cr<et\nSubject: Secret latin1\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="MM"\n\n--MM\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\nBonjour \xe0 tous.\n--MM\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\nNote\nApproved: s3&cr<et\nFin\n--MM--\n' | inject latin1
cat <<'EOF' | inject attribute
From: bureau@national.example.org
Approved: s3&cr<et
Subject: Secret attribut
Content-Type: text/html; charset=utf-8

<p>Bonjour <img alt="s3&amp;cr&lt;et" src="cid:x"></p>
EOF

# 7. Header lines: long ones folded, an absurd one refused.
python3 - "$work" <<'EOF'
import sys
w = sys.argv[1]
words = " ".join("mot%d" % i for i in range(600))
run = "".join(chr(97 + i % 26) for i in range(3000))
open(w + "/long.eml", "w").write("From: bureau@national.example.org\nApproved: s3&cr<et\nSubject: Long %s\nX-Run: %s\n\nBonjour.\n" % (words, run))
open(w + "/words", "w").write(words)
open(w + "/huge.eml", "w").write("From: bureau@national.example.org\nApproved: s3&cr<et\nSubject: Enorme\nX-Huge: %s\n\nBonjour.\n" % ("x" * (1 << 20)))
EOF
inject long <"$work/long.eml"
inject huge <"$work/huge.eml"

once || fail "mlistd --once"
[ -n "${KEEP_SINK:-}" ] && cp -r "$work/sink" "$KEEP_SINK"
sleep 1

for s in "Forge commentaire" "Forge header.i" "Forge x-dkim" "Forge dessous"; do
    [ "$(grep -l "^Subject: $s" "$work"/sink/* 2>/dev/null | grep -c -v '^$')" -eq 0 ] || fail "$s was broadcast"
    ctl messages | grep "$s" | grep -q retenu || { ctl messages; fail "$s not held"; }
done
ok "the three forged Authentication-Results and a forged one below ours are held, not broadcast"
grep -q 'proof=dkim' "$work/daemon.log" || fail "no dkim proof logged"
[ "$(grep -l '^Subject: DKIM valide' "$work"/sink/* | wc -l)" -eq 2 ] || fail "the genuine DKIM pass did not reach both contacts"
ok "a genuine trusted dkim=pass (comment with ';', quoted header.b) reaches both contacts"

for s in "Secret HTML" "Secret numerique" "Secret base64" "Secret latin1" "Long mot0"; do
    [ "$(grep -l "^Subject: $s" "$work"/sink/* | wc -l)" -eq 2 ] || fail "$s: not 2 copies"
done
ok "the approved broadcasts reached both contacts"

# Every mail that went out, parsed: no header, no part (decoded, HTML as
# seen, with and without tags) contains the secret; no contact's copy says
# "Approved".
mailpy "$work/sink" <<'EOF' || fail "the secret was relayed"
secret = os.environ["SECRET"]
def squeeze(s):
    return re.sub("[\\s\u00a0\u00ad\u200b-\u200d\u2060\ufeff]", "", s)
bad = 0
for path, raw, msg in mails(sys.argv[1]):
    for t in texts(msg):
        if secret in t or squeeze(secret) in squeeze(t):
            print("secret in", path, subject(msg)[:40], repr(t[:200])); bad += 1
    if b"Approved" in raw and b"brest.example.org>" in raw.split(b"\n\n")[0]:
        print("Approved in", path); bad += 1
sys.exit(1 if bad else 0)
EOF
ok "no relayed copy holds the secret in any header or decoded part (HTML entities, tags, QP, base64, latin-1)"
grep -l '^Subject: Secret HTML' "$work"/sink/* | head -1 | xargs grep -q 'tous' || fail "the text around the secret is gone"
ok "the rest of the text is kept"

[ "$(grep -l '^Subject: Secret attribut' "$work"/sink/* 2>/dev/null | wc -l)" -eq 0 ] || fail "a message still holding the secret was relayed"
ctl messages | grep 'Secret attribut' | grep -q retenu || { ctl messages; fail "not held"; }
grep -q 'reason="the list password is still in the message"' "$work/daemon.log" || fail "no log line"
n=$(mailpy "$work/sink" <<'EOF'
n = 0
for path, raw, msg in mails(sys.argv[1]):
    if "bureau@national.example.org" in rcpt(msg) and msg["Subject"] == "Message non envoyé\u00a0: Secret attribut":
        n += "le mot de passe" in plain(msg) and os.environ["SECRET"] not in plain(msg)
print(n)
EOF
)
[ "$n" -eq 1 ] || fail "the author got $n notices that the password is still in the message"
ok "a message where the secret remains (an HTML attribute) is held, with one log line; its author is told (without the password)"

python3 - "$work/sink" <<'EOF' || fail "a line over 998 bytes went out"
import os, sys
for name in os.listdir(sys.argv[1]):
    for line in open(os.path.join(sys.argv[1], name), "rb").read().split(b"\n"):
        if len(line.rstrip(b"\r")) > 998:
            print(name, len(line)); sys.exit(1)
EOF
ok "every line that went out is at most 998 bytes"
f=$(grep -l '^Subject: \[*.*Long mot0' "$work"/sink/* | head -1)
mailpy "$f" "$work/words" <<'EOF' || fail "the folded subject does not read the same"
want = "Long " + open(sys.argv[2]).read()
sys.exit(0 if load(sys.argv[1])["Subject"].endswith(want) else 1)
EOF
ok "a 5 KB subject is folded at its blanks and reads the same"

[ "$(grep -l -i '^X-Rcpt-Args: <[ab][a-z]*@brest.example.org>' $(grep -l '^Subject: Enorme' "$work"/sink/* 2>/dev/null) /dev/null 2>/dev/null | wc -l)" -eq 0 ] ||
    fail "the 1 MB header was relayed"
ctl messages | grep 'Enorme' | grep -q 'refus' || { ctl messages; fail "not refused"; }
grep -q 'status=refused reason="a header is over 65536 bytes"' "$work/daemon.log" || fail "no log line"
n=$(mailpy "$work/sink" <<'EOF'
n = 0
for path, raw, msg in mails(sys.argv[1]):
    if "bureau@national.example.org" in rcpt(msg) and msg["Subject"].startswith("Message non envoyé\u00a0: Enorme"):
        n += "65536 octets" in plain(msg)
print(n)
EOF
)
[ "$n" -eq 1 ] || fail "the author got $n notices"
ok "a 1 MB header: refused, one log line, one notice to the author"

# 7. The roster: the list's own addresses and control characters refused,
# with a French error (and the CSV line on import), exit 65 (EX_DATAERR).
expect_rc 65 "contact add national+bretagne@ refused" ctl contact add brest national+bretagne@comites.example.org
expect_out "national+bretagne@comites.example.org est une adresse de la liste elle-même" "its French error"
expect_rc 65 "sender add retour+x@ refused" ctl sender add RETOUR+x@Comites.example.org --role national
expect_rc 65 "sender add aide@ as editor refused" ctl sender add aide@comites.example.org --role editor
expect_rc 65 "a contact name with a line feed refused" ctl contact add brest carl@example.org --name "$(printf 'Carl\nBcc: x@example.org')"
expect_out "nom du contact.*caractère de contrôle interdit (U+000A)" "its French error"
expect_rc 65 "a committee name with an escape refused" ctl committee add "$(printf 'Morlaix\033[2J')"
printf 'comité;région;département;nom;courriel\nBrest;Bretagne;29;"Dan\nLe Bris";dan@example.org\nBrest;Bretagne;29;Liste;bulletin@comites.example.org\n' >"$work/bad.csv"
ctl committee import "$work/bad.csv" >"$work/out" 2>&1
grep -q "! ligne 2 : nom du contact.*(U+000A)" "$work/out" && grep -q "! ligne 4 : bulletin@comites.example.org est une adresse de la liste" "$work/out" ||
    { cat "$work/out"; fail "import errors"; }
ctl contact list | grep -q "dan@example.org\|bulletin@" && fail "a refused row was imported"
ok "import: each refused row told with its CSV line, nothing of it imported"
finish
