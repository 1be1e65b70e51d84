#!/bin/bash
# mlistctl as a person reads it: French by default with French typography
# (a non-breaking space before « : ; ? ! »), no log line among an answer
# (only with -v, on stderr), one usage style, a clear message when no
# configuration is found, the closest command suggested, confirmations.
. "$(dirname "$0")/lib.sh"
NB=$'\xc2\xa0'
write_conf
ctl init >/dev/null || fail "init"

# Log lines: never in the answer without -v; with -v, on stderr only.
logline='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+[+-][0-9]{4} mlistctl: '
expect_rc 0 "sender add" ctl sender add office@example.org --role national --name "Bureau"
grep -Eq "$logline" "$work/out" "$work/err" && fail "a log line without -v"
ok "no log line without -v"
expect_out "^office@example.org ajouté avec le rôle expéditeur national$" "sender add confirms"
expect_rc 65 "duplicate sender refused" ctl sender add office@example.org --role national
grep -qx "mlistctl: office@example.org a déjà le rôle expéditeur national" "$work/err" || { cat "$work/err"; fail "duplicate told in French"; }
ok "duplicate told in French"
grep -q "mlistctl: ?" "$work/err" && fail "an empty error"; ok "no empty error"
expect_rc 0 "sender remove" ctl sender remove office@example.org --role national
expect_out "n'a plus le rôle expéditeur national" "sender remove confirms"
ctl sender add office@example.org --role national >/dev/null
# -v: the release of a held broadcast logs one line (see below); a roster
# command with -v shows the same answer, nothing on stdout but the answer
expect_rc 0 "-v accepted" "$build/mlistctl" -v -c "$work/mlistd.conf" sender add ed@example.org --role editor
grep -Eq "$logline" "$work/out" && fail "a log line on stdout with -v"
ok "-v keeps stdout for the answer"

# No configuration anywhere: says where it looked, exit 78 (EX_CONFIG).
mkdir "$work/empty"
(cd "$work/empty" && env -u MLISTD_CONF "$build/mlistctl" committee list) >"$work/out" 2>"$work/err"
rc=$?; [ "$rc" -eq 78 ] || fail "no configuration: exit $rc, wanted 78"; ok "no configuration: 78"
grep -qx "mlistctl: aucun fichier de configuration trouvé (cherché${NB}: -c, \$MLISTD_CONF, ./mlistd.conf, /etc/mlistd/mlistd.conf)" "$work/err" ||
    { cat "$work/err"; fail "no-configuration message"; }
ok "the places looked in are named"
[ -s "$work/out" ] && fail "something on stdout"; ok "nothing on stdout"

# Unknown commands: the closest one (both words) suggested.
expect_rc 64 "committee lst" ctl committee lst
grep -qx "mlistctl: commande inconnue${NB}: committee lst${NB}; vouliez-vous dire «${NB}committee list${NB}»${NB}?" "$work/err" ||
    { cat "$work/err"; fail "suggestion"; }
ok "committee lst: committee list suggested"
expect_rc 64 "comitee show" ctl comitee show x
expect_out "vouliez-vous dire «${NB}committee show${NB}»" "misspelt group: suggested"
expect_rc 64 "statu" ctl statu 1234
expect_out "vouliez-vous dire «${NB}status${NB}»" "one-word command suggested"
expect_rc 64 "nothing close" ctl frobnicate
expect_out "commande inconnue${NB}: frobnicate (voir mlistctl --help)" "no suggestion when nothing is close"
grep -q "vouliez" "$work/err" && fail "a far suggestion"; ok "no far-fetched suggestion"

# One usage style.
expect_rc 64 "missing argument" ctl contact add quimper
grep -qx "mlistctl: usage${NB}: mlistctl contact add COMITÉ ADRESSE \[--name NOM\]" "$work/err" ||
    { cat "$work/err"; fail "usage line"; }
ok "usage line, French typography"
expect_rc 0 "--help" ctl contact add --help
grep -q "^usage${NB}: mlistctl contact add" "$work/out" || fail "--help usage"; ok "--help: same usage"
expect_rc 0 "mlistctl --help" "$build/mlistctl" --help
grep -q "^usage${NB}: mlistctl \[-c FICHIER\] \[-v\]" "$work/out" || fail "global usage"; ok "global usage"
grep -rq "usage :" "$work/out" "$work/err" && fail "usage with a plain space"; ok "no plain-space usage"

