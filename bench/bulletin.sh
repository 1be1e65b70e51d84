#!/bin/bash
# bulletin.sh — the bulletin compilation benchmark: an issue of 300
# committees × 3 accepted reports, each with one ~200 KB JPEG photo, compiled,
# rendered (HTML + text) and archived (photos linked beside the HTML) by
# issue_archive() without the PDF; then, apart, the A4 PDF by WeasyPrint.
#
#   bench/bulletin.sh [BUILD_DIR]          (default: <repo>/build)
#
# Environment: BENCH_COMMITTEES (300), BENCH_REPORTS (3 per committee),
# BENCH_PHOTO_BYTES (204800), BENCH_RUNS (3 timed runs without PDF),
# BENCH_PDF=0 (skip the PDF), BENCH_KEEP=1 (keep the work directory).
# Photos: a real ~200 KB JPEG made with Python's Pillow when /usr/bin/python3
# has it (WeasyPrint depends on it), each copy made distinct by a random
# comment segment; otherwise random bytes between a JPEG header and trailer
# (the PDF then shows no picture).
# Exit status: 0 when every step ran; the targets (< 1 s and < 64 MiB
# without the PDF, issue 4) are printed, not enforced.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" 2>/dev/null && pwd) ||
    { echo "bulletin.sh: no build directory ${1:-$top/build} (run make)" >&2; exit 1; }
ncom=${BENCH_COMMITTEES:-300}
nrep=${BENCH_REPORTS:-3}
psize=${BENCH_PHOTO_BYTES:-204800}
runs=${BENCH_RUNS:-3}
pdf_cap=900
target_s=1
target_rss_mib=64

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

[ -f "$build/libmlistd.a" ] || die "no $build/libmlistd.a (run make)"
command -v pkg-config >/dev/null || die "pkg-config not found"

# ---------------------------------------------------------------- driver
say "building bench/bulletin_bench.c against $build/libmlistd.a"
pkgs="libesmtp-1.0 gmime-3.0 sqlite3 libctemplate"
# shellcheck disable=SC2046  # pkg-config output is a word list
${CC:-cc} -std=c11 -O2 -D_GNU_SOURCE -I"$top/mlistd" $(pkg-config --cflags $pkgs) \
    -o "$work/bulletin_bench" "$top/bench/bulletin_bench.c" "$build/libmlistd.a" \
    $(pkg-config --libs $pkgs) -letpan -lstdc++ -pthread -ldl -lresolv ||
    die "cannot build the driver"

# ---------------------------------------------------------------- data
sample=""
if /usr/bin/python3 -c 'import PIL' 2>/dev/null; then
	/usr/bin/python3 - "$work/sample.jpg" "$psize" <<'EOF'
import random, sys
from PIL import Image
path, target = sys.argv[1], int(sys.argv[2])
random.seed(4)
w, h = 800, 600
img = Image.new("RGB", (w, h))
px = img.load()
for y in range(h):
    for x in range(w):
        n = random.randint(-40, 40)
        px[x, y] = (max(0, min(255, x * 255 // w + n)), max(0, min(255, y * 255 // h + n)),
                    max(0, min(255, 128 + n)))
lo, hi = 5, 95
while lo < hi:                      # the quality giving the size nearest below target
    q = (lo + hi + 1) // 2
    img.save(path, "JPEG", quality=q)
    import os
    if os.path.getsize(path) <= target:
        lo = q
    else:
        hi = q - 1
img.save(path, "JPEG", quality=lo)
EOF
	sample="$work/sample.jpg"
	say "photo: real JPEG, $(stat -c %s "$sample") bytes (800×600)"
else
	say "photo: random bytes with a JPEG header, $psize bytes (no Pillow)"
fi
mkdir -p "$work/data"
t0=$(date +%s.%N)
"$work/bulletin_bench" populate "$work/data" "$ncom" "$nrep" "$psize" $sample ||
    die "populate failed"
t1=$(date +%s.%N)
say "data: $ncom committees × $nrep reports, $(du -sh "$work/data/files" | cut -f1) of photos," \
    "in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s (not the benchmark)"

# ---------------------------------------------------------------- runs
best=""
rss_max=0
for i in $(seq 1 "$runs"); do
	out=$(cd "$top" && "$work/bulletin_bench" archive "$work/data" "$top/templates" 1) ||
	    die "issue_archive failed"
	wall=${out#wall_s=}; wall=${wall%% *}
	rss=${out#*peak_rss_kib=}
	say "run $i: compile + render + archive (no PDF): ${wall} s, peak RSS" \
	    "$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }') MiB"
	best=$(awk -v a="${best:-$wall}" -v b="$wall" 'BEGIN { print (b < a ? b : a) }')
	[ "$rss" -gt "$rss_max" ] && rss_max=$rss
done
html="$work/data/archive/bulletin-1.html"
[ -s "$html" ] && [ -s "$work/data/archive/bulletin-1.txt" ] || die "archive files missing"
nimg=$(find "$work/data/archive/bulletin-1" -type f | wc -l)
say "archive: HTML $(stat -c %s "$html") bytes, text $(stat -c %s \
    "$work/data/archive/bulletin-1.txt") bytes, $nimg photos"
rss_mib=$(awk -v k="$rss_max" 'BEGIN { printf "%.1f", k / 1024 }')
verdict=$(awk -v s="$best" -v r="$rss_mib" -v ts="$target_s" -v tr="$target_rss_mib" \
    'BEGIN { print (s < ts && r < tr) ? "met" : "NOT met" }')
echo "RESULT no-pdf: best ${best} s, peak RSS ${rss_mib} MiB" \
    "(target < ${target_s} s and < ${target_rss_mib} MiB: $verdict)"

# ---------------------------------------------------------------- PDF
if [ "${BENCH_PDF:-1}" = 0 ]; then
	exit 0
fi
if ! command -v weasyprint >/dev/null; then
	echo "RESULT pdf: skipped (weasyprint not installed)"
	exit 0
fi
tv=""
[ -x /usr/bin/time ] && tv="/usr/bin/time -v -o $work/pdf.time"
t0=$(date +%s.%N)
(cd "$work/data/archive" && timeout "$pdf_cap" $tv weasyprint bulletin-1.html \
    "$work/bulletin-1.pdf" 2>"$work/pdf.log") || die "weasyprint failed: $(tail -1 "$work/pdf.log")"
t1=$(date +%s.%N)
pdf_rss="n/a"
if [ -n "$tv" ]; then
	pdf_rss=$(awk -F: '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$work/pdf.time")
fi
echo "RESULT pdf: weasyprint $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s," \
    "peak RSS ${pdf_rss} MiB, $(stat -c %s "$work/bulletin-1.pdf") bytes," \
    "$(grep -a -c '/Type /Page\b' "$work/bulletin-1.pdf" || true) pages"
