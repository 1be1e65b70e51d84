/*
 * tmpl.cc — the extern "C" shim over ctemplate 2.x (the only file that
 * includes it, and the project's only C++ file).
 *
 * No exception crosses into C: every entry point catches everything. Out of
 * memory while building a dictionary aborts (the project's xmalloc policy:
 * those functions return nothing to check); tmpl_expand() turns any
 * exception into -1 and a reason.
 *
 * A struct tmpl_dict * is a ctemplate::TemplateDictionary * in disguise:
 * the C type is declared but never defined, and only this file casts.
 *
 * Diagnostics: ctemplate says why a template failed only on std::cerr
 * (LoadTemplate/ExpandTemplate just return false). tmpl_expand() therefore
 * holds one process-wide mutex while it points std::cerr at a string buffer,
 * loads and expands; nothing else in the process writes to std::cerr, so the
 * capture is race-free. ctemplate caches a template that failed to parse and
 * stays silent the next time, so the first reason is remembered per path.
 * Warnings from a successful expansion are passed on to the real std::cerr.
 *
 * Modes: TMPL_TEXT is ctemplate's DO_NOT_STRIP, TMPL_HTML its
 * STRIP_BLANK_LINES; the cache key is (path, strip), so the two modes and
 * two different paths never share an entry.
 */
#include "tmpl.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <mutex>
#include <new>
#include <sstream>
#include <string>

#include <ctemplate/template.h>

