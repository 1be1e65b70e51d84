/*
 * fuzz_editor.c — the commands an editor writes by mail (editor_mail.c):
 * the input as the new text of a mail to bulletin@, which anyone can send
 * with an editor's From before any proof is checked. Oracles: every line
 * the confirmation would show is indented (4 spaces, a CORRIGER's text by
 * "      | "), holds no NUL or CR, and a text that starts with a command
 * shows at least one.
 */
#include "editor.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size), *lines;
	int starts = editor_text_starts_with_command(text);

	lines = editor_command_lines(text);
	if (lines == NULL || (starts && *lines == '\0'))
		abort();
	for (const char *p = lines; *p; ) {
		size_t n = strcspn(p, "\n");

		if (n < 4 || strncmp(p, "    ", 4) != 0 || memchr(p, '\r', n) != NULL ||
		    p[n] != '\n')
			abort();
		p += n + 1;
	}
	free(lines);
	free(text);
	return 0;
}
