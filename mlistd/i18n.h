/*
 * i18n.h — the language of what people read on a terminal (mlistctl
 * messages) and of the states and reasons shown anywhere. Mails have their
 * own templates (templates/LANG/); tr() is for the short lines of the
 * command-line tool: each is written in French and English side by side,
 * tr() picks one per the configured language. i18n_state() is the
 * catalogue of the words for states and reasons, for mlistctl and the
 * templates alike.
 */
#ifndef MLISTD_I18N_H
#define MLISTD_I18N_H

void i18n_set_language(const char *lang);	/* "fr" (default) or "en" */
const char *i18n_language(void);
const char *tr(const char *fr, const char *en);
/* A state or reason as stored (English code, as in the log lines) in the
 * configured language: i18n_state("message", "held") is "retenu";
 * domains: message, delivery, committee, spool, role, issue, submission,
 * mailing, archive, reason, reply. A code the catalogue does not know is
 * returned as is (an SMTP server's own answer, say). The result is valid
 * until the 4th next call in the thread. */
const char *i18n_state(const char *domain, const char *code);

#endif
