/*
 * test_html2text.c — html_to_text(): one table of cases per rule (blocks,
 * lists, links, images, quotes, dropped elements, entities, white space,
 * malformed HTML), a large input that must be handled in linear time, and
 * three realistic HTML-only webmail replies (Gmail, Outlook on the web,
 * Orange webmail style) whose html_to_text() then trim_reply() must give
 * exactly the new French text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "html2text.h"
#include "trim.h"
#include "util.h"

struct h2t_case {
	const char *html;
	const char *want;
};

static void
run_cases(const char *what, const struct h2t_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *got = html_to_text(c[i].html);

		if (strcmp(got, c[i].want) != 0)
			print_error("%s case %zu:\n--- html\n%s\n--- want\n%s\n--- got\n%s\n",
			    what, i, c[i].html, c[i].want, got);
		assert_string_equal(got, c[i].want);
		free(got);
	}
}

static const struct h2t_case block_cases[] = {
	{ "<p>Un</p><p>Deux</p>", "Un\n\nDeux" },
	{ "<div>Un</div><div>Deux</div>", "Un\nDeux" },
	{ "Un<br>Deux<br/><br>Trois", "Un\nDeux\n\nTrois" },
	{ "<div>a</div><div><br></div><div>b</div>", "a\n\nb" },
	{ "<div>a<br></div><div>b</div>", "a\nb" },
	{ "<h1>Titre</h1>Texte<h2>Sous-titre</h2>Fin", "Titre\n\nTexte\n\nSous-titre\n\nFin" },
	{ "<p>a</p><p></p><p>&nbsp;</p><br><br><br><p>b</p>", "a\n\nb" },
	{ "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc" },
	{ "<p class=\"MsoNormal\">Ligne 1</p><p class=MsoNormal>Ligne 2<o:p></o:p></p>",
	  "Ligne 1\nLigne 2" },
	{ "<pre>  x\n    y</pre>suite", "  x\n    y\n\nsuite" },
};

static const struct h2t_case list_cases[] = {
	{ "<ul><li>un</li><li>deux</li></ul>", "- un\n- deux" },
	{ "<ol><li>un<li>deux</ol>", "1. un\n2. deux" },
	{ "<ol start=\"3\"><li>a</li><li><p>b</p></li></ol>", "3. a\n4. b" },
	{ "<ul><li>a<ul><li>b</li></ul></li><li>c</li></ul>", "- a\n  - b\n- c" },
	{ "<p>Avant</p><ul><li>x</li></ul><p>Après</p>", "Avant\n\n- x\n\nAprès" },
	{ "<li>seul</li>", "- seul" },
};

static const struct h2t_case link_cases[] = {
	{ "Voir <a href=\"https://example.org/fete\">la fête</a>.",
	  "Voir la fête (https://example.org/fete)." },
	{ "<a href=\"https://example.org/\">https://example.org/</a>", "https://example.org/" },
	{ "<a href=\"http://www.example.org\">www.example.org</a>", "www.example.org" },
	{ "<a href=\"mailto:marie@example.org\">marie@example.org</a>", "marie@example.org" },
	{ "<a href=\"mailto:marie@example.org?subject=Hi\">Marie</a>", "Marie (marie@example.org)" },
	{ "<a href='https://example.org/x?a=1&amp;b=2'>lien</a>",
	  "lien (https://example.org/x?a=1&b=2)" },
	{ "<a href=\"#haut\">haut</a>", "haut" },
	{ "<a href=\"https://example.org/p\"><img src=\"x.png\"></a>", "https://example.org/p" },
	{ "<a name=\"ancre\">texte</a>", "texte" },
	{ "<a href=\"https://example.org/a\">a<a href=\"https://example.org/b\">b",
	  "a (https://example.org/a)b (https://example.org/b)" },
};

static const struct h2t_case image_cases[] = {
	{ "<img src=\"a.png\" alt=\"Affiche de la fête\">", "[Affiche de la fête]" },
	{ "<img src=\"a.png\">", "" },
	{ "Voir <img alt=''> ici", "Voir ici" },
	{ "<img alt=\"&eacute;t&eacute;\"/>", "[été]" },
};

static const struct h2t_case quote_cases[] = {
	{ "<p>Oui</p><blockquote><p>Question ?</p><p>Suite</p></blockquote>",
	  "Oui\n\n> Question ?\n>\n> Suite" },
	{ "<blockquote>a<blockquote>b</blockquote>c</blockquote>d",
	  "> a\n>\n>> b\n>\n> c\n\nd" },
	{ "<div>Nouveau</div><div class=\"gmail_quote\"><div class=\"gmail_attr\">"
	  "Le lun. 9 mars 2026 à 10:15, Jean &lt;<a href=\"mailto:j@example.org\">"
	  "j@example.org</a>&gt; a écrit&nbsp;:<br></div><blockquote class=\"gmail_quote\">"
	  "Ancien</blockquote></div>",
	  "Nouveau\n> Le lun. 9 mars 2026 à 10:15, Jean <j@example.org> a écrit :\n>\n>> Ancien" },
	{ "<div class=\"gmail_quote gmail_quote_container\">cité</div>après", "> cité\naprès" },
	{ "<div class=\"yahoo_quoted\">cité</div>", "> cité" },
	{ "<div>Réponse</div><hr style=\"display:inline-block\"><div id=\"divRplyFwdMsg\">"
	  "<font><b>De :</b> Jean<br><b>Envoyé :</b> lundi 9 mars 2026 10:15<br>"
	  "<b>À :</b> Marie<br><b>Objet :</b> Fête</font><div>&nbsp;</div></div>"
	  "<div>Ancien texte</div>",
	  "Réponse\n\n> De : Jean\n> Envoyé : lundi 9 mars 2026 10:15\n> À : Marie\n"
	  "> Objet : Fête\n>\n> Ancien texte" },
	{ "Réponse<div id=\"appendonsend\"></div><div>ancien</div>", "Réponse\n> ancien" },
	{ "Réponse<hr><p><b>From:</b> Jean</p><p>old</p>", "Réponse\n\n> From: Jean\n>\n> old" },
	{ "Réponse<hr><p><b>De&nbsp;:</b> Jean</p>", "Réponse\n\n> De : Jean" },
	{ "a<hr>b", "a\n\nb" },
	{ "a<hr>Depuis hier", "a\n\nDepuis hier" },
};

static const struct h2t_case drop_cases[] = {
	{ "<html><head><title>T</title><style>p{color:red}</style></head><body>"
	  "<p>Texte</p><script>alert('<b>1</b>')</script></body></html>", "Texte" },
	{ "<head><meta charset=utf-8><title>Titre</title><body>Corps", "Corps" },
	{ "a<!-- commentaire <b>x</b> -->b", "ab" },
	{ "a<!--[if mso]><p>mso</p><![endif]-->b", "ab" },
	{ "a<!-- jamais fermé", "a" },
	{ "<!DOCTYPE html><?xml version=\"1.0\"?>texte", "texte" },
	{ "<style>p{}", "" },
	{ "<STYLE type=text/css>x</STYLE >ok", "ok" },
};

static const struct h2t_case entity_cases[] = {
	{ "&eacute;t&eacute; &agrave; &laquo;&nbsp;Paris&nbsp;&raquo; 10&nbsp;&euro;",
	  "été à « Paris » 10 €" },
	{ "&amp; &lt;b&gt; &quot;x&quot; l&#39;an l&apos;an", "& <b> \"x\" l'an l'an" },
	{ "&#233;&#xE9;&#x1F600;&rsquo;&#146;", "éé😀’’" },
	{ "&foo; & &#; &#xZZ; &amp", "&foo; & &#; &#xZZ; &" },
	{ "&#0;&#xD800;&#99999999999;", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	{ "&Eacute;cole &oelig;uvre &ccedil;a", "École œuvre ça" },
	{ "a&nbsp;&nbsp;&nbsp;b", "a   b" },
};

static const struct h2t_case space_cases[] = {
	{ "  Un   deux\n\ttrois  ", "Un deux trois" },
	{ "<p>  a  </p>", "a" },
	{ "a <b>gras</b> c", "a gras c" },
	{ "a<b> gras </b>c", "a gras c" },
	{ "<div>\n  <p>\n   texte\n  </p>\n</div>\n", "texte" },
	{ "mot<span>collé</span>", "motcollé" },
};

static const struct h2t_case malformed_cases[] = {
	{ "a < b et c > d", "a < b et c > d" },
	{ "<p>ouvert<div>sans fin", "ouvert\n\nsans fin" },
	{ "x<", "x<" },
	{ "texte<b", "texte" },
	{ "</p></div></blockquote>texte", "texte" },
	{ "<3 ans", "<3 ans" },
	{ "<a href=\"https://example.org/x>lien", "" },
	{ "<b><i>a</b></i>b", "ab" },
	{ "<p attr=\"> ici\">vrai</p>", "vrai" },
	{ "", "" },
};

static void test_blocks(void **s) { run_cases("block", block_cases, nitems(block_cases)); }
static void test_lists(void **s) { run_cases("list", list_cases, nitems(list_cases)); }
static void test_links(void **s) { run_cases("link", link_cases, nitems(link_cases)); }
static void test_images(void **s) { run_cases("image", image_cases, nitems(image_cases)); }
static void test_quotes(void **s) { run_cases("quote", quote_cases, nitems(quote_cases)); }
static void test_drops(void **s) { run_cases("drop", drop_cases, nitems(drop_cases)); }
static void test_entities(void **s) { run_cases("entity", entity_cases, nitems(entity_cases)); }
static void test_spaces(void **s) { run_cases("space", space_cases, nitems(space_cases)); }
static void test_malformed(void **s)
{
	run_cases("malformed", malformed_cases, nitems(malformed_cases));
}

static void
test_null(void **state)
{
	char *got = html_to_text(NULL);

	assert_string_equal(got, "");
	free(got);
}

/* Megabytes of unclosed tags, <hr>s, stray '<' and open <a>: linear time. */
static void
test_huge(void **state)
{
	static const char *const pieces[] = {
		"<div><b>mot ", "<hr>", "<blockquote>", "a < b ", "<a href=x>l",
		"&eacute;", "<li>", "</p>", "<td>",
	};
	clock_t t0 = clock();
	struct buf b;
	char *got;

	buf_init(&b);
	for (int i = 0; i < 400000; i++)
		buf_adds(&b, pieces[i % nitems(pieces)]);
	buf_adds(&b, "<!-- fin");
	got = html_to_text(buf_cstr(&b));
	assert_true(strlen(got) > 100000);
	free(got);
	buf_free(&b);
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 10.0);
}