namespace {

typedef ctemplate::TemplateDictionary Dict;

std::mutex tmpl_mutex;		/* guards std::cerr redirection, tmpl_failures */
thread_local char tmpl_error[512];

/* First reason a path failed to load; under tmpl_mutex; never freed. */
std::map<std::string, std::string> &
tmpl_failures()
{
	static std::map<std::string, std::string> *m =
	    new std::map<std::string, std::string>;
	return *m;
}

/* Point std::cerr at a buffer for the life of the object. */
class cerr_capture {
	std::ostringstream	 buf_;
	std::streambuf		*old_;
public:
	cerr_capture() : buf_(), old_(std::cerr.rdbuf(buf_.rdbuf())) {}
	~cerr_capture() { std::cerr.rdbuf(old_); }
	cerr_capture(const cerr_capture &) = delete;
	cerr_capture &operator=(const cerr_capture &) = delete;
	std::string text() const { return buf_.str(); }
};

[[noreturn]] void
tmpl_oom()
{
	fputs("tmpl: out of memory\n", stderr);
	abort();
}

Dict *
dict_of(struct tmpl_dict *d)
{
	return reinterpret_cast<Dict *>(d);
}

void
erase_all(std::string &s, const char *what)
{
	size_t n = strlen(what), at;

	while ((at = s.find(what)) != std::string::npos)
		s.erase(at, n);
}

/* ctemplate's multi-line "ERROR: Template P: ERROR: why\nFound: T\n" as
 * one line "why Found: T". */
std::string
diag_clean(std::string s)
{
	erase_all(s, "ERROR: ");
	erase_all(s, "WARNING: ");
	for (char &c : s)
		if (c == '\n' || c == '\r' || c == '\t')
			c = ' ';
	if (s.compare(0, 9, "Template ") == 0) {
		size_t colon = s.find(": ");
		if (colon != std::string::npos)
			s.erase(0, colon + 2);
	}
	size_t b = s.find_first_not_of(' '), e = s.find_last_not_of(' ');
	return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

int
tmpl_fail(const char *what, const char *path, const char *why,
    const char **error_r)
{
	if (*why == '\0')
		snprintf(tmpl_error, sizeof(tmpl_error), "%s %s", what, path);
	else
		snprintf(tmpl_error, sizeof(tmpl_error), "%s %s: %s", what, path,
		    why);
	*error_r = tmpl_error;
	return -1;
}

/* Reason for a failed load: what ctemplate just said, or what it said the
 * first time for this path. */
std::string
load_reason(const char *path, const std::string &diag)
{
	std::map<std::string, std::string> &failures = tmpl_failures();
	std::string why = diag_clean(diag);

	if (!why.empty())
		failures[path] = why;
	else if (failures.count(path) != 0)
		why = failures[path];
	return why;
}

int
expand_locked(const char *path, const Dict *dict, ctemplate::Strip strip,
    std::string &out, const char **error_r)
{
	std::lock_guard<std::mutex> lock(tmpl_mutex);
	bool loaded, expanded = false;
	std::string diag;

	{
		cerr_capture capture;
		loaded = ctemplate::LoadTemplate(path, strip);
		if (loaded)
			expanded = ctemplate::ExpandTemplate(path, strip, dict,
			    &out);
		diag = capture.text();
	}
	if (!loaded)
		return tmpl_fail("cannot load template", path,
		    load_reason(path, diag).c_str(), error_r);
	if (!expanded)
		return tmpl_fail("cannot expand template", path,
		    diag_clean(diag).c_str(), error_r);
	if (!diag.empty())
		std::cerr << diag << std::flush;
	return 0;
}

int
expand(const char *path, const struct tmpl_dict *d, enum tmpl_mode mode,
    char **out_r, const char **error_r)
{
	ctemplate::Strip strip = mode == TMPL_HTML ?
	    ctemplate::STRIP_BLANK_LINES : ctemplate::DO_NOT_STRIP;
	Dict empty("empty");
	const Dict *dict = d != NULL ?
	    reinterpret_cast<const Dict *>(d) : &empty;
	std::string out;

	if (expand_locked(path, dict, strip, out, error_r) < 0)
		return -1;
	char *s = static_cast<char *>(malloc(out.size() + 1));
	if (s == NULL)
		return tmpl_fail("cannot expand template", path,
		    "out of memory", error_r);
	memcpy(s, out.data(), out.size());
	s[out.size()] = '\0';
	*out_r = s;
	return 0;
}

bool
lang_ok(const char *lang)
{
	if (lang == NULL || *lang == '\0')
		return false;
	for (const char *p = lang; *p != '\0'; p++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789_-", *p) == NULL)
			return false;
	return true;
}

bool
name_ok(const char *name)
{
	return name != NULL && *name != '\0' && *name != '/' &&
	    strstr(name, "..") == NULL;
}

bool
readable_file(const std::string &path)
{
	struct stat st;

	return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
	    access(path.c_str(), R_OK) == 0;
}

} // namespace

extern "C" {

struct tmpl_dict *
tmpl_dict_new(void)
{
	try {
		return reinterpret_cast<struct tmpl_dict *>(new Dict("mlistd"));
	} catch (...) {
		tmpl_oom();
	}
}

void
tmpl_dict_free(struct tmpl_dict **d)
{
	if (d == NULL || *d == NULL)
		return;
	try {
		delete dict_of(*d);
	} catch (...) {
		/* a destructor that throws: nothing sensible left to do */
	}
	*d = NULL;
}

void
tmpl_set(struct tmpl_dict *d, const char *key, const char *value)
{
	if (d == NULL || key == NULL)
		return;
	try {
		dict_of(d)->SetValue(key, value != NULL ? value : "");
	} catch (...) {
		tmpl_oom();
	}
}

void
tmpl_set_int(struct tmpl_dict *d, const char *key, long long v)
{
	char num[32];

	snprintf(num, sizeof(num), "%lld", v);
	tmpl_set(d, key, num);
}

struct tmpl_dict *
tmpl_add_section(struct tmpl_dict *d, const char *section)
{
	if (d == NULL || section == NULL)
		return NULL;
	try {
		return reinterpret_cast<struct tmpl_dict *>(
		    dict_of(d)->AddSectionDictionary(section));
	} catch (...) {
		tmpl_oom();
	}
}

void
tmpl_show_section(struct tmpl_dict *d, const char *section)
{
	if (d == NULL || section == NULL)
		return;
	try {
		dict_of(d)->ShowSection(section);
	} catch (...) {
		tmpl_oom();
	}
}

int
tmpl_expand(const char *path, const struct tmpl_dict *d, enum tmpl_mode mode,
    char **out_r, const char **error_r)
{
	*out_r = NULL;
	if (path == NULL || *path == '\0')
		return tmpl_fail("cannot load template", "(none)", "", error_r);
	try {
		return expand(path, d, mode, out_r, error_r);
	} catch (const std::exception &e) {
		return tmpl_fail("cannot expand template", path, e.what(),
		    error_r);
	} catch (...) {
		return tmpl_fail("cannot expand template", path,
		    "unknown exception", error_r);
	}
}

char *
tmpl_find(const char *dir, const char *lang, const char *name)
{
	if (dir == NULL || !name_ok(name))
		return NULL;
	try {
		const char *langs[] = { lang_ok(lang) ? lang : NULL, "fr", "en" };
		for (const char *l : langs) {
			if (l == NULL)
				continue;
			std::string path = std::string(dir) + "/" + l + "/" + name;
			if (!readable_file(path))
				continue;
			char *s = strdup(path.c_str());
			if (s == NULL)
				tmpl_oom();
			return s;
		}
	} catch (...) {
		tmpl_oom();
	}
	return NULL;
}

} // extern "C"
