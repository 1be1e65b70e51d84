/*
 * config.h — mlistd.conf: one table of parameters, each with its default and
 * bounds (config.c), read into one struct config.
 *
 * Syntax: "key = value" lines, '#' starts a comment line, blank lines
 * ignored. "[fetch NAME]" opens a block of fetch_* keys (one mailbox to
 * poll); keys after it belong to that block until the next "[...]".
 * Sizes take k/M/G suffixes, durations s/m/h/d/w, booleans yes/no.
 *
 * The file is found by: -c FILE, then $MLISTD_CONF, then ./mlistd.conf, then
 * /etc/mlistd/mlistd.conf. config_load() reports every error as
 * "file:line: message" and fails if there was any (the caller exits 78).
 */
#ifndef MLISTD_CONFIG_H
#define MLISTD_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#define CONFIG_MAX_FETCH 16

struct config_fetch {
	char	*name;
	char	*url;		/* imap://, imaps://, pop3://, pop3s://, maildir:/path */
	char	*role;		/* national bulletin request replies bounces auto */
	char	*user;
	char	*password;
	char	*password_file;
	char	*ca_file;
	int	 tls_verify;
	int	 starttls;
	char	*processed;	/* IMAP folder to move processed mail to; "" = delete */
	char	*folder;	/* IMAP folder to read (INBOX) */
	int	 line;
};

struct config {
	char	*file;			/* path read, or "(defaults)" */
	/* identity and addresses */
	char	*domain;
	char	*data_dir;
	char	*language;
	char	*list_name;
	char	*national_address;
	char	*bulletin_address;
	char	*request_address;
	char	*reply_prefix;
	char	*bounce_prefix;
	char	*confirm_prefix;
	char	*admin_address;
	char	*postmaster;		/* told of held spool files; "" = postmaster@domain */
	char	*templates_dir;
	long	 min_contacts;
	long	 max_contacts;
	/* ingress */
	char	*lmtp_listen;
	long	 lmtp_max_clients;
	long	 lmtp_timeout;		/* seconds: each wait for input */
	long	 lmtp_session_deadline;	/* seconds: a whole session */
	long	 lmtp_min_data_rate;	/* bytes/s once a request lasts 10 s */
	long	 message_size_limit;
	/* authorisation of broadcasts */
	char	*trusted_authserv_ids;
	int	 dkim_allow_parent_domain;
	char	*approve_password;
	long	 confirm_lifetime;
	/* outgoing */
	char	*subject_tag;
	char	*dmarc_mitigation;
	char	*dmarc_author_in;
	char	*smtp_relay;
	long	 smtp_connections;
	long	 smtp_timeout;
	char	*smtp_tls;
	int	 smtp_tls_verify;
	char	*smtp_ca_file;
	char	*smtp_user;
	char	*smtp_password_file;
	char	*smtp_helo_name;
	long	 smtp_max_rcpt_per_transaction;
	long	 smtp_rate_per_minute;
	long	 smtp_rate_per_hour;
	long	 retry_min;
	long	 retry_max;
	long	 queue_lifetime;
	long	 queue_run_interval;
	long	 handler_max_attempts;	/* failed handlings of a spool file before hold/ */
	long	 handler_retry_min;	/* seconds before the first retry (doubles, <= 1 h) */
	/* replies, bounces, coverage, request address */
	char	*national_replies_to;
	long	 bounce_score_threshold;
	long	 bounce_info_stale_after;
	long	 coverage_alert_after;
	long	 broadcast_report_after;	/* 0: no report mailed to a broadcast's author */
	long	 max_autoresponses_per_day;
	/* bulletin */
	long	 bulletin_period_months;
	long	 bulletin_deadline_days;
	char	*bulletin_anchor;
	char	*bulletin_reminders;
	long	 bulletin_photo_max;
	long	 bulletin_mail_max;		/* the whole bulletin mail, bytes */
	long	 bulletin_mail_photo_width;	/* px, first try */
	long	 bulletin_archive_photo_width;	/* px, archive page */
	char	*bulletin_archive_url;		/* where archive/ is served, "" if not */
	/* polling */
	long	 fetch_interval;
	struct config_fetch fetch[CONFIG_MAX_FETCH];
	size_t	 nfetch;
};

/* Find the file to read: explicit, $MLISTD_CONF, ./mlistd.conf, /etc/... .
 * Returns a new string or NULL when none exists. */
char *config_find(const char *explicit_path);
/* Load defaults, then the file (NULL = defaults only). Errors are printed to
 * errf as "file:line: message"; returns the number of errors (0 = valid). */
int config_load(struct config *cf, const char *path, FILE *errf);
void config_free(struct config *cf);
/* Print every parameter with its effective value (mlistctl config). */
void config_dump(const struct config *cf, FILE *out);
/* Addresses built from the configuration: local@domain (caller frees). */
char *config_address(const struct config *cf, const char *local);
/* Split a comma/space separated list value; free with config_list_free. */
char **config_list(const char *value, size_t *n_r);
void config_list_free(char **list, size_t n);

#endif
