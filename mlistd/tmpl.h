/*
 * tmpl.h — people's texts (notices, bulletin layout) as ctemplate files.
 *
 * A C interface over ctemplate 2.x, implemented by the project's only C++
 * file (tmpl.cc), which catches every exception; no C++ type appears here.
 * Template syntax: {{VAR}}, {{#SECTION}}...{{/SECTION}}, {{>INCLUDE}},
 * modifiers such as {{VAR:h}} (HTML escape), {{%AUTOESCAPE context="HTML"}}.
 *
 * KEYS MUST BE CONSTANTS: ctemplate interns every variable and section name
 * for the life of the process, so keys are string literals from the code,
 * never data (an address, a committee name...). Values are copied.
 *
 * Templates are read once and cached for the life of the process under the
 * path string given (not reloaded when the file changes). Give absolute
 * paths in the daemon: a relative path is resolved against the current
 * directory at first use. Failures to load are remembered per path too.
 *
 * Threads: a dictionary belongs to one thread at a time; distinct
 * dictionaries may be used and expanded in parallel. Expansions are
 * serialized by one process-wide lock (ctemplate reports errors only on
 * std::cerr, which is captured during an expansion to build error_r).
 *
 * Ownership: tmpl_dict_new() allocates a dictionary that tmpl_dict_free()
 * releases along with all its section dictionaries; section dictionaries
 * returned by tmpl_add_section() belong to their parent and are never freed
 * by the caller. Strings returned in *out_r and by tmpl_find() are freed by
 * the caller with free(). Error strings live in thread-local storage, valid
 * until the next tmpl_expand() in the same thread.
 */
#ifndef MLISTD_TMPL_H
#define MLISTD_TMPL_H

#ifdef __cplusplus
extern "C" {
#endif

struct tmpl_dict;	/* a dictionary of values for one expansion */

enum tmpl_mode {
	TMPL_TEXT,	/* output verbatim, blank lines kept (text mails) */
	TMPL_HTML,	/* blank lines and lines holding only markers removed;
			 * escaping is the template's: :h or AUTOESCAPE */
};

/* A new empty dictionary; never NULL (out of memory aborts, as xmalloc). */
struct tmpl_dict *tmpl_dict_new(void);
/* Free a dictionary made by tmpl_dict_new() and its sections; *d = NULL. */
void tmpl_dict_free(struct tmpl_dict **d);

/* Set {{key}} to a copy of value (NULL -> ""); key must be a constant. */
void tmpl_set(struct tmpl_dict *d, const char *key, const char *value);
/* Set {{key}} to v in decimal. */
void tmpl_set_int(struct tmpl_dict *d, const char *key, long long v);
/* Add one instance of {{#section}} (a row of a repeated section) and
 * return its dictionary, owned by d (do not free). Variables not set in
 * the row are looked up in its parents. */
struct tmpl_dict *tmpl_add_section(struct tmpl_dict *d, const char *section);
/* Show {{#section}} once, with d's own values. */
void tmpl_show_section(struct tmpl_dict *d, const char *section);

/* Expand the template file at path with d (NULL: an empty dictionary).
 * Returns 0 and a new NUL-terminated string in *out_r, or -1 with a reason
 * in *error_r ("cannot load template PATH: ..." for a missing, unreadable
 * or malformed file; "cannot expand template PATH: ..." when e.g. an
 * included template is missing); *out_r is then NULL. */
int tmpl_expand(const char *path, const struct tmpl_dict *d,
    enum tmpl_mode mode, char **out_r, const char **error_r);

/* Find a readable regular file dir/LANG/NAME, falling back to dir/fr/NAME,
 * then dir/en/NAME. A lang that is NULL, "" or not a plain tag
 * ([A-Za-z0-9_-]+) is skipped; a name that is empty, starts with '/' or
 * holds ".." gives NULL. Returns a new path, or NULL when none exists. */
char *tmpl_find(const char *dir, const char *lang, const char *name);

#ifdef __cplusplus
}
#endif

#endif
