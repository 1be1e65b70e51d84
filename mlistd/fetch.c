/*
 * fetch.c — ingress by polling (see fetch.h): IMAP and POP3 through
 * libetpan (the only file that includes its headers), Maildir with plain
 * POSIX calls. Certificates are checked here with GnuTLS (libetpan's own
 * TLS layer checks nothing): the peer's chain against the system CAs, or
 * against ca_file alone when one is given, and the host name.
 *
 * Crash reasoning, for one message:
 *   1. fetch_seen knows (mailbox, uidvalidity, uid)?  only finish it (3.)
 *   2. else download, choose envelope, spool_writer_commit() (durable),
 *      then INSERT INTO fetch_seen. A dropped connection anywhere before
 *      here leaves the message unflagged in the mailbox: the next pass
 *      fetches it again, and 1. (or the Message-ID check) stops a second
 *      spooling. A process crash in the microseconds between the spool
 *      commit and the database commit is the one window that spools twice.
 *   3. finish: \Seen, then move / delete / keep (fetch.h). A failure here
 *      is retried by the next pass through 1.
 * Dedupe key in fetch_seen.message_id is "<Message-ID> rcpt", so the same
 * message delivered twice into a catch-all mailbox for two of our
 * addresses is not taken for a duplicate.
 *
 * Test hook: MLISTD_FETCH_TEST_DROP_AFTER_SPOOL=1 cuts the IMAP socket
 * right after the first message of a pass is spooled and recorded.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libetpan/libetpan.h>

#include "broadcast.h"
#include "config.h"
#include "db.h"
#include "engine.h"
#include "fetch.h"
#include "log.h"
#include "router.h"
#include "spool.h"
#include "util.h"

#define FETCH_IDLE_MAX	(25 * 60)	/* re-IDLE before servers' 30 min limit */
#define FETCH_TIMEOUT	60		/* network timeout, seconds */
#define FETCH_MAX_KEPT	256

enum fetch_kind { FK_IMAP, FK_POP3, FK_MAILDIR };
enum fetch_rc { FR_TEMP = -1, FR_KEEP = 0, FR_SPOOLED = 1, FR_DONE = 2 };
enum fetch_err { FE_OK = 0, FE_CONN = -1, FE_LOGIN = -2, FE_CONFIG = -3 };

struct fetch_box {
	const struct config_fetch *f;
	enum fetch_kind	 kind;
	int		 tls;		/* implicit TLS (imaps, pop3s) */
	char		*host;
	uint16_t	 port;
	char		*path;		/* maildir */
	mailimap	*imap;		/* open session (fetch_loop keeps it) */
	int		 can_idle, can_move;
	uint32_t	 uidvalidity;
	time_t		 next_try, login_logged;
	long		 backoff;
	char		*kept[FETCH_MAX_KEPT];	/* messages left in place, logged once */
	size_t		 nkept;
	int		 dropped;	/* test hook fired */
};

/* What the headers tell (all strings owned). */
struct fetch_hdrs {
	int	 has_return_path;
	char	*return_path;		/* "" for <> */
	char	*from;
	char	*message_id;
	char	**addrs;		/* To, Cc, X-Original-To, then Delivered-To */
	size_t	 naddrs;
	size_t	 nsent;			/* how many of addrs are not Delivered-To */
};

/* -------------------------------------------------------------------
 * Headers and the envelope chosen for a fetched message.
 */

static void
fetch_hdrs_add(struct fetch_hdrs *h, const char *a)
{
	h->addrs = xrealloc(h->addrs, (h->naddrs + 1) * sizeof *h->addrs);
	h->addrs[h->naddrs++] = xstrdup(a);
}

static void
fetch_hdrs_mblist(struct fetch_hdrs *h, struct mailimf_mailbox_list *l)
{
	for (clistiter *it = l ? clist_begin(l->mb_list) : NULL; it; it = clist_next(it)) {
		struct mailimf_mailbox *mb = clist_content(it);

		if (mb->mb_addr_spec)
			fetch_hdrs_add(h, mb->mb_addr_spec);
	}
}

static void
fetch_hdrs_addrlist(struct fetch_hdrs *h, struct mailimf_address_list *l)
{
	for (clistiter *it = l ? clist_begin(l->ad_list) : NULL; it; it = clist_next(it)) {
		struct mailimf_address *a = clist_content(it);

		if (a->ad_type == MAILIMF_ADDRESS_MAILBOX && a->ad_data.ad_mailbox->mb_addr_spec)
			fetch_hdrs_add(h, a->ad_data.ad_mailbox->mb_addr_spec);
		else if (a->ad_type == MAILIMF_ADDRESS_GROUP)
			fetch_hdrs_mblist(h, a->ad_data.ad_group->grp_mb_list);
	}
}

/* One address of a trace header ("<a@b>" or "a@b"). */
static void
fetch_hdrs_trace(struct fetch_hdrs *h, const char *value)
{
	char *v = xstrdup(value), *p = str_trim(v);

	if (*p == '<' && p[strlen(p) - 1] == '>') {
		p[strlen(p) - 1] = '\0';
		p++;
	}
	fetch_hdrs_add(h, p);
	free(v);
}

/* Pass 0: To, Cc (what the sender wrote); pass 1: X-Original-To (the
 * recipient before aliases); pass 2: Delivered-To (often only the
 * mailbox's own name in a hosted catch-all). */
static void
fetch_hdrs_field(struct fetch_hdrs *h, struct mailimf_field *fl, int pass)
{
	const char *n = fl->fld_type == MAILIMF_FIELD_OPTIONAL_FIELD ?
	    fl->fld_data.fld_optional_field->fld_name : "";

	if (pass == 0 && fl->fld_type == MAILIMF_FIELD_TO)
		fetch_hdrs_addrlist(h, fl->fld_data.fld_to->to_addr_list);
	else if (pass == 0 && fl->fld_type == MAILIMF_FIELD_CC)
		fetch_hdrs_addrlist(h, fl->fld_data.fld_cc->cc_addr_list);
	else if ((pass == 1 && strcasecmp(n, "X-Original-To") == 0) ||
	    (pass == 2 && strcasecmp(n, "Delivered-To") == 0))
		fetch_hdrs_trace(h, fl->fld_data.fld_optional_field->fld_value);
}

