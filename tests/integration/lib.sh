# Shared helpers for the integration tests (sourced). Each test runs in its
# own temporary directory, removed at exit with every process it started.
set -u
top=${MLISTD_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${MLISTD_BUILD:-$top/build}
work=$(mktemp -d /tmp/mlistd-it-XXXXXX)
chmod 755 "$work"	# smtp-sink drops privileges to nobody
pids=""
checks=0
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    sleep 0.2
    for p in $pids; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

fail() { echo "FAIL: $*"; [ -f "$work/daemon.log" ] && tail -n 15 "$work/daemon.log"; exit 1; }
ok() { checks=$((checks + 1)); echo "ok $checks - $*"; }
# expect_rc WANT DESCRIPTION command...
expect_rc() {
    want=$1; what=$2; shift 2
    "$@" >"$work/out" 2>"$work/err"; rc=$?
    [ "$rc" -eq "$want" ] || { cat "$work/out" "$work/err"; fail "$what: exit $rc, wanted $want"; }
    ok "$what"
}
# expect_out PATTERN DESCRIPTION: last command's stdout+stderr matches
expect_out() {
    cat "$work/out" "$work/err" | grep -q -- "$1" || { cat "$work/out" "$work/err"; fail "$2: no '$1'"; }
    ok "$2"
}
# A free TCP port on 127.0.0.1.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# wait_port PORT: until something listens (5 s at most).
wait_port() {
    i=0
    while ! (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null; do
        i=$((i + 1)); [ $i -gt 50 ] && fail "nothing listens on port $1"
        sleep 0.1
    done
}
# write_conf EXTRA...: a configuration in $work/mlistd.conf
write_conf() {
    {
        echo "domain = comites.example.org"
        echo "list_name = National"	# the tests' association
        echo "data_dir = $work/data"
        echo "templates_dir = $top/templates"
        for l in "$@"; do echo "$l"; done
    } > "$work/mlistd.conf"
}
ctl() { "$build/mlistctl" -c "$work/mlistd.conf" "$@"; }
finish() { echo "$checks passed, 0 failed"; }

# start_sink PORT DIR [OPTIONS...]: Postfix's smtp-sink dumping each message into DIR.
start_sink() {
    port=$1; dir=$2; shift 2
    mkdir -p "$dir"; chmod 777 "$dir"
    user=""; [ "$(id -u)" -eq 0 ] && user="-u nobody"
    /usr/sbin/smtp-sink $user "$@" -d "$dir/%M." 127.0.0.1:"$port" 256 &
    sink_pid=$!
    pids="$pids $sink_pid"
    wait_port "$port"
}
stop_sink() { kill "$sink_pid" 2>/dev/null; wait "$sink_pid" 2>/dev/null; }
# wait_files DIR N [SECONDS]: until DIR holds at least N files.
wait_files() {
    i=0; lim=$(( ${3:-20} * 10 ))
    while [ "$(ls "$1" | wc -l)" -lt "$2" ]; do
        i=$((i + 1)); [ $i -gt $lim ] && fail "only $(ls "$1" | wc -l) of $2 messages in $1"
        sleep 0.1
    done
}
# start_daemon: mlistd in the foreground on $work/mlistd.conf (pid in
# $dpid, stopped at exit), once its LMTP port $lmtp_port answers;
# stop_daemon [-SIGNAL]: stop it (TERM by default) and wait for it.
dpid=""
start_daemon() {
    "$build/mlistd" -c "$work/mlistd.conf" -f 2>>"$work/daemon.log" &
    dpid=$!; pids="$pids $dpid"
    wait_port "$lmtp_port"
}
stop_daemon() { kill "${1:--TERM}" "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null; dpid=""; }
# wait_log PATTERN N: until the daemon has logged N lines matching PATTERN (15 s).
wait_log() {
    for i in $(seq 150); do
        [ "$(grep -c -- "$1" "$work/daemon.log")" -ge "$2" ] && return 0
        sleep 0.1
    done
    fail "the daemon did not log '$1' $2 time(s)"
}
# nfiles DIR: messages at the sink; settle DIR N: wait for N, then exactly N.
nfiles() { ls "$1" | wc -l; }
settle() { wait_files "$1" "$2" 30; sleep 0.5; [ "$(nfiles "$1")" -eq "$2" ] || fail "$(nfiles "$1") messages in $1, wanted $2"; }
# once: one run of mlistd --once (two minutes at most), stderr to daemon.log.
once() { timeout 120 "$build/mlistd" -c "$work/mlistd.conf" --once 2>>"$work/daemon.log"; }
# lmtp FROM RCPT [swaks options...]: one message over LMTP to $lmtp_port,
# which must answer "250 ... queued" for it.
lmtp() {
    from=$1; rcpt=$2; shift 2
    swaks --protocol LMTP --server 127.0.0.1 --port "$lmtp_port" --from "$from" --to "$rcpt" \
        "$@" >"$work/swaks.log" 2>&1 || { cat "$work/swaks.log"; fail "swaks to $rcpt"; }
    grep -q "^<-  250 2.0.0 .*queued" "$work/swaks.log" ||
        { cat "$work/swaks.log"; fail "LMTP did not queue for $rcpt"; }
}
# count_rcpt DIR ADDRESS: messages in DIR delivered to ADDRESS.
count_rcpt() { grep -l -i "^X-Rcpt-Args: <$2>" "$1"/* 2>/dev/null | wc -l; }

# mailpy ARGS... <<'PY' ... PY: run the Python program read from stdin
# (sys.argv[1:] = ARGS) with these helpers defined: the one place the tests
# parse what went out.
#   load(path)         the message, parsed (email.policy.default)
#   mails(dir[, having])  (path, raw bytes, message) of each file of dir,
#                      sorted; only those whose raw bytes hold having
#   rcpt(m)            the envelope recipient smtp-sink recorded, lowercase
#   subject(m)         the Subject, decoded, its blanks squeezed
#   types(m)           the content types of every part, in order
#   texts(m)           every header value and every leaf part decoded
#                      (charset applied), each text part also with its
#                      entities unescaped, HTML also without its tags
#   plain(m)           the text/plain body
#   next_mail(d, seen, want, rx)  the oldest file of d not listed in the file
#                      seen, to want, whose Subject matches rx: printed and
#                      added to seen, exit 0; exit 1 when there is none yet
mailpy() {
    python3 -c "$(cat <<'PRELUDE'
import email, email.policy, html, os, re, sys

def load(path):
    return email.message_from_binary_file(open(path, "rb"), policy=email.policy.default)

def mails(d, having=None):
    for name in sorted(os.listdir(d)):
        path = os.path.join(d, name)
        raw = open(path, "rb").read()
        if having is None or having in raw:
            yield path, raw, email.message_from_bytes(raw, policy=email.policy.default)

def rcpt(m):
    return str(m["X-Rcpt-Args"] or "").strip("<> \n").lower()

def subject(m):
    return " ".join(str(m["Subject"] or "").split())

def types(m):
    return [p.get_content_type() for p in m.walk()]

def texts(m):
    out = [str(v) for k, v in m.items()]
    for p in m.walk():
        if p.is_multipart():
            continue
        t = (p.get_payload(decode=True) or b"").decode(p.get_content_charset() or "utf-8", "replace")
        out.append(t)
        if p.get_content_maintype() == "text":
            out.append(html.unescape(t))
        if p.get_content_type() == "text/html":
            out.append(html.unescape(re.sub("<[^>]*>", "", t)))
    return out

def plain(m):
    return m.get_body(("plain",)).get_content()

def next_mail(d, seen, want, rx):
    done = set(open(seen).read().split())
    for f in sorted(os.listdir(d), key=lambda n: os.stat(os.path.join(d, n)).st_mtime):
        p = os.path.join(d, f)
        if p in done:
            continue
        m = load(p)
        if rcpt(m) == want and re.search(rx, str(m["Subject"])):
            open(seen, "a").write(p + "\n"); print(p); sys.exit(0)
    sys.exit(1)
PRELUDE
)
$(cat)" "$@"
}

# q SQL: the first column of the first row of SQL in the test's database.
q() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$work/data/mlistd.db" "$1"; }
# nsink: how many messages the sink ($work/sink) holds.
nsink() { ls "$work/sink" | wc -l; }
# subj SUBJECT [DIR]: messages in DIR (the sink) whose Subject starts with SUBJECT.
subj() { grep -l "^Subject: $1" "${2:-$work/sink}"/* 2>/dev/null | wc -l; }

# maildir_make DIR...: empty Maildirs (new/, cur/, tmp/).
maildir_make() { for d; do mkdir -p "$d/new" "$d/cur" "$d/tmp"; done; }
# maildir_put DIR: stdin becomes a new message of Maildir DIR as a delivery
# agent stores it: written in tmp/ under a unique name (mktemp: also from a
# subshell, at the end of a pipe), then renamed into new/.
maildir_put() {
    f=$(mktemp "$1/tmp/$(date +%s).XXXXXXXX") || fail "mktemp in $1/tmp"
    cat > "$f"; chmod 644 "$f"; mv "$f" "$1/new/${f##*/}"
}
# start_dovecot USER...: a throw-away Dovecot in $work/dovecot ($dv) on
# loopback, IMAP on $imap_port (STARTTLS offered), IMAPS on $imaps_port,
# POP3 on $pop_port; user USER's password is pw-USER, its Maildir
# $work/mail/USER ($mail/USER). The certificate, for ca_file: $dv/cert.pem.
# Stopped at exit like every process of the test ($dovecot_pid).
start_dovecot() {
    command -v dovecot >/dev/null || { echo "SKIP: dovecot not installed"; exit 0; }
    dv=$work/dovecot; mail=$work/mail
    imap_port=$(free_port); imaps_port=$(free_port); pop_port=$(free_port)
    mkdir -p "$dv/run" "$mail"; chmod 755 "$dv" "$dv/run"; chmod 777 "$mail"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dv/key.pem" -out "$dv/cert.pem" -days 2 \
        -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null || fail openssl
    chmod 644 "$dv/key.pem"
    if [ "$(id -u)" -eq 0 ]; then muid=nobody; mgid=$(id -gn nobody); luser=dovenull; iuser=dovecot
    else muid=$(id -un); mgid=$(id -gn); luser=$muid; iuser=$muid; fi
    for u; do
        echo "$u:{PLAIN}pw-$u::::::" >> "$dv/passwd"
        maildir_make "$mail/$u"
    done
    [ "$(id -u)" -eq 0 ] && chown -R "$muid:$mgid" "$mail"/*
    cat > "$dv/dovecot.conf" <<EOF
base_dir = $dv/run
state_dir = $dv/state
log_path = $dv/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
ssl = yes
ssl_cert = <$dv/cert.pem
ssl_key = <$dv/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
default_login_user = $luser
default_internal_user = $iuser
mail_location = maildir:$mail/%u
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $dv/passwd
}
userdb {
  driver = static
  args = uid=$muid gid=$mgid home=$mail/%u
}
service imap-login {
  chroot =
  inet_listener imap {
    port = $imap_port
  }
  inet_listener imaps {
    port = $imaps_port
    ssl = yes
  }
}
service pop3-login {
  chroot =
  inet_listener pop3 {
    port = $pop_port
  }
  inet_listener pop3s {
    port = 0
  }
}
service anvil {
  chroot =
}
service stats {
  chroot =
}
EOF
    dovecot -F -c "$dv/dovecot.conf" 2>>"$dv/dovecot.log" &
    dovecot_pid=$!; pids="$pids $dovecot_pid"
    wait_port "$imap_port"; wait_port "$pop_port"
}
