#!/bin/sh
# make run: build a demo association under ./demo and run mlistd on it in
# the foreground. Safe to run again: the roster is re-imported (an update).
#   contrib/demo.sh BUILD_DIR
set -e
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
demo="$top/demo"
mkdir -p "$demo"
if [ ! -f "$demo/mlistd.conf" ]; then
    cat > "$demo/mlistd.conf" <<CONF
# Demo configuration written by make run. Outgoing mail goes to
# $demo/data/outbox (a Maildir) because no smtp_relay is set.
domain = comites.example.org
data_dir = $demo/data
templates_dir = $top/templates
language = fr
lmtp_listen = 127.0.0.1:8024
approve_password = demo-secret
CONF
fi
ctl="$top/$build/mlistctl -c $demo/mlistd.conf"
$ctl init
$ctl committee import "$top/contrib/demo-roster.csv" >/dev/null || true
$ctl sender add bureau@national.example.org --role national --name "Bureau national" 2>/dev/null || true
$ctl sender add presidence@national.example.org --role national --name "Présidence" 2>/dev/null || true
$ctl sender add redaction@national.example.org --role editor --name "Rédaction du bulletin" 2>/dev/null || true
echo "== demo roster: $($ctl committee list | wc -l) committees =="
$ctl committee list
[ -x "$top/contrib/demo-mail.sh" ] && "$top/contrib/demo-mail.sh" "$top/$build" "$demo" &
echo "== mlistd in the foreground (Ctrl-C to stop) =="
exec "$top/$build/mlistd" -c "$demo/mlistd.conf" -f
