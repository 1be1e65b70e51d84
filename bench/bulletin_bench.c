/*
 * bulletin_bench.c — the driver of bench/bulletin.sh.
 *
 *   bulletin_bench populate DATA_DIR NCOMMITTEES NREPORTS PHOTO_BYTES [SAMPLE.jpg]
 *	creates DATA_DIR/mlistd.db with issue 1, NCOMMITTEES committees in 13
 *	regions, NREPORTS accepted reports each with one photo of about
 *	PHOTO_BYTES under DATA_DIR/files/ (a copy of SAMPLE.jpg with a random
 *	comment segment, so each file differs and stays a valid JPEG; without
 *	a sample, random bytes between a JPEG header and trailer).
 *   bulletin_bench archive DATA_DIR TEMPLATES_DIR NUMBER [--pdf]
 *	runs issue_archive() once and prints "wall_s=... peak_rss_kib=...".
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
#include "issue.h"
#include "util.h"

static const char *const regions[] = { "Auvergne-Rhône-Alpes", "Bourgogne-Franche-Comté",
    "Bretagne", "Centre-Val de Loire", "Corse", "Grand Est", "Hauts-de-France",
    "Île-de-France", "Normandie", "Nouvelle-Aquitaine", "Occitanie", "Pays de la Loire",
    "Provence-Alpes-Côte d'Azur" };

static const char body[] =
    "Samedi dernier, une trentaine d'habitants se sont retrouvés à la salle des fêtes pour "
    "préparer la fête de quartier : répartition des stands, affiches, buvette et animations "
    "pour les enfants. L'ambiance était chaleureuse et les idées nombreuses.\n"
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

/* A photo of about size bytes, different from every other one. */
static char *
photo(const char *sample, size_t samplen, size_t size, size_t *len_r)
{
	struct buf b;
	char hex[33];

	buf_init(&b);
	random_hex(hex, 16);
	buf_add(&b, "\xff\xd8\xff\xfe\x00\x22", 6);	/* SOI, COM of 32 bytes */
	buf_add(&b, hex, 32);
	if (sample) {
		buf_add(&b, sample + 2, samplen - 2);
	} else {
		buf_add(&b, "\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00", 20);
		while (b.len + 2 < size) {
			char r[64];

			random_hex(r, 32);
			buf_add(&b, r, 64);
		}
		buf_add(&b, "\xff\xd9", 2);
	}
	*len_r = b.len;
	return buf_steal(&b);
}

static int
populate_one(struct engine *e, int c, int nrep, const char *sample, size_t samplen,
    size_t size)
{
	char name[64], slug[64], *dir, *path, *data;
	size_t len;
	int64_t cid, sid;

	snprintf(name, sizeof name, "Comité %03d", c);
	snprintf(slug, sizeof slug, "comite-%03d", c);
	if (db_run(e->db, "INSERT INTO committee (slug, name, region, created) VALUES (?, ?, ?, 0)",
	    "sss", slug, name, regions[c % nitems(regions)]) == -1)
		return -1;
	cid = db_last_id(e->db);
	for (int r = 0; r < nrep; r++) {
		if (db_run(e->db, "INSERT INTO submission (issue_id, committee_id, sender, title, body,"
		    " activity_date, state, received) VALUES (1, ?, 'x@example.org', ?, ?, ?,"
		    " 'accepted', 0)", "isss", cid, "Fête de quartier et pétition", body,
		    r == 0 ? "2026-01-12" : r == 1 ? "2026-01-25" : "2026-02-14") == -1)
			return -1;
		sid = db_last_id(e->db);
		path = xasprintf("files/%lld/1.jpg", (long long)sid);
		dir = xasprintf("%s/files/%lld", e->cf->data_dir, (long long)sid);
		data = photo(sample, samplen, size, &len);
		mkdir_p(dir, 0755);
		free(dir);
		dir = xasprintf("%s/%s", e->cf->data_dir, path);
		if (file_write_durable(dir, data, len) == -1 ||
		    db_run(e->db, "INSERT INTO submission_file (submission_id, filename, content_type,"
		    " is_photo, size, path) VALUES (?, 'IMG_0001.JPG', 'image/jpeg', 1, ?, ?)", "iis",
		    sid, (int64_t)len, path) == -1)
			return -1;
		free(dir);
		free(data);
		free(path);
	}
	return 0;
}

static int
populate(int argc, char **argv)
{
	struct config cf;
	struct engine e;
	int ncom = atoi(argv[3]), nrep = atoi(argv[4]);
	size_t size = strtoul(argv[5], NULL, 10), samplen = 0;
	char *sample = NULL;

	if (argc > 6 && file_read(argv[6], 64u << 20, &sample, &samplen) == -1) {
		perror(argv[6]);
		return 1;
	}
	if (engine_for(argv[2], "templates", &cf, &e) == -1 || db_begin(e.db) == -1)
		return 1;
	if (db_run(e.db, "INSERT INTO bulletin_issue (number, period_start, period_end, deadline,"
	    " publish_date, state) VALUES (1, '2026-01-01', '2026-02-28', '2026-02-20',"
	    " '2026-03-01', 'closed')", "") == -1)
		return 1;
	for (int c = 1; c <= ncom; c++)
		if (populate_one(&e, c, nrep, sample, samplen, size) == -1) {
			fprintf(stderr, "bulletin_bench: %s\n", db_errmsg(e.db));
			return 1;
		}
	if (db_commit(e.db) == -1)
		return 1;
	free(sample);
	engine_close(&e);
	config_free(&cf);
	return 0;
}

static int
archive(int argc, char **argv)
{
	struct config cf;
	struct engine e;
	struct timespec t0, t1;
	struct rusage ru;
	const char *err = NULL;
	int with_pdf = argc > 5 && strcmp(argv[5], "--pdf") == 0, rc;

	if (engine_for(argv[2], argv[3], &cf, &e) == -1)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = issue_archive(&e, atoi(argv[4]), with_pdf, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	getrusage(RUSAGE_SELF, &ru);
	if (rc != 0) {
		fprintf(stderr, "bulletin_bench: issue_archive: %s\n", err);
		return 1;
	}
	printf("wall_s=%.3f peak_rss_kib=%ld\n", (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, ru.ru_maxrss);
	engine_close(&e);
	config_free(&cf);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 6 && strcmp(argv[1], "populate") == 0)
		return populate(argc, argv);
	if (argc >= 5 && strcmp(argv[1], "archive") == 0)
		return archive(argc, argv);
	fprintf(stderr, "usage: bulletin_bench populate DATA_DIR NCOMMITTEES NREPORTS PHOTO_BYTES"
	    " [SAMPLE.jpg]\n       bulletin_bench archive DATA_DIR TEMPLATES_DIR NUMBER"
	    " [--pdf]\n");
	return 64;
}
