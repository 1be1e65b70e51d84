/* dmarc.c — see dmarc.h. Uses the system resolver (res_nquery). */
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dmarc.h"

const char *
dmarc_policy(const char *record)
{
	const char *p;

	if (record == NULL || strncasecmp(record, "v=DMARC1", 8) != 0)
		return NULL;
	for (p = record; (p = strchr(p, ';')) != NULL; ) {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, "p=", 2) == 0) {
			p += 2;
			if (strncasecmp(p, "reject", 6) == 0)
				return "reject";
			if (strncasecmp(p, "quarantine", 10) == 0)
				return "quarantine";
			return "none";
		}
	}
	return NULL;
}

/* First TXT record of _dmarc.domain starting with v=DMARC1, into out. */
static int
dmarc_lookup(const char *domain, char *out, size_t outlen)
{
	unsigned char answer[4096];
	char name[300];
	struct __res_state rs;
	ns_msg msg;
	int len, found = -1;

	snprintf(name, sizeof name, "_dmarc.%s", domain);
	memset(&rs, 0, sizeof rs);
	if (res_ninit(&rs) != 0)
		return -1;
	rs.retrans = 2;
	rs.retry = 1;
	len = res_nquery(&rs, name, ns_c_in, ns_t_txt, answer, sizeof answer);
	if (len > 0 && ns_initparse(answer, len, &msg) == 0) {
		for (int i = 0; found == -1 && i < ns_msg_count(msg, ns_s_an); i++) {
			ns_rr rr;
			const unsigned char *rd;
			size_t n;

			if (ns_parserr(&msg, ns_s_an, i, &rr) != 0 || ns_rr_type(rr) != ns_t_txt)
				continue;
			rd = ns_rr_rdata(rr);
			n = rd[0] < outlen ? rd[0] : outlen - 1;	/* first string only */
			memcpy(out, rd + 1, n);
			out[n] = '\0';
			if (strncasecmp(out, "v=DMARC1", 8) == 0)
				found = 0;
		}
	}
	res_nclose(&rs);
	return found;
}

int
dmarc_should_munge(const char *mode, const char *domain)
{
	char record[512];
	const char *p;

	if (strcmp(mode, "munge") == 0)
		return 1;
	if (strcmp(mode, "auto") != 0 || domain == NULL)
		return 0;
	if (dmarc_lookup(domain, record, sizeof record) != 0)
		return 0;
	p = dmarc_policy(record);
	return p && (strcmp(p, "reject") == 0 || strcmp(p, "quarantine") == 0);
}
