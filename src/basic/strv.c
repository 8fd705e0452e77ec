/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "basic/strv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/cleanup.h"

size_t berth_strv_length(char *const *v)
{
        size_t n = 0;

        while (v && v[n])
                n++;
        return n;
}

bool berth_strv_contains(char *const *v, const char *s)
{
        for (; v && *v; v++)
                if (strcmp(*v, s) == 0)
                        return true;
        return false;
}

int berth_strv_consume(char ***v, char *s)
{
        size_t n = berth_strv_length(*v);
        char **nv;

        if (!s)
                return -ENOMEM;
        nv = realloc(*v, (n + 2) * sizeof(char *));
        if (!nv) {
                free(s);
                return -ENOMEM;
        }
        nv[n] = s;
        nv[n + 1] = NULL;
        *v = nv;
        return 0;
}

int berth_strv_push(char ***v, const char *s)
{
        return berth_strv_consume(v, strdup(s));
}

int berth_strv_push_unique(char ***v, const char *s)
{
        if (berth_strv_contains(*v, s))
                return 0;
        return berth_strv_push(v, s);
}

int berth_strv_copy(char *const *v, char ***ret)
{
        size_t n = berth_strv_length(v);
        char **out;

        *ret = NULL;
        if (!v)
                return 0;
        out = calloc(n + 1, sizeof(char *));
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                out[i] = strdup(v[i]);
                if (!out[i]) {
                        strv_free(out);
                        return -ENOMEM;
                }
        }
        *ret = out;
        return 0;
}
