/*
 * spool.h — the on-disk message queue: one file per message, moved between
 * queue directories only by rename(2).
 *
 *   ROOT/tmp/       being written; never acknowledged; removed by spool_clean_tmp
 *   ROOT/incoming/  committed (durable) and not yet looked at
 *   ROOT/active/    being processed
 *   ROOT/deferred/  a handler failed for the time being: waiting for a retry
 *   ROOT/hold/      a handler refused it or failed too often: waiting for
 *                   the admin (mlistctl spool retry|drop)
 *   ROOT/corrupt/   unreadable; kept for a person to look at, never deleted
 *                   by the daemon
 *   ROOT/notes/ID   what went wrong with message ID (spool_note), while it
 *                   is in deferred/, hold/ or corrupt/
 *
 * A message file is a tiny envelope followed by the message with LF line ends:
 *
 *   MLISTD 1\n
 *   sender <a@example.org>\n        (exactly one; "<>" is the null sender)
 *   rcpt <national@example.org>\n   (one or more)
 *   \n
 *   message bytes...
 *
 * Message ids sort in arrival order and are unique across processes:
 * "YYYYMMDDTHHMMSS.uuuuuu-" (UTC, microseconds) followed by 10 random hex digits.
 *
 * Errors: functions return -1 with errno set by the failing system call
 * (EINVAL for bad arguments); those with error_r also give a short static
 * reason. Nothing here logs. A struct spool may be shared between threads;
 * a writer or a message belongs to one thread.
 */
#ifndef MLISTD_SPOOL_H
#define MLISTD_SPOOL_H

#include <stddef.h>
#include <time.h>

#define SPOOL_ID_SIZE 48	/* room for an id and its NUL */

enum spool_queue {
	SPOOL_TMP,
	SPOOL_INCOMING,
	SPOOL_ACTIVE,
	SPOOL_DEFERRED,
	SPOOL_HOLD,
	SPOOL_CORRUPT,
};

struct spool;
struct spool_writer;

/* A message read back; every field is owned by the struct (spool_msg_free). */
struct spool_msg {
	char	 *id;
	char	 *sender;	/* without angle brackets; "" for the null sender */
	char	**rcpts;	/* without angle brackets */
	size_t	  nrcpt;
	char	 *data;		/* the message, LF line ends, NUL-terminated */
	size_t	  len;		/* bytes in data, without the NUL */
};

/* Open (creating if needed) the spool under root and its queue directories.
 * The spool copies root; free with spool_close(). */
int spool_open(const char *root, struct spool **sp_r, const char **error_r);
void spool_close(struct spool **sp);

/* Start a message in tmp/: create the file (O_EXCL) and write the envelope.
 * Addresses are given without angle brackets ("" = null sender) and must not
 * contain CR, LF or NUL (EINVAL); nrcpt must be >= 1. The writer is ended by
 * exactly one of spool_writer_commit() or spool_writer_abort(). */
int spool_writer_new(struct spool *sp, const char *sender, const char *const *rcpts,
    size_t nrcpt, struct spool_writer **w_r);
/* Append message bytes (buffered). -1 with errno (ENOSPC, EDQUOT, EIO...);
 * after a failure the writer stays failed and commit will fail. */
int spool_writer_write(struct spool_writer *w, const void *p, size_t n);
/* Message bytes written so far (the envelope not counted). */
size_t spool_writer_size(const struct spool_writer *w);
/* Make the message durable: fflush, fsync, checked close, rename tmp/ID to
 * incoming/ID, fsync incoming/. Only after 0 may the message be acknowledged.
 * The writer is freed and *w set to NULL in every case; on -1 (errno set) the
 * temporary file is removed and nothing is left in incoming/. */
int spool_writer_commit(struct spool_writer **w, char id_r[SPOOL_ID_SIZE]);
/* Give up the message: remove the temporary file, free the writer, *w = NULL.
 * Accepts *w == NULL. */
void spool_writer_abort(struct spool_writer **w);

/* Move a message between queues: rename, then fsync both directories. */
int spool_move(struct spool *sp, const char *id, enum spool_queue from,
    enum spool_queue to);
/* The ids in a queue, oldest first. *ids_r is an array of *n_r strings the
 * caller frees with spool_list_free(). Names that are not ids are skipped. */
int spool_list(struct spool *sp, enum spool_queue q, char ***ids_r, size_t *n_r);
void spool_list_free(char **ids, size_t n);
/* Read and parse a message. -1 with a reason if the file cannot be read or
 * its envelope cannot be parsed (the caller moves it to corrupt/).
 * Free *m_r with spool_msg_free(). */
int spool_read(struct spool *sp, enum spool_queue q, const char *id,
    struct spool_msg **m_r, const char **error_r);
void spool_msg_free(struct spool_msg **m);
/* The file name of a message in a queue; the caller frees it. NULL if the
 * id is not a valid id (it could name something outside the spool). */
char *spool_path(struct spool *sp, enum spool_queue q, const char *id);
/* Remove files in tmp/ last modified before older_than (left by a crash:
 * never acknowledged, so safe to drop). Call it at startup, or with a cutoff
 * older than any transaction still running. Returns how many, or -1. */
int spool_clean_tmp(struct spool *sp, time_t older_than);
/* What went wrong with a message: how many failed attempts, since when,
 * when to try again (deferred/), and the last reason (one line). */
struct spool_note {
	int	attempts;
	time_t	first_failure;
	time_t	next_try;
	char	reason[400];
};

/* 1 read, 0 no note (*n zeroed), -1 error (errno). */
int spool_note_read(struct spool *sp, const char *id, struct spool_note *n);
/* Write atomically (a new file renamed over the old one). -1 with errno. */
int spool_note_write(struct spool *sp, const char *id, const struct spool_note *n);
void spool_note_remove(struct spool *sp, const char *id);
/* Remove a message from a queue, and its note. -1 with errno. */
int spool_remove(struct spool *sp, enum spool_queue q, const char *id);
#define SPOOL_DATE_SIZE 24
/* When message id arrived, "YYYY-MM-DD HH:MM UTC" (from the id). */
void spool_id_date(const char *id, char out[SPOOL_DATE_SIZE]);
/* "incoming", "hold"... */
const char *spool_queue_name(enum spool_queue q);

/* Which queue holds message id (tmp/ not looked at)? 1 found (*q_r),
 * 0 in none, -1 error (EINVAL: not an id). */
int spool_find(struct spool *sp, const char *id, enum spool_queue *q_r);
/* Is s a well-formed message id (safe to use as a file name)? */
int spool_id_valid(const char *s);

#endif
