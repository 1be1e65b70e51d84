#!/bin/bash
# Egress through an authenticated submission service, with real peers: a
# private Postfix (own config_directory and queue_directory in the test's
# temporary directory, smtpd on loopback with STARTTLS required and SASL
# through Dovecot's auth service on a unix socket) relaying to smtp-sink,
# which counts what went through. Needs root (Postfix's master).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "SKIP: a private Postfix needs root"; exit 0; }
command -v dovecot >/dev/null && command -v postfix >/dev/null || { echo "SKIP: dovecot/postfix"; exit 0; }
sink_port=$(free_port); sub_port=$(free_port); plain_port=$(free_port); nopipe_port=$(free_port)
pf=$work/postfix; dv=$work/dovecot
mkdir -p "$pf/conf" "$pf/queue" "$pf/data" "$dv/run"; chmod 755 "$pf" "$dv" "$dv/run"; chown postfix "$pf/data"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$pf/key.pem" -out "$pf/cert.pem" -days 2 \
    -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null || fail openssl
chmod 644 "$pf/key.pem"
echo 'national@comites.example.org:{PLAIN}sub-secret::::::' > "$dv/passwd"
cat > "$dv/dovecot.conf" <<EOF
base_dir = $dv/run
state_dir = $dv/state
log_path = $dv/dovecot.log
protocols =
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = dovenull
default_internal_user = dovecot
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $dv/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}
service auth {
  unix_listener $pf/auth-client {
    mode = 0666
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
pids="$pids $!"
cat > "$pf/conf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $pf/queue
data_directory = $pf/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = relay.example.org
mydestination =
mynetworks = 127.0.0.1/32
maillog_file_prefixes = $work
maillog_file = $pf/postfix.log
relayhost = [127.0.0.1]:$sink_port
smtpd_tls_cert_file = $pf/cert.pem
smtpd_tls_key_file = $pf/key.pem
smtpd_tls_security_level = encrypt
smtpd_tls_auth_only = yes
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = $pf/auth-client
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = permit_sasl_authenticated, reject
smtp_tls_security_level = none
alias_maps =
alias_database =
local_recipient_maps =
EOF
cat > "$pf/conf/master.cf" <<EOF
127.0.0.1:$sub_port inet n - n - - smtpd
127.0.0.1:$plain_port inet n - n - - smtpd -o smtpd_tls_security_level=none
  -o smtpd_tls_auth_only=no -o smtpd_sasl_auth_enable=no
  -o smtpd_relay_restrictions=permit_mynetworks,reject
  -o smtpd_recipient_restrictions=permit_mynetworks,reject
127.0.0.1:$nopipe_port inet n - n - - smtpd -o smtpd_tls_security_level=none
  -o smtpd_tls_auth_only=no -o smtpd_sasl_auth_enable=no
  -o smtpd_relay_restrictions=permit_mynetworks,reject
  -o smtpd_recipient_restrictions=permit_mynetworks,reject
  -o smtpd_discard_ehlo_keywords=pipelining
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
tlsmgr    unix - - n 1000? 1 tlsmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
smtp      unix - - n - - smtp
relay     unix - - n - - smtp
showq     unix n - n - - showq
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF
start_sink "$sink_port" "$work/sink"
postfix -c "$pf/conf" start-fg >"$pf/start.log" 2>&1 &
pids="$pids $!"
trap 'postfix -c "$pf/conf" stop >/dev/null 2>&1; cleanup' EXIT INT TERM
wait_port "$sub_port"
ok "private Postfix submission (STARTTLS required, SASL via Dovecot) relaying to smtp-sink"

echo sub-secret > "$work/smtp-password"
# libesmtp checks the certificate's DNS names only: name the relay, not its IP.
write_conf "smtp_relay = localhost:$sub_port" "smtp_tls = starttls" "smtp_ca_file = $pf/cert.pem" \
    "smtp_user = national@comites.example.org" "smtp_password_file = $work/smtp-password" \
    "smtp_connections = 1" "smtp_timeout = 5s" "approve_password = s3cret" "bulletin_anchor = 2099-01-01" \
    "dmarc_mitigation = none" "retry_min = 60s"
ctl init >/dev/null && ctl committee import "$top/contrib/demo-roster.csv" >/dev/null || fail setup
ctl sender add bureau@national.example.org --role national >/dev/null || fail sender
SECONDS=0
send() {	# send TARGET SUBJECT: inject a broadcast and run the daemon once
    printf 'From: bureau@national.example.org\nApproved: s3cret\nSubject: %s\n\nx\n' "$2" \
        | ctl inject --rcpt "national+$1@comites.example.org" --sender bureau@national.example.org || fail inject
    "$build/mlistd" -c "$work/mlistd.conf" --once 2>>"$work/daemon.log"
}
msg_id() { ctl messages | grep "$1" | awk '{print $1}'; }
# retry: run once more with the clock past the back-off.
retry() {
    MLISTD_NOW=$(( $(date +%s) + 4000 )) "$build/mlistd" -c "$work/mlistd.conf" --once 2>>"$work/daemon.log"
}

# 1. STARTTLS + AUTH: every copy accepted by Postfix at the first run, five
# times in a row. (A TLS 1.3 session ticket arriving after the handshake
# used to make libesmtp wait for the EHLO reply before sending the EHLO,
# until smtp_timeout: see interpose.c. A stall ends in smtp_timeout, 5 s
# here, which defers the session's copies: the counts of ' remis ' at the
# first run catch it, with no timing in the test.)
send bretagne "Par la soumission"
for k in 1 2 3 4; do send albi "Encore $k"; done
wait_files "$work/sink" 22
[ "$(ctl status "$(msg_id 'Par la soumission')" | grep -c ' remis ')" -eq 10 ] || fail "not all sent"
for k in 1 2 3 4; do
    [ "$(ctl status "$(msg_id "Encore $k")" | grep -c ' remis ')" -eq 3 ] || fail "run $k: not all sent"
done
[ "$(grep -c 'sasl_method=\(PLAIN\|LOGIN\), sasl_username=national@comites.example.org' "$pf/postfix.log")" -ge 1 ] \
    || fail "no authenticated submission in the Postfix log"
grep -q 'starttls=1 auth=1' "$pf/postfix.log" || fail "no STARTTLS+AUTH session"
ok "10 + 4 x 3 copies through STARTTLS + AUTH to Postfix at once, all relayed to the sink"
# The same without the interposition (interpose.c): stock libesmtp, whose
# poll() loop has no writable-first fix, so TLS is held to 1.2: no stall.
MLISTD_NO_INTERPOSE=1 send albi "Sans interposition"
[ "$(ctl status "$(msg_id 'Sans interposition')" | grep -c ' remis ')" -eq 3 ] ||
    { ctl status "$(msg_id 'Sans interposition')"; fail "fallback: not all sent"; }
grep -q 'interposition not in effect' "$work/daemon.log" || fail "fallback not logged"
ok "without the interposition: STARTTLS + AUTH, 3 copies sent at once"

# 2. A certificate that does not match the relay's name: deferred, nothing sent.
sed -i "s/^smtp_relay = .*/smtp_relay = 127.0.0.1:$sub_port/" "$work/mlistd.conf"
send albi "Mauvais nom"
[ "$(ctl status "$(msg_id 'Mauvais nom')" | grep -c ' différé .*TLS')" -eq 3 ] || { ctl status "$(msg_id 'Mauvais nom')"; fail "not deferred on TLS"; }
ok "certificate name mismatch: deferred with a TLS reason"
sed -i "s/^smtp_relay = .*/smtp_relay = localhost:$sub_port/" "$work/mlistd.conf"
retry
[ "$(ctl status "$(msg_id 'Mauvais nom')" | grep -c ' remis ')" -eq 3 ] || fail "retry after fixing the name"
ok "after the fix the retry sends them"

# 3. A wrong password must defer (a configuration error), never fail the contacts.
echo wrong > "$work/smtp-password"
send arras "Mauvais mot de passe"
st=$(ctl status "$(msg_id 'Mauvais mot de passe')")
# (The reason is "authentication refused" or, when Postfix drops the
# session first, a connection reason: either way deferred, never failed.)
if echo "$st" | grep -q ' refusé ' || [ "$(echo "$st" | grep -c ' différé ')" -ne 3 ]; then
    echo "$st"; fail "wrong password must defer, not fail"
fi
ok "wrong password: deferred, not failed"
# 4. The local Postfix of INSTALL (plain SMTP on loopback) offers CHUNKING:
# libesmtp sends BDAT. With PIPELINING, and without (it then waits for the
# reply to each BDAT chunk: nothing may be held back).
logged=$(wc -l <"$pf/postfix.log")	# sessions 1-3 used BDAT already: look after this
# smtp_user stays set: this relay offers no AUTH (it relays by IP), and a
# 250 is a copy sent, never deferred (deferring re-sent every copy at each
# retry for the whole queue_lifetime).
sed -i -e "s/^smtp_relay = .*/smtp_relay = 127.0.0.1:$plain_port/" -e '/^smtp_tls\|^smtp_ca_file/d' \
    "$work/mlistd.conf"
grep -q '^smtp_user = ' "$work/mlistd.conf" || fail "smtp_user must stay set"
before=$(ls "$work/sink" | wc -l)
send bretagne "Par le Postfix local"
[ "$(ctl status "$(msg_id 'Par le Postfix local')" | grep -c ' remis ')" -eq 10 ] || { ctl status "$(msg_id 'Par le Postfix local')"; fail "plain Postfix"; }
wait_files "$work/sink" $((before + 10))
retry	# nothing is due again: a second run sends nothing more
sleep 1
for r in $(grep -l '^Subject: Par le Postfix local' "$work"/sink/* | xargs grep -h -i '^X-Rcpt-Args:' | sort | uniq -c | awk '{print $1}'); do
    [ "$r" -eq 1 ] || fail "a contact got $r copies through the relay without AUTH"
done
[ "$(grep -l '^Subject: Par le Postfix local' "$work"/sink/* | wc -l)" -eq 10 ] || fail "not 10 copies"
ok "smtp_user set, relay without AUTH: 10 rows 'sent', one copy per contact, none again at retry"
tail -n +$((logged + 1)) "$pf/postfix.log" | grep 'disconnect from' | grep -v starttls |
    grep -q 'bdat=[1-9]' || fail "no plain session with BDAT in the Postfix log"
ok "plain SMTP to the local Postfix (CHUNKING + PIPELINING): 10 copies sent and relayed"
sed -i "s/^smtp_relay = .*/smtp_relay = 127.0.0.1:$nopipe_port/" "$work/mlistd.conf"
send bretagne "Sans pipelining"
[ "$(ctl status "$(msg_id 'Sans pipelining')" | grep -c ' remis ')" -eq 10 ] || { ctl status "$(msg_id 'Sans pipelining')"; fail "no pipelining"; }
wait_files "$work/sink" $((before + 20))
ok "CHUNKING without PIPELINING: 10 copies sent at once, no stall"
echo "# $SECONDS s"
finish
