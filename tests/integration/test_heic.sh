#!/bin/bash
# An iPhone's HEIC photo end to end, with real peers (smtp-sink, the real
# daemon, mlistctl): a HEIC made here with libheif (pixels landscape, an
# irot transform to show them portrait, EXIF Orientation 6, GPS and phone
# model as an iPhone writes them) and the same file cut short are mailed
# to bulletin@. The acknowledgement lists the first as a photo of 300 × 400
# that will appear and says plainly the cut one will not; the published
# bulletin carries exactly one photo, a JPEG upright (portrait, red at the
# top, not turned twice), without EXIF, and so does the archive.
. "$(dirname "$0")/lib.sh"
sink_port=$(free_port)
write_conf "smtp_relay = 127.0.0.1:$sink_port" "bulletin_anchor = 2026-01-01" \
    "queue_run_interval = 1s"
MLISTD_NOW=$(date -d '2026-01-15 10:00' +%s); export MLISTD_NOW
ctl init >/dev/null && ctl committee import "$top/contrib/demo-roster.csv" >/dev/null || fail setup
ctl sender add redaction@example.org --role editor >/dev/null || fail "editor"
start_sink "$sink_port" "$work/sink"
once || fail "mlistd --once (the call)"
wait_files "$work/sink" 40

# The photos: decodable here (libvips' heifload with libheif and libde265)?
vips -l foreign 2>/dev/null | grep -q heifload || fail "this libvips has no HEIF loader (INSTALL: libheif1)"
cc -o "$work/heic_make" "$top/tests/integration/heic_make.c" \
    $(pkg-config --cflags --libs libheif) || fail "cannot build heic_make (libheif-dev)"
"$work/heic_make" "$work/IMG_4021.HEIC" || fail "cannot make the HEIC"
exiftool -q -overwrite_original -n -Orientation=6 -Make=Apple '-Model=iPhone 13' \
    -GPSLatitude=48.1147 -GPSLatitudeRef=N "$work/IMG_4021.HEIC" || fail "exiftool"
[ "$(identify -format '%wx%h' "$work/IMG_4021.HEIC")" = 300x400 ] || fail "the HEIC is not 300x400 as shown"
head -c 700 "$work/IMG_4021.HEIC" >"$work/IMG_4022.HEIC"	# cut short
{
    printf 'From: Anne Le Goff <anne.legoff@rennes.example.org>\nTo: bulletin@comites.example.org\n'
    printf 'Subject: Fête des voisins du 10 janvier\nDate: Wed, 14 Jan 2026 18:00:00 +0100\n'
    printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="B"\n\n'
    printf -- '--B\nContent-Type: text/plain; charset=utf-8\n\nToute la rue était là.\n'
    for n in 4021 4022; do
        printf -- '--B\nContent-Type: image/heic; name="IMG_%s.HEIC"\n' $n
        printf 'Content-Disposition: attachment; filename="IMG_%s.HEIC"\n' $n
        printf 'Content-Transfer-Encoding: base64\n\n'
        base64 -w 76 "$work/IMG_$n.HEIC"
    done
    printf -- '--B--\n'
} >"$work/report.eml"
ctl inject --rcpt bulletin@comites.example.org --sender anne.legoff@rennes.example.org \
    <"$work/report.eml" || fail "inject"