static void
fetch_hdrs_single(struct fetch_hdrs *h, struct mailimf_field *fl)
{
	if (fl->fld_type == MAILIMF_FIELD_RETURN_PATH && !h->has_return_path) {
		const char *a = fl->fld_data.fld_return_path->ret_path->pt_addr_spec;

		h->has_return_path = 1;
		h->return_path = xstrdup(a ? a : "");
	} else if (fl->fld_type == MAILIMF_FIELD_FROM && h->from == NULL) {
		struct mailimf_mailbox_list *l = fl->fld_data.fld_from->frm_mb_list;
		clistiter *it = l ? clist_begin(l->mb_list) : NULL;
		struct mailimf_mailbox *mb = it ? clist_content(it) : NULL;

		if (mb && mb->mb_addr_spec)
			h->from = xstrdup(mb->mb_addr_spec);
	} else if (fl->fld_type == MAILIMF_FIELD_MESSAGE_ID && h->message_id == NULL)
		h->message_id = xstrdup(fl->fld_data.fld_message_id->mid_value);
}

static void
fetch_hdrs_parse(const char *data, size_t len, struct fetch_hdrs *h)
{
	struct mailimf_fields *fields = NULL;
	size_t idx = 0;

	memset(h, 0, sizeof *h);
	if (mailimf_fields_parse(data, len, &idx, &fields) != MAILIMF_NO_ERROR)
		return;
	for (int pass = 0; pass < 3; pass++) {
		if (pass == 2)
			h->nsent = h->naddrs;
		for (clistiter *it = clist_begin(fields->fld_list); it; it = clist_next(it))
			fetch_hdrs_field(h, clist_content(it), pass);
	}
	for (clistiter *it = clist_begin(fields->fld_list); it; it = clist_next(it))
		fetch_hdrs_single(h, clist_content(it));
	mailimf_fields_free(fields);
}

static void
fetch_hdrs_free(struct fetch_hdrs *h)
{
	for (size_t i = 0; i < h->naddrs; i++)
		free(h->addrs[i]);
	free(h->addrs);
	free(h->return_path);
	free(h->from);
	free(h->message_id);
}

/* Does a role found in the headers fit the mailbox's role? */
static int
fetch_role_fits(const char *role, enum router_role r)
{
	if (strcmp(role, "auto") == 0)
		return r != ROLE_NONE;
	if (strcmp(role, "national") == 0)
		return r == ROLE_NATIONAL || r == ROLE_CONFIRM;
	if (strcmp(role, "bulletin") == 0)
		return r == ROLE_BULLETIN;
	if (strcmp(role, "request") == 0)
		return r == ROLE_REQUEST;
	if (strcmp(role, "replies") == 0)
		return r == ROLE_REPLY;
	return strcmp(role, "bounces") == 0 && r == ROLE_BOUNCE;
}

/* Our addresses among addrs[from..to) that fit the role, lower case,
 * each once (a list of new strings, *n_r of them). */
static char **
fetch_ours(const struct config *cf, const struct config_fetch *f, const struct fetch_hdrs *h,
    size_t from, size_t to, size_t *n_r)
{
	char **list = NULL;
	size_t n = 0;

	for (size_t i = from; i < to; i++) {
		char *a = str_lower(xstrdup(h->addrs[i]));
		size_t k;

		for (k = 0; k < n && strcmp(list[k], a) != 0; k++)
			;
		if (k < n || !fetch_role_fits(f->role, router_role(cf, a))) {
			free(a);
			continue;
		}
		list = xrealloc(list, (n + 1) * sizeof *list);
		list[n++] = a;
	}
	*n_r = n;
	return list;
}

static void
fetch_ours_free(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

/* The one token address (retour+, confirm+, rebonds+) of list, or NULL
 * when none or several: a reply to our mail says exactly what it answers. */
static const char *
fetch_token_addr(const struct config *cf, char **list, size_t n)
{
	const char *found = NULL;

	for (size_t i = 0; i < n; i++) {
		enum router_role r = router_role(cf, list[i]);

		if (r == ROLE_REPLY || r == ROLE_CONFIRM || r == ROLE_BOUNCE) {
			if (found)
				return NULL;
			found = list[i];
		}
	}
	return found;
}

/* Is a a broadcast to every committee (national@ without a target)? */
static int
fetch_is_everyone(struct engine *e, const char *a)
{
	return strcasecmp(a, e->list_addr) == 0;
}

/*
 * The envelope recipient of a polled message, which lost its envelope.
 * Our addresses (fitting the mailbox's role) in To, Cc and X-Original-To,
 * else in Delivered-To, which a hosted catch-all sets to the mailbox's own
 * name whatever the message was sent to. Never widen a target:
 *  - one address: that one (national+TARGET stays national+TARGET);
 *  - several: the one token address if there is exactly one (a reply-all
 *    to a broadcast: retour+ID with national@ in Cc), else unclear;
 *  - national@ (every committee) known only from Delivered-To, or from the
 *    role of a national mailbox: unclear (a Bcc to national+TARGET@ looks
 *    the same);
 *  - none: the role's own address for bulletin and request mailboxes.
 * Unclear: *hold_r gets the reason and the message goes to national@, where
 * broadcast.c holds it for the administrator. NULL: keep in the mailbox.
 */
static char *
fetch_rcpt(struct engine *e, const struct config_fetch *f, const struct fetch_hdrs *h,
    char **hold_r)
{
	const struct config *cf = e->cf;
	size_t n, tier = 0;
	char **ours = fetch_ours(cf, f, h, 0, h->nsent, &n), *rcpt = NULL;
	const char *tok;

	*hold_r = NULL;
	if (n == 0) {
		fetch_ours_free(ours, n);
		ours = fetch_ours(cf, f, h, h->nsent, h->naddrs, &n);
		tier = 1;
	}
	if (n == 1 && !(tier == 1 && fetch_is_everyone(e, ours[0])))
		rcpt = xstrdup(ours[0]);
	else if (n > 1 && (tok = fetch_token_addr(cf, ours, n)) != NULL)
		rcpt = xstrdup(tok);
	else if (n > 1)
		*hold_r = xasprintf("several of our addresses in %s (%s, %s...)",
		    tier ? "Delivered-To" : "To, Cc, X-Original-To", ours[0], ours[1]);
	else if (n == 1 || strcmp(f->role, "national") == 0)
		*hold_r = xasprintf("%s is named only by %s: the target may have been narrower",
		    e->list_addr, n ? "Delivered-To" : "the mailbox's role");
	else if (strcmp(f->role, "bulletin") == 0)
		rcpt = config_address(cf, cf->bulletin_address);
	else if (strcmp(f->role, "request") == 0)
		rcpt = xstrdup(e->request_addr);
	if (*hold_r)
		rcpt = xstrdup(e->list_addr);
	fetch_ours_free(ours, n);
	return rcpt;
}

/* The envelope sender: Return-Path (what the provider's MTA saw, "" for a
 * bounce); without one, the From address, except in a bounces mailbox. */
static const char *
fetch_sender(const struct config_fetch *f, const struct fetch_hdrs *h)
{
	const char *s = h->has_return_path ? h->return_path :
	    strcmp(f->role, "bounces") == 0 ? "" : h->from ? h->from : "";

	return strpbrk(s, "\r\n") ? "" : s;
}

/* -------------------------------------------------------------------
 * fetch_seen and the spool.
 */

/* 1 seen, 0 not, -1 database error (the message waits for the next pass). */
static int
fetch_is_seen(struct engine *e, const struct config_fetch *f, int64_t uidvalidity,
    const char *uid)
{
	int64_t n;

	if (db_int(e->db, &n, "SELECT count(*) FROM fetch_seen WHERE mailbox = ? AND"
	    " uidvalidity = ? AND uid = ?", "sis", f->name, uidvalidity, uid) == -1)
		return -1;
	return n > 0;
}

static int
fetch_seen_add(struct engine *e, const struct config_fetch *f, int64_t uidvalidity,
    const char *uid, const char *key, const char *spool_id)
{
	return db_run(e->db, "INSERT OR IGNORE INTO fetch_seen (mailbox, uidvalidity, uid,"
	    " message_id, spool_id, at) VALUES (?, ?, ?, ?, ?, ?)", "sisssi", f->name,
	    uidvalidity, uid, key, spool_id, (int64_t)now());
}

/* Spool data (CRLF or LF) with LF line ends, after a hold header when
 * hold is not NULL. */
static int
fetch_spool_write(struct engine *e, const char *sender, const char *rcpt, const char *hold,
    const char *data, size_t len, char id_r[SPOOL_ID_SIZE])
{
	struct spool_writer *w;
	const char *rcpts[1] = { rcpt };
	size_t start = 0;

	if (spool_writer_new(e->sp, sender, rcpts, 1, &w) == -1)
		return -1;
	if (hold) {
		char *line = xasprintf("%s: %s\n", BROADCAST_HOLD_HEADER, hold);
		int rc = spool_writer_write(w, line, strlen(line));

		free(line);
		if (rc == -1) {
			spool_writer_abort(&w);
			return -1;
		}
	}
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\r' && i + 1 < len && data[i + 1] == '\n') {
			if (spool_writer_write(w, data + start, i - start) == -1)
				break;
			start = i + 1;
		}
	}
	if (start <= len && spool_writer_write(w, data + start, len - start) == -1) {
		spool_writer_abort(&w);
		return -1;
	}
	return spool_writer_commit(&w, id_r);
}

