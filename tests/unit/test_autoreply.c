/*
 * test_autoreply.c — classification of machine-written mail: one table of
 * header sets (with the envelope sender) and the expected kind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "autoreply.h"
#include "util.h"

struct ar_case {
	const char		*name;
	const char		*envelope;	/* NULL: unknown */
	const char		*headers;	/* a body line is appended */
	enum autoreply_kind	 want;
};

#define HUMAN	"From: Jean Dupont <jean@example.org>\nTo: national@example.org\n"

static const struct ar_case ar_cases[] = {
	{ "plain human mail", "jean@example.org",
	  HUMAN "Subject: Re: Assemblée générale\n", AUTO_NONE },
	{ "human reply about an absence", "jean@example.org",
	  HUMAN "Subject: Re: Absence\n", AUTO_NONE },
	{ "human subject starting like an auto-reply", "jean@example.org",
	  HUMAN "Subject: Absence du bureau la semaine prochaine\n", AUTO_NONE },
	{ "human reply to an auto-reply", "jean@example.org",
	  HUMAN "Subject: Re: Automatic reply: réunion\n", AUTO_NONE },
	{ "auto-submitted no", "jean@example.org",
	  HUMAN "Auto-Submitted: no\nSubject: Bonjour\n", AUTO_NONE },
	{ "RFC 3834 vacation", "jean@example.org",
	  HUMAN "Auto-Submitted: auto-replied; owner-email=\"jean@example.org\"\n"
	  "Subject: Vacances\n", AUTO_REPLY },
	{ "Outlook French out of office", "jean@example.org",
	  HUMAN "Subject: =?utf-8?q?R=C3=A9ponse_automatique_=3A_R=C3=A9union?=\n"
	  "X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent\n",
	  AUTO_REPLY },
	{ "old Outlook French subject only", "jean@example.org",
	  HUMAN "Subject: Absence du bureau : Bulletin n°12\n", AUTO_REPLY },
	{ "Message d'absence with typographic apostrophe", "jean@example.org",
	  HUMAN "Subject: Message d’absence\n", AUTO_REPLY },
	{ "German", "jean@example.org",
	  HUMAN "Subject: Abwesenheitsnotiz: Treffen\n", AUTO_REPLY },
	{ "Auto: prefix", "jean@example.org",
	  HUMAN "Subject: Auto: Réunion du 12\n", AUTO_REPLY },
	{ "X-Autoreply", "jean@example.org",
	  HUMAN "X-Autoreply: yes\nSubject: Je suis absent\n", AUTO_REPLY },
	{ "X-Autorespond", "jean@example.org",
	  HUMAN "X-Autorespond: 1\nSubject: Merci\n", AUTO_REPLY },
	{ "unix vacation", "jean@example.org",
	  HUMAN "X-Mailer: vacation 1.2\nSubject: away\n", AUTO_REPLY },
	{ "precedence auto_reply", "jean@example.org",
	  HUMAN "Precedence: auto_reply\nSubject: away\n", AUTO_REPLY },
	{ "vacation with Precedence bulk stays a reply", "jean@example.org",
	  HUMAN "Precedence: bulk\nAuto-Submitted: auto-replied\n"
	  "Subject: Out of Office: réunion\n", AUTO_REPLY },
	{ "auto-generated notification", "jean@example.org",
	  HUMAN "Auto-Submitted: auto-generated\nSubject: Rappel\n",
	  AUTO_GENERATED },
	{ "Exchange suppress header", "jean@example.org",
	  HUMAN "X-Auto-Response-Suppress: DR, OOF, AutoReply\nSubject: x\n",
	  AUTO_GENERATED },
	{ "Exchange inbox rules loop", "jean@example.org",
	  HUMAN "X-MS-Exchange-Inbox-Rules-Loop: jean@example.org\nSubject: x\n",
	  AUTO_GENERATED },
	{ "X-Loop", "jean@example.org",
	  HUMAN "X-Loop: national@example.org\nSubject: x\n", AUTO_GENERATED },
	{ "read receipt", "jean@example.org",
	  HUMAN "Subject: Lu : Bulletin\nContent-Type: multipart/report; "
	  "report-type=disposition-notification; boundary=x\n", AUTO_GENERATED },
	{ "list mail", "owner@example.org",
	  HUMAN "List-Id: <infos.example.org>\nSubject: Lettre\n", AUTO_LIST },
	{ "newsletter", "news@example.org",
	  HUMAN "List-Unsubscribe: <mailto:u@example.org>\nSubject: News\n",
	  AUTO_LIST },
	{ "precedence junk", "jean@example.org",
	  HUMAN "Precedence: junk\nSubject: x\n", AUTO_LIST },
	{ "null envelope sender", "",
	  HUMAN "Subject: Bonjour\n", AUTO_BOUNCE },
	{ "null envelope sender <>", "<>",
	  HUMAN "Subject: Bonjour\n", AUTO_BOUNCE },
	{ "null Return-Path when envelope unknown", NULL,
	  "Return-Path: <>\n" HUMAN "Subject: Bonjour\n", AUTO_BOUNCE },
	{ "MAILER-DAEMON", "MAILER-DAEMON@example.org",
	  "From: Mail Delivery System <MAILER-DAEMON@example.org>\n"
	  "Subject: Undelivered Mail Returned to Sender\n", AUTO_BOUNCE },
	{ "postmaster sender", "postmaster@example.org",
	  HUMAN "Subject: x\n", AUTO_BOUNCE },
	{ "DSN report", "rebonds@example.org",
	  HUMAN "Content-Type: multipart/report; report-type=delivery-status;\n"
	  " boundary=\"b\"\nAuto-Submitted: auto-replied\nSubject: x\n",
	  AUTO_BOUNCE },
	{ "Exchange French NDR", "jean@example.org",
	  HUMAN "Subject: Non remis : Bulletin\n", AUTO_BOUNCE },
	{ "Exchange NDR", "jean@example.org",
	  HUMAN "Subject: Undeliverable: Bulletin\n", AUTO_BOUNCE },
	{ "Gmail DSN", "jean@example.org",
	  HUMAN "Subject: Delivery Status Notification (Failure)\n", AUTO_BOUNCE },
	{ "Exim", "jean@example.org",
	  HUMAN "Subject: Mail delivery failed: returning message to sender\n",
	  AUTO_BOUNCE },
};

static void
test_classify(void **state)
{
	size_t i;

	for (i = 0; i < nitems(ar_cases); i++) {
		const struct ar_case *c = &ar_cases[i];
		struct mime_msg *m = NULL;
		const char *err = NULL, *why = NULL;
		enum autoreply_kind got;
		char *text;

		text = xasprintf("%s\nbody\n", c->headers);
		if (mime_parse(text, strlen(text), &m, &err) != 0)
			fail_msg("%s: parse: %s", c->name, err);
		got = autoreply_classify(m, c->envelope, &why);
		assert_non_null(why);
		if (got != c->want)
			fail_msg("%s: got %s (%s), want %s", c->name,
			    autoreply_kind_name(got), why,
			    autoreply_kind_name(c->want));
		assert_true((got == AUTO_NONE) == (*why == '\0'));
		assert_int_equal(autoreply_classify(m, c->envelope, NULL), got);
		mime_free(&m);
		free(text);
	}
}

static void
test_kind_names(void **state)
{
	assert_string_equal(autoreply_kind_name(AUTO_NONE), "none");
	assert_string_equal(autoreply_kind_name(AUTO_BOUNCE), "bounce");
	assert_string_equal(autoreply_kind_name((enum autoreply_kind)42),
	    "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_kind_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
