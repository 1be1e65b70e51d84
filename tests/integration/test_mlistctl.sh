#!/bin/bash
# The real mlistctl on a temporary data directory: init, roster commands,
# import/export round trip, limits, RGPD, configuration errors, languages.
. "$(dirname "$0")/lib.sh"
write_conf
expect_rc 0 "init" ctl init
expect_rc 0 "init again (idempotent)" ctl init
[ -d "$work/data/spool/incoming" ] && [ -f "$work/data/mlistd.db" ] || fail "no spool or database"
ok "spool and database created"
expect_rc 0 "committee add" ctl committee add "Quimper Sud" --region Bretagne --department 29 --tags jeunes
expect_rc 65 "duplicate committee refused" ctl committee add "quimper sud"
expect_out "existe déjà" "French message by default"
for i in 1 2 3 4; do ctl contact add quimper-sud "c$i@example.org" --name "Contact $i" >/dev/null || fail "add $i"; done
expect_rc 65 "fifth contact refused" ctl contact add quimper-sud c5@example.org
expect_out "maximum" "clear message for the limit"
expect_rc 65 "invalid address refused" ctl contact add quimper-sud "pas une adresse"
expect_rc 0 "committee list" ctl committee list
expect_out "quimper-sud" "list shows the committee"
expect_rc 0 "import" ctl committee import "$top/contrib/demo-roster.csv"
expect_rc 0 "re-import" ctl committee import "$top/contrib/demo-roster.csv"
expect_out "0 contact(s) ajouté(s)" "re-import adds nothing"
n=$(ctl contact list | grep -c '@')
[ "$n" -eq 44 ] || fail "contacts after import: $n"; ok "40 imported + 4 added contacts"
expect_rc 65 "import with bad rows" ctl committee import "$top/tests/data/roster-comma-utf8.csv"
expect_out "ligne 7" "bad row named by its line"
ctl committee export > "$work/export.csv" || fail "export exit"
grep -q "^Rennes;Bretagne;[^;]*;Anne Le Goff;anne.legoff@rennes.example.org;" "$work/export.csv" || { head -3 "$work/export.csv"; fail "export content"; }
ok "export has the roster"
write_conf "data_dir = $work/data2"
ctl init >/dev/null
expect_rc 0 "import of an export" ctl committee import "$work/export.csv"
[ "$(ctl contact list | grep -c '@')" -eq "$(($(wc -l < "$work/export.csv") - 1))" ] || fail "round trip"
ok "round trip keeps every contact"
write_conf
expect_rc 0 "committee list --under" ctl committee list --under
expect_rc 0 "contact move" ctl contact move c4@example.org --to brest
expect_rc 65 "move into a full committee refused" ctl contact move c3@example.org --to brest
expect_rc 0 "sender add" ctl sender add office@example.org --role national
expect_rc 65 "unknown role" ctl sender add office@example.org --role boss
expect_rc 0 "contact export" ctl contact export c1@example.org
expect_out '"email": "c1@example.org"' "RGPD export is JSON about the person"
expect_rc 0 "contact erase" ctl contact erase c1@example.org
expect_rc 67 "erased person is unknown" ctl contact export c1@example.org
expect_rc 64 "unknown command" ctl frobnicate
expect_rc 64 "missing argument" ctl contact add quimper-sud
expect_rc 0 "--help" ctl contact add --help
expect_out "usage" "help text"
printf 'language = en\n' >> "$work/mlistd.conf"
expect_rc 65 "English messages" ctl committee add "Quimper Sud"
expect_out "already exists" "English message per language"
printf 'domain = comites.example.org\nmin_contacts = 0\nbogus = 1\n' > "$work/bad.conf"
expect_rc 78 "check-config on a bad file" "$build/mlistctl" -c "$work/bad.conf" check-config
expect_out "bad.conf:2: min_contacts" "file:line: message"
expect_rc 78 "mlistd -n on a bad file" "$build/mlistd" -c "$work/bad.conf" -n
expect_out "bad.conf:3: unknown key: bogus" "mlistd -n names the line"
printf 'domain = comites.example.org\ndata_dir = %s/nowhere\n' "$work" > "$work/empty.conf"
expect_rc 78 "no database yet (EX_CONFIG)" "$build/mlistctl" -c "$work/empty.conf" committee list
expect_out "mlistctl init" "tells what to do"

# init and list_name: unset, the domain stands in and init says how to
# choose it; --list-name writes it before the [fetch] block; never twice.
printf 'domain = comites.example.org\ndata_dir = %s/d2\n\n[fetch boite]\nurl = imaps://mail.example.org\n' \
    "$work" > "$work/named.conf"
expect_rc 0 "init without a list name (stdin not a terminal)" "$build/mlistctl" -c "$work/named.conf" init </dev/null
expect_out "list_name n'est pas réglé.*comites.example.org" "init says the domain signs until list_name is set"
expect_rc 0 "init --list-name" "$build/mlistctl" -c "$work/named.conf" init --list-name "Comités de Bretagne" </dev/null
python3 - "$work/named.conf" <<'PY' || fail "list_name not written before the [fetch] block"
import sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
assert lines.count("list_name = Comités de Bretagne") == 1, lines
assert lines.index("list_name = Comités de Bretagne") < lines.index("[fetch boite]"), lines
PY
ok "list_name written once, before the [fetch] block"
"$build/mlistctl" -c "$work/named.conf" config > "$work/out"
expect_out "^list_name = Comités de Bretagne" "the configuration reads it"
expect_rc 78 "a second --list-name is refused" "$build/mlistctl" -c "$work/named.conf" init --list-name "Autre" </dev/null
expect_out "fixe déjà list_name" "says the file already sets it"
expect_rc 64 "an empty list name" "$build/mlistctl" -c "$work/empty.conf" init --list-name "" </dev/null
finish
