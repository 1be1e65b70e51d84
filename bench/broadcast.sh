#!/bin/bash
# broadcast.sh — the fan-out benchmark: one 10 KB national broadcast to every
# contact of a roster, against Postfix's smtp-sink on loopback, compared with
# smtp-source (the loopback limit) and stock mlmmj (one envelope per
# subscriber, as shipped), for 800 and 40,000 contacts.
#
#   bench/broadcast.sh [BUILD_DIR]          (default: <repo>/build)
#
# Environment: BENCH_SIZES (default "800 40000", multiples of 4),
# BENCH_RUNS (default 3: mlistd and smtp-source run in turn, medians kept),
# BENCH_REF (another build directory, e.g. of an older commit's worktree,
# measured in the same runs: reference, this build, smtp-source in turn),
# BENCH_MLMMJ_CAP (seconds mlmmj-send may run, default 60),
# BENCH_KEEP=1 (keep the work directory and print its path).
# Exit status: 0 when every broadcast was delivered and recorded 'sent',
# 1 otherwise; the targets of issue 3 are printed, not enforced.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" 2>/dev/null && pwd) ||
    { echo "broadcast.sh: no build directory ${1:-$top/build} (run make)" >&2; exit 1; }
sizes=${BENCH_SIZES:-800 40000}
mlmmj_cap=${BENCH_MLMMJ_CAP:-60}
runs=${BENCH_RUNS:-3}
run_cap=900				# seconds any single timed step may take
target_ratio=0.70
target_rss_mib=32

sink_pid=""
work=$(mktemp -d "${TMPDIR:-/tmp}/mlistd-bench-XXXXXX")
# shellcheck disable=SC2317  # called by the trap
cleanup() {
	if [ -n "$sink_pid" ]; then
		kill "$sink_pid" 2>/dev/null || true
		sleep 0.2
		kill -9 "$sink_pid" 2>/dev/null || true
	fi
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "work directory kept: $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "broadcast.sh: $*" >&2; exit 1; }
say() { echo "== $*"; }
now() { date +%s.%N; }
# elapsed T0 T1: seconds between two now() values
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
# rate COUNT SECONDS
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print "n/a" }'; }
# ratio A B: A/B with two decimals, or n/a
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2f", a / b;
		else print "n/a" }'
}
# median FILE...: the median of the numbers in the files (one each)
median() {
	cat "$@" | sort -n | awk '{ v[NR] = $1 } END {
		if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2];
		else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# peak_rss_mib TIME_V_FILE: "Maximum resident set size" in MiB
peak_rss_mib() {
	awk -F: '/Maximum resident set size/ { printf "%.1f\n", $2 / 1024 }' "$1"
}

# ---------------------------------------------------------------- tools
for t in /usr/sbin/smtp-sink /usr/sbin/smtp-source sqlite3 timeout; do
	command -v "$t" >/dev/null || die "$t not found (packages postfix, sqlite3, coreutils)"
done
if [ ! -x /usr/bin/time ]; then
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
		die "/usr/bin/time missing (package time)"
	fi
	say "installing package time"
	apt-get install -y time >/dev/null
fi
ref=""
if [ -n "${BENCH_REF:-}" ]; then
	ref=$(cd "$BENCH_REF" 2>/dev/null && pwd) || die "no build directory $BENCH_REF"
fi
for b in "$build" $ref; do
	if [ ! -x "$b/mlistctl" ] || [ ! -x "$b/mlistd" ]; then
		die "no mlistctl/mlistd in $b (run make)"
	fi
done
have_mlmmj=1
[ -x /usr/bin/mlmmj-send ] || have_mlmmj=0
for n in $sizes; do
	if [ "$n" -le 0 ] || [ $((n % 4)) -ne 0 ]; then
		die "size $n is not a positive multiple of 4"
	fi
done

