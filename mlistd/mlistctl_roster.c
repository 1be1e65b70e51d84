/*
 * mlistctl_roster.c — committee, contact and sender commands, the CSV
 * import/export and the RGPD requests. Each function parses its own
 * options and calls roster.c / import.c / privacy.c; nothing here knows SQL.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "i18n.h"
#include "import.h"
#include "mlistctl.h"
#include "privacy.h"
#include "roster.h"
#include "util.h"

/* Options shared by the roster commands: long name -> value slot. */
struct ctl_args {
	const char *name, *slug, *region, *department, *tags, *committee, *to, *from, *role;
	int under, dry_run, force;
	char **rest;
	int nrest;
};

static int
ctl_parse(int argc, char **argv, struct ctl_args *a, int min_rest, int max_rest)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' }, { "slug", required_argument, NULL, 's' },
		{ "region", required_argument, NULL, 'r' }, { "department", required_argument, NULL, 'd' },
		{ "tags", required_argument, NULL, 't' }, { "committee", required_argument, NULL, 'C' },
		{ "to", required_argument, NULL, 'T' }, { "from", required_argument, NULL, 'F' },
		{ "role", required_argument, NULL, 'R' }, { "under", no_argument, NULL, 'u' },
		{ "dry-run", no_argument, NULL, 'D' }, { "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(a, 0, sizeof *a);
	while ((c = getopt_long(argc, argv, "n:s:r:d:t:C:T:F:R:uDf", opts, NULL)) != -1) {
		switch (c) {
		case 'n': a->name = optarg; break;
		case 's': a->slug = optarg; break;
		case 'r': a->region = optarg; break;
		case 'd': a->department = optarg; break;
		case 't': a->tags = optarg; break;
		case 'C': a->committee = optarg; break;
		case 'T': a->to = optarg; break;
		case 'F': a->from = optarg; break;
		case 'R': a->role = optarg; break;
		case 'u': a->under = 1; break;
		case 'D': a->dry_run = 1; break;
		case 'f': a->force = 1; break;
		default: return -1;
		}
	}
	a->rest = argv + optind;
	a->nrest = argc - optind;
	if (a->nrest < min_rest || a->nrest > max_rest)
		return -1;
	return 0;
}

static int
ctl_roster_rc(int rc, const char *err)
{
	if (rc == ROSTER_OK)
		return EX_OK;
	return ctl_fail(ctl_code(rc), "%s", err ? err : "?");
}

static int
cmd_committee_add(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_args a;
	const char *err = NULL;
	int64_t id;
	int rc;

	if (ctl_parse(argc, argv, &a, 1, 1) == -1)
		return ctl_bad_usage();
	rc = roster_committee_add(ctl->db, a.rest[0], a.slug, a.region, a.department, a.tags,
	    &id, &err);
	if (rc == ROSTER_OK) {
		char *slug = a.slug ? str_slugify(a.slug) : str_slugify(a.rest[0]);

		printf(tr("comité ajouté\xc2\xa0: %s\n", "committee added: %s\n"), slug);
		free(slug);
	}
	return ctl_roster_rc(rc, err);
}

static int
cmd_committee_list(struct ctl *ctl, int argc, char **argv)
{
	struct roster_committee *list;
	struct ctl_args a;
	struct table *t;
	size_t n;

	if (ctl_parse(argc, argv, &a, 0, 0) == -1)
		return ctl_bad_usage();
	if (roster_committees(ctl->db, a.under ? ROSTER_UNDER : ROSTER_ALL,
	    ctl->cf.min_contacts, &list, &n) != ROSTER_OK)
		return ctl_fail(EX_TEMPFAIL, "%s", tr("lecture impossible", "cannot read"));
	t = table_new(6);
	table_row(t, (const char *[]){ tr("identifiant", "slug"), tr("nom", "name"),
	    tr("région", "region"), tr("dépt", "dept"), tr("actifs/tous", "active/all"),
	    tr("étiquettes", "tags") });
	for (size_t i = 0; i < n; i++) {
		char counts[32];

		snprintf(counts, sizeof counts, "%d/%d", list[i].nactive, list[i].ncontacts);
		table_row(t, (const char *[]){ list[i].slug, list[i].name, list[i].region,
		    list[i].department, counts, list[i].tags });
	}
	table_print(t, "", stdout);
	table_free(&t);
	if (a.under)
		printf(tr("%zu comité(s) avec moins de %ld contacts actifs\n",
		    "%zu committee(s) with fewer than %ld active contacts\n"), n,
		    ctl->cf.min_contacts);
	roster_committees_free(list, n);
	return EX_OK;
}

