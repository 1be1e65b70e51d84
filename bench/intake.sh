#!/bin/bash
# bench/intake.sh [BUILD_DIR]: the intake of one report of 5 phone photos
# (4032x3024, EXIF Orientation=6 and GPS, random noise so that each weighs
# what a phone's does: BENCH_PHOTO_KB, default 5000) mailed to bulletin@:
# `mlistd --once` takes it from the spool (decode, upright, strip, 2048 px
# masters, the acknowledgement queued and sent to smtp-sink), BENCH_RUNS (3)
# runs on fresh copies of the same data directory; prints wall time and
# CPU time and peak RSS (/usr/bin/time) of each run and their medians (the
# CPU time says what the wall time would be on an idle machine).
# Target (issue 10): < 2 s and < 150 MB RSS on the 2-core machine.
# BENCH_SIZE_LIMIT (e.g. 50M) sets message_size_limit when the default is
# too small for the report (then the benchmark says so and stops).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
runs=${BENCH_RUNS:-3}
kb=${BENCH_PHOTO_KB:-5000}
work=$(mktemp -d /tmp/mlistd-bench-intake-XXXXXX)
sink_pid=""
trap '[ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null; rm -rf "$work"' EXIT
chmod 755 "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/sink" && chmod 777 "$work/sink"
user=""; [ "$(id -u)" -eq 0 ] && user="-u nobody"
/usr/sbin/smtp-sink $user -d "$work/sink/%M." 127.0.0.1:"$port" 64 & sink_pid=$!
cat >"$work/mlistd.conf" <<EOF
domain = comites.example.org
data_dir = $work/data
templates_dir = $top/templates
smtp_relay = 127.0.0.1:$port
${BENCH_SIZE_LIMIT:+message_size_limit = $BENCH_SIZE_LIMIT}
EOF
ctl() { "$build/mlistctl" -c "$work/mlistd.conf" "$@"; }
ctl init >/dev/null
ctl committee import "$top/contrib/demo-roster.csv" >/dev/null
"$build/mlistd" -c "$work/mlistd.conf" --once 2>/dev/null	# opens the issue, sends the call

# Five photos of about $kb KB: noise at the JPEG quality that gives that size.
q=$(( kb * 88 / 8000 )); [ $q -gt 95 ] && q=95; [ $q -lt 30 ] && q=30
for i in 1 2 3 4 5; do
    convert -size 4032x3024 xc:gray +noise Random -quality "$q" "$work/IMG_000$i.JPG"
    exiftool -q -overwrite_original -n -Orientation=6 -GPSLatitude=48.85 -GPSLatitudeRef=N \
        -Make=Apple '-Model=iPhone 13' "$work/IMG_000$i.JPG"
done
{
    printf 'From: Camille Moreau <camille.moreau@lille.example.org>\nTo: bulletin@comites.example.org\n'
    printf 'Subject: Fête de quartier du 14 novembre\nMIME-Version: 1.0\n'
    printf 'Content-Type: multipart/mixed; boundary="B"\n\n--B\nContent-Type: text/plain; charset=utf-8\n\n'
    printf 'Toute la rue était là.\n'
    for i in 1 2 3 4 5; do
        printf -- '--B\nContent-Type: image/jpeg; name="IMG_000%s.JPG"\n' "$i"
        printf 'Content-Disposition: attachment; filename="IMG_000%s.JPG"\n' "$i"
        printf 'Content-Transfer-Encoding: base64\n\n'
        base64 -w 76 "$work/IMG_000$i.JPG"
    done
    printf -- '--B--\n'
} >"$work/report.eml"
att=$(cat "$work"/IMG_000?.JPG | wc -c)
echo "report: 5 photos, $((att / 1000000)) MB of attachments, $(( $(wc -c <"$work/report.eml") / 1000000 )) MB as mailed"
cp -a "$work/data" "$work/data.orig"

walls=(); rsss=(); cpus=()
for r in $(seq "$runs"); do
    rm -rf "$work/data"; cp -a "$work/data.orig" "$work/data"
    ctl inject --rcpt bulletin@comites.example.org --sender camille.moreau@lille.example.org \
        <"$work/report.eml"
    /usr/bin/time -f "%e %M %U %S" -o "$work/time" "$build/mlistd" -c "$work/mlistd.conf" --once \
        2>"$work/log" || { cat "$work/log"; exit 1; }
    grep -q "report .*photos=5" "$work/log" || { cat "$work/log"; echo "FAIL: not filed"; exit 1; }
    read -r wall rss user sys <"$work/time"
    cpu=$(echo "$user + $sys" | bc)
    echo "run $r: ${wall} s wall, ${cpu} s CPU, $((rss / 1024)) MB peak RSS (load $(cut -d' ' -f1 /proc/loadavg))"
    walls+=("$wall"); rsss+=("$rss"); cpus+=("$cpu")
done
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
echo "median: $(median "${walls[@]}") s wall, $(median "${cpus[@]}") s CPU, $(( $(median "${rsss[@]}") / 1024 )) MB peak RSS (target < 2 s, < 150 MB)"