# ---------------------------------------------------------------- the sink
free_port() {
	if command -v python3 >/dev/null; then
		python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
	else
		while :; do
			p=$((20000 + RANDOM % 40000))
			(echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
		done
	fi
}
port=$(free_port)
sink_user=""
[ "$(id -u)" = 0 ] && sink_user="-u nobody"
# shellcheck disable=SC2086
/usr/sbin/smtp-sink -c $sink_user "127.0.0.1:$port" 256 >"$work/sink.out" 2>"$work/sink.err" &
sink_pid=$!
i=0
while ! (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 50 ] && { cat "$work/sink.err"; die "smtp-sink does not listen on $port"; }
	sleep 0.1
done
# sink_count: messages the sink has accepted so far (its -c counter)
sink_count() {
	sleep 0.3
	tr '\r' '\n' <"$work/sink.out" | sed -n 's/.*mesg=\([0-9]*\).*/\1/p' | tail -n 1 |
	    awk '{ n = $1 } END { print n + 0 }'
}

# ---------------------------------------------------------------- the message
# ~10 KB of French text, UTF-8, lines under 78 characters.
body() {
	i=0
	while [ $i -lt 17 ]; do
		i=$((i + 1))
		cat <<EOF
Paragraphe $i. Chères et chers membres des comités locaux, le bureau
national vous remercie pour l'énergie déployée ces dernières semaines.
Les réunions publiques organisées à l'automne ont réuni près de trois mille
personnes ; les comptes rendus reçus montrent une belle diversité d'actions :
marchés, débats, ateliers d'écriture, soirées de projection, présence aux
fêtes de village et aux forums des associations. Merci à toutes et à tous.
Prochaine étape : la journée nationale du 14 décembre, à préparer dès
maintenant avec vos élus, vos partenaires et la presse régionale.

EOF
	done
}
msg="$work/msg.eml"
# A Subject with 8-bit characters is encoded (RFC 2047).
subj=$(printf '%s' "Lettre du bureau national : préparation de la journée du 14 décembre" | base64 -w0)
{
	echo "From: Bureau national <office@example.org>"
	echo "To: national@comites.example.org"
	echo "Subject: =?UTF-8?B?$subj?="
	echo "Date: $(LC_ALL=C date -R)"
	echo "Message-ID: <bench-$$-$(date +%s)@example.org>"
	echo "MIME-Version: 1.0"
	echo "Content-Type: text/plain; charset=utf-8"
	echo "Content-Transfer-Encoding: 8bit"
	echo "Approved: benchsecret"
	echo
	body
	echo "Le bureau national"
} >"$msg"
msg_bytes=$(wc -c <"$msg")

# ---------------------------------------------------------------- rosters
# roster_csv N FILE: N contacts, N/4 committees of 4, example.org addresses
roster_csv() {
	awk -v n="$(($1 / 4))" 'BEGIN {
		print "committee;region;department;name;email;tags"
		for (i = 1; i <= n; i++)
			for (j = 1; j <= 4; j++)
				printf "Comité %05d;Région %d;%02d;Contact %d du comité %05d;contact%d.comite%05d@example.org;bench\n",
				    i, i % 13 + 1, i % 95 + 1, j, i, j, i
	}' >"$2"
}
# subscribers N FILE: the same addresses, one a line (for mlmmj)
subscribers() {
	awk -v n="$(($1 / 4))" 'BEGIN {
		for (i = 1; i <= n; i++)
			for (j = 1; j <= 4; j++)
				printf "contact%d.comite%05d@example.org\n", j, i
	}' >"$2"
}

# ---------------------------------------------------------------- mlistd
# Results per size go in variables named R_<what>_<size>.
set_r() { eval "R_$1_$2=\$3"; }
get_r() { eval "echo \"\${R_$1_$2:-n/a}\""; }
failures=0

