/*
 * html2text.h — turn an HTML mail body into readable plain text, the way a
 * mail client would display it, for the bulletin and for trim_reply():
 *
 *   - <p>, <div>, <br>, headings, tables become line breaks / blank lines
 *     (at most one blank line in a row); white space collapses as a
 *     browser does, except in <pre>;
 *   - <ul>/<ol><li> become "- item" / "1. item" (nested lists indented);
 *   - <a href="URL">label</a> becomes "label (URL)", or just the label when
 *     it already is the URL ("mailto:" is dropped: "Jean (j@example.org)");
 *   - <img alt="x"> becomes "[x]" (nothing without alt);
 *   - quoted material becomes "> " lines, so trim_reply() removes it:
 *     <blockquote>, Gmail's <div class="gmail_quote">, Yahoo's
 *     <div class="yahoo_quoted">, and from Outlook's <div id="divRplyFwdMsg">,
 *     <div id="appendonsend"> or an <hr> followed by "De :"/"From:" to the end;
 *   - <head>, <title>, <style>, <script> and comments are dropped;
 *   - entities are decoded (the common named ones, decimal and hex) to UTF-8;
 *     &nbsp; becomes a plain space that does not collapse.
 *
 * Malformed HTML (unclosed tags, stray '<', unterminated comments) is handled
 * without failing; time is linear in the input size. The input should be
 * UTF-8 (convert the charset first); other bytes are passed through.
 *
 * Ownership: returns a new string the caller frees with free(); never NULL
 * (NULL input gives "").
 */
#ifndef MLISTD_HTML2TEXT_H
#define MLISTD_HTML2TEXT_H

#include <stddef.h>

struct buf;

char *html_to_text(const char *html_utf8);

/* An entity at p (p[0] == '&', p < end): appends its UTF-8 text to b and
 * returns the bytes it takes, or 0 when it is not one (the '&' is then
 * literal). Named (the common ones), decimal and hex. */
size_t html_entity(const char *p, const char *end, struct buf *b);

#endif
