#!/bin/bash
# bulletin.sh — the bulletin benchmark on the reference issue of issue 10:
# 25 reports and 50 phone-size photos (4032×3024 JPEGs of 3 to 5 MB, made
# with ImageMagick and libvips; one in five portrait), 1,000 contacts.
#
#   bench/bulletin.sh [BUILD_DIR]          (default: <repo>/build)
#
# Steps, each timed (wall and CPU) with its peak RSS, BENCH_RUNS times
# (3) from the same populated data, medians printed:
#   intake   the 50 photos made masters (image_master, as intake does; apart)
#   archive  issue_archive() without the PDF: compile + render + archive,
#            every rendition to make (then again, renditions kept)
#   proof    the mail within bulletin_mail_max, stored once, queued; the
#            archive's and the PDF's renditions made after it
#   publish  after the proof: archive + mail + 1,000 deliveries (no PDF:
#            weasyprint hidden)
#   pdf      issue_archive() with the PDF (WeasyPrint's RSS is the child's)
# then issues 2..6 are populated and published the same way (a proof, then
# the publication) and the database size is measured.
# Environment: BENCH_PHOTOS (50), BENCH_REPORTS (25), BENCH_CONTACTS (1000),
# BENCH_ISSUES (6), BENCH_RUNS (3), BENCH_PHOTO_DIR (take its IMG_*.jpg instead of making
# photos), BENCH_KEEP=1 (keep the work directory).
# Targets (printed, not enforced): publish without PDF < 5 s; PDF < 15 s and
# < 600 MB RSS; mail <= 10,000,000 bytes; database < 50 MB after six issues.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" 2>/dev/null && pwd) ||
    { echo "bulletin.sh: no build directory ${1:-$top/build} (run make)" >&2; exit 1; }
nphotos=${BENCH_PHOTOS:-50}
nrep=${BENCH_REPORTS:-25}
ncontacts=${BENCH_CONTACTS:-1000}
nissues=${BENCH_ISSUES:-6}
runs=${BENCH_RUNS:-3}