# ---- Tables: a header row, columns aligned by display width ----
# aligned FILE [FROM-REGEX [TO-REGEX]]: the lines from the one matching
# FROM (the header row) up to the one before TO (or the end): every field
# (text after two spaces) begins at a column where a header field begins,
# counted in display columns (wide characters 2, combining marks 0).
aligned() {
    python3 - "$@" <<'PY' || fail "columns of $1 not aligned"
import re, sys, unicodedata
path, start, stop = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else '', sys.argv[3] if len(sys.argv) > 3 else None
def width(s):
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in 'WF' else 1 for c in s)
def starts(line):
    return {width(line[:m.start(1)]) for m in re.finditer(r'(?:^|  )\s*(\S)', line)}
lines = open(path, encoding='utf-8').read().split('\n')
i = next(k for k, l in enumerate(lines) if re.search(start, l))
head = starts(lines[i]); rows = 0
for l in lines[i + 1:]:
    if l == '' or (stop and re.search(stop, l)):
        break
    bad = starts(l) - head
    if bad:
        print('header %s\nrow    %s\nfields at columns %s not under a header field' % (lines[i], l, sorted(bad)))
        sys.exit(1)
    rows += 1
if rows == 0 or len(head) < 2:
    print('no table rows under', lines[i]); sys.exit(1)
PY
}
ctl committee add "Saint-Étienne" --region "Auvergne-Rhône-Alpes" --department 42 --tags jeunes >/dev/null
ctl committee add "Quimper" --region Bretagne --department 29 >/dev/null
ctl committee add "Évry-Courcouronnes" --region "Île-de-France" --department 91 >/dev/null
ctl contact add saint-etienne francoise@example.org --name "Françoise L'Hôte" >/dev/null
ctl contact add saint-etienne francois@example.org --name "François Martin" >/dev/null
ctl contact add saint-etienne elodie@example.org --name "Élodie Durand" >/dev/null
ctl contact add saint-etienne zoe@example.org --name "zoé Le Bihan" >/dev/null
ctl contact add quimper anais@example.org --name "Anaïs 李" >/dev/null
ctl contact add evry-courcouronnes eric@example.org --name "Éric Noël" >/dev/null
expect_rc 0 "committee list" ctl committee list
head -1 "$work/out" | grep -q "^identifiant  *nom  *région  *dépt  *actifs/tous  *étiquettes$" ||
    { cat "$work/out"; fail "committee list header"; }
ok "committee list has a header row"
aligned "$work/out" "^identifiant"; ok "committee list aligned by display width (Saint-Étienne, Île-de-France)"
# French order: regions Auvergne-Rhône-Alpes, Bretagne, Île-de-France (Î with I)
[ "$(awk 'NR > 1 {print $1}' "$work/out" | tr '\n' ' ')" = "saint-etienne quimper evry-courcouronnes " ] ||
    { cat "$work/out"; fail "committee order"; }
ok "committees in French order of region (Île-de-France after Bretagne)"
expect_rc 0 "contact list" ctl contact list
aligned "$work/out" "^comité  *adresse"; ok "contact list: header row, aligned (Françoise L'Hôte, Anaïs 李)"
[ "$(grep saint-etienne "$work/out" | awk '{print $2}' | tr '\n' ' ')" = \
    "elodie@example.org francois@example.org francoise@example.org zoe@example.org " ] ||
    { cat "$work/out"; fail "contact order"; }
ok "contacts in French order: Élodie, François, Françoise, zoé"
expect_rc 0 "committee show" ctl committee show saint-etienne
aligned "$work/out" "^  adresse  *nom" "attention"; ok "committee show: contacts table aligned"
expect_rc 0 "sender list" ctl sender list
aligned "$work/out" "^rôle  *adresse"; ok "sender list: header row, aligned"
grep -q "expéditeur national" "$work/out" || fail "role in words"; ok "roles in words"
expect_rc 0 "coverage" ctl coverage
aligned "$work/out" "^  comité  *joignables" "^Comités"; ok "coverage: header row per group"