/* Was this message left in the mailbox by an earlier pass (no address of
 * ours)? It is not downloaded again by this process. */
static int
fetch_was_kept(const struct fetch_box *b, const char *uid)
{
	for (size_t i = 0; i < b->nkept; i++)
		if (strcmp(b->kept[i], uid) == 0)
			return 1;
	return 0;
}

/* Remember a message left in the mailbox; 1 if it was already noted. */
static int
fetch_kept(struct fetch_box *b, const char *uid)
{
	if (fetch_was_kept(b, uid))
		return 1;
	if (b->nkept < FETCH_MAX_KEPT)
		b->kept[b->nkept++] = xstrdup(uid);
	return 0;
}

static int
fetch_duplicate(struct engine *e, struct fetch_box *b, int64_t uidvalidity, const char *uid,
    const char *key)
{
	char *prev = db_str(e->db, "SELECT spool_id FROM fetch_seen WHERE mailbox = ? AND"
	    " message_id = ?", "ss", b->f->name, key);
	int rc;

	if (prev == NULL)
		return 0;
	rc = fetch_seen_add(e, b->f, uidvalidity, uid, key, prev) == -1 ? FR_TEMP : FR_DONE;
	log_info("fetch=%s uid=%s status=duplicate key=\"%s\" spoolid=%s", b->f->name, uid, key,
	    prev);
	free(prev);
	return rc;
}

/* One downloaded message: spool it (FR_SPOOLED), recognise a duplicate
 * (FR_DONE), leave it where it is (FR_KEEP) or fail (FR_TEMP). */
static int
fetch_accept(struct engine *e, struct fetch_box *b, int64_t uidvalidity, const char *uid,
    const char *data, size_t len)
{
	struct fetch_hdrs h;
	char id[SPOOL_ID_SIZE], *rcpt, *key = NULL, *hold;
	int rc;

	fetch_hdrs_parse(data, len, &h);
	if ((rcpt = fetch_rcpt(e, b->f, &h, &hold)) == NULL) {
		if (!fetch_kept(b, uid))
			log_warnx("fetch=%s uid=%s status=kept reason=\"none of our addresses in"
			    " Delivered-To, X-Original-To, To, Cc\"", b->f->name, uid);
		fetch_hdrs_free(&h);
		return FR_KEEP;
	}
	if (h.message_id)
		key = xasprintf("<%s> %s", h.message_id, rcpt);
	if (key && (rc = fetch_duplicate(e, b, uidvalidity, uid, key)) != 0)
		goto out;
	rc = FR_TEMP;
	if (hold)
		log_info("fetch=%s uid=%s status=unclear reason=\"%s\"", b->f->name, uid, hold);
	if (fetch_spool_write(e, fetch_sender(b->f, &h), rcpt, hold, data, len, id) == -1)
		log_warn("fetch=%s uid=%s status=tempfail reason=spool", b->f->name, uid);
	else if (fetch_seen_add(e, b->f, uidvalidity, uid, key ? key : "", id) == -1)
		log_warnx("fetch=%s uid=%s spoolid=%s status=error reason=\"%s\"", b->f->name, uid,
		    id, db_errmsg(e->db));
	else {
		log_info("fetch=%s uid=%s spoolid=%s sender=<%s> rcpt=<%s> size=%zu status=spooled",
		    b->f->name, uid, id, fetch_sender(b->f, &h), rcpt, len);
		rc = FR_SPOOLED;
	}
out:
	free(hold);
	free(key);
	free(rcpt);
	fetch_hdrs_free(&h);
	return rc;
}