work=$(mktemp -d "${TMPDIR:-/tmp}/mlistd-bench-bulletin-XXXXXX")
# shellcheck disable=SC2317  # called by the trap
cleanup() {
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "work directory kept: $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "bulletin.sh: $*" >&2; exit 1; }
say() { echo "== $*"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }

[ -f "$build/libmlistd.a" ] || die "no $build/libmlistd.a (run make)"
command -v convert >/dev/null && command -v vips >/dev/null || die "needs imagemagick and libvips-tools"

say "building bench/bulletin_bench.c against $build/libmlistd.a"
pkgs="libesmtp-1.0 gmime-3.0 sqlite3 libctemplate vips"
# shellcheck disable=SC2046  # pkg-config output is a word list
${CC:-cc} -std=c11 -O2 -D_GNU_SOURCE -I"$top/mlistd" $(pkg-config --cflags $pkgs) \
    -o "$work/bulletin_bench" "$top/bench/bulletin_bench.c" "$build/libmlistd.a" \
    $(pkg-config --libs $pkgs) -letpan -lgnutls -lstdc++ -pthread -ldl -lresolv ||
    die "cannot build the driver"

# ---------------------------------------------------------------- photos
# Five camera-like scenes (plasma upscaled, grain), each one the seed of
# ten distinct photos (mirrored, shifted, lighter or darker, one in five
# turned portrait), saved at quality 88 like a phone.
mkdir -p "$work/photos"
if [ -n "${BENCH_PHOTO_DIR:-}" ]; then
	ls "$BENCH_PHOTO_DIR"/IMG_*.jpg | head -n "$nphotos" | xargs -I{} ln -s {} "$work/photos/"
else
say "making $nphotos photos of 4032×3024"
for b in 0 1 2 3 4; do
	convert -seed $((b + 7)) -size 1008x756 plasma:fractal -resize 4032x3024! \
	    -attenuate 0.25 +noise Gaussian -quality 92 "$work/photos/base$b.jpg"
done
for i in $(seq 0 $((nphotos - 1))); do
	b=$((i % 5)); f=$(printf '%s/photos/IMG_%04d.jpg' "$work" "$i")
	ops="-brightness-contrast $((i % 7 * 4 - 12))x0"
	[ $((i % 2)) = 1 ] && ops="$ops -flop"
	[ $((i % 5)) = 4 ] && ops="$ops -rotate 90"
	# shellcheck disable=SC2086
	convert "$work/photos/base$b.jpg" $ops -roll +$((i * 37))+0 -quality 88 "$f"
done
rm -f "$work"/photos/base*.jpg
fi
say "photos: $(du -shL "$work/photos" | cut -f1), $(identify -format '%wx%h\n' "$work"/photos/IMG_0000.jpg)"

mkdir -p "$work/data"
populate() {	# populate NUMBER
	"$work/bulletin_bench" populate "$work/data" "$1" "$nrep" "$ncontacts" "$work"/photos/IMG_*.jpg
}
step() {	# step NUMBER archive|proof|publish|pdf: "wall_s=... peak_rss_kib=..."
	local path=$PATH
	[ "$2" = publish ] && path=/nonexistent	# no weasyprint: no PDF
	(cd "$top" && PATH=$path "$work/bulletin_bench" run "$work/data" "$top/templates" "$1" "$2")
}
val() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

out=$(cd "$top" && populate 1) || die "populate failed"
say "intake: $nphotos photos made masters in $(val intake_masters_s "$out") s (not a target here)"

# ---------------------------------------------------------------- issue 1
# Each run starts from the populated data (no rendition made yet): archive
# (cold: every archive rendition made), archive again (kept), proof,
# publish (after the proof, as editors do), pdf. Per step: wall, CPU (user
# + system, WeasyPrint's included) and peak RSS (WeasyPrint's for pdf);
# medians of the runs. The machine may be shared: CPU says what the wall
# time would be on an idle one.
cp -a "$work/data" "$work/data.populated"
rec() {		# rec NAME "step output": keep this run's figures of NAME
	local w c r
	w=$(val wall_s "$2"); c=$(awk -v a="$(val cpu_s "$2")" -v b="$(val child_cpu_s "$2")" \
	    'BEGIN { printf "%.2f", a + b }')
	r=$(val peak_rss_kib "$2"); [ "$1" = pdf ] && r=$(val child_rss_kib "$2")
	printf '%s %s %s %s\n' "$1" "$w" "$c" "$r" >>"$work/figures"
	say "  $1: ${w} s wall, ${c} s CPU, $(mib "$r") MiB peak RSS"
}
run_step() {	# run_step NAME STEP
	local o
	o=$(step 1 "$2") || die "$2 failed"
	rec "$1" "$o"
}
median_of() {	# median_of NAME COLUMN (2 wall, 3 CPU, 4 RSS KiB)
	awk -v n="$1" -v c="$2" '$1 == n { print $c }' "$work/figures" | sort -g |
	    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
: >"$work/figures"
for r in $(seq "$runs"); do
	say "run $r of $runs (load $(cut -d' ' -f1 /proc/loadavg))"
	rm -rf "$work/data"; cp -a "$work/data.populated" "$work/data"
	run_step archive archive
	run_step archive-again archive
	run_step proof proof
	rm -rf "$work/data/archive"
	run_step publish publish
	if command -v weasyprint >/dev/null; then
		run_step pdf pdf
	fi
done
for n in archive archive-again proof publish pdf; do
	grep -q "^$n " "$work/figures" || continue
	say "median of $runs: $n $(median_of $n 2) s wall, $(median_of $n 3) s CPU," \
	    "$(mib "$(median_of $n 4)") MiB peak RSS"
done
mail=$(ls -S "$work/data/mailings" | head -1)
msize=$(stat -c %s "$work/data/mailings/$mail")
html_kb=$(python3 - "$work/data/mailings/$mail" <<'PY'
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
h = [p for p in m.walk() if p.get_content_type() == "text/html"][0]
imgs = [p for p in m.walk() if p.get_content_maintype() == "image"]
print("%.1f %d" % (len(h.get_payload(decode=True)) / 1000, len(imgs)))
PY
)
say "mail: $msize bytes, HTML part ${html_kb% *} KB, ${html_kb#* } photos inline"
pdf=""
if grep -q '^pdf ' "$work/figures"; then
	pdf=1
	pages=$(pdfinfo "$work/data/archive/bulletin-1.pdf" | awk '/^Pages:/ { print $2 }')
	# photos only (the emoji glyphs are small images too)
	ppi=$(pdfimages -list "$work/data/archive/bulletin-1.pdf" |
	    awk 'NR > 2 && $3 == "image" && $4 >= 300 { if ($13 > m) m = $13 } END { print m }')
	say "pdf: $(stat -c %s "$work/data/archive/bulletin-1.pdf") bytes, $pages pages, images at most $ppi ppi"
fi

# ---------------------------------------------------------------- six issues
for n in $(seq 2 "$nissues"); do
	populate "$n" >/dev/null || die "populate $n failed"
	step "$n" proof >/dev/null || die "proof $n failed"
	step "$n" publish >/dev/null || die "publish $n failed"
done
db=$(stat -c %s "$work/data/mlistd.db")
[ -f "$work/data/mlistd.db-wal" ] && db=$((db + $(stat -c %s "$work/data/mlistd.db-wal")))
say "after $nissues issues: database $db bytes; mailings $(du -sh "$work/data/mailings" | cut -f1)," \
    "renditions $(du -sh "$work/data/renditions" | cut -f1), archive $(du -sh "$work/data/archive" | cut -f1)"

verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v < t) ? "met" : "NOT met" }'; }
# CPU is summed over threads (renditions are made on two): on an idle
# 2-core machine the wall time would be about CPU / 2 for archive.
for n in archive publish; do
	w=$(median_of $n 2); c=$(median_of $n 3)
	echo "RESULT $n (no PDF): $w s wall (target < 5 s: $(verdict "$w" 5)), $c s CPU"
done
if [ -n "$pdf" ]; then
	w=$(median_of pdf 2); c=$(median_of pdf 3); r=$(median_of pdf 4)
	echo "RESULT pdf: $w s wall (target < 15 s: $(verdict "$w" 15)), $c s CPU," \
	    "$(mib "$r") MiB (< 600 MB: $(verdict "$r" 585938))"
fi
echo "RESULT mail: $msize bytes (target <= 10000000: $(verdict "$msize" 10000001)), HTML ${html_kb% *} KB (< 100: $(verdict "${html_kb% *}" 100))"
echo "RESULT db: $db bytes after $nissues issues (target < 50 MB: $(verdict "$db" 50000000))"
