/*
 * i18n.h — the language of what people read on a terminal (mlistctl
 * messages). Mails have their own templates (templates/LANG/); this is only
 * for the short lines of the command-line tool: each is written in French
 * and English side by side, tr() picks one per the configured language.
 */
#ifndef MLISTD_I18N_H
#define MLISTD_I18N_H

void i18n_set_language(const char *lang);	/* "fr" (default) or "en" */
const char *i18n_language(void);
const char *tr(const char *fr, const char *en);

#endif