struct webmail_case {
	const char *name;
	const char *html;
	const char *want;
};

static const struct webmail_case webmail_cases[] = {
	{ "gmail",
	  "<div dir=\"ltr\"><div>Bonjour,</div><div><br></div><div>Le comité de "
	  "Grenoble a organisé le 14 mars une <b>journée portes ouvertes</b>&nbsp;: "
	  "une cinquantaine de visiteurs et 6 nouvelles adhésions.</div><div><br>"
	  "</div><div>Photos sur <a href=\"https://photos.example.org/grenoble\">"
	  "notre album</a>.</div><div><br></div><div>Amitiés,</div><div>Hélène</div>"
	  "</div><br><div class=\"gmail_quote\"><div dir=\"ltr\" class=\"gmail_attr\">"
	  "Le dim. 1 mars 2026 à 09:00, Bulletin des comités &lt;<a href=\"mailto:"
	  "bulletin@comites.example.org\">bulletin@comites.example.org</a>&gt; a "
	  "écrit&nbsp;:<br></div><blockquote class=\"gmail_quote\" style=\"margin:0px "
	  "0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex\">"
	  "<div dir=\"ltr\">Bonjour à toutes et à tous,<div><br></div><div>Le bulletin "
	  "n°&nbsp;42 est en préparation&hellip; Envoyez vos comptes rendus avant le "
	  "20 avril.</div><div><br></div><div>Le comité de rédaction</div></div>"
	  "</blockquote></div>\n",
	  "Bonjour,\n\nLe comité de Grenoble a organisé le 14 mars une journée portes "
	  "ouvertes : une cinquantaine de visiteurs et 6 nouvelles adhésions.\n\n"
	  "Photos sur notre album (https://photos.example.org/grenoble).\n\n"
	  "Amitiés,\nHélène" },
	{ "outlook web",
	  "<html><head>\n<meta http-equiv=\"Content-Type\" content=\"text/html; "
	  "charset=utf-8\">\n<style type=\"text/css\" style=\"display:none;\"> P "
	  "{margin-top:0;margin-bottom:0;} </style>\n</head>\n<body dir=\"ltr\">\n"
	  "<div style=\"font-family: Calibri, Arial, Helvetica, sans-serif; font-size: "
	  "12pt; color: rgb(0, 0, 0);\">\nBonjour,</div>\n<div style=\"font-family: "
	  "Calibri\"><br>\n</div>\n<div style=\"font-family: Calibri\">Voici notre "
	  "contribution pour le bulletin&nbsp;: le comité de Metz a tenu une "
	  "permanence d&rsquo;accueil chaque samedi de février, avec l&#39;aide de "
	  "la mairie.</div>\n<div><br>\n</div>\n<div>Bien cordialement,</div>\n"
	  "<div>Thomas Weber</div>\n<div id=\"appendonsend\"></div>\n<hr style="
	  "\"display:inline-block;width:98%\" tabindex=\"-1\">\n<div id=\"divRplyFwdMsg\" "
	  "dir=\"ltr\"><font face=\"Calibri, sans-serif\" style=\"font-size:11pt\" "
	  "color=\"#000000\"><b>De :</b> Bulletin des comités &lt;bulletin@comites."
	  "example.org&gt;<br>\n<b>Envoyé :</b> dimanche 1 mars 2026 09:00<br>\n"
	  "<b>À :</b> comite-metz@example.org &lt;comite-metz@example.org&gt;<br>\n"
	  "<b>Objet :</b> Appel à contributions - bulletin n° 42</font>\n<div>&nbsp;"
	  "</div>\n</div>\n<div class=\"BodyFragment\"><font size=\"2\"><span style="
	  "\"font-size:11pt;\">\n<div class=\"PlainText\">Bonjour à toutes et à tous,"
	  "<br>\n<br>\nLe bulletin n° 42 est en préparation.<br>\n</div>\n</span>"
	  "</font></div>\n</body>\n</html>\n",
	  "Bonjour,\n\nVoici notre contribution pour le bulletin : le comité de Metz "
	  "a tenu une permanence d’accueil chaque samedi de février, avec l'aide de "
	  "la mairie.\n\nBien cordialement,\nThomas Weber" },
	{ "orange webmail",
	  "<html><head><style>body{font-family:Arial}</style></head><body><p>Bonjour,"
	  "</p><p>Le comité de Quimper a participé à la <strong>fête de la Bretagne"
	  "</strong> le 16&nbsp;mai&nbsp;: stand, chorale et 120&nbsp;crêpes vendues "
	  "au profit de l&rsquo;association.</p><ul><li>Stand d&rsquo;information</li>"
	  "<li>Chorale du comité</li></ul><p>Cordialement,<br>Gwenaëlle Le Goff</p>"
	  "<p>&nbsp;</p><blockquote style=\"border-left:2px solid #ff6600;padding-left:"
	  "5px\"><div>&gt; Message du 01/03/26 09:00<br>&gt; De : \"Bulletin des "
	  "comités\" &lt;bulletin@comites.example.org&gt;<br>&gt; A : comite-quimper@"
	  "example.org<br>&gt; Copie à :<br>&gt; Objet : Appel à contributions<br>"
	  "&gt;<br><br>Bonjour à toutes et à tous,<br>Le bulletin n° 42 est en "
	  "préparation.</div></blockquote></body></html>",
	  "Bonjour,\n\nLe comité de Quimper a participé à la fête de la Bretagne le "
	  "16 mai : stand, chorale et 120 crêpes vendues au profit de l’association."
	  "\n\n- Stand d’information\n- Chorale du comité\n\nCordialement,\n"
	  "Gwenaëlle Le Goff" },
};

static void
test_webmail_then_trim(void **state)
{
	for (size_t i = 0; i < nitems(webmail_cases); i++) {
		char *text = html_to_text(webmail_cases[i].html);
		char *got = trim_reply(text);

		if (strcmp(got, webmail_cases[i].want) != 0)
			print_error("%s:\n--- text\n%s\n--- want\n%s\n--- got\n%s\n",
			    webmail_cases[i].name, text, webmail_cases[i].want, got);
		assert_string_equal(got, webmail_cases[i].want);
		free(text);
		free(got);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_images),
		cmocka_unit_test(test_quotes),
		cmocka_unit_test(test_drops),
		cmocka_unit_test(test_entities),
		cmocka_unit_test(test_spaces),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_null),
		cmocka_unit_test(test_huge),
		cmocka_unit_test(test_webmail_then_trim),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
