/*
 * maildir.h — deliver a message into a local Maildir, used when no relay
 * host is configured (tests, demo, single-machine setups).
 *
 * The file is written to tmp/, fsync'ed, then renamed into new/, so a reader
 * never sees a partial message and a crash leaves at most a file in tmp/.
 * Lines "Return-Path: <reverse_path>" and "Delivered-To: rcpt" are
 * prepended; CRLF line endings are stored as LF (Maildir files are Unix text).
 */
#ifndef MLISTD_MAILDIR_H
#define MLISTD_MAILDIR_H

#include <stddef.h>

/*
 * Create maildir/{tmp,new,cur} if needed and deliver the message under a
 * unique name "time.pid_random.hostname". On success returns 0 and sets
 * *name_r (if name_r != NULL) to the path of the file in new/, which the
 * caller frees. On failure returns -1 and sets *error_r to a reason that
 * stays valid until the next call in the same thread.
 */
int maildir_deliver(const char *maildir, const char *data, size_t len,
    const char *rcpt, const char *reverse_path, char **name_r,
    const char **error_r);

#endif