/* A message over message_size_limit is never spooled: it is recorded and
 * finished (moved to processed, for a person to look at). */
static int
fetch_too_big(struct engine *e, struct fetch_box *b, int64_t uidvalidity, const char *uid,
    size_t size)
{
	log_warnx("fetch=%s uid=%s size=%zu status=refused reason=\"over message_size_limit\"",
	    b->f->name, uid, size);
	return fetch_seen_add(e, b->f, uidvalidity, uid, "", "") == -1 ? FR_TEMP : FR_DONE;
}

/* -------------------------------------------------------------------
 * Mailbox set-up: URL, password, TLS verification.
 */

static int
fetch_box_init(struct fetch_box *b, const struct config_fetch *f)
{
	static const struct { const char *scheme; enum fetch_kind kind; int tls; uint16_t port; }
	    schemes[] = {
		{ "imap://", FK_IMAP, 0, 143 }, { "imaps://", FK_IMAP, 1, 993 },
		{ "pop3://", FK_POP3, 0, 110 }, { "pop3s://", FK_POP3, 1, 995 },
	};

	memset(b, 0, sizeof *b);
	b->f = f;
	b->backoff = 1;
	if (strncmp(f->url, "maildir:", 8) == 0) {
		b->kind = FK_MAILDIR;
		b->path = xstrdup(f->url + 8);
		return *b->path ? 0 : -1;
	}
	for (size_t i = 0; i < nitems(schemes); i++) {
		size_t sl = strlen(schemes[i].scheme);
		char *colon;

		if (strncmp(f->url, schemes[i].scheme, sl) != 0)
			continue;
		b->kind = schemes[i].kind;
		b->tls = schemes[i].tls;
		b->port = schemes[i].port;
		b->host = xstrndup(f->url + sl, strcspn(f->url + sl, "/"));
		if ((colon = strchr(b->host, ':')) != NULL) {
			*colon = '\0';
			b->port = (uint16_t)atoi(colon + 1);
		}
		return *b->host && b->port ? 0 : -1;
	}
	return -1;
}

static void
fetch_box_free(struct fetch_box *b)
{
	free(b->host);
	free(b->path);
	for (size_t i = 0; i < b->nkept; i++)
		free(b->kept[i]);
	b->nkept = 0;
}

/* The password: password, else password_file's first line (caller frees). */
static char *
fetch_password(const struct config_fetch *f)
{
	char *data;
	size_t len;

	if (*f->password || !*f->password_file)
		return xstrdup(f->password);
	if (file_read(f->password_file, 4096, &data, &len) == -1) {
		log_warn("fetch=%s password_file=%s status=error", f->name, f->password_file);
		return NULL;
	}
	data[strcspn(data, "\r\n")] = '\0';
	return data;
}

