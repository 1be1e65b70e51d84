/*
 * i18n.c — see i18n.h. The catalogue of states and reasons: what the
 * database stores (stable English codes, also in the log lines) and what a
 * person reads, in French and English. One table, read by mlistctl and by
 * the mails that show a state (templates receive the word, never the code).
 */
#include <stdio.h>
#include <string.h>

#include "i18n.h"

static int i18n_english;

void
i18n_set_language(const char *lang)
{
	i18n_english = lang && strcmp(lang, "en") == 0;
}

const char *
i18n_language(void)
{
	return i18n_english ? "en" : "fr";
}

const char *
tr(const char *fr, const char *en)
{
	return i18n_english ? en : fr;
}

/* domain "" matches any domain; a code ending in "-" or ": " is a prefix
 * and what follows it in the stored text is kept after the word. */
static const struct i18n_entry {
	const char *domain, *code, *fr, *en;
} i18n_catalogue[] = {
	/* a broadcast (message.state) */
	{ "message", "held", "retenu", "held" },
	{ "message", "sending", "envoi en cours", "sending" },
	{ "message", "done", "envoyé", "sent" },
	{ "message", "refused", "refusé", "refused" },
	{ "message", "dropped", "écarté", "dropped" },
	/* one copy of a mail (delivery.state) */
	{ "delivery", "queued", "en file", "queued" },
	{ "delivery", "deferred", "différé", "deferred" },
	{ "delivery", "sent", "remis", "delivered" },
	{ "delivery", "failed", "refusé", "refused" },
	/* a committee for one broadcast (status.c) */
	{ "committee", "reached", "atteint", "reached" },
	{ "committee", "pending", "en attente", "pending" },
	{ "committee", "unreachable", "injoignable", "unreachable" },
	/* where a received message waits (spool/ directories) */
	{ "spool", "incoming", "reçu", "incoming" },
	{ "spool", "active", "en cours", "active" },
	{ "spool", "hold", "mis de côté", "hold" },
	{ "spool", "deferred", "nouvel essai prévu", "deferred" },
	{ "spool", "corrupt", "illisible", "corrupt" },
	/* what the archive search finds (archive_fts.kind) */
	{ "archive", "broadcast", "envoi national", "broadcast" },
	{ "archive", "bulletin", "bulletin", "bulletin" },
	/* a sender's role (sender.role) */
	{ "role", "national", "expéditeur national", "national sender" },
	{ "role", "editor", "rédacteur", "editor" },
	/* a bulletin issue and a submission */
	{ "issue", "planned", "prévu", "planned" },
	{ "issue", "open", "ouvert", "open" },
	{ "issue", "closed", "clos", "closed" },
	{ "issue", "published", "publié", "published" },
	{ "submission", "new", "nouveau", "new" },
	{ "submission", "accepted", "accepté", "accepted" },
	{ "submission", "rejected", "refusé", "rejected" },
	{ "submission", "held", "en attente", "held" },
	{ "submission", "replaced", "remplacé", "replaced" },
	/* a bulletin mailing (bulletin_mailing.kind) */
	{ "mailing", "call", "appel à contributions", "call for contributions" },
	{ "mailing", "reminder-", "relance, jours avant la date limite\xc2\xa0: ",
	  "reminder, days before the deadline: " },
	{ "mailing", "proof-", "épreuve n°\xc2\xa0", "proof no. " },
	{ "mailing", "publication", "publication", "publication" },
	{ "mailing", "digest-", "résumé aux rédacteurs du ", "digest to the editors of " },
	{ "mailing", "refused-", "refus n°\xc2\xa0", "refusal no. " },
	/* why a broadcast is held, refused or dropped (message.reason) */
	{ "reason", "awaiting confirmation", "en attente de confirmation", "awaiting confirmation" },
	{ "reason", "not a national sender", "l'expéditeur n'est pas un expéditeur national",
	  "not a national sender" },
	{ "reason", "unknown target", "cible inconnue", "unknown target" },
	{ "reason", "a header is over 65536 bytes", "un en-tête dépasse 65536 octets",
	  "a header is over 65536 bytes" },
	{ "reason", "contains the list password", "contient le mot de passe de la liste",
	  "contains the list password" },
	{ "reason", "address unclear: ", "adresse incertaine\xc2\xa0: ", "address unclear: " },
	{ "reason", "no From address", "pas d'adresse d'expéditeur (From)", "no From address" },
	{ "reason", "From is one of the list's own addresses",
	  "l'expéditeur (From) est une adresse de la liste",
	  "From is one of the list's own addresses" },
	/* the answer our own outbox gives (queue.c, relay = maildir) */
	{ "reply", "250 delivered to the local outbox", "250 déposé dans la boîte d'envoi locale",
	  "250 delivered to the local outbox" },
};

static const struct i18n_entry *
i18n_lookup(const char *domain, const char *code, size_t *plen_r)
{
	for (size_t i = 0; i < sizeof i18n_catalogue / sizeof i18n_catalogue[0]; i++) {
		const struct i18n_entry *c = &i18n_catalogue[i];
		size_t n = strlen(c->code);
		int prefix = n > 0 && (c->code[n - 1] == '-' || c->code[n - 1] == ' ');

		if ((*c->domain && domain && strcmp(c->domain, domain) != 0))
			continue;
		if (prefix ? strncmp(code, c->code, n) == 0 && code[n] : strcmp(code, c->code) == 0) {
			*plen_r = prefix ? n : 0;
			return c;
		}
	}
	return NULL;
}

const char *
i18n_state(const char *domain, const char *code)
{
	static _Thread_local char ring[4][256];
	static _Thread_local unsigned next;
	const struct i18n_entry *c;
	size_t plen = 0;
	char *out;

	if (code == NULL || (c = i18n_lookup(domain, code, &plen)) == NULL)
		return code ? code : "";
	if (plen == 0)
		return i18n_english ? c->en : c->fr;
	out = ring[next++ % 4];
	snprintf(out, sizeof ring[0], "%s%s", i18n_english ? c->en : c->fr, code + plen);
	return out;
}
