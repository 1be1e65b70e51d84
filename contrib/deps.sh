#!/bin/sh
# Install the Debian packages named as arguments that are not installed yet.
# Does nothing (and needs no network) when all are present.
#
# It never stops, starts or restarts a service. "make check" may run on the
# production server, whose Postfix and Dovecot carry its mail: they are left
# as they are. While installing, a policy-rc.d that answers 101 ("action
# forbidden", invoke-rc.d and deb-systemd-invoke obey it) keeps the daemons
# of newly installed packages (postfix, dovecot) from starting; the tests
# start their own on loopback. An existing policy-rc.d is left in place
# and used as it is; ours is removed afterwards, whatever happens.
#
# For the tests of this script: DEPS_DPKG_QUERY, DEPS_APT_GET and
# DEPS_POLICY_RC_D replace dpkg-query, apt-get and /usr/sbin/policy-rc.d.
dpkg_query=${DEPS_DPKG_QUERY:-dpkg-query}
apt_get=${DEPS_APT_GET:-apt-get}
policy=${DEPS_POLICY_RC_D:-/usr/sbin/policy-rc.d}

missing=""
for p in "$@"; do
    $dpkg_query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive

ours=""
cleanup() { [ -n "$ours" ] && $SUDO rm -f "$policy"; ours=""; }
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
if [ ! -e "$policy" ]; then
    ours=1
    printf '#!/bin/sh\n# mlistd contrib/deps.sh: no service starts during the install.\nexit 101\n' |
        $SUDO sh -c "cat > '$policy' && chmod 755 '$policy'" || exit 1
fi
# Postfix is used only for smtp-sink/smtp-source in the tests: do not let it configure a server.
case " $missing " in *" postfix "*)
    echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
esac
$SUDO $apt_get update -q || exit 1
$SUDO $apt_get install -y -q --no-install-recommends $missing || exit 1
exit 0