static int
fetch_tls_chain(gnutls_x509_trust_list_t tl, carray *chain, const char *host)
{
	gnutls_x509_crt_t crts[16];
	unsigned n = 0, status = 1;
	gnutls_typed_vdata_st vd = { GNUTLS_DT_DNS_HOSTNAME, (unsigned char *)host, 0 };

	for (unsigned i = 0; i < carray_count(chain) && n < nitems(crts); i++) {
		MMAPString *der = carray_get(chain, i);
		gnutls_datum_t d = { (unsigned char *)der->str, (unsigned)der->len };

		if (gnutls_x509_crt_init(&crts[n]) < 0)
			break;
		if (gnutls_x509_crt_import(crts[n], &d, GNUTLS_X509_FMT_DER) < 0) {
			gnutls_x509_crt_deinit(crts[n]);
			break;
		}
		n++;
	}
	if (n > 0 && gnutls_x509_trust_list_verify_crt2(tl, crts, n, &vd, 1, 0, &status,
	    NULL) < 0)
		status = 1;
	for (unsigned i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	return n > 0 && status == 0 ? 0 : -1;
}

/* Verify the peer of a TLS stream: chain and host name. */
static int
fetch_tls_verify(mailstream *s, const struct fetch_box *b, const char **error_r)
{
	gnutls_x509_trust_list_t tl;
	carray *chain;
	int loaded, rc = -1;

	if (!b->f->tls_verify)
		return 0;
	if ((chain = mailstream_get_certificate_chain(s)) == NULL) {
		*error_r = "TLS: no peer certificate";
		return -1;
	}
	if (gnutls_x509_trust_list_init(&tl, 0) < 0) {
		mailstream_certificate_chain_free(chain);
		*error_r = "TLS: out of memory";
		return -1;
	}
	loaded = *b->f->ca_file ? gnutls_x509_trust_list_add_trust_file(tl, b->f->ca_file, NULL,
	    GNUTLS_X509_FMT_PEM, 0, 0) : gnutls_x509_trust_list_add_system_trust(tl, 0, 0);
	if (loaded <= 0)
		*error_r = "TLS: no CA certificate loaded (ca_file)";
	else if ((rc = fetch_tls_chain(tl, chain, b->host)) == -1)
		*error_r = "TLS: certificate not trusted or not for this host";
	gnutls_x509_trust_list_deinit(tl, 1);
	mailstream_certificate_chain_free(chain);
	return rc;
}

/* A refused login or an untrusted certificate needs a person, not a quick
 * retry: retried every fetch_interval, logged at most once per interval. */
static int
fetch_refused(struct engine *e, struct fetch_box *b, const char *what, const char *reply)
{
	time_t t = now();

	if (b->login_logged == 0 || t - b->login_logged >= e->cf->fetch_interval) {
		log_warnx("fetch=%s url=%s user=%s status=error reason=\"%s%s\" retry_in=%ld",
		    b->f->name, b->f->url, b->f->user, what, reply, e->cf->fetch_interval);
		b->login_logged = t;
	}
	return FE_LOGIN;
}

/* -------------------------------------------------------------------
 * IMAP.
 */

static void
fetch_imap_close(struct fetch_box *b, int logout)
{
	if (b->imap == NULL)
		return;
	if (logout)
		mailimap_logout(b->imap);
	mailimap_free(b->imap);
	b->imap = NULL;
}

static int
fetch_imap_connect(struct fetch_box *b, const char **error_r)
{
	int r;

	b->imap = mailimap_new(0, NULL);
	mailimap_set_timeout(b->imap, FETCH_TIMEOUT);
	r = b->tls ? mailimap_ssl_connect(b->imap, b->host, b->port) :
	    mailimap_socket_connect(b->imap, b->host, b->port);
	if (r != MAILIMAP_NO_ERROR && r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED) {
		*error_r = "cannot connect";
		return -1;
	}
	if (!b->tls && b->f->starttls && mailimap_socket_starttls(b->imap) != MAILIMAP_NO_ERROR) {
		*error_r = "STARTTLS failed or not offered";
		return -1;
	}
	if ((b->tls || b->f->starttls) && fetch_tls_verify(b->imap->imap_stream, b, error_r) == -1)
		return -2;
	return 0;
}

static int
fetch_imap_login(struct engine *e, struct fetch_box *b)
{
	char *pw = fetch_password(b->f);
	int r;

	if (pw == NULL)
		return FE_LOGIN;
	r = mailimap_login(b->imap, b->f->user, pw);
	free(pw);
	if (r == MAILIMAP_ERROR_LOGIN) {
		return fetch_refused(e, b, "login refused: ", b->imap->imap_response ?
		    b->imap->imap_response : "");
	}
	return r == MAILIMAP_NO_ERROR ? FE_OK : FE_CONN;
}

/* Capabilities after login (they change), then the folder. */
static int
fetch_imap_select(struct fetch_box *b)
{
	struct mailimap_capability_data *caps = NULL;
	const char *p = b->f->processed;

	if (mailimap_capability(b->imap, &caps) == MAILIMAP_NO_ERROR)
		mailimap_capability_data_free(caps);
	b->can_idle = mailimap_has_idle(b->imap);
	b->can_move = mailimap_has_extension(b->imap, "MOVE");
	if (*p && strcmp(p, "delete") != 0)
		mailimap_create(b->imap, p);	/* "already exists" is fine */
	if (mailimap_select(b->imap, b->f->folder) != MAILIMAP_NO_ERROR ||
	    b->imap->imap_selection_info == NULL)
		return -1;
	b->uidvalidity = b->imap->imap_selection_info->sel_uidvalidity;
	return 0;
}

static int
fetch_imap_open(struct engine *e, struct fetch_box *b)
{
	const char *err = "";
	int r;

	if (b->imap != NULL)
		return FE_OK;
	if ((r = fetch_imap_connect(b, &err)) < 0) {
		fetch_imap_close(b, 0);
		if (r == -2)
			return fetch_refused(e, b, err, "");
		log_warnx("fetch=%s url=%s status=error reason=\"%s\"", b->f->name, b->f->url, err);
		return FE_CONN;
	}
	if ((r = fetch_imap_login(e, b)) != FE_OK || (r = fetch_imap_select(b)) != 0) {
		if (r == -1)
			log_warnx("fetch=%s folder=%s status=error reason=\"cannot select: %s\"",
			    b->f->name, b->f->folder, b->imap->imap_response ?
			    b->imap->imap_response : "");
		fetch_imap_close(b, r != FE_CONN);
		return r == FE_LOGIN ? FE_LOGIN : FE_CONN;
	}
	return FE_OK;
}

static struct mailimap_search_key *
fetch_imap_key(int type)
{
	return mailimap_search_key_new(type, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	    NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL,
	    NULL, NULL);
}

/* UIDs to look at: every undeleted message when processed mail leaves the
 * folder; only the unseen ones when it stays (processed = ""). */
static int
fetch_imap_search(struct fetch_box *b, clist **uids_r)
{
	struct mailimap_search_key *key = mailimap_search_key_new_multiple_empty();
	int r;

	mailimap_search_key_multiple_add(key, fetch_imap_key(MAILIMAP_SEARCH_KEY_UNDELETED));
	if (!*b->f->processed)
		mailimap_search_key_multiple_add(key, fetch_imap_key(MAILIMAP_SEARCH_KEY_UNSEEN));
	r = mailimap_uid_search(b->imap, NULL, key, uids_r);
	mailimap_search_key_free(key);
	return r == MAILIMAP_NO_ERROR ? 0 : -1;
}

/* UID FETCH one attribute; the static item of type want. */
static struct mailimap_msg_att_static *
fetch_imap_att(clist *res, int want)
{
	for (clistiter *i = res ? clist_begin(res) : NULL; i; i = clist_next(i)) {
		struct mailimap_msg_att *ma = clist_content(i);

		for (clistiter *j = clist_begin(ma->att_list); j; j = clist_next(j)) {
			struct mailimap_msg_att_item *it = clist_content(j);

			if (it->att_type == MAILIMAP_MSG_ATT_ITEM_STATIC &&
			    it->att_data.att_static->att_type == want)
				return it->att_data.att_static;
		}
	}
	return NULL;
}

static int
fetch_imap_get(struct fetch_box *b, uint32_t uid, struct mailimap_fetch_att *att, int want,
    clist **res_r, struct mailimap_msg_att_static **st_r)
{
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
	struct mailimap_set *set = mailimap_set_new_single(uid);
	int r;

	mailimap_fetch_type_new_fetch_att_list_add(ft, att);
	*res_r = NULL;
	r = mailimap_uid_fetch(b->imap, set, ft, res_r);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR)
		return -1;
	*st_r = fetch_imap_att(*res_r, want);
	return 0;
}

static int
fetch_imap_store(struct fetch_box *b, uint32_t uid, int deleted)
{
	struct mailimap_flag_list *fl = mailimap_flag_list_new_empty();
	struct mailimap_store_att_flags *sa;
	struct mailimap_set *set = mailimap_set_new_single(uid);
	int r;

	mailimap_flag_list_add(fl, mailimap_flag_new_seen());
	if (deleted)
		mailimap_flag_list_add(fl, mailimap_flag_new_deleted());
	sa = mailimap_store_att_flags_new_add_flags_silent(fl);
	r = mailimap_uid_store(b->imap, set, sa);
	mailimap_store_att_flags_free(sa);
	mailimap_set_free(set);
	return r == MAILIMAP_NO_ERROR ? 0 : -1;
}

static int
fetch_imap_expunge(struct fetch_box *b, uint32_t uid)
{
	struct mailimap_set *set = mailimap_set_new_single(uid);
	int r = mailimap_has_uidplus(b->imap) ? mailimap_uid_expunge(b->imap, set) :
	    mailimap_expunge(b->imap);

	mailimap_set_free(set);
	return r == MAILIMAP_NO_ERROR ? 0 : -1;
}

/* \Seen, then move to processed (MOVE, or COPY + \Deleted + expunge),
 * delete ("delete"), or keep (""). */