/* The contacts as a table, with their committee when with_committee. */
static void
ctl_print_contacts(const struct roster_contact *list, size_t n, int with_committee,
    const char *indent)
{
	struct table *t = table_new(5 + with_committee);
	char date[24];

	table_row(t, (const char *[]){ tr("comité", "committee"), tr("adresse", "address"),
	    tr("nom", "name"), tr("ajouté", "added"), tr("état", "state"), "" } + !with_committee);
	for (size_t i = 0; i < n; i++) {
		const struct roster_contact *k = &list[i];

		time_iso((time_t)k->added, date, sizeof date);
		date[10] = '\0';
		table_row(t, (const char *[]){ k->committee_slug, k->email, k->name, date,
		    k->active ? tr("actif", "active") : tr("inactif", "inactive"),
		    k->disabled_reason ? k->disabled_reason : "" } + !with_committee);
	}
	table_print(t, indent, stdout);
	table_free(&t);
}

static int
cmd_committee_show(struct ctl *ctl, int argc, char **argv)
{
	struct roster_committee c;
	struct roster_contact *list;
	struct ctl_args a;
	const char *err = NULL;
	size_t n;
	int64_t id;

	if (ctl_parse(argc, argv, &a, 1, 1) == -1)
		return ctl_bad_usage();
	if ((id = roster_committee_lookup(ctl->db, a.rest[0])) == 0 ||
	    roster_committee_get(ctl->db, id, &c) != ROSTER_OK)
		return ctl_fail(EX_DATAERR, tr("comité inconnu\xc2\xa0: %s", "unknown committee: %s"),
		    a.rest[0]);
	printf("%s (%s)\n  %s : %s\n  %s : %s\n  tags : %s\n", c.name, c.slug,
	    tr("région", "region"), c.region, tr("département", "department"), c.department,
	    c.tags);
	if (roster_contacts(ctl->db, c.slug, &list, &n, &err) == ROSTER_OK) {
		printf("  %s (%d/%ld) :\n", tr("contacts actifs", "active contacts"), c.nactive,
		    ctl->cf.max_contacts);
		ctl_print_contacts(list, n, 0, "  ");
		if (c.nactive < ctl->cf.min_contacts)
			printf(tr("  attention\xc2\xa0: moins de %ld contacts actifs\n",
			    "  warning: fewer than %ld active contacts\n"), ctl->cf.min_contacts);
		roster_contacts_free(list, n);
	}
	roster_committee_clear(&c);
	return EX_OK;
}

static int
cmd_committee_rename(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_args a;
	const char *err = NULL, *new_name;
	int rc;

	if (ctl_parse(argc, argv, &a, 1, 2) == -1 || (a.nrest == 1 && !a.slug))
		return ctl_bad_usage();
	new_name = a.nrest == 2 ? a.rest[1] : NULL;
	rc = roster_committee_rename(ctl->db, a.rest[0], new_name, a.slug, &err);
	if (rc == ROSTER_OK)
		printf(tr("comité renommé\xc2\xa0: %s\n", "committee renamed: %s\n"), a.rest[0]);
	return ctl_roster_rc(rc, err);
}

static int
cmd_committee_remove(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_args a;
	const char *err = NULL;
	int rc;

	if (ctl_parse(argc, argv, &a, 1, 1) == -1)
		return ctl_bad_usage();
	rc = roster_committee_remove(ctl->db, a.rest[0], a.force, &err);
	if (rc == ROSTER_OK)
		printf(tr("comité supprimé\xc2\xa0: %s\n", "committee removed: %s\n"), a.rest[0]);
	return ctl_roster_rc(rc, err);
}

