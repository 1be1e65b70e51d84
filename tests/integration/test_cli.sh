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
grep -q "a déjà le rôle" "$work/err" || { cat "$work/err"; fail "duplicate told in French"; }
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
finish
