/*
 * roster.h — committees, their designated contacts, and the national
 * senders and editors (roles), with the association's rules:
 * a committee has at most max_contacts active contacts; an address is
 * unique within a committee (case-insensitive); slugs are unique; names
 * hold no control character; the list's own addresses are neither
 * contacts nor senders.
 *
 * Return values (every int function but roster_is_sender): ROSTER_OK (1)
 * done, ROSTER_EDATA (0) the request breaks a rule or names nothing (err_r
 * says which, in the configured language), ROSTER_EDB (-1) the database
 * failed (err_r has SQLite's reason).
 * err_r points to a per-thread buffer valid until the next roster call.
 * Committees are named by "key": a slug or a name (accents and case ignored).
 */
#ifndef MLISTD_ROSTER_H
#define MLISTD_ROSTER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct db;
struct config;

#define ROSTER_OK	1
#define ROSTER_EDATA	0
#define ROSTER_EDB	(-1)

struct roster_committee {
	int64_t	 id;
	char	*slug;
	char	*name;
	char	*region;
	char	*department;
	char	*tags;		/* "a,b,c" */
	int	 ncontacts;	/* all */
	int	 nactive;	/* active */
};

struct roster_contact {
	int64_t	 id;
	int64_t	 committee_id;
	char	*committee_slug;
	char	*name;
	char	*email;
	int	 active;
	int64_t	 added;
	char	*disabled_reason;
};

enum roster_filter { ROSTER_ALL, ROSTER_UNDER };

int roster_committee_add(struct db *db, const char *name, const char *slug,
    const char *region, const char *department, const char *tags,
    int64_t *id_r, const char **err_r);
/* Committee id by slug or name; 0 when none (or on a database error). */
int64_t roster_committee_lookup(struct db *db, const char *key);
int roster_committee_get(struct db *db, int64_t id, struct roster_committee *c);
/* Active contacts of a committee (0 on a database error). */
int64_t roster_active_count(struct db *db, int64_t committee_id);
/* Update the fields that are not NULL. */
int roster_committee_update(struct db *db, int64_t id, const char *region,
    const char *department, const char *tags, const char **err_r);
int roster_committee_rename(struct db *db, const char *key, const char *new_name,
    const char *new_slug, const char **err_r);
/* Refused while the committee has contacts, unless force. */
int roster_committee_remove(struct db *db, const char *key, int force, const char **err_r);
/* All committees (or those under min_contacts active) by region then name. */
int roster_committees(struct db *db, enum roster_filter filter, long min_contacts,
    struct roster_committee **list_r, size_t *n_r);
void roster_committee_clear(struct roster_committee *c);
void roster_committees_free(struct roster_committee *list, size_t n);

int roster_contact_add(struct db *db, const struct config *cf, const char *key,
    const char *email, const char *name, const char **err_r);
/* Remove from one committee (key) or, with key NULL, from the only one it is in. */
int roster_contact_remove(struct db *db, const char *email, const char *key, const char **err_r);
int roster_contact_move(struct db *db, const struct config *cf, const char *email,
    const char *from_key, const char *to_key, const char **err_r);
int roster_contact_set_active(struct db *db, const char *email, int active,
    const char *reason, const char **err_r);
/* Contacts of one committee (key) or all (key NULL), by committee then name. */
int roster_contacts(struct db *db, const char *key, struct roster_contact **list_r,
    size_t *n_r, const char **err_r);
void roster_contacts_free(struct roster_contact *list, size_t n);

/* Roles: "national" or "editor". The list's own addresses are refused. */
int roster_sender_add(struct db *db, const struct config *cf, const char *email,
    const char *role, const char *name, const char **err_r);
int roster_sender_remove(struct db *db, const char *email, const char *role,
    const char **err_r);
/* 1 when email has the role; 0 when not or on a database error (no rights). */
int roster_is_sender(struct db *db, const char *email, const char *role);
/* Is email in the roster at all: a contact (active or not) or a sender of
 * any role? 1 yes, 0 no (or a database error). */
int roster_is_known(struct db *db, const char *email);
struct roster_sender {
	char	*email;
	char	*role;
	char	*name;
};
/* All senders, or those of one role (NULL = all). */
int roster_senders(struct db *db, const char *role, struct roster_sender **list_r, size_t *n_r);
void roster_senders_free(struct roster_sender *list, size_t n);
/* Where the office is told (alerts, departures, disabled contacts):
 * admin_address when set, else every national sender. A NULL-terminated
 * array of *n_r new strings; free with roster_office_free. */
char **roster_office(struct db *db, const char *admin_address, size_t *n_r);
void roster_office_free(char **list);

/* Text typed by a person (names, region, tags): ROSTER_OK, or ROSTER_EDATA when it
 * holds a control character (LF, CR, TAB, DEL, C1), a bidirectional
 * override or invalid UTF-8; err_r names what (e.g. "nom du contact") and
 * the character. Every add, update and rename checks its texts. */
int roster_check_text(const char *what, const char *s, const char **err_r);
/* Is addr one of the list's own addresses (national@, bulletin@, aide@,
 * retour+...@, rebonds+...@, confirm+...@ at the list's domain, any case,
 * any extension)? Such an address is never a contact nor a sender. */
int roster_is_own_address(const struct config *cf, const char *addr);

/* Audit trail of roster changes (who was added, moved, removed, when). */
void roster_audit(struct db *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