static int
fetch_imap_finish(struct fetch_box *b, uint32_t uid)
{
	const char *p = b->f->processed;
	struct mailimap_set *set;
	int r;

	if (fetch_imap_store(b, uid, 0) == -1)
		return -1;
	if (!*p)
		return 0;
	if (strcmp(p, "delete") == 0)
		return fetch_imap_store(b, uid, 1) == 0 ? fetch_imap_expunge(b, uid) : -1;
	set = mailimap_set_new_single(uid);
	r = b->can_move ? mailimap_uid_move(b->imap, set, p) : mailimap_uid_copy(b->imap, set, p);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR)
		return -1;
	if (b->can_move)
		return 0;
	return fetch_imap_store(b, uid, 1) == 0 ? fetch_imap_expunge(b, uid) : -1;
}

static void
fetch_test_drop(struct fetch_box *b)
{
	const char *v = getenv("MLISTD_FETCH_TEST_DROP_AFTER_SPOOL");

	if (v == NULL || strcmp(v, "1") != 0 || b->dropped)
		return;
	b->dropped = 1;
	log_info("fetch=%s status=test-drop", b->f->name);
	shutdown(mailstream_low_get_fd(mailstream_get_low(b->imap->imap_stream)), SHUT_RDWR);
}

/* Download and accept one message not in fetch_seen. */
static int
fetch_imap_take(struct engine *e, struct fetch_box *b, uint32_t uid, const char *suid)
{
	struct mailimap_msg_att_static *st;
	clist *res;
	int rc;

	if (fetch_imap_get(b, uid, mailimap_fetch_att_new_rfc822_size(),
	    MAILIMAP_MSG_ATT_RFC822_SIZE, &res, &st) == -1)
		return FR_TEMP;
	if (st && st->att_data.att_rfc822_size > (uint32_t)e->cf->message_size_limit)
		rc = fetch_too_big(e, b, b->uidvalidity, suid, st->att_data.att_rfc822_size);
	else
		rc = -2;
	mailimap_fetch_list_free(res);
	if (rc != -2)
		return rc;
	if (fetch_imap_get(b, uid, mailimap_fetch_att_new_body_peek_section(
	    mailimap_section_new(NULL)), MAILIMAP_MSG_ATT_BODY_SECTION, &res, &st) == -1)
		return FR_TEMP;
	if (st == NULL || st->att_data.att_body_section->sec_body_part == NULL)
		rc = FR_KEEP;	/* vanished meanwhile */
	else
		rc = fetch_accept(e, b, b->uidvalidity, suid,
		    st->att_data.att_body_section->sec_body_part,
		    st->att_data.att_body_section->sec_length);
	mailimap_fetch_list_free(res);
	return rc;
}

/* One message: returns 1 spooled, 0 nothing new, -1 connection trouble. */
static int
fetch_imap_one(struct engine *e, struct fetch_box *b, uint32_t uid)
{
	char suid[16];
	int rc = FR_DONE, seen;

	snprintf(suid, sizeof suid, "%u", uid);
	if (fetch_was_kept(b, suid))
		return 0;
	if ((seen = fetch_is_seen(e, b->f, b->uidvalidity, suid)) == -1)
		return -1;
	if (!seen)
		rc = fetch_imap_take(e, b, uid, suid);
	if (rc == FR_SPOOLED)
		fetch_test_drop(b);
	if (rc == FR_TEMP || ((rc == FR_SPOOLED || rc == FR_DONE) &&
	    fetch_imap_finish(b, uid) == -1))
		return -1;
	return rc == FR_SPOOLED;
}

static int
fetch_imap_pass(struct engine *e, struct fetch_box *b, int keep_open)
{
	clist *uids = NULL;
	int r, n = 0;

	if ((r = fetch_imap_open(e, b)) != FE_OK)
		return r;
	if (b->imap->imap_selection_info)
		b->imap->imap_selection_info->sel_has_exists = 0;	/* see fetch_idle_start */
	if (fetch_imap_search(b, &uids) == -1) {
		fetch_imap_close(b, 0);
		return FE_CONN;
	}
	for (clistiter *it = clist_begin(uids); it && r == 0; it = clist_next(it)) {
		int one = fetch_imap_one(e, b, *(uint32_t *)clist_content(it));

		if (one < 0)
			r = FE_CONN;
		else
			n += one;
	}
	mailimap_search_result_free(uids);
	if (r == FE_CONN)
		log_warnx("fetch=%s status=error reason=\"connection lost: %s\"", b->f->name,
		    b->imap->imap_response ? b->imap->imap_response : "stream error");
	if (r == FE_CONN || !keep_open)
		fetch_imap_close(b, r == FE_OK);
	return r == FE_OK ? n : r;
}

/* -------------------------------------------------------------------
 * POP3: UIDL for dedupe; DELE only when processed = "delete".
 */

static int
fetch_pop3_open(struct engine *e, struct fetch_box *b, mailpop3 **p_r)
{
	mailpop3 *p = mailpop3_new(0, NULL);
	const char *err = "cannot connect";
	char *pw;
	int r;

	mailpop3_set_timeout(p, FETCH_TIMEOUT);
	*p_r = p;
	r = b->tls ? mailpop3_ssl_connect(p, b->host, b->port) :
	    mailpop3_socket_connect(p, b->host, b->port);
	if (r == MAILPOP3_NO_ERROR && !b->tls && b->f->starttls &&
	    mailpop3_socket_starttls(p) != MAILPOP3_NO_ERROR) {
		err = "STARTTLS failed or not offered";
		r = -1;
	}
	if (r == MAILPOP3_NO_ERROR && (b->tls || b->f->starttls) &&
	    fetch_tls_verify(p->pop3_stream, b, &err) == -1)
		return fetch_refused(e, b, err, "");
	if (r != MAILPOP3_NO_ERROR) {
		log_warnx("fetch=%s url=%s status=error reason=\"%s\"", b->f->name, b->f->url, err);
		return FE_CONN;
	}
	if ((pw = fetch_password(b->f)) == NULL)
		return FE_LOGIN;
	r = mailpop3_user(p, b->f->user);
	if (r == MAILPOP3_NO_ERROR)
		r = mailpop3_pass(p, pw);
	free(pw);
	if (r == MAILPOP3_ERROR_BAD_USER || r == MAILPOP3_ERROR_BAD_PASSWORD) {
		return fetch_refused(e, b, "login refused: ", p->pop3_response ?
		    p->pop3_response : "");
	}
	return r == MAILPOP3_NO_ERROR ? FE_OK : FE_CONN;
}

