/* i18n.c — see i18n.h. */
#include <string.h>

#include "i18n.h"

static int i18n_english;

void
i18n_set_language(const char *lang)
{
	i18n_english = lang && strcmp(lang, "en") == 0;
}

const char *
i18n_language(void)
{
	return i18n_english ? "en" : "fr";
}

const char *
tr(const char *fr, const char *en)
{
	return i18n_english ? en : fr;
}