static int
cmd_committee_import(struct ctl *ctl, int argc, char **argv)
{
	struct import_stats st;
	struct ctl_args a;
	const char *err = NULL;
	char *data;
	size_t len;
	int rc;

	if (ctl_parse(argc, argv, &a, 1, 1) == -1)
		return ctl_bad_usage();
	if (file_read(a.rest[0], 64 << 20, &data, &len) == -1)
		return ctl_fail(EX_NOINPUT, "%s: %s", a.rest[0], strerror(errno));
	rc = import_roster(ctl->db, &ctl->cf, data, len, a.dry_run, stdout, &st, &err);
	free(data);
	if (rc != 0)
		return ctl_fail(rc == -1 ? EX_DATAERR : EX_TEMPFAIL, "%s: %s", a.rest[0], err);
	printf(tr("%s%d comité(s) ajouté(s), %d mis à jour\xc2\xa0; %d contact(s)"
	    " ajouté(s), %d mis à jour,"
	    " %d inchangé(s)\xc2\xa0; %d ligne(s) en erreur\n", "%s%d committee(s) added, %d updated;"
	    " %d contact(s) added, %d updated, %d unchanged; %d bad row(s)\n"),
	    a.dry_run ? tr("(essai, rien n'est écrit) ", "(dry run, nothing written) ") : "",
	    st.committees_added, st.committees_updated, st.contacts_added, st.contacts_updated,
	    st.contacts_unchanged, st.bad_rows);
	return st.bad_rows ? EX_DATAERR : EX_OK;
}

static int
cmd_committee_export(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_args a;
	const char *err = NULL;
	FILE *out = stdout;
	int rc;

	if (ctl_parse(argc, argv, &a, 0, 1) == -1)
		return ctl_bad_usage();
	if (a.nrest == 1 && (out = fopen(a.rest[0], "w")) == NULL)
		return ctl_fail(EX_CANTCREAT, "%s: %s", a.rest[0], strerror(errno));
	rc = export_roster(ctl->db, out, &err);
	if (out != stdout && fclose(out) != 0)
		return ctl_fail(EX_IOERR, "%s: %s", a.rest[0], strerror(errno));
	return rc == 0 ? EX_OK : ctl_fail(EX_TEMPFAIL, "%s", err);
}

static int
cmd_contact_add(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_args a;
	const char *err = NULL;
	int rc;

	if (ctl_parse(argc, argv, &a, 2, 2) == -1)
		return ctl_bad_usage();
	rc = roster_contact_add(ctl->db, &ctl->cf, a.rest[0], a.rest[1], a.name, &err);
	if (rc == ROSTER_OK)
		printf(tr("contact ajouté\xc2\xa0: %s (%s)\n", "contact added: %s (%s)\n"), a.rest[1],
		    a.rest[0]);
	return ctl_roster_rc(rc, err);
}

/* The address argument, normalised; NULL after printing the error. */
static char *
ctl_addr(const char *s)
{
	char *a = addr_normalize(s);

	if (a == NULL)
		ctl_fail(EX_DATAERR, tr("adresse invalide\xc2\xa0: %s", "invalid address: %s"), s);
	return a;
}

static int
cmd_contact_remove(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_args a;
	const char *err = NULL;
	char *addr;
	int rc;

	if (ctl_parse(argc, argv, &a, 1, 1) == -1)
		return ctl_bad_usage();
	if ((addr = ctl_addr(a.rest[0])) == NULL)
		return EX_DATAERR;
	rc = roster_contact_remove(ctl->db, addr, a.committee, &err);
	if (rc == ROSTER_OK)
		printf(tr("contact retiré\xc2\xa0: %s\n", "contact removed: %s\n"), addr);
	free(addr);
	return ctl_roster_rc(rc, err);
}

static int
cmd_contact_list(struct ctl *ctl, int argc, char **argv)
{
	struct roster_contact *list;
	struct ctl_args a;
	const char *err = NULL;
	size_t n;

	if (ctl_parse(argc, argv, &a, 0, 1) == -1)
		return ctl_bad_usage();
	if (roster_contacts(ctl->db, a.nrest ? a.rest[0] : a.committee, &list, &n, &err) != ROSTER_OK)
		return ctl_fail(EX_DATAERR, "%s", err);
	ctl_print_contacts(list, n, 1, "");
	roster_contacts_free(list, n);
	return EX_OK;
}

