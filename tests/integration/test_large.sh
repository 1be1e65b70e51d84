#!/bin/bash
# Large messages leave byte for byte (issue 12, case 8): a broadcast of about
# 32 MB (four binary attachments of 6 MB, base64) to the four contacts of
# Rennes over three connections to Postfix's smtp-sink; every copy is parsed
# as MIME and each attachment decoded and compared with the original bytes.
# (The sizes around the 256 KB gathering limit are in tests/unit/test_relay.c.)
. "$(dirname "$0")/lib.sh"
sink_port=$(free_port)
write_conf "smtp_relay = 127.0.0.1:$sink_port" "approve_password = s3cret" \
    "message_size_limit = 60M" "smtp_connections = 3" "bulletin_anchor = 2099-01-01" \
    "dmarc_mitigation = none" "retry_min = 60s"
ctl init >/dev/null && ctl committee import "$top/contrib/demo-roster.csv" >/dev/null || fail setup
ctl sender add bureau@national.example.org --role national >/dev/null || fail sender
start_sink "$sink_port" "$work/sink"

# The message and the SHA-256 of each attachment (name sha256 per line).
python3 - "$work" <<'PY' || fail "making the message"
import hashlib, os, sys
from email.message import EmailMessage
work = sys.argv[1]
m = EmailMessage()
m["From"] = "Bureau national <bureau@national.example.org>"
m["To"] = "national+rennes@comites.example.org"
m["Subject"] = "Dossiers de l'assemblée"
m["Approved"] = "s3cret"
m.set_content("Bonjour,\n\nles dossiers sont joints.\n")
with open(os.path.join(work, "parts.txt"), "w") as sums:
    for i in range(4):
        data = os.urandom(6 * 1000 * 1000)
        name = "dossier-%d.bin" % i
        m.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
        sums.write("%s %s\n" % (name, hashlib.sha256(data).hexdigest()))
with open(os.path.join(work, "big.eml"), "wb") as f:
    f.write(bytes(m))
PY
size=$(stat -c %s "$work/big.eml")
[ "$size" -ge $((30 * 1024 * 1024)) ] || fail "the message is only $size bytes"
ok "a message of $size bytes with four 6 MB binary attachments"

ctl inject --rcpt national+rennes@comites.example.org --sender bureau@national.example.org \
    < "$work/big.eml" || fail inject
once || fail "mlistd --once"
wait_files "$work/sink" 4 60
sleep 1
[ "$(ls "$work/sink" | wc -l)" -eq 4 ] || fail "$(ls "$work/sink" | wc -l) copies, wanted 4"
[ "$(sqlite3 "$work/data/mlistd.db" "SELECT count(*) FROM delivery WHERE state = 'sent'")" -eq 4 ] ||
    fail "not every delivery recorded 'sent'"
ok "four copies at the sink, four deliveries 'sent'"

# Every copy: the four attachments decode to the original bytes.
mailpy "$work" <<'PY' || fail "a copy differs from the original"
import hashlib
work = sys.argv[1]
want = dict(l.split() for l in open(os.path.join(work, "parts.txt")))
bad = 0
for f, raw, msg in mails(os.path.join(work, "sink")):
    got = {}
    for part in msg.iter_attachments():
        data = part.get_payload(decode=True)
        got[part.get_filename()] = hashlib.sha256(data).hexdigest()
    if got != want:
        bad += 1
        broken = [n for n in want if got.get(n) != want[n]]
        print("%s: %d bytes, attachments differing: %s" % (f, len(raw), broken))
sys.exit(1 if bad else 0)
PY
ok "each copy's four attachments decode to the original bytes"
finish