# prepare_mlistd N DIR BUILD: a data directory made by BUILD's mlistctl
# (each build its own schema): N contacts, the broadcast injected, kept in
# DIR/data.clean so that each run starts from the same queue.
prepare_mlistd() {
	n=$1; d=$2; b=$3
	conf="$d/mlistd.conf"
	mkdir -p "$d"
	cat >"$conf" <<EOF
domain = comites.example.org
data_dir = $d/data
templates_dir = $(dirname "$b")/templates
approve_password = benchsecret
bulletin_anchor = 2099-01-01
dmarc_mitigation = none
smtp_relay = 127.0.0.1:$port
smtp_connections = 8
EOF
	"$b/mlistctl" -c "$conf" init >/dev/null
	roster_csv "$n" "$d/roster.csv"
	t0=$(now)
	"$b/mlistctl" -c "$conf" committee import "$d/roster.csv" >"$d/import.log" 2>&1 ||
	    { tail -n 5 "$d/import.log"; die "import of $n contacts failed"; }
	t1=$(now)
	elapsed "$t0" "$t1" >"$d/import.secs"
	got=$(sqlite3 "$d/data/mlistd.db" "select count(*) from contact where active = 1")
	[ "$got" -eq "$n" ] || die "roster has $got active contacts, wanted $n"
	"$b/mlistctl" -c "$conf" sender add office@example.org --role national >/dev/null
	"$b/mlistctl" -c "$conf" inject --rcpt national@comites.example.org \
	    --sender office@example.org <"$msg" >"$d/inject.log" 2>&1 ||
	    { cat "$d/inject.log"; die "mlistctl inject failed"; }
	cp -a "$d/data" "$d/data.clean"
}

# medians_mlistd N DIR KEY: the medians of DIR's runs as R_<KEY>secs_N,
# R_<KEY>rate_N, the highest RSS as R_<KEY>rss_N, the ratios per pair
medians_mlistd() {
	n=$1; d=$2; key=$3
	set_r "${key}secs" "$n" "$(median "$d"/secs.*)"
	set_r "${key}rate" "$n" "$(rate "$n" "$(get_r "${key}secs" "$n")")"
	set_r "${key}rss" "$n" "$(cat "$d"/rss.* | sort -n | tail -n 1)"
	set_r "${key}pairs" "$n" "$(k=1; while [ $k -le "$runs" ]; do
		ratio "$(cat "$work/src-$n.$k")" "$(cat "$d/secs.$k")"; echo; k=$((k + 1)); done |
		tr '\n' ' ' | sed 's/ $//')"
}

bench_mlistd() {
	n=$1
	prepare_mlistd "$n" "$work/mlistd-$n" "$build"
	set_r import "$n" "$(cat "$work/mlistd-$n/import.secs")"
	say "mlistd $n: roster imported in $(get_r import "$n") s ($((n / 4)) committees)"
	[ -z "$ref" ] || prepare_mlistd "$n" "$work/ref-$n" "$ref"
	k=1
	while [ $k -le "$runs" ]; do
		[ -z "$ref" ] || run_mlistd "$n" "$k" "$work/ref-$n" "$ref" reference
		run_mlistd "$n" "$k" "$work/mlistd-$n" "$build" mlistd
		run_source "$n" "$k"
		k=$((k + 1))
	done
	medians_mlistd "$n" "$work/mlistd-$n" ""
	set_r srcsecs "$n" "$(median "$work/src-$n".*)"
	set_r src "$n" "$(rate "$n" "$(get_r srcsecs "$n")")"
	say "$n contacts, median of $runs: mlistd $(get_r secs "$n") s ($(get_r rate "$n")/s)," \
	    "smtp-source $(get_r srcsecs "$n") s ($(get_r src "$n")/s); ratio per pair: $(get_r pairs "$n")"
	[ -n "$ref" ] || return 0
	medians_mlistd "$n" "$work/ref-$n" ref
	say "$n contacts, median of $runs: reference $(get_r refsecs "$n") s" \
	    "($(get_r refrate "$n")/s, peak RSS $(get_r refrss "$n") MiB); ratio per pair: $(get_r refpairs "$n")"
}

