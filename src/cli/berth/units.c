/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sizes, durations and times as docker prints them (go-units' conventions). */
#include <stdio.h>
#include <time.h>

#include "cli/berth/cli.h"

void cli_human_size(uint64_t size, char *buf, size_t len)
{
        static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB" };
        double v = (double)size;
        size_t i = 0;

        while (v >= 1000.0 && i + 1 < sizeof(units) / sizeof(units[0])) {
                v /= 1000.0;
                i++;
        }
        snprintf(buf, len, "%.3g%s", v, units[i]);
}

void cli_human_duration(int64_t seconds, char *buf, size_t len)
{
        int64_t minutes = seconds / 60;
        int64_t hours = (seconds + 1800) / 3600; /* rounded, as Duration.Round(time.Hour) */

        if (seconds < 1)
                snprintf(buf, len, "Less than a second");
        else if (seconds == 1)
                snprintf(buf, len, "1 second");
        else if (seconds < 60)
                snprintf(buf, len, "%lld seconds", (long long)seconds);
        else if (minutes == 1)
                snprintf(buf, len, "About a minute");
        else if (minutes < 60)
                snprintf(buf, len, "%lld minutes", (long long)minutes);
        else if (hours == 1)
                snprintf(buf, len, "About an hour");
        else if (hours < 48)
                snprintf(buf, len, "%lld hours", (long long)hours);
        else if (hours < 24 * 7 * 2)
                snprintf(buf, len, "%lld days", (long long)(hours / 24));
        else if (hours < 24 * 30 * 2)
                snprintf(buf, len, "%lld weeks", (long long)(hours / 24 / 7));
        else if (hours < 24 * 365 * 2)
                snprintf(buf, len, "%lld months", (long long)(hours / 24 / 30));
        else
                snprintf(buf, len, "%lld years", (long long)(seconds / 3600 / 24 / 365));
}

void cli_time_string(int64_t t, char *buf, size_t len)
{
        time_t tt = (time_t)t;
        struct tm tm;

        if (!localtime_r(&tt, &tm) || strftime(buf, len, "%Y-%m-%d %H:%M:%S %z %Z", &tm) == 0)
                snprintf(buf, len, "%lld", (long long)t);
}