static int
cmd_contact_move(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_args a;
	const char *err = NULL;
	char *addr;
	int rc;

	if (ctl_parse(argc, argv, &a, 1, 1) == -1 || a.to == NULL)
		return ctl_bad_usage();
	if ((addr = ctl_addr(a.rest[0])) == NULL)
		return EX_DATAERR;
	rc = roster_contact_move(ctl->db, &ctl->cf, addr, a.from, a.to, &err);
	if (rc == ROSTER_OK)
		printf(tr("%s déplacé vers %s\n", "%s moved to %s\n"), addr, a.to);
	free(addr);
	return ctl_roster_rc(rc, err);
}

static int
ctl_contact_active(struct ctl *ctl, int argc, char **argv, int active)
{
	struct ctl_args a;
	const char *err = NULL;
	char *addr;
	int rc;

	if (ctl_parse(argc, argv, &a, 1, 1) == -1)
		return ctl_bad_usage();
	if ((addr = ctl_addr(a.rest[0])) == NULL)
		return EX_DATAERR;
	rc = roster_contact_set_active(ctl->db, addr, active,
	    active ? NULL : tr("désactivé par l'administrateur", "disabled by the administrator"),
	    &err);
	if (rc == ROSTER_OK)
		printf(active ? tr("%s réactivé\n", "%s enabled\n") : tr("%s désactivé\n",
		    "%s disabled\n"), addr);
	free(addr);
	return ctl_roster_rc(rc, err);
}

static int
cmd_contact_enable(struct ctl *ctl, int argc, char **argv)
{
	return ctl_contact_active(ctl, argc, argv, 1);
}

static int
cmd_contact_disable(struct ctl *ctl, int argc, char **argv)
{
	return ctl_contact_active(ctl, argc, argv, 0);
}

static int
cmd_contact_export(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_args a;
	const char *err = NULL;
	char *addr;
	int rc;

	if (ctl_parse(argc, argv, &a, 1, 1) == -1)
		return ctl_bad_usage();
	if ((addr = ctl_addr(a.rest[0])) == NULL)
		return EX_DATAERR;
	rc = privacy_export(ctl->db, addr, stdout, &err);
	free(addr);
	return rc == 1 ? EX_OK : ctl_fail(rc == 0 ? EX_NOUSER : EX_TEMPFAIL, "%s: %s",
	    a.rest[0], err);
}

static int
cmd_contact_erase(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_args a;
	const char *err = NULL;
	char *addr;
	int rc;

	if (ctl_parse(argc, argv, &a, 1, 1) == -1)
		return ctl_bad_usage();
	if ((addr = ctl_addr(a.rest[0])) == NULL)
		return EX_DATAERR;
	rc = privacy_erase(ctl->db, addr, &err);
	free(addr);
	if (rc == 1)
		printf(tr("%s effacé\n", "%s erased\n"), a.rest[0]);
	return rc == 1 ? EX_OK : ctl_fail(rc == 0 ? EX_NOUSER : EX_TEMPFAIL, "%s: %s",
	    a.rest[0], err);
}

static int
cmd_sender_add(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_args a;
	const char *err = NULL;
	int rc;

	if (ctl_parse(argc, argv, &a, 1, 1) == -1 || a.role == NULL)
		return ctl_bad_usage();
	rc = roster_sender_add(ctl->db, &ctl->cf, a.rest[0], a.role, a.name, &err);
	if (rc == ROSTER_OK)
		printf(tr("%s ajouté avec le rôle %s\n", "%s added with the role %s\n"), a.rest[0],
		    i18n_state("role", a.role));
	return ctl_roster_rc(rc, err);
}

static int
cmd_sender_remove(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_args a;
	const char *err = NULL;
	char *addr;
	int rc;

	if (ctl_parse(argc, argv, &a, 1, 1) == -1 || a.role == NULL)
		return ctl_bad_usage();
	if ((addr = ctl_addr(a.rest[0])) == NULL)
		return EX_DATAERR;
	rc = roster_sender_remove(ctl->db, addr, a.role, &err);
	if (rc == ROSTER_OK)
		printf(tr("%s n'a plus le rôle %s\n", "%s no longer has the role %s\n"), addr,
		    i18n_state("role", a.role));
	free(addr);
	return ctl_roster_rc(rc, err);
}