# run_mlistd N K DIR BUILD LABEL: run K of BUILD's mlistd --once on a fresh
# copy of DIR's queue
run_mlistd() {
	n=$1; d=$3; b=$4
	rm -rf "$d/data"
	cp -a "$d/data.clean" "$d/data"
	c0=$(sink_count)
	t0=$(now)
	rc=0
	/usr/bin/time -v -o "$d/time.txt" timeout "$run_cap" \
	    "$b/mlistd" -c "$d/mlistd.conf" --once >"$d/mlistd.log" 2>&1 || rc=$?
	t1=$(now)
	c1=$(sink_count)
	[ "$rc" -eq 0 ] || { tail -n 20 "$d/mlistd.log"; echo "$5 --once exited $rc" >&2; failures=$((failures + 1)); }
	secs=$(elapsed "$t0" "$t1")
	got=$((c1 - c0))
	echo "$secs" >"$d/secs.$2"
	peak_rss_mib "$d/time.txt" >"$d/rss.$2"
	states=$(sqlite3 "$d/data/mlistd.db" "select state || '=' || count(*) from delivery group by state" | tr '\n' ' ')
	sent=$(sqlite3 "$d/data/mlistd.db" "select count(*) from delivery where state = 'sent'")
	other=$(sqlite3 "$d/data/mlistd.db" "select count(*) from delivery where state <> 'sent'")
	say "$5 $n, run $2: $got messages at the sink in $secs s, $(rate "$got" "$secs")/s," \
	    "peak RSS $(cat "$d/rss.$2") MiB; deliveries: ${states:-none}"
	if [ "$got" -ne "$n" ] || [ "$sent" -ne "$n" ] || [ "$other" -ne 0 ]; then
		echo "FAIL: wanted $n accepted by the sink and $n deliveries 'sent'" >&2
		failures=$((failures + 1))
	fi
}

# ---------------------------------------------------------------- smtp-source
# run_source N K: run K of smtp-source, same message count, same sink
run_source() {
	n=$1
	c0=$(sink_count)
	t0=$(now)
	rc=0
	timeout "$run_cap" /usr/sbin/smtp-source -s 8 -m "$n" -l 10240 -d \
	    -f office@example.org -t x@example.org "127.0.0.1:$port" >"$work/source-$n.log" 2>&1 || rc=$?
	t1=$(now)
	c1=$(sink_count)
	[ "$rc" -eq 0 ] || { cat "$work/source-$n.log"; die "smtp-source exited $rc"; }
	secs=$(elapsed "$t0" "$t1")
	echo "$secs" >"$work/src-$n.$2"
	say "smtp-source $n, run $2: $((c1 - c0)) messages in $secs s, $(rate $((c1 - c0)) "$secs")/s"
}

# ---------------------------------------------------------------- mlmmj
# mlmmj_list DIR N [VERP]: a list directory made by hand (what mlmmj-make-ml
# would create, without its questions), N subscribers.
mlmmj_list() {
	l=$1
	mkdir -p "$l"
	for sub in control subscribers.d digesters.d nomailsubs.d queue archive text \
	    requeue incoming bounce moderation; do
		mkdir -p "$l/$sub"
	done
	echo national@comites.example.org >"$l/control/listaddress"
	echo 127.0.0.1 >"$l/control/relayhost"
	echo "$port" >"$l/control/smtpport"
	[ -z "${3:-}" ] || echo "$3" >"$l/control/verp"
	subscribers "$2" "$l/subscribers.d/c"	# files are named by first letter
}

# bench_mlmmj N [VERP]: without VERP (stock default) mlmmj makes the VERP
# itself: one envelope per subscriber. With control/verp it leaves VERP to
# the MTA (XVERP) and sends up to maxverprecips (100) recipients per message.
bench_mlmmj() {
	n=$1
	verp=${2:-}
	key=mlmmj
	[ -z "$verp" ] || key=mlmmjx
	l="$work/mlmmj-$n${verp:+-verp}"
	mlmmj_list "$l" "$n" "$verp"
	cp "$msg" "$l/queue/bench"
	c0=$(sink_count)
	t0=$(now)
	rc=0
	/usr/bin/time -v -o "$l/time.txt" timeout "$mlmmj_cap" \
	    /usr/bin/mlmmj-send -L "$l" -m "$l/queue/bench" >"$l/send.log" 2>&1 || rc=$?
	t1=$(now)
	c1=$(sink_count)
	secs=$(elapsed "$t0" "$t1")
	got=$((c1 - c0))
	note=""
	if [ "$rc" -eq 124 ]; then
		note=" (stopped after ${mlmmj_cap} s)"
	elif [ "$rc" -ne 0 ]; then
		cat "$l/send.log" "$l/mlmmj.operation.log" 2>/dev/null | tail -n 5
		note=" (mlmmj-send exited $rc)"
	fi
	rcpts=$got
	if [ -n "$verp" ]; then
		# one message per group of recipients: count recipients
		rcpts=$((got * 100))
		[ "$rc" -ne 0 ] || rcpts=$n
	fi
	set_r "$key" "$n" "$(rate "$rcpts" "$secs")"
	set_r "${key}rss" "$n" "$(peak_rss_mib "$l/time.txt" 2>/dev/null || true)"
	say "mlmmj $n${verp:+ (control/verp=$verp)}: $rcpts recipients in $got messages," \
	    "$secs s, $(get_r "$key" "$n") rcpts/s, peak RSS $(get_r "${key}rss" "$n") MiB$note"
}

