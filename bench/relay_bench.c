/*
 * relay_bench.c — throughput of relay_send_parallel() against a running
 * smtp-sink: N messages of SIZE bytes over NCONN connections, one VERP
 * reverse path each; prints messages/s.
 *
 *   relay_bench HOST:PORT [N [SIZE [NCONN]]]     (defaults 10000 10240 8)
 *
 * Not built by the Makefile; link it like a unit test against the library.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relay.h"
#include "util.h"

int
main(int argc, char **argv)
{
	size_t n = argc > 2 ? strtoul(argv[2], NULL, 10) : 10000;
	size_t size = argc > 3 ? strtoul(argv[3], NULL, 10) : 10240;
	int nconn = argc > 4 ? atoi(argv[4]) : 8;
	char *hosts[1] = { argc > 1 ? argv[1] : "127.0.0.1:2525" };
	struct relay_config cfg = { .hosts = hosts, .nhosts = 1, .timeout_ms = 30000,
	    .max_msgs_per_session = 1000, .helo = "bench.example.org" };
	struct relay_item *items = xcalloc(n, sizeof *items);
	struct buf msg;
	struct timespec t0, t1;
	size_t sent = 0;

	buf_init(&msg);
	buf_adds(&msg, "From: list@example.org\r\nTo: members@example.org\r\n"
	    "Subject: bench\r\nDate: Sat, 1 Feb 2025 10:00:00 +0100\r\n"
	    "Message-Id: <bench@example.org>\r\n\r\n");
	while (msg.len < size)
		buf_adds(&msg, "0123456789 0123456789 0123456789 0123456789 0123456789 012345678\r\n");
	for (size_t i = 0; i < n; i++) {
		items[i].reverse_path = xasprintf("bounce+%zu@example.org", i);
		items[i].rcpt = xasprintf("member%zu@example.org", i);
		items[i].data = msg.data;
		items[i].len = msg.len;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	relay_send_parallel(&cfg, items, n, nconn, NULL, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (size_t i = 0; i < n; i++)
		sent += items[i].outcome == RELAY_SENT;
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%zu/%zu sent, %zu bytes each, %d connections, %.2f s, %.0f messages/s\n",
	    sent, n, msg.len, nconn, s, (double)sent / s);
	return sent == n ? 0 : 1;
}
