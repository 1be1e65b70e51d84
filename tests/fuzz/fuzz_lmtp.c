/*
 * fuzz_lmtp.c — the LMTP session state machine with the input as the
 * client's bytes. A socketpair: lmtp_session() serves one end in this
 * thread; a peer thread writes the input to the other end, closes its
 * write side and reads every reply until the session closes (poll on both,
 * so neither side can block the other). Recipients starting with "bad"
 * are refused, with "tmp" temporarily failed; messages land in a private
 * spool on tmpfs, emptied after each session.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "lmtp.h"
#include "spool.h"
#include "util.h"

struct fz_peer {
	int		 fd;
	const uint8_t	*data;
	size_t		 size;
};

static struct spool *fz_sp;
static char *fz_incoming;

static int
fz_rcpt_check(void *arg, const char *rcpt)
{
	if (strncmp(rcpt, "bad", 3) == 0)
		return 1;
	return strncmp(rcpt, "tmp", 3) == 0 ? -1 : 0;
}

static void
fz_init(void)
{
	const char *err;
	char *dir;

	if (fz_sp != NULL)
		return;
	dir = fuzz_tmpdir("lmtp");
	if (spool_open(dir, &fz_sp, &err) != 0) {
		fprintf(stderr, "fuzz_lmtp: %s\n", err);
		abort();
	}
	fz_incoming = xasprintf("%s/incoming", dir);
	free(dir);
}

static void
fz_empty_incoming(void)
{
	DIR *d = opendir(fz_incoming);
	struct dirent *de;

	while (d != NULL && (de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.') {
			char *p = xasprintf("%s/%s", fz_incoming, de->d_name);

			unlink(p);
			free(p);
		}
	}
	if (d != NULL)
		closedir(d);
}

static void *
fz_peer_main(void *arg)
{
	struct fz_peer *p = arg;
	char sink[4096];
	size_t off = 0;

	for (;;) {
		struct pollfd pfd = { p->fd, POLLIN | (off < p->size ? POLLOUT : 0), 0 };
		ssize_t n;

		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			break;
		if (pfd.revents & POLLOUT) {
			n = send(p->fd, p->data + off, p->size - off, MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN)
				off = p->size;	/* the session closed: stop writing */
			else if (n > 0)
				off += (size_t)n;
			if (off == p->size)
				shutdown(p->fd, SHUT_WR);
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			n = recv(p->fd, sink, sizeof sink, 0);
			if (n == 0 || (n < 0 && errno != EAGAIN))
				break;
		}
	}
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lmtp_config cfg = { .hostname = "lists.example.org", .max_size = 64 * 1024,
	    .timeout_s = 10, .session_deadline_s = 60, .min_rate = 500, .max_clients = 1 };
	struct lmtp_handler h = { .rcpt_check = fz_rcpt_check };
	struct fz_peer peer = { .data = data, .size = size };
	pthread_t t;
	int sv[2];

	fz_init();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		abort();
	peer.fd = sv[1];
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	if (size == 0)
		shutdown(sv[1], SHUT_WR);
	if (pthread_create(&t, NULL, fz_peer_main, &peer) != 0)
		abort();
	lmtp_session(sv[0], &cfg, fz_sp, &h);	/* closes sv[0] */
	pthread_join(t, NULL);
	close(sv[1]);
	fz_empty_incoming();
	return 0;
}