# ---------------------------------------------------------------- run
say "mlistd fan-out benchmark: sizes $sizes, message $msg_bytes bytes," \
    "smtp-sink on 127.0.0.1:$port, $(nproc) CPU(s), load$(uptime | sed 's/.*load average//')"
for n in $sizes; do
	bench_mlistd "$n"
	if [ "$have_mlmmj" = 1 ]; then
		bench_mlmmj "$n"
		bench_mlmmj "$n" postfix
	fi
done

# ---------------------------------------------------------------- table
echo
printf '%-9s %8s %9s %9s %9s %11s %9s %11s %12s %8s\n' contacts "import s" "mlistd s" "rcpts/s" \
    "RSS MiB" "smtp-src/s" "mlmmj/s" "mlistd/src" "mlistd/mlmmj" "(xverp/s)"
for n in $sizes; do
	printf '%-9s %8s %9s %9s %9s %11s %9s %11s %12s %8s\n' "$n" "$(get_r import "$n")" \
	    "$(get_r secs "$n")" "$(get_r rate "$n")" "$(get_r rss "$n")" "$(get_r src "$n")" \
	    "$(get_r mlmmj "$n")" "$(ratio "$(get_r rate "$n")" "$(get_r src "$n")")" \
	    "$(ratio "$(get_r rate "$n")" "$(get_r mlmmj "$n")")" "$(get_r mlmmjx "$n")"
done
echo "mlmmj/s: stock mlmmj-send, one envelope per subscriber (its own VERP), at most ${mlmmj_cap} s."
echo "xverp/s: mlmmj with control/verp=postfix (VERP left to the MTA, 100 recipients a message)."

big=$(echo "$sizes" | tr ' ' '\n' | sort -n | tail -n 1)
r=$(get_r rate "$big"); s=$(get_r src "$big"); m=$(get_r rss "$big")
verdict() { if [ "$1" = 1 ]; then echo met; else echo MISSED; fi; }
ok_rate=$(awk -v a="$r" -v b="$s" -v t="$target_ratio" 'BEGIN { print (b > 0 && a / b >= t) ? 1 : 0 }')
ok_rss=$(awk -v a="$m" -v t="$target_rss_mib" 'BEGIN { print (a != "" && a + 0 < t) ? 1 : 0 }')
echo "mlistd s, smtp-src/s: medians of $runs interleaved runs (RSS: the highest); mlistd/src per pair at $big: $(get_r pairs "$big")"
echo "target at $big contacts: mlistd/smtp-source >= $target_ratio:" \
    "$(ratio "$r" "$s") — $(verdict "$ok_rate"); peak RSS < $target_rss_mib MiB: $m MiB — $(verdict "$ok_rss")"
if [ -n "$ref" ]; then
	echo "reference $ref, same runs:"
	printf '%-9s %12s %9s %9s %11s %12s\n' contacts "reference s" "rcpts/s" "RSS MiB" "ref/src" \
	    "mlistd/ref"
	for n in $sizes; do
		printf '%-9s %12s %9s %9s %11s %12s\n' "$n" "$(get_r refsecs "$n")" \
		    "$(get_r refrate "$n")" "$(get_r refrss "$n")" \
		    "$(ratio "$(get_r refrate "$n")" "$(get_r src "$n")")" \
		    "$(ratio "$(get_r rate "$n")" "$(get_r refrate "$n")")"
	done
	echo "mlistd/ref: this build's rate over the reference's (medians); per pair at $big:" \
	    "reference $(get_r refpairs "$big"), this build $(get_r pairs "$big")"
fi
[ "$failures" -eq 0 ] || { echo "FAILED: $failures broadcast(s) not fully delivered and recorded"; exit 1; }
exit 0
