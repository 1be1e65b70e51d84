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
dmarc_mitigation = munge
CONF
    first=1
fi
ctl="$top/$build/mlistctl -c $demo/mlistd.conf"
if [ -n "${first:-}" ]; then
    $ctl init --list-name "Comités de quartier (démo)"	# signs the mails, heads the bulletin
else
    $ctl init
fi
$ctl committee import "$top/contrib/demo-roster.csv" >/dev/null || true
$ctl sender add bureau@national.example.org --role national --name "Bureau national" 2>/dev/null || true
$ctl sender add presidence@national.example.org --role national --name "Présidence" 2>/dev/null || true
$ctl sender add redaction@national.example.org --role editor --name "Rédaction du bulletin" 2>/dev/null || true
echo "== demo roster: $($ctl committee list | wc -l) committees =="
$ctl committee list
if [ -n "${first:-}" ]; then
    # A first broadcast, so the outbox shows what the committees receive.
    $ctl inject --rcpt national@comites.example.org --sender bureau@national.example.org <<'MAIL'
From: Bureau national <bureau@national.example.org>
To: national@comites.example.org
Subject: Bienvenue sur la liste des comités
Approved: demo-secret

Bonjour à toutes et à tous,

Ce message de démonstration est envoyé aux contacts désignés de chaque comité.

Le bureau national
MAIL
    # Two activity reports for the bulletin, as committee members write them.
    $ctl inject --rcpt bulletin@comites.example.org --sender anne.legoff@rennes.example.org <<'MAIL'
From: Anne Le Goff <anne.legoff@rennes.example.org>
To: bulletin@comites.example.org
Subject: TR: [Rennes] Fête de quartier du 14 novembre
Content-Type: text/plain; charset=utf-8

Bonjour,

Notre comité a tenu un stand à la fête de quartier : une cinquantaine de
personnes sont passées, dont plusieurs jeunes qui veulent nous rejoindre.

Anne

Envoyé de mon iPhone
MAIL
    $ctl inject --rcpt bulletin@comites.example.org --sender sebastien.blanc@lyon.example.org <<'MAIL'
From: Sébastien Blanc <sebastien.blanc@lyon.example.org>
To: bulletin@comites.example.org
Subject: Re: Appel à contributions
Content-Type: text/plain; charset=utf-8

Atelier réparation de vélos le 7 novembre : 23 vélos remis en état.

Le 2 nov. 2026 à 09:00, Bulletin <bulletin@comites.example.org> a écrit :
> Bonjour, le bulletin attend vos contributions.
MAIL
fi
cat <<HELP
== mlistd in the foreground (Ctrl-C to stop) ==
   outgoing mail: $demo/data/outbox/new/   (one file per contact)
   send another:  swaks --protocol LMTP --server 127.0.0.1:8024 \\
                    --from bureau@national.example.org --to national+bretagne@comites.example.org \\
                    --header "Approved: demo-secret" --header "Subject: Test"
   then:          $build/mlistctl -c $demo/mlistd.conf messages
                  $build/mlistctl -c $demo/mlistd.conf bulletin submissions
HELP
exec "$top/$build/mlistd" -c "$demo/mlistd.conf" -f
