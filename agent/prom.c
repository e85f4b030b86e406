/* The Prometheus text writer (prom.h). */
#include "agent/prom.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pd_prom_init(struct pd_prom *p, size_t max)
{
	memset(p, 0, sizeof(*p));
	p->max = max;
}

void pd_prom_free(struct pd_prom *p)
{
	free(p->buf);
	memset(p, 0, sizeof(*p));
}

/* Room for n more bytes plus the NUL. */
static bool reserve(struct pd_prom *p, size_t n)
{
	if (p->failed)
		return false;
	if (p->len + n + 1 <= p->cap)
		return true;
	if (p->len + n + 1 > p->max) {
		p->failed = true;
		return false;
	}
	size_t cap = p->cap ? p->cap : 16384;
	while (cap < p->len + n + 1)
		cap *= 2;
	if (cap > p->max)
		cap = p->max;
	char *b = realloc(p->buf, cap);
	if (!b) {
		p->failed = true;
		return false;
	}
	p->buf = b;
	p->cap = cap;
	return true;
}

static void put(struct pd_prom *p, const char *s, size_t n)
{
	if (reserve(p, n)) {
		memcpy(p->buf + p->len, s, n);
		p->len += n;
		p->buf[p->len] = '\0';
	}
}

static void puts_(struct pd_prom *p, const char *s)
{
	put(p, s, strlen(s));
}

/* Length of the valid, printable UTF-8 sequence at s (1..4), 0 if there is none. */
static size_t utf8_seq(const unsigned char *s)
{
	if (s[0] >= 0x20 && s[0] < 0x7f)
		return 1;
	size_t n;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* Overlong 3/4-byte forms, surrogates and code points past U+10FFFF. */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return n;
}

/* A label value between quotes. */
static void put_label_value(struct pd_prom *p, const char *v)
{
	const unsigned char *s = (const unsigned char *)v;
	while (*s) {
		if (*s == '\\' || *s == '"') {
			put(p, "\\", 1);
			put(p, (const char *)s++, 1);
		} else if (*s == '\n') {
			put(p, "\\n", 2);
			s++;
		} else {
			size_t n = utf8_seq(s);
			put(p, n ? (const char *)s : "?", n ? n : 1);
			s += n ? n : 1;
		}
	}
}

/* HELP text: backslash and newline are escaped. */
static void put_help(struct pd_prom *p, const char *h)
{
	for (; *h; h++) {
		if (*h == '\\')
			put(p, "\\\\", 2);
		else if (*h == '\n')
			put(p, "\\n", 2);
		else
			put(p, h, 1);
	}
}

void pd_prom_family(struct pd_prom *p, const char *name, const char *type, const char *help)
{
	p->family = name;
	puts_(p, "# HELP ");
	puts_(p, name);
	puts_(p, " ");
	put_help(p, help);
	puts_(p, "\n# TYPE ");
	puts_(p, name);
	puts_(p, " ");
	puts_(p, type);
	puts_(p, "\n");
}

static void sample(struct pd_prom *p, const char *value, va_list ap)
{
	puts_(p, p->family ? p->family : "unnamed");
	const char *sep = "{";
	for (const char *k; (k = va_arg(ap, const char *));) {
		const char *v = va_arg(ap, const char *);
		puts_(p, sep);
		puts_(p, k);
		puts_(p, "=\"");
		put_label_value(p, v ? v : "");
		puts_(p, "\"");
		sep = ",";
	}
	if (sep[0] == ',')
		puts_(p, "}");
	puts_(p, " ");
	puts_(p, value);
	puts_(p, "\n");
}

void pd_prom_u64(struct pd_prom *p, uint64_t v, ...)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	va_list ap;
	va_start(ap, v);
	sample(p, buf, ap);
	va_end(ap);
}

void pd_prom_f64(struct pd_prom *p, double v, ...)
{
	char buf[40];
	if (isnan(v))
		snprintf(buf, sizeof(buf), "NaN");
	else if (isinf(v))
		snprintf(buf, sizeof(buf), "%cInf", v < 0 ? '-' : '+');
	else
		snprintf(buf, sizeof(buf), "%.15g", v);
	va_list ap;
	va_start(ap, v);
	sample(p, buf, ap);
	va_end(ap);
}

int pd_prom_finish(struct pd_prom *p, const char **text, size_t *len, struct pd_error *err)
{
	if (p->failed)
		return pd_error_set(err, PD_RESOURCE_EXHAUSTED, ENOMEM,
				    "metrics: the text is over %zu bytes or out of memory", p->max);
	*text = p->buf ? p->buf : "";
	*len = p->len;
	return 0;
}
