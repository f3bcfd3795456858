/* JSON string escaping per RFC 8259. */
#include "json/jsonw.h"
#include "core/text.h"

#include <string.h>

void jsonw_str(struct buf *b, const char *s)
{
	if (s == NULL) {
		buf_add(b, "null", 4);
		return;
	}
	static const char hex[] = "0123456789abcdef";
	size_t len = strlen(s);
	buf_add(b, "\"", 1);
	size_t start = 0;
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0x80) {
			/* Pass valid sequences through; replace a bad byte with U+FFFD. */
			size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
			if (n > 1 && i + n <= len && text_utf8_valid(s + i, n)) {
				i += n;
				continue;
			}
			buf_add(b, s + start, i - start);
			buf_add(b, "\xef\xbf\xbd", 3);
			i++;
			start = i;
			continue;
		}
		buf_add(b, s + start, i - start);
		char esc[6] = {'\\', (char)c, 0, 0, 0, 0};
		size_t elen = 2;
		if (c == '\n')
			esc[1] = 'n';
		else if (c == '\r')
			esc[1] = 'r';
		else if (c == '\t')
			esc[1] = 't';
		else if (c < 0x20) {
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
		}
		buf_add(b, esc, elen);
		i++;
		start = i;
	}
	buf_add(b, s + start, len - start);
	buf_add(b, "\"", 1);
}

void jsonw_key(struct buf *b, const char *key)
{
	jsonw_str(b, key);
	buf_add(b, ":", 1);
}
