/*
 * bulletin_bench.c — the driver of bench/bulletin.sh.
 *
 *   bulletin_bench populate DATA_DIR NUMBER NREPORTS NCONTACTS PHOTO...
 *	adds issue NUMBER to DATA_DIR/mlistd.db (the roster the first time:
 *	25 committees in 13 regions sharing NCONTACTS contacts, one editor),
 *	NREPORTS accepted reports of one committee each, and the PHOTOs
 *	dealt out in turn (two per report for 50 photos), each made a master
 *	by image_master() as intake does (that time is printed apart).
 *   bulletin_bench run DATA_DIR TEMPLATES_DIR NUMBER STEP
 *	STEP archive: issue_archive() without the PDF (compile + archive);
 *	proof: the mail built within bulletin_mail_max, stored, queued;
 *	publish: the same for every contact (PATH without weasyprint: no
 *	PDF); pdf: issue_archive() with the PDF. Prints "wall_s=...
 *	cpu_s=... child_cpu_s=... peak_rss_kib=... child_rss_kib=..." (CPU:
 *	user + system; the child is WeasyPrint).
 *
 * Not built by the Makefile; bench/bulletin.sh links it against the
 * library like a unit test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "engine.h"
#include "image.h"
#include "issue.h"
#include "util.h"

static const char *const regions[] = { "Auvergne-Rhône-Alpes", "Bourgogne-Franche-Comté",
    "Bretagne", "Centre-Val de Loire", "Corse", "Grand Est", "Hauts-de-France",
    "Île-de-France", "Normandie", "Nouvelle-Aquitaine", "Occitanie", "Pays de la Loire",
    "Provence-Alpes-Côte d'Azur" };

static const char body[] =
    "Samedi dernier, une trentaine d'habitants se sont retrouvés à la salle des fêtes pour "
    "préparer la fête de quartier : répartition des stands, affiches, buvette et animations "
    "pour les enfants. L'ambiance était chaleureuse et les idées nombreuses 🎉.\n"
    "Merci à toutes celles et ceux qui ont apporté un gâteau !\n\n"
    "Nous avons aussi fait le point sur la pétition pour la ligne de bus : plus de 400 "
    "signatures ont été recueillies au marché et devant l'école. Une délégation la remettra "
    "au conseil municipal le mois prochain ; toutes les bonnes volontés sont les bienvenues "
    "pour l'accompagner.\n\n"
    "Prochaine réunion : le premier mardi du mois, à 18 h 30, au local habituel. Venez "
    "nombreux, et n'hésitez pas à inviter vos voisins.";

static int
engine_for(const char *data_dir, const char *templates, struct config *cf, struct engine *e)
{
	const char *err = NULL;
	FILE *devnull = fopen("/dev/null", "w");

	config_load(cf, NULL, devnull ? devnull : stderr);	/* defaults; the domain is set below */
	if (devnull)
		fclose(devnull);
	free(cf->domain);
	cf->domain = xstrdup("comites.example.org");
	free(cf->data_dir);
	cf->data_dir = xstrdup(data_dir);
	free(cf->templates_dir);
	cf->templates_dir = xstrdup(templates);
	if (engine_open(e, cf, &err) == -1) {
		fprintf(stderr, "bulletin_bench: %s\n", err);
		return -1;
	}
	return 0;
}

static double
since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* User and system time of a rusage, in seconds. */
static double
cpu_of(const struct rusage *ru)
{
	return (double)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) +
	    (double)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1e6;
}

/* 25 committees, ncontacts contacts dealt out among them, one editor. */
static int
populate_roster(struct engine *e, int ncontacts)
{
	int64_t n = 0;

	if (db_int(e->db, &n, "SELECT count(*) FROM committee", "") == -1 || n > 0)
		return n > 0 ? 0 : -1;
	for (int c = 1; c <= 25; c++) {
		char name[64], slug[64];

		snprintf(name, sizeof name, "Comité %02d", c);
		snprintf(slug, sizeof slug, "comite-%02d", c);
		if (db_run(e->db, "INSERT INTO committee (id, slug, name, region, created) VALUES"
		    " (?, ?, ?, ?, 0)", "isss", (int64_t)c, slug, name, regions[c % nitems(regions)]) == -1)
			return -1;
	}
	for (int k = 0; k < ncontacts; k++) {
		char email[64];

		snprintf(email, sizeof email, "contact%04d@example.org", k);
		if (db_run(e->db, "INSERT INTO contact (committee_id, email, added) VALUES (?, ?, 0)",
		    "is", (int64_t)(k % 25 + 1), email) == -1)
			return -1;
	}
	return db_run(e->db, "INSERT INTO sender (email, role, added) VALUES"
	    " ('redaction@example.org', 'editor', 0)", "");
}