static int
fetch_pop3_one(struct engine *e, struct fetch_box *b, mailpop3 *p,
    struct mailpop3_msg_info *mi)
{
	int del = strcmp(b->f->processed, "delete") == 0, rc = FR_DONE, seen;
	char *data;
	size_t len;

	if (fetch_was_kept(b, mi->msg_uidl))
		return 0;
	if ((seen = fetch_is_seen(e, b->f, 0, mi->msg_uidl)) == -1)
		return -1;
	if (seen)
		;
	else if (mi->msg_size > (uint32_t)e->cf->message_size_limit)
		rc = fetch_too_big(e, b, 0, mi->msg_uidl, mi->msg_size);
	else if (mailpop3_retr(p, mi->msg_index, &data, &len) != MAILPOP3_NO_ERROR)
		return -1;
	else {
		rc = fetch_accept(e, b, 0, mi->msg_uidl, data, len);
		mailpop3_retr_free(data);
	}
	if (rc == FR_TEMP)
		return -1;
	if (del && rc != FR_KEEP && mailpop3_dele(p, mi->msg_index) != MAILPOP3_NO_ERROR)
		return -1;
	return rc == FR_SPOOLED;
}

static int
fetch_pop3_pass(struct engine *e, struct fetch_box *b)
{
	mailpop3 *p;
	carray *list = NULL;
	int r, n = 0;

	if ((r = fetch_pop3_open(e, b, &p)) == FE_OK && mailpop3_list(p, &list) != MAILPOP3_NO_ERROR)
		r = FE_CONN;
	for (unsigned i = 0; r == FE_OK && list && i < carray_count(list); i++) {
		struct mailpop3_msg_info *mi = carray_get(list, i);
		int one;

		if (mi == NULL || mi->msg_deleted)
			continue;
		if (mi->msg_uidl == NULL) {
			log_warnx("fetch=%s status=error reason=\"the POP3 server has no UIDL\"",
			    b->f->name);
			r = FE_CONN;
		} else if ((one = fetch_pop3_one(e, b, p, mi)) < 0)
			r = FE_CONN;
		else
			n += one;
	}
	if (r == FE_OK && mailpop3_quit(p) != MAILPOP3_NO_ERROR)	/* commits DELE */
		r = FE_CONN;
	mailpop3_free(p);
	return r == FE_OK ? n : r;
}

/* -------------------------------------------------------------------
 * Maildir: new/ and cur/ without the S flag; then cur/NAME:2,FLAGS+S, a
 * Maildir++ subfolder .PROCESSED/cur/, or unlink ("delete").
 */

/* The flags of a maildir name with S added, sorted (new string). */
static char *
fetch_md_flags(const char *name)
{
	const char *info = strstr(name, ":2,");
	char flags[64] = "";
	size_t n = 0;

	for (const char *p = info ? info + 3 : ""; *p && n < sizeof flags - 2; p++)
		if (*p >= 'A' && *p <= 'Z' && !strchr(flags, *p))
			flags[n++] = *p;
	if (!strchr(flags, 'S'))
		flags[n++] = 'S';
	flags[n] = '\0';
	for (size_t i = 1; i < n; i++)		/* insertion sort: a few letters */
		for (size_t j = i; j > 0 && flags[j - 1] > flags[j]; j--) {
			char c = flags[j];

			flags[j] = flags[j - 1];
			flags[j - 1] = c;
		}
	return xstrdup(flags);
}

/* The Maildir++ subfolder .NAME of the maildir, created if needed. */
static char *
fetch_md_subfolder(const struct fetch_box *b, const char *name)
{
	static const char *const sub[] = { "cur", "new", "tmp" };
	char *dir = xasprintf("%s/.%s", b->path, name);

	for (size_t i = 0; i < nitems(sub); i++) {
		char *d = xasprintf("%s/%s", dir, sub[i]);

		mkdir_p(d, 0700);
		free(d);
	}
	return dir;
}

static int
fetch_md_finish(struct fetch_box *b, const char *dir, const char *name, const char *uid)
{
	const char *p = b->f->processed;
	char *from = xasprintf("%s/%s/%s", b->path, dir, name), *flags = fetch_md_flags(name);
	char *to = NULL, *sub = NULL;
	int rc;

	if (strcmp(p, "delete") == 0)
		rc = unlink(from);
	else {
		if (*p)
			sub = fetch_md_subfolder(b, p);
		to = xasprintf("%s/cur/%s:2,%s", sub ? sub : b->path, uid, flags);
		rc = rename(from, to);
	}
	if (rc == -1)
		log_warn("fetch=%s file=%s status=error", b->f->name, from);
	free(from);
	free(to);
	free(sub);
	free(flags);
	return rc;
}

static int
fetch_md_one(struct engine *e, struct fetch_box *b, const char *dir, const char *name)
{
	char *uid = xstrndup(name, strcspn(name, ":")), *path, *data = NULL;
	size_t len;
	int rc = FR_DONE, seen;

	if (fetch_was_kept(b, uid)) {
		free(uid);
		return 0;
	}
	path = xasprintf("%s/%s/%s", b->path, dir, name);
	if ((seen = fetch_is_seen(e, b->f, 0, uid)) == -1)
		rc = FR_TEMP;
	else if (seen)
		;
	else if (file_read(path, (size_t)e->cf->message_size_limit, &data, &len) == -1)
		rc = errno == EFBIG ? fetch_too_big(e, b, 0, uid, (size_t)-1) : FR_KEEP;
	else
		rc = fetch_accept(e, b, 0, uid, data, len);
	if ((rc == FR_SPOOLED || rc == FR_DONE) && fetch_md_finish(b, dir, name, uid) == -1)
		rc = FR_TEMP;
	free(data);
	free(path);
	free(uid);
	return rc == FR_TEMP ? -1 : rc == FR_SPOOLED;
}

static int
fetch_md_unread(const char *dir, const char *name)
{
	const char *info = strstr(name, ":2,");

	if (name[0] == '.')
		return 0;
	if (strcmp(dir, "new") == 0 || info == NULL)
		return 1;
	return strchr(info + 3, 'S') == NULL && strchr(info + 3, 'T') == NULL;
}

