#!/bin/bash
# Operations: the exit codes INSTALL promises (mlistctl inject for the MTA,
# mlistd for systemd and cron), size limits, a damaged database reported
# with what to do (and the documented recovery working), file modes,
# timestamps on foreground logs, --once failing when work is left, deps.sh
# stopping nothing, the systemd unit.
. "$(dirname "$0")/lib.sh"
from=anne.legoff@rennes.example.org	# a contact of the demo roster
# msg FILE [BODY]: a small message from a contact to aide@
msg() {
    printf 'From: %s\nTo: aide@comites.example.org\nSubject: AIDE\nMessage-ID: <%s@example.org>\n\n%s\n' \
        "$from" "$RANDOM$RANDOM" "${2:-AIDE}" > "$1"
}
inject() { ctl inject --rcpt aide@comites.example.org --sender "$from" < "$1"; }
msg "$work/small.eml"

# 1. A data directory never initialised: 78 (EX_CONFIG), never 0, and
#    nothing created in it; the daemon says the same.
write_conf
expect_rc 78 "inject into a data_dir that does not exist" inject "$work/small.eml"
expect_out "mlistctl init" "inject says what to do"
mkdir "$work/data"
expect_rc 78 "inject into an empty data_dir" inject "$work/small.eml"
[ -z "$(ls "$work/data")" ] || fail "inject created $(ls "$work/data")"; ok "nothing created"
expect_rc 78 "mlistd --once on an uninitialised data_dir" "$build/mlistd" -c "$work/mlistd.conf" --once
expect_out "not initialised" "mlistd names the cause"
grep -q "^.* mlistd: data_dir=[^ ]* status=error reason=\"[^\"]*run 'mlistctl init' as the mlistd user\"$" "$work/err" ||
    { cat "$work/err"; fail "not one key=value line"; }
ok "one key=value line saying what to do"
[ ! -e "$work/data/mlistd.db" ] || fail "mlistd created a database"; ok "mlistd created nothing"

# 2. A bad configuration: 78 for inject too (it was 75).
printf 'domain = comites.example.org\ndata_dir = %s/data\nbogus = 1\n' "$work" > "$work/bad.conf"
expect_rc 78 "inject with a bad configuration" "$build/mlistctl" -c "$work/bad.conf" inject \
    --rcpt aide@comites.example.org --sender "$from" < "$work/small.eml"
expect_out "bad.conf:3" "the bad line is named"
expect_rc 78 "mlistd with a bad configuration" "$build/mlistd" -c "$work/bad.conf" --once
expect_out "bad.conf:3: unknown key: bogus" "mlistd names the bad line"
expect_out "not started because of .*bad.conf (the lines above): correct it, then check it with \"mlistd -n -c" \
    "mlistd says what to do"
if [ ! -e /etc/mlistd/mlistd.conf ]; then
    mkdir "$work/empty" && (cd "$work/empty" && env -u MLISTD_CONF "$build/mlistd" --once) >"$work/out" 2>"$work/err"; rc=$?
    [ "$rc" -eq 78 ] || fail "mlistd without a configuration: exit $rc"
    expect_out "no configuration file (looked for -c FILE, \$MLISTD_CONF, ./mlistd.conf, /etc/mlistd/mlistd.conf)" \
        "mlistd without a configuration: 78, where it looked and what to do"
fi

# 3. Modes: whatever the caller's umask, 0750 directories and 0640 files.
umask 022
expect_rc 0 "init" ctl init
ctl committee import "$top/contrib/demo-roster.csv" >/dev/null || fail import
expect_rc 0 "inject into an initialised data_dir" inject "$work/small.eml"
spooled=$(ls "$work/data/spool/incoming" | head -1)
[ -n "$spooled" ] || fail "nothing spooled"
for f in mlistd.db "spool/incoming/$spooled"; do
    m=$(stat -c %a "$work/data/$f"); [ "$m" = 640 ] || fail "$f has mode $m"
done
for d in spool spool/incoming spool/tmp; do
    m=$(stat -c %a "$work/data/$d"); [ "$m" = 750 ] || fail "$d has mode $m"
done
ok "database and spool file 0640, directories 0750 under umask 022"

# 4. The other codes of inject.
expect_rc 67 "inject for an address not ours" ctl inject --rcpt nobody@comites.example.org \
    --sender "$from" < "$work/small.eml"
expect_rc 64 "inject without --rcpt" ctl inject --sender "$from" < "$work/small.eml"
mv "$work/data/spool/tmp" "$work/tmp.saved"; touch "$work/data/spool/tmp"
expect_rc 75 "inject when the spool cannot be written" inject "$work/small.eml"
rm "$work/data/spool/tmp"; mv "$work/tmp.saved" "$work/data/spool/tmp"
write_conf "message_size_limit = 64k"
head -c 100000 /dev/zero | tr '\0' 'x' | fold -w 76 > "$work/body"
msg "$work/big.eml" "$(cat "$work/body")"
expect_rc 65 "inject over message_size_limit" inject "$work/big.eml"

