/*
 * dmarc.h — should a broadcast's From be rewritten (DMARC mitigation)?
 * "munge": always; "none": never; "auto": when the author's domain
 * publishes a DMARC policy of reject or quarantine (DNS TXT _dmarc.DOMAIN,
 * looked up with a short timeout; a failed lookup means no munging).
 */
#ifndef MLISTD_DMARC_H
#define MLISTD_DMARC_H

int dmarc_should_munge(const char *mode, const char *domain);
/* The p= of a DMARC record text ("reject", "quarantine", "none"), or NULL. */
const char *dmarc_policy(const char *record);

#endif