# ---- Broadcasts: short ids, prefixes, states and reasons in French ----
sink_port=$(free_port)
write_conf "smtp_relay = 127.0.0.1:$sink_port" "approve_password = s3cret" \
    "dmarc_mitigation = none" "bulletin_anchor = 2099-01-01" "retry_min = 60s"
start_sink "$sink_port" "$work/sink"
bcast() {	# bcast FROM SUBJECT [HEADER]: a broadcast through the MTA pipe
    printf 'From: %s\nTo: national@comites.example.org\nSubject: %s\nMessage-ID: <%s@example.org>\n%s\nBonjour.\n' \
        "$1" "$2" "$RANDOM$RANDOM" "${3:-}" |
        ctl inject --rcpt national@comites.example.org --sender "$1" || fail "inject $2"
}
bcast office@example.org "Assemblée générale" "Approved: s3cret
"
bcast intrus@example.org "Pas national"
bcast office@example.org "Sans secret"
once || fail "mlistd --once"
wait_files "$work/sink" 7
expect_rc 0 "messages" ctl messages
aligned "$work/out" "^id  *date  *état"; ok "messages: header row, aligned"
ids=$(awk 'NR > 1 {print $1}' "$work/out")
[ "$(echo "$ids" | grep -c '^[0-9a-f]\{8\}$')" -eq 3 ] || { cat "$work/out"; fail "ids of 8 characters"; }
ok "three broadcasts, ids of 8 hex characters"
grep -q "Assemblée générale" "$work/out" && grep "Assemblée" "$work/out" | grep -q " envoyé " ||
    { cat "$work/out"; fail "sent broadcast state"; }
ok "a sent broadcast is « envoyé »"
grep "Pas national" "$work/out" | grep -q "retenu .*\[l'expéditeur n'est pas un expéditeur national\]" ||
    { cat "$work/out"; fail "held reason in French"; }
ok "a refused sender: « retenu », reason in French"
grep "Sans secret" "$work/out" | grep -q "retenu .*\[en attente de confirmation\]" ||
    { cat "$work/out"; fail "awaiting confirmation in French"; }
ok "awaiting confirmation, in French"
english='\b(done|held|sending|awaiting|confirmation\]|not a national|delivered|queued|deferred|failed|call)\b'
grep -Eq "$english" "$work/out" && { cat "$work/out"; fail "English state words"; }
ok "no English state word in messages"
sent=$(awk '/Assemblée/ {print $1}' "$work/out")
expect_rc 0 "status by its 8-character id" ctl status "$sent"
aligned "$work/out" "^comité  *état  *contact" "comité\(s\) atteint"; ok "status: header row, aligned"
grep -q "^Saint-Étienne  *atteint  *elodie@example.org  *remis  *250" "$work/out" ||
    { cat "$work/out"; fail "status rows"; }
ok "status: committee reached, contact delivered (remis), the server's reply"
grep -Eq "$english" "$work/out" && { cat "$work/out"; fail "English words in status"; }
ok "no English state word in status"
full=$(sqlite3 "$work/data/mlistd.db" "SELECT token FROM message WHERE subject = 'Assemblée générale'")
expect_rc 0 "status by the whole token" ctl status "$full" --unreached
expect_rc 0 "status by a 12-character prefix" ctl status "${full:0:12}" --replies
expect_out "Réponses à l'envoi $sent" "replies name the short id"
expect_rc 65 "status: unknown id" ctl status ffffffff
expect_out "envoi inconnu${NB}: ffffffff" "unknown id told"
expect_rc 65 "status: a 7-character prefix refused" ctl status "${sent:0:7}"
expect_out "au moins 8 caractères" "too short a prefix told"
# two broadcasts sharing their first 8 characters
sqlite3 "$work/data/mlistd.db" "UPDATE message SET token = 'abcdef01' || substr(token, 9)
    WHERE subject IN ('Pas national', 'Sans secret')"
expect_rc 65 "ambiguous prefix" ctl status abcdef01
grep -q "identifiant ambigu${NB}: abcdef01 désigne 2 envois (abcdef01.... (Pas national), abcdef01.... (Sans secret))" "$work/err" ||
    { cat "$work/err"; fail "ambiguous prefix message"; }