# 5. With the default configuration, a report of 25 MB of attachments as a
#    webmail sends it (base64 in 76-character lines with CRLF: about 35 MB) is
#    accepted and read: nothing goes to corrupt/.
sink_port=$(free_port)
start_sink "$sink_port" "$work/sink"
write_conf "smtp_relay = 127.0.0.1:$sink_port" "lmtp_listen ="
python3 - "$from" > "$work/25mb.eml" <<'EOF'
import base64, os, sys
out = sys.stdout.buffer
head = ("From: %s\nTo: aide@comites.example.org\nSubject: AIDE\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\n'
        "AIDE\n" % sys.argv[1])
out.write(head.replace("\n", "\r\n").encode())
for i in range(5):	# 5 x 5 MiB, base64 in 76-character lines, CRLF as on the wire
    out.write(('--b\r\nContent-Type: application/octet-stream; name="f%d.bin"\r\n'
               "Content-Transfer-Encoding: base64\r\n\r\n" % i).encode())
    out.write(base64.encodebytes(os.urandom(5 << 20)).replace(b"\n", b"\r\n"))
out.write(b"--b--\r\n")
EOF
size=$(stat -c %s "$work/25mb.eml")
[ "$size" -gt 35000000 ] || fail "test message is only $size bytes"
expect_rc 0 "a 25 MB-of-attachments report accepted by default ($size bytes)" inject "$work/25mb.eml"
rm -f "$work/25mb.eml"

# 6. mlistd --once: 0 when everything went out; timestamps on its log lines.
once; rc=$?
[ "$rc" -eq 0 ] || fail "--once exit $rc"
left=$(find "$work/data/spool" -type f)
[ -z "$left" ] || fail "left in the spool: $left"
ok "--once handled everything (exit 0, nothing corrupt)"
[ "$(count_rcpt "$work/sink" "$from")" -ge 1 ] || fail "no answer reached the relay"
ok "the answers went out"
grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}[+-][0-9]{4} mlistd: ' "$work/daemon.log" ||
    { head -3 "$work/daemon.log"; fail "no timestamp on foreground log lines"; }
# (lines of the sanitizers' runtime, "==PID==...", are not mlistd's)
! grep -Ev '^[0-9]{4}-[0-9]{2}-[0-9]{2}T|^==[0-9]+==' "$work/daemon.log" > "$work/bare" ||
    fail "log lines without timestamp: $(head -3 "$work/bare")"
ok "every foreground log line is stamped"
m=$(stat -c %a "$work/data/mlistd.db"); [ "$m" = 640 ] || fail "database mode $m after the daemon"
ok "the database stays 0640"

# 7. --once exits 75 when a relay session failed or a mailbox could not be
#    read: the work is left for the next run.
stop_sink
msg "$work/small.eml"; inject "$work/small.eml" || fail inject
: > "$work/daemon.log"
once; rc=$?
[ "$rc" -eq 75 ] || fail "--once with the relay down: exit $rc"
grep -q "once status=incomplete.*deferred" "$work/daemon.log" || fail "no incomplete line"
ok "--once exits 75 when the relay cannot be reached"
write_conf "smtp_relay = 127.0.0.1:$sink_port" "lmtp_listen =" \
    "[fetch boite]" "url = imap://127.0.0.1:$(free_port)" "role = request" "user = u" "password = p"
start_sink "$sink_port" "$work/sink"
: > "$work/daemon.log"
once; rc=$?
[ "$rc" -eq 75 ] || fail "--once with a mailbox that cannot be read: exit $rc"
grep -q "once status=incomplete.*mailbox" "$work/daemon.log" || fail "no incomplete line for fetch"
ok "--once exits 75 when a mailbox cannot be read"
write_conf "smtp_relay = 127.0.0.1:$sink_port" "lmtp_listen ="
once || fail "--once after the relay came back: exit $?"
ok "a run that defers nothing exits 0"

# 8. A damaged database: 65, the file named, what to do; no restart loop.
cp "$work/data/mlistd.db" "$work/good.db"
version=$(sqlite3 "$work/good.db" "PRAGMA user_version")
# a damaged page: zeros over the root page of an index (what .dump does
# not need: the data stays recoverable)
psize=$(sqlite3 "$work/good.db" "PRAGMA page_size")
root=$(sqlite3 "$work/good.db" "SELECT rootpage FROM sqlite_schema WHERE name = 'delivery_message'")
[ -n "$root" ] && [ "$root" -gt 1 ] || fail "no index to damage"
dd if=/dev/zero of="$work/data/mlistd.db" bs="$psize" seek=$((root - 1)) count=1 conv=notrunc 2>/dev/null
: > "$work/daemon.log"
expect_rc 65 "mlistd on a damaged page" "$build/mlistd" -c "$work/mlistd.conf" --once
expect_out "mlistd.db is damaged" "the file is named"
expect_out "INSTALL, section 4" "the recovery procedure is named"
# the recovery INSTALL gives (with .dump: this sqlite3 has no .recover)
(cd "$work/data" &&
    sqlite3 mlistd.db ".dump" | sed 's/^ROLLBACK; -- due to errors$/COMMIT;/' > "$work/recovered.sql" &&
    sqlite3 "$work/new.db" < "$work/recovered.sql" &&
    sqlite3 "$work/new.db" "PRAGMA user_version = $(sqlite3 mlistd.db 'PRAGMA user_version')" &&
    [ "$(sqlite3 "$work/new.db" 'PRAGMA integrity_check')" = ok ] &&
    mv mlistd.db "$work/damaged.db" && rm -f mlistd.db-wal mlistd.db-shm &&
    mv "$work/new.db" mlistd.db && chmod 640 mlistd.db) || fail "recovery as INSTALL gives it"