/* The master of photo src as files/SID/K.jpg. */
static int
populate_photo(struct engine *e, int64_t sid, int k, const char *src, double *intake_s)
{
	char *data = NULL, *master = NULL, *rel, *dir, *path;
	size_t len, mlen;
	struct image_size sz;
	struct timespec t0;
	const char *why = NULL;
	int rc = -1;

	if (file_read(src, 64u << 20, &data, &len) == -1)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (image_master(data, len, 0, 0, &master, &mlen, &sz, &why) == -1) {
		fprintf(stderr, "bulletin_bench: %s: %s\n", src, why);
		free(data);
		return -1;
	}
	*intake_s += since(&t0);
	rel = xasprintf("files/%lld/%d.jpg", (long long)sid, k);
	dir = xasprintf("%s/files/%lld", e->cf->data_dir, (long long)sid);
	path = xasprintf("%s/%s", e->cf->data_dir, rel);
	if (mkdir_p(dir, 0755) == 0 && file_write_durable(path, master, mlen) == 0 &&
	    db_run(e->db, "INSERT INTO submission_file (submission_id, filename, content_type,"
	    " is_photo, size, path) VALUES (?, 'IMG_0001.JPG', 'image/jpeg', 1, ?, ?)", "iis",
	    sid, (int64_t)mlen, rel) == 0)
		rc = 0;
	free(path);
	free(dir);
	free(rel);
	free(master);
	free(data);
	return rc;
}

static int
populate(int argc, char **argv)
{
	struct config cf;
	struct engine e;
	int number = atoi(argv[3]), nrep = atoi(argv[4]), nphotos = argc - 6;
	double intake_s = 0;
	int64_t iid;

	if (engine_for(argv[2], "templates", &cf, &e) == -1 || db_begin(e.db) == -1 ||
	    populate_roster(&e, atoi(argv[5])) == -1 ||
	    db_run(e.db, "INSERT INTO bulletin_issue (number, period_start, period_end, deadline,"
	    " publish_date, state) VALUES (?, '2026-01-01', '2026-02-28', '2026-02-20',"
	    " '2026-03-01', 'closed')", "d", number) == -1)
		goto fail;
	iid = db_last_id(e.db);
	for (int r = 0; r < nrep; r++) {
		int64_t sid;

		if (db_run(e.db, "INSERT INTO submission (issue_id, committee_id, sender, title, body,"
		    " activity_date, state, received) VALUES (?, ?, 'x@example.org', ?, ?,"
		    " '2026-01-12', 'accepted', 0)", "iiss", iid, (int64_t)(r % 25 + 1),
		    "Fête de quartier et pétition", body) == -1)
			goto fail;
		sid = db_last_id(e.db);
		for (int k = r; k < nphotos; k += nrep)
			if (populate_photo(&e, sid, k, argv[6 + k], &intake_s) == -1)
				goto fail;
	}
	if (db_commit(e.db) == -1)
		goto fail;
	printf("intake_masters_s=%.2f photos=%d\n", intake_s, nphotos);
	engine_close(&e);
	config_free(&cf);
	return 0;
fail:
	fprintf(stderr, "bulletin_bench: populate: %s\n", db_errmsg(e.db));
	return 1;
}

static int
run(char **argv)
{
	struct config cf;
	struct engine e;
	struct timespec t0;
	struct rusage ru, ch;
	const char *err = NULL, *step = argv[5];
	int number = atoi(argv[4]), rc;
	double wall;

	if (engine_for(argv[2], argv[3], &cf, &e) == -1)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (strcmp(step, "archive") == 0 || strcmp(step, "pdf") == 0)
		rc = issue_archive(&e, number, strcmp(step, "pdf") == 0, &err);
	else if (strcmp(step, "proof") == 0)
		rc = issue_proof(&e, number, &err);
	else
		rc = issue_publish(&e, number, &err);
	wall = since(&t0);
	getrusage(RUSAGE_SELF, &ru);
	getrusage(RUSAGE_CHILDREN, &ch);
	if (rc != 1) {	/* issue.h: 1 done */
		fprintf(stderr, "bulletin_bench: %s: %s\n", step, err);
		return 1;
	}
	printf("wall_s=%.3f cpu_s=%.3f child_cpu_s=%.3f peak_rss_kib=%ld child_rss_kib=%ld\n",
	    wall, cpu_of(&ru), cpu_of(&ch), ru.ru_maxrss, ch.ru_maxrss);
	engine_close(&e);
	config_free(&cf);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 7 && strcmp(argv[1], "populate") == 0)
		return populate(argc, argv);
	if (argc == 6 && strcmp(argv[1], "run") == 0)
		return run(argv);
	fprintf(stderr, "usage: bulletin_bench populate DATA_DIR NUMBER NREPORTS NCONTACTS PHOTO..."
	    "\n       bulletin_bench run DATA_DIR TEMPLATES_DIR NUMBER archive|proof|publish|pdf\n");
	return 64;
}