ok "ambiguous prefix: the candidates listed"
held=$(sqlite3 "$work/data/mlistd.db" "SELECT substr(token, 1, 12) FROM message WHERE subject = 'Sans secret'")
expect_rc 0 "release by a unique 12-character prefix" ctl release "$held"
grep -qx "abcdef01 libéré${NB}: envoi en cours" "$work/out" || { cat "$work/out"; fail "release answer"; }
ok "release answers with the short id"
grep -Eq "$logline" "$work/out" "$work/err" && fail "a log line without -v"
ok "release: no log line without -v"
held=$(sqlite3 "$work/data/mlistd.db" "SELECT substr(token, 1, 12) FROM message WHERE subject = 'Pas national'")
expect_rc 0 "release with -v" "$build/mlistctl" -v -c "$work/mlistd.conf" release "$held"
grep -Eq "$logline" "$work/out" && fail "log line on stdout"
grep -Eq "${logline}msgid=[0-9a-f]{32} status=released" "$work/err" || { cat "$work/err"; fail "-v: no log line"; }
ok "-v: the log line on stderr, the answer alone on stdout"
expect_rc 0 "search" ctl search Bonjour
grep -q "^[0-9-]*  envoi national $sent$" "$work/out" || { cat "$work/out"; fail "search: kind and id"; }
ok "search: a broadcast named « envoi national » with its 8-character id"
printf 'language = en\n' >> "$work/mlistd.conf"
expect_rc 0 "messages in English" ctl messages
grep -q "^id  *date  *state  *sent" "$work/out" && grep "Assemblée" "$work/out" | grep -q " sent " ||
    { cat "$work/out"; fail "English catalogue"; }
ok "language = en: the same catalogue in English"
write_conf "smtp_relay = 127.0.0.1:$sink_port" "approve_password = s3cret" \
    "dmarc_mitigation = none" "bulletin_anchor = 2099-01-01" "retry_min = 60s"

# ---- CONTACTS by mail: the list in French order ----
: > "$work/daemon.log"
n0=$(ls "$work/sink" | wc -l)
printf 'From: Zoé <zoe@example.org>\nTo: aide@comites.example.org\nSubject: contacts\nMessage-ID: <c1@example.org>\n\nCONTACTS\n' |
    ctl inject --rcpt aide@comites.example.org --sender zoe@example.org || fail "inject CONTACTS"
once || fail "once (CONTACTS)"
wait_files "$work/sink" $((n0 + 1))
ans=$(grep -l "^Subject: .*contacts" "$work/sink"/* | head -1)
[ -n "$ans" ] || fail "no CONTACTS answer"
mailpy "$ans" <<'PY' || fail "CONTACTS order"
text = plain(load(sys.argv[1]))
names = [l.strip()[2:] for l in text.splitlines() if l.strip().startswith('- ')]
order = [n.split(' <')[0].split(' (')[0] for n in names]
want = ["Élodie Durand", "François Martin", "Françoise L'Hôte", "zoé Le Bihan"]
if [o for o in order if o in want] != want:
    print(text); sys.exit(1)
PY
ok "CONTACTS by mail: Élodie, François, Françoise, zoé (French order)"

# ---- Spool files: short ids and prefixes ----
printf 'From: x@example.org\nSubject: en attente\n\nTexte.\n' |
    ctl inject --rcpt national@comites.example.org --sender x@example.org || fail "inject"
f=$(ls "$work/data/spool/incoming" | head -1)
mv "$work/data/spool/incoming/$f" "$work/data/spool/hold/$f"
short=${f##*-}; short=${short:0:8}
expect_rc 0 "spool list" ctl spool list
grep -q "^$short  mis de côté  " "$work/out" || { cat "$work/out"; fail "spool short id"; }
ok "spool list shows the 8-character id"
expect_rc 64 "spool drop without --yes, by prefix" ctl spool drop "$short"
expect_out "rien supprimé" "drop asks for --yes"
expect_rc 65 "spool retry: too short a prefix is unknown" ctl spool retry "${short:0:6}"
expect_rc 0 "spool retry by prefix" ctl spool retry "$short"
[ -f "$work/data/spool/incoming/$f" ] || fail "not back in incoming"; ok "the file is back in incoming/"
expect_rc 65 "spool retry of a file being handled" ctl spool retry "$short"
expect_out "déjà en cours de traitement" "told it is being handled"
finish
