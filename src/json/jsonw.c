/* JSON string escaping per RFC 8259. */
#include "json/jsonw.h"
#include "core/text.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* What jsonw_str does with a byte: 0 copies it, 1 escapes it (a control character, '"', '\\'),
 * 2 checks the UTF-8 sequence it starts. One load per byte of the usual plain text. */
#define K8(k) k, k, k, k, k, k, k, k
static const unsigned char kind[256] = {
	K8(1), K8(1), K8(1), K8(1),                                    /* 0x00-0x1f */
	0, 0, 1, 0, 0, 0, 0, 0, K8(0), K8(0), K8(0),                   /* 0x20-0x3f: '"' */
	K8(0), K8(0), K8(0), 0, 0, 0, 0, 1, 0, 0, 0,                   /* 0x40-0x5f: '\\' */
	K8(0), K8(0), K8(0), K8(0),                                    /* 0x60-0x7f */
	K8(2), K8(2), K8(2), K8(2), K8(2), K8(2), K8(2), K8(2),        /* 0x80-0xbf */
	K8(2), K8(2), K8(2), K8(2), K8(2), K8(2), K8(2), K8(2),        /* 0xc0-0xff */
};

/* Whether one of the 8 bytes at p may have a kind other than 0: none is below 0x20, '"', '\\'
 * or above 0x7f when this is false (a borrow may make it true for a plain byte after a special
 * one, which the byte loop then sorts out). */
static bool word_special(const unsigned char *p)
{
	const uint64_t ones = 0x0101010101010101ull;
	uint64_t w;
	memcpy(&w, p, sizeof(w));
	uint64_t t = (w - ones * 0x20) | ((w ^ ones * '"') - ones) | ((w ^ ones * '\\') - ones) | w;
	return (t & ones * 0x80) != 0;
}

/* Writes the escape of the byte c (kind 1). */
static void escape(struct buf *b, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
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
}

void jsonw_str(struct buf *b, const char *s)
{
	if (s == NULL) {
		buf_add(b, "null", 4);
		return;
	}
	const unsigned char *u = (const unsigned char *)s;
	size_t len = strlen(s);
	buf_add(b, "\"", 1);
	size_t start = 0;
	for (size_t i = 0; i < len;) {
		while (i + 8 <= len && !word_special(u + i))
			i += 8;
		while (i < len && kind[u[i]] == 0)
			i++;
		if (i == len)
			break;
		unsigned char c = u[i];
		if (kind[c] == 2) {
			/* Pass valid sequences through; replace a bad byte with U+FFFD. */
			size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
			if (n > 1 && i + n <= len && text_utf8_valid(s + i, n)) {
				i += n;
				continue;
			}
			buf_add(b, s + start, i - start);
			buf_add(b, "\xef\xbf\xbd", 3);
		} else {
			buf_add(b, s + start, i - start);
			escape(b, c);
		}
		start = ++i;
	}
	buf_add(b, s + start, len - start);
	buf_add(b, "\"", 1);
}

void jsonw_key(struct buf *b, const char *key)
{
	jsonw_str(b, key);
	buf_add(b, ":", 1);
}
