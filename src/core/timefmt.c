/* Calendar arithmetic done by hand on integers, so no locale or TZ state is involved. */
#include "core/timefmt.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t time_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* v as exactly n decimal digits (zero-padded) at p. */
static void put_digits(char *p, uint64_t v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

void time_format_us(int64_t us, char out[TIMEFMT_LEN])
{
	int64_t secs = us / 1000000, frac = us % 1000000;
	if (frac < 0) {
		frac += 1000000;
		secs -= 1;
	}
	int64_t days = secs / 86400, rem = secs % 86400;
	if (rem < 0) {
		rem += 86400;
		days -= 1;
	}
	int64_t y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999) { /* not a date depot makes; the general path */
		char tmp[96];
		snprintf(tmp, sizeof(tmp), "%04d-%02u-%02uT%02d:%02d:%02d.%06dZ", (int)(y % 10000),
			 m, d, (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), (int)frac);
		memcpy(out, tmp, TIMEFMT_LEN - 1);
		out[TIMEFMT_LEN - 1] = '\0';
		return;
	}
	/* Digits placed directly: snprintf here was ~6 % of a 100-item list's CPU. */
	memcpy(out, "0000-00-00T00:00:00.000000Z", TIMEFMT_LEN);
	put_digits(out, (uint64_t)y, 4);
	put_digits(out + 5, m, 2);
	put_digits(out + 8, d, 2);
	put_digits(out + 11, (uint64_t)(rem / 3600), 2);
	put_digits(out + 14, (uint64_t)(rem / 60 % 60), 2);
	put_digits(out + 17, (uint64_t)(rem % 60), 2);
	put_digits(out + 20, (uint64_t)frac, 6);
}

static bool digits(const char *s, size_t n, unsigned *out)
{
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return true;
}

bool time_parse_iso8601(const char *s, size_t len, int64_t *out_us)
{
	unsigned y, mo, d, h, mi, se;
	if (len < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
	    s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &se))
		return false;
	static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) ||
	    h > 23 || mi > 59 || se > 60)
		return false;
	size_t i = 19;
	int64_t frac_us = 0;
	if (i < len && s[i] == '.') {
		i++;
		size_t start = i;
		int64_t scale = 100000;
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			frac_us += (s[i] - '0') * scale; /* past microseconds, scale is 0 */
			scale /= 10;
			i++;
		}
		if (i == start)
			return false;
	}
	int64_t offset_s = 0;
	if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i < len && (s[i] == '+' || s[i] == '-' || s[i] == ' ')) {
		unsigned oh, om;
		if (len - i != 6 || !digits(s + i + 1, 2, &oh) || s[i + 3] != ':' ||
		    !digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
			return false;
		offset_s = (int64_t)(oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
		i += 6;
	} else {
		return false;
	}
	if (i != len)
		return false;
	int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + (se == 60 ? 59 : se);
	*out_us = (secs - offset_s) * 1000000 + frac_us;
	return true;
}

void time_format_http(int64_t us, char out[TIMEFMT_HTTP_LEN])
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	gmtime_r(&t, &tm);
	char tmp[64];
	snprintf(tmp, sizeof(tmp), "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7],
		 tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		 tm.tm_sec);
	snprintf(out, TIMEFMT_HTTP_LEN, "%.31s", tmp);
}