[ "$(sqlite3 "$work/data/mlistd.db" "PRAGMA user_version")" = "$version" ] || fail "schema version lost"
expect_rc 0 "the recovered database works" ctl committee list
grep -q rennes "$work/out" || fail "committees lost in the recovery"
expect_rc 0 "mlistd runs on the recovered database" "$build/mlistd" -c "$work/mlistd.conf" --once
# a damaged header
printf 'this is not sqlite' | dd of="$work/data/mlistd.db" bs=1 conv=notrunc 2>/dev/null
expect_rc 65 "mlistd on a damaged header" "$build/mlistd" -c "$work/mlistd.conf" --once
expect_out "file is not a database" "SQLite's diagnosis is given"
expect_rc 65 "mlistctl on a damaged database" ctl committee list
expect_out "restaurez la dernière sauvegarde" "mlistctl says what to do (not \"run mlistctl init\")"
! grep -q "mlistctl init" "$work/err" || fail "still says run mlistctl init"
cp "$work/good.db" "$work/data/mlistd.db"
expect_rc 0 "restored from the backup" ctl committee list

# 9. deps.sh installs with a policy that keeps services from starting and
#    stops nothing (fake apt-get and service tools record what is run).
fake="$work/fake"; mkdir -p "$fake/bin"
for t in service systemctl invoke-rc.d; do
    printf '#!/bin/sh\necho "%s $*" >> %s/calls\n' "$t" "$fake" > "$fake/bin/$t"
done
printf '#!/bin/sh\necho "apt-get $*" >> %s/calls\n"%s/policy" postfix start; echo "policy=$?" >> %s/calls\n' \
    "$fake" "$fake" "$fake" > "$fake/bin/apt-get"
printf '#!/bin/sh\nexit 1\n' > "$fake/bin/dpkg-query"
printf '#!/bin/sh\nexit 0\n' > "$fake/bin/debconf-set-selections"
chmod +x "$fake/bin/"*
PATH="$fake/bin:$PATH" DEPS_DPKG_QUERY=dpkg-query DEPS_APT_GET=apt-get DEPS_POLICY_RC_D="$fake/policy" \
    sh "$top/contrib/deps.sh" postfix dovecot-imapd > "$work/out" 2>&1 || { cat "$work/out"; fail "deps.sh"; }
grep -q "apt-get install .*postfix dovecot-imapd" "$fake/calls" || { cat "$fake/calls"; fail "no install"; }
grep -q "policy=101" "$fake/calls" || { cat "$fake/calls"; fail "services could start during the install"; }
! grep -Eq "^(service|systemctl|invoke-rc.d) " "$fake/calls" || { cat "$fake/calls"; fail "deps.sh touched a service"; }
[ ! -e "$fake/policy" ] || fail "policy-rc.d left behind"
ok "deps.sh: no service started or stopped, policy removed"
printf '#!/bin/sh\nexit 0\n' > "$fake/policy"; chmod +x "$fake/policy"; : > "$fake/calls"
PATH="$fake/bin:$PATH" DEPS_DPKG_QUERY=dpkg-query DEPS_APT_GET=apt-get DEPS_POLICY_RC_D="$fake/policy" \
    sh "$top/contrib/deps.sh" postfix > "$work/out" 2>&1 || fail "deps.sh with a policy"
[ -e "$fake/policy" ] && grep -q "policy=0" "$fake/calls" || fail "an existing policy-rc.d was replaced"
ok "deps.sh keeps the admin's own policy-rc.d"

# 10. The systemd unit: valid, and no restart for 64, 65, 78.
grep -q '^RestartPreventExitStatus=.*\b65\b.*\b78\b' "$top/contrib/mlistd.service" || fail "RestartPreventExitStatus"
if command -v systemd-analyze >/dev/null; then
    sed "s#/usr/local/sbin/mlistd#$build/mlistd#" "$top/contrib/mlistd.service" > "$work/mlistd.service"
    systemd-analyze verify --man=no "$work/mlistd.service" > "$work/out" 2>&1
    [ ! -s "$work/out" ] || { cat "$work/out"; fail "systemd-analyze verify"; }
    ok "systemd-analyze verify: no complaint"
fi
finish
