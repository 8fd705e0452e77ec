/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small image operations shared by the commands in image.h. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "basic/cleanup.h"
#include "image/image.h"

int berth_image_config_load(berth_store *s, const berth_image *img, berth_image_config **ret,
                            berth_error *err)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        char what[128];
        int r;

        r = berth_store_blob_read(s, img->id, BERTH_CONFIG_MAX, &data, &len, err);
        if (r < 0)
                return r;
        snprintf(what, sizeof(what), "config %s", img->id);
        return berth_image_config_parse(data, len, what, ret, err);
}

static int digits(const char **p, int n, int *ret)
{
        int v = 0;
        for (int i = 0; i < n; i++) {
                if ((*p)[i] < '0' || (*p)[i] > '9')
                        return -EINVAL;
                v = v * 10 + ((*p)[i] - '0');
        }
        *p += n;
        *ret = v;
        return 0;
}

static int expect(const char **p, const char *chars)
{
        if (!**p || !strchr(chars, **p))
                return -EINVAL;
        (*p)++;
        return 0;
}

int berth_parse_rfc3339(const char *s, int64_t *ret)
{
        struct tm tm = { 0 };
        int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
        const char *p = s;
        time_t t;

        if (digits(&p, 4, &y) < 0 || expect(&p, "-") < 0 || digits(&p, 2, &mo) < 0 ||
            expect(&p, "-") < 0 || digits(&p, 2, &d) < 0 || expect(&p, "Tt ") < 0 ||
            digits(&p, 2, &h) < 0 || expect(&p, ":") < 0 || digits(&p, 2, &mi) < 0 ||
            expect(&p, ":") < 0 || digits(&p, 2, &sec) < 0)
                return -EINVAL;
        if (*p == '.') {
                p++;
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                while (*p >= '0' && *p <= '9')
                        p++;
        }
        if (*p == 'Z' || *p == 'z') {
                p++;
        } else if (*p == '+' || *p == '-') {
                sign = *p == '-' ? -1 : 1;
                p++;
                if (digits(&p, 2, &oh) < 0 || expect(&p, ":") < 0 || digits(&p, 2, &om) < 0)
                        return -EINVAL;
        } else {
                return -EINVAL;
        }
        if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
                return -EINVAL;
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = sec;
        t = timegm(&tm);
        *ret = (int64_t)t - sign * (oh * 3600 + om * 60);
        return 0;
}
