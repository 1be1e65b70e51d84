#!/bin/sh
# Install the Debian packages named as arguments that are not installed yet.
# Does nothing (and needs no network) when all are present.
missing=""
for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# Postfix is used only for smtp-sink/smtp-source in the tests: do not let it configure a server.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO apt-get update -q || exit 1
$SUDO apt-get install -y -q --no-install-recommends $missing || exit 1
# The packages may start their daemons; the tests start their own on loopback.
for s in postfix dovecot; do $SUDO service $s stop >/dev/null 2>&1 || true; done
exit 0