static int
fetch_md_dir(struct engine *e, struct fetch_box *b, const char *dir)
{
	char *path = xasprintf("%s/%s", b->path, dir);
	DIR *d = opendir(path);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	int total = 0;

	free(path);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (fetch_md_unread(dir, de->d_name)) {
			names = xrealloc(names, (n + 1) * sizeof *names);
			names[n++] = xstrdup(de->d_name);
		}
	closedir(d);
	for (size_t i = 0; i < n; i++) {
		int one = total >= 0 ? fetch_md_one(e, b, dir, names[i]) : 0;

		total = one < 0 ? -1 : total + one;
		free(names[i]);
	}
	free(names);
	return total;
}

static int
fetch_md_pass(struct engine *e, struct fetch_box *b)
{
	int a = fetch_md_dir(e, b, "new"), c;

	if (a < 0) {
		log_warn("fetch=%s maildir=%s status=error", b->f->name, b->path);
		return FE_CONN;
	}
	c = fetch_md_dir(e, b, "cur");
	return c < 0 ? FE_CONN : a + c;
}

/* -------------------------------------------------------------------
 * Passes, scheduling, IDLE.
 */

/* One pass over one mailbox; schedules the next. >= 0 spooled, < 0 error. */
static int
fetch_box_pass(struct engine *e, struct fetch_box *b, int keep_open)
{
	time_t t = now();
	int r = b->kind == FK_IMAP ? fetch_imap_pass(e, b, keep_open) :
	    b->kind == FK_POP3 ? fetch_pop3_pass(e, b) : fetch_md_pass(e, b);

	if (r >= 0) {
		b->backoff = 1;
		b->login_logged = 0;
		b->next_try = t + (b->imap && b->can_idle ? FETCH_IDLE_MAX : e->cf->fetch_interval);
	} else if (r == FE_LOGIN)
		b->next_try = t + e->cf->fetch_interval;
	else {
		b->next_try = t + b->backoff;
		b->backoff = b->backoff * 2 > e->cf->fetch_interval ? e->cf->fetch_interval :
		    b->backoff * 2;
	}
	if (r > 0)
		log_info("fetch=%s spooled=%d", b->f->name, r);
	return r;
}

static size_t
fetch_boxes(struct engine *e, struct fetch_box *boxes)
{
	size_t n = 0;

	for (size_t i = 0; i < e->cf->nfetch; i++) {
		if (fetch_box_init(&boxes[n], &e->cf->fetch[i]) == -1) {
			log_warnx("fetch=%s url=%s status=error reason=\"unusable url\"",
			    e->cf->fetch[i].name, e->cf->fetch[i].url);
			fetch_box_free(&boxes[n]);
			continue;
		}
		n++;
	}
	return n;
}

int
fetch_run(struct engine *e)
{
	struct fetch_box boxes[CONFIG_MAX_FETCH];
	size_t n = fetch_boxes(e, boxes);
	int total = 0, ok = 0;

	for (size_t i = 0; i < n; i++) {
		int r = fetch_box_pass(e, &boxes[i], 0);

		if (r >= 0) {
			ok++;
			total += r;
		}
		fetch_imap_close(&boxes[i], 1);
		fetch_box_free(&boxes[i]);
	}
	return ok < (int)n ? -1 : total;
}

/* Did an "* N EXISTS" arrive since the pass's SEARCH? libetpan swallows
 * the ones that come with other replies (the end of the pass, entering or
 * leaving IDLE), so the poll() below would never see them. */
static int
fetch_new_exists(struct fetch_box *b)
{
	struct mailimap_selection_info *sel = b->imap ? b->imap->imap_selection_info : NULL;

	if (sel == NULL || !sel->sel_has_exists)
		return 0;
	b->next_try = now();
	return 1;
}

/* Enter IDLE on one session and add it to the poll set. Returns 1 when
 * the box must be read at once. */
static int
fetch_idle_start(struct fetch_box *b, struct pollfd *pfd, struct fetch_box **who,
    nfds_t *np)
{
	if (fetch_new_exists(b))
		return 1;
	if (mailimap_idle(b->imap) != MAILIMAP_NO_ERROR) {
		fetch_imap_close(b, 0);
		b->next_try = now();
		return 0;
	}
	pfd->fd = mailimap_idle_get_fd(b->imap);
	pfd->events = POLLIN;
	*who = b;
	(*np)++;
	return fetch_new_exists(b);
}

/* Enter IDLE where possible; poll those sessions (and *stop) until the
 * earliest next_try or activity on one of them; leave IDLE. */
static void
fetch_wait(struct fetch_box *boxes, size_t n, volatile int *stop)
{
	struct pollfd pfd[CONFIG_MAX_FETCH];
	struct fetch_box *who[CONFIG_MAX_FETCH];
	time_t deadline = now() + FETCH_IDLE_MAX;
	nfds_t np = 0;
	int woke = 0;

	for (size_t i = 0; i < n; i++) {
		if (boxes[i].next_try < deadline)
			deadline = boxes[i].next_try;
		if (boxes[i].imap && boxes[i].can_idle)
			woke |= fetch_idle_start(&boxes[i], &pfd[np], &who[np], &np);
	}
	while (!*stop && !woke && now() < deadline)
		if (poll(pfd, np, 1000) > 0)
			for (nfds_t i = 0; i < np; i++)
				if (pfd[i].revents) {
					who[i]->next_try = now();
					woke = 1;
				}
	for (nfds_t i = 0; i < np; i++)
		if (mailimap_idle_done(who[i]->imap) != MAILIMAP_NO_ERROR) {
			fetch_imap_close(who[i], 0);
			who[i]->next_try = now();
		} else
			fetch_new_exists(who[i]);
}

void
fetch_loop(struct engine *e, volatile int *stop, void (*spooled)(void))
{
	struct fetch_box boxes[CONFIG_MAX_FETCH];
	size_t n = fetch_boxes(e, boxes);

	if (n == 0)
		return;
	log_info("fetch mailboxes=%zu interval=%ld", n, e->cf->fetch_interval);
	while (!*stop) {
		int any = 0;

		for (size_t i = 0; i < n && !*stop; i++)
			if (now() >= boxes[i].next_try && fetch_box_pass(e, &boxes[i], 1) > 0)
				any = 1;
		if (any && spooled)
			spooled();
		fetch_wait(boxes, n, stop);
	}
	for (size_t i = 0; i < n; i++) {
		fetch_imap_close(&boxes[i], 1);
		fetch_box_free(&boxes[i]);
	}
}