once || fail "mlistd --once (the report)"
wait_files "$work/sink" 41
ack=$(grep -l '^Subject: =?UTF-8?.*\|^Subject: Compte rendu' "$work"/sink/* | xargs grep -l 'X-Rcpt-Args: <anne.legoff@rennes.example.org>' | xargs grep -L 'racontez' | head -1)
[ -n "$ack" ] || fail "no acknowledgement"
mailpy "$ack" <<'PY' || fail "the acknowledgement does not say each photo's fate"
m = load(sys.argv[1])
assert m["Subject"].startswith("Compte rendu reçu"), m["Subject"]
text = plain(m)
def section(head):	# the "- " lines under the first line starting with head
    lines = text.split("\n")
    i = next(k for k, l in enumerate(lines) if l.startswith(head))
    out = []
    for l in lines[i + 1:]:
        if not l.startswith("- "):
            break
        out.append(l)
    return out
assert section("Photos qui paraîtront") == ["- IMG_4021.HEIC (300 × 400)"], section("Photos qui paraîtront")
assert section("(elles sont gardées") == ["- IMG_4022.HEIC"], section("(elles sont gardées")
assert "Images que nous n'avons pas pu lire, qui ne paraîtront pas" in text, text
PY
ok "acknowledgement: IMG_4021.HEIC will appear (300 × 400), IMG_4022.HEIC cannot be read and will not"

ctl bulletin submissions >"$work/subs" || fail "bulletin submissions"
id=$(grep ' rennes .*Fête des voisins' "$work/subs" | awk '{print $1}')
[ -n "$id" ] || { cat "$work/subs"; fail "no submission"; }
expect_rc 0 "bulletin accept $id" ctl bulletin accept "$id"
expect_rc 0 "bulletin proof 1" ctl bulletin proof 1
once || fail "mlistd --once (the proof)"
expect_rc 0 "bulletin publish 1" ctl bulletin publish 1
before=$(ls "$work/sink" | wc -l)
once || fail "mlistd --once (the publication)"
wait_files "$work/sink" $((before + 40))
pub=$(grep -l 'X-Rcpt-Args: <anne.legoff@rennes.example.org>' "$work"/sink/* | xargs grep -l '^List-Unsubscribe' | head -1)
[ -n "$pub" ] || fail "no bulletin for anne.legoff"
# upright PATH WHAT: a JPEG of 300x400, red at the top and blue below, no EXIF
upright() {
    [ "$(identify -format '%m %wx%h' "$1")" = "JPEG 300x400" ] ||
        fail "$2: $(identify -format '%m %wx%h' "$1"), wanted JPEG 300x400"
    top=$(convert "$1" -format '%[fx:int(255*p{150,30}.r)] %[fx:int(255*p{150,30}.b)]' info:)
    bot=$(convert "$1" -format '%[fx:int(255*p{150,370}.r)] %[fx:int(255*p{150,370}.b)]' info:)
    set -- "$1" "$2" $top $bot
    [ "$3" -gt 180 ] && [ "$4" -lt 80 ] && [ "$5" -lt 80 ] && [ "$6" -gt 180 ] ||
        fail "$2: not upright (top r/b $3/$4, bottom r/b $5/$6)"
    [ -z "$(exiftool -q -s -EXIF:all -XMP:all "$1")" ] || fail "$2 keeps metadata"
}
mailpy "$pub" "$work/mailed" <<'PY' || fail "bulletin mail: one image/jpeg part"
m = load(sys.argv[1])
imgs = [p for p in m.walk() if p.get_content_maintype() == "image"]
assert [p.get_content_type() for p in imgs] == ["image/jpeg"], [p.get_content_type() for p in imgs]
open(sys.argv[2] + ".jpg", "wb").write(imgs[0].get_payload(decode=True))
PY
ok "the bulletin mail carries exactly one photo, a JPEG"
# The mail's rendition is 800 px wide at most: the 300x400 photo as it is.
upright "$work/mailed.jpg" "the mailed photo"
ok "the mailed photo is upright (portrait, red at the top), without EXIF"
arch="$work/data/archive"
img=$(grep -o 'src="[^"]*"' "$arch/bulletin-1.html" | sed 's/src="//; s/"$//' | grep -v '^data:' | head -1)
[ -n "$img" ] && [ "$(grep -o '<img ' "$arch/bulletin-1.html" | wc -l)" -eq 1 ] || fail "archive: one photo wanted"
upright "$arch/$img" "the archived photo"
ok "the archive holds the photo upright as a JPEG ($img), without EXIF"
finish