static int
cmd_sender_list(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_args a;
	struct roster_sender *list;
	struct table *t;
	size_t n;

	if (ctl_parse(argc, argv, &a, 0, 0) == -1)
		return ctl_bad_usage();
	if (roster_senders(ctl->db, a.role, &list, &n) != ROSTER_OK)
		return ctl_fail(EX_TEMPFAIL, "%s", tr("lecture impossible", "cannot read"));
	t = table_new(3);
	table_row(t, (const char *[]){ tr("rôle", "role"), tr("adresse", "address"),
	    tr("nom", "name") });
	for (size_t i = 0; i < n; i++)
		table_row(t, (const char *[]){ i18n_state("role", list[i].role), list[i].email,
		    list[i].name });
	table_print(t, "", stdout);
	table_free(&t);
	roster_senders_free(list, n);
	return EX_OK;
}

const struct ctl_cmd ctl_roster_cmds[] = {
	{ "committee add", cmd_committee_add, 1,
	  "NOM [--slug S] [--region R] [--department D] [--tags a,b]",
	  "ajoute un comité", "add a committee" },
	{ "committee list", cmd_committee_list, 1, "[--under]",
	  "liste les comités (--under\xc2\xa0: ceux qui ont moins de min_contacts contacts actifs)",
	  "list committees (--under: those with fewer than min_contacts active contacts)" },
	{ "committee show", cmd_committee_show, 1, "COMITÉ",
	  "montre un comité et ses contacts", "show a committee and its contacts" },
	{ "committee rename", cmd_committee_rename, 1, "COMITÉ [NOUVEAU-NOM] [--slug S]",
	  "renomme un comité", "rename a committee" },
	{ "committee remove", cmd_committee_remove, 1, "COMITÉ [--force]",
	  "supprime un comité (--force\xc2\xa0: avec ses contacts)",
	  "remove a committee (--force: with its contacts)" },
	{ "committee import", cmd_committee_import, 1, "FICHIER.csv [--dry-run]",
	  "importe ou met à jour le fichier des comités (CSV\xc2\xa0; ou ,)",
	  "import or update the committees spreadsheet (CSV\xc2\xa0; or ,)" },
	{ "committee export", cmd_committee_export, 1, "[FICHIER.csv]",
	  "exporte les comités et contacts au même format", "export committees and contacts in the same format" },
	{ "contact add", cmd_contact_add, 1, "COMITÉ ADRESSE [--name NOM]",
	  "ajoute un contact désigné à un comité", "add a designated contact to a committee" },
	{ "contact remove", cmd_contact_remove, 1, "ADRESSE [--committee COMITÉ]",
	  "retire un contact", "remove a contact" },
	{ "contact list", cmd_contact_list, 1, "[COMITÉ]",
	  "liste les contacts", "list contacts" },
	{ "contact move", cmd_contact_move, 1, "ADRESSE --to COMITÉ [--from COMITÉ]",
	  "change un contact de comité", "move a contact to another committee" },
	{ "contact enable", cmd_contact_enable, 1, "ADRESSE",
	  "réactive un contact", "re-enable a contact" },
	{ "contact disable", cmd_contact_disable, 1, "ADRESSE",
	  "désactive un contact sans le supprimer", "disable a contact without removing it" },
	{ "contact export", cmd_contact_export, 1, "ADRESSE",
	  "RGPD\xc2\xa0: tout ce qui est conservé sur une personne (JSON)",
	  "GDPR: everything stored about a person (JSON)" },
	{ "contact erase", cmd_contact_erase, 1, "ADRESSE",
	  "RGPD\xc2\xa0: efface une personne et anonymise l'historique",
	  "GDPR: erase a person and anonymise the history" },
	{ "sender add", cmd_sender_add, 1, "ADRESSE --role national|editor [--name NOM]",
	  "autorise un expéditeur national ou un rédacteur",
	  "authorise a national sender or an editor" },
	{ "sender remove", cmd_sender_remove, 1, "ADRESSE --role national|editor",
	  "retire un rôle", "remove a role" },
	{ "sender list", cmd_sender_list, 1, "[--role national|editor]",
	  "liste les expéditeurs et rédacteurs", "list senders and editors" },
	{ NULL, NULL, 0, NULL, NULL, NULL },
};
