/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "basic/strv.h"
#include "engine/run-options.h"

/* An env file larger than this is refused rather than read whole. */
#define ENV_FILE_MAX (4u << 20)

void berth_run_options_init(berth_run_options *o)
{
        memset(o, 0, sizeof(*o));
}

void berth_mount_spec_release(berth_mount_spec *m)
{
        free(m->source);
        free(m->host_path);
        free(m->target);
        free(m->propagation);
        free(m->selinux);
        strv_free(m->tmpfs_options);
        memset(m, 0, sizeof(*m));
}

void berth_run_options_release(berth_run_options *o)
{
        free(o->id);
        strv_free(o->env);
        free(o->workdir);
        free(o->user);
        strv_free(o->entrypoint);
        strv_free(o->cmd);
        free(o->hostname);
        strv_free(o->labels);
        free(o->stop_signal);
        for (size_t i = 0; i < o->n_mounts; i++)
                berth_mount_spec_release(&o->mounts[i]);
        free(o->mounts);
        free(o->cpuset_cpus);
        free(o->cpuset_mems);
        for (size_t i = 0; i < o->n_ulimits; i++)
                free(o->ulimits[i].name);
        free(o->ulimits);
        strv_free(o->sysctls);
        free(o->netns_path);
        free(o->cgroups_path);
        memset(o, 0, sizeof(*o));
}

static int oom(berth_error *err)
{
        return berth_error_set(err, ENOMEM, "out of memory");
}

/* cobra's wording for a flag value its parser refused. */
static int flag_error(berth_error *err, const char *flag, const char *value, const char *why)
{
        return berth_error_set(err, EINVAL, "invalid argument \"%s\" for \"%s\" flag: %s", value,
                               flag, why);
}

/* ---- environment and labels ---- */

/* Appends "K=V", or K's value from our environment for a bare K (nothing when unset). */
static int push_env(char ***v, const char *entry, size_t len, berth_error *err)
{
        _cleanup_free_ char *s = strndup(entry, len);

        if (!s)
                return oom(err);
        if (!strchr(s, '=')) {
                const char *val = getenv(s);
                _cleanup_free_ char *kv = NULL;

                if (!val)
                        return 0;
                if (asprintf(&kv, "%s=%s", s, val) < 0)
                        return oom(err);
                return berth_strv_consume(v, TAKE_PTR(kv)) < 0 ? oom(err) : 0;
        }
        return berth_strv_consume(v, TAKE_PTR(s)) < 0 ? oom(err) : 0;
}

int berth_parse_env(berth_run_options *o, const char *value, berth_error *err)
{
        if (value[0] == '=' || value[0] == '\0')
                return berth_error_set(err, EINVAL, "invalid environment variable: %s", value);
        return push_env(&o->env, value, strlen(value), err);
}

static bool has_space(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (isspace((unsigned char)s[i]))
                        return true;
        return false;
}

int berth_parse_env_data(berth_run_options *o, const char *data, size_t len, const char *what,
                         berth_error *err)
{
        size_t pos = 0;
        unsigned lineno = 0;

        /* A UTF-8 byte order mark at the start is dropped, as docker does. */
        if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
                pos = 3;
        while (pos < len) {
                const char *line = data + pos, *nl = memchr(line, '\n', len - pos);
                size_t n = nl ? (size_t)(nl - line) : len - pos;
                const char *eq;
                size_t keylen;
                int r;

                pos += n + (nl ? 1 : 0);
                lineno++;
                if (memchr(line, '\0', n))
                        return berth_error_set(err, EINVAL,
                                               "env file %s contains a NUL byte at line %u", what,
                                               lineno);
                while (n > 0 && isspace((unsigned char)*line))
                        line++, n--;
                if (n > 0 && line[n - 1] == '\r')
                        n--;
                if (n == 0 || line[0] == '#')
                        continue;
                eq = memchr(line, '=', n);
                keylen = eq ? (size_t)(eq - line) : n;
                if (has_space(line, keylen))
                        return berth_error_set(err, EINVAL,
                                               "poorly formatted environment: variable '%.*s' "
                                               "contains whitespaces",
                                               (int)keylen, line);
                if (keylen == 0)
                        return berth_error_set(err, EINVAL,
                                               "poorly formatted environment: no variable name "
                                               "on line '%.*s'",
                                               (int)n, line);
                r = push_env(&o->env, line, n, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int berth_parse_env_file(berth_run_options *o, const char *path, berth_error *err)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        int r;

        if (fd < 0)
                return berth_error_sys(err, errno, "open %s", path);
        r = berth_read_fd(fd, ENV_FILE_MAX, &data, &len);
        if (r < 0)
                return berth_error_sys(err, -r, "read %s", path);
        return berth_parse_env_data(o, data, len, path, err);
}

int berth_parse_label(berth_run_options *o, const char *value, berth_error *err)
{
        _cleanup_free_ char *kv = NULL;

        if (value[0] == '=' || value[0] == '\0')
                return berth_error_set(err, EINVAL, "invalid label '%s': empty name", value);
        if (strchr(value, '='))
                kv = strdup(value);
        else if (asprintf(&kv, "%s=", value) < 0)
                kv = NULL;
        if (!kv)
                return oom(err);
        return berth_strv_consume(&o->labels, TAKE_PTR(kv)) < 0 ? oom(err) : 0;
}

/* ---- numbers ---- */

/* A plain decimal int64 ("-1", "1024"); false on anything else or overflow. */
static bool parse_i64(const char *s, int64_t *ret)
{
        char *end;
        long long v;

        if (!*s || isspace((unsigned char)*s))
                return false;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno || *end)
                return false;
        *ret = v;
        return true;
}

int berth_parse_int64_flag(const char *flag, const char *value, int64_t *ret, berth_error *err)
{
        char why[128];

        if (parse_i64(value, ret))
                return 0;
        snprintf(why, sizeof(why), "strconv.ParseInt: parsing \"%.64s\": %s", value,
                 errno == ERANGE ? "value out of range" : "invalid syntax");
        return flag_error(err, flag, value, why);
}

/*
 * go-units' RAMInBytes: NUMBER[.FRACTION][ ][kmgtp][i][b], binary units.
 * The fraction is applied in integers (1.5g is exact); anything below a
 * byte is dropped, as the Go float conversion truncates.
 */
int berth_parse_ram_bytes(const char *value, int64_t *ret, berth_error *err)
{
        const char *p = value;
        uint64_t whole = 0, frac = 0, frac_div = 1, unit = 1;

        if (!isdigit((unsigned char)*p))
                goto bad;
        for (; isdigit((unsigned char)*p); p++) {
                if (whole > (UINT64_MAX - 9) / 10)
                        goto bad;
                whole = whole * 10 + (uint64_t)(*p - '0');
        }
        if (*p == '.') {
                p++;
                if (!isdigit((unsigned char)*p))
                        goto bad;
                for (; isdigit((unsigned char)*p); p++)
                        if (frac_div < 1000000000000ULL) {
                                frac = frac * 10 + (uint64_t)(*p - '0');
                                frac_div *= 10;
                        }
        }
        if (*p == ' ')
                p++;
        switch (tolower((unsigned char)*p)) {
        case 'k':
                unit = 1ULL << 10;
                p++;
                break;
        case 'm':
                unit = 1ULL << 20;
                p++;
                break;
        case 'g':
                unit = 1ULL << 30;
                p++;
                break;
        case 't':
                unit = 1ULL << 40;
                p++;
                break;
        case 'p':
                unit = 1ULL << 50;
                p++;
                break;
        default:
                break;
        }
        if (*p == 'i' || *p == 'I')
                p++;
        if (*p == 'b' || *p == 'B')
                p++;
        if (*p)
                goto bad;
        if (whole > (uint64_t)INT64_MAX / unit)
                goto bad;
        {
                /* frac < frac_div <= 1e12 and unit <= 2^50: split to stay in 64 bits. */
                uint64_t add = (unit / frac_div) * frac +
                               (uint64_t)(((unsigned __int128)(unit % frac_div) * frac) / frac_div);
                uint64_t total = whole * unit;

                if (add > (uint64_t)INT64_MAX - total)
                        goto bad;
                *ret = (int64_t)(total + add);
        }
        return 0;
bad:
        return berth_error_set(err, EINVAL, "invalid size: '%s'", value);
}

static int ram_flag(const char *flag, const char *value, int64_t *ret, berth_error *err)
{
        berth_error e = BERTH_ERROR_INIT;
        int r = berth_parse_ram_bytes(value, ret, &e);

        if (r < 0) {
                r = flag_error(err, flag, value, berth_error_msg(&e));
                berth_error_release(&e);
        }
        return r;
}

int berth_parse_memory(const char *value, int64_t *ret, berth_error *err)
{
        int64_t v;
        int r = ram_flag("-m, --memory", value, &v, err);

        if (r < 0)
                return r;
        /* docker's daemon refuses less; 0 means "no limit" and is accepted. */
        if (v != 0 && v < 6 * 1024 * 1024)
                return berth_error_set(err, EINVAL, "Minimum memory limit allowed is 6MB");
        *ret = v;
        return 0;
}

int berth_parse_memory_swap(const char *value, int64_t *ret, berth_error *err)
{
        if (strcmp(value, "-1") == 0) {
                *ret = -1;
                return 0;
        }
        return ram_flag("--memory-swap", value, ret, err);
}

int berth_parse_shm_size(const char *value, int64_t *ret, berth_error *err)
{
        return ram_flag("--shm-size", value, ret, err);
}

int berth_parse_cpus(const char *value, int64_t *ret, berth_error *err)
{
        const char *p = value;
        uint64_t whole = 0, nano = 0;
        unsigned digits = 0;
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        char why[160];

        if (!isdigit((unsigned char)*p) && *p != '.')
                goto bad;
        for (; isdigit((unsigned char)*p); p++) {
                if (whole > 1000000)
                        goto bad;
                whole = whole * 10 + (uint64_t)(*p - '0');
        }
        if (*p == '.') {
                for (p++; isdigit((unsigned char)*p); p++, digits++) {
                        if (digits >= 9) {
                                if (*p != '0')
                                        return flag_error(err, "--cpus", value,
                                                          "value is too precise");
                                continue;
                        }
                        nano = nano * 10 + (uint64_t)(*p - '0');
                }
        }
        if (*p || (p == value + 1 && value[0] == '.'))
                goto bad;
        for (; digits < 9; digits++)
                nano *= 10;
        nano += whole * 1000000000ULL;
        if (ncpu < 1)
                ncpu = 1;
        /* The daemon's range check, done here so the user hears it before anything starts. */
        if (nano != 0 && (nano < 10000000ULL || nano > (uint64_t)ncpu * 1000000000ULL))
                return berth_error_set(err, EINVAL,
                                       "Range of CPUs is from 0.01 to %ld.00, as there are only "
                                       "%ld CPUs available",
                                       ncpu, ncpu);
        *ret = (int64_t)nano;
        return 0;
bad:
        snprintf(why, sizeof(why), "failed to parse %.100s as a rational number", value);
        return flag_error(err, "--cpus", value, why);
}

int berth_parse_cpuset(const char *flag, const char *value, char **ret, berth_error *err)
{
        const char *p = value;
        const char *which = strstr(flag, "mems") ? "mems" : "cpus";

        /* LIST := RANGE[,RANGE]...; RANGE := N[-N] with the first <= the second. */
        while (*p) {
                int64_t a, b;
                char *end;

                if (!isdigit((unsigned char)*p))
                        goto bad;
                errno = 0;
                a = strtoll(p, &end, 10);
                if (errno || a > 65535)
                        goto bad;
                p = end;
                b = a;
                if (*p == '-') {
                        p++;
                        if (!isdigit((unsigned char)*p))
                                goto bad;
                        b = strtoll(p, &end, 10);
                        if (errno || b > 65535 || b < a)
                                goto bad;
                        p = end;
                }
                if (*p == ',') {
                        p++;
                        if (!*p)
                                goto bad;
                } else if (*p)
                        goto bad;
        }
        if (!*value)
                goto bad;
        *ret = strdup(value);
        return *ret ? 0 : oom(err);
bad:
        return berth_error_set(err, EINVAL, "Invalid value %s for cpuset %s", value, which);
}

/* ---- ulimits ---- */

static const struct {
        const char *name;
        int resource;
} ulimit_names[] = {
        { "core", RLIMIT_CORE },         { "cpu", RLIMIT_CPU },
        { "data", RLIMIT_DATA },         { "fsize", RLIMIT_FSIZE },
        { "locks", RLIMIT_LOCKS },       { "memlock", RLIMIT_MEMLOCK },
        { "msgqueue", RLIMIT_MSGQUEUE }, { "nice", RLIMIT_NICE },
        { "nofile", RLIMIT_NOFILE },     { "nproc", RLIMIT_NPROC },
        { "rss", RLIMIT_RSS },           { "rtprio", RLIMIT_RTPRIO },
        { "rttime", RLIMIT_RTTIME },     { "sigpending", RLIMIT_SIGPENDING },
        { "stack", RLIMIT_STACK },
};

int berth_parse_ulimit(berth_run_options *o, const char *value, berth_error *err)
{
        const char *eq = strchr(value, '='), *colon;
        _cleanup_free_ char *name = NULL, *soft_s = NULL;
        int64_t soft, hard;
        int resource = -1;
        char why[256];

        if (!eq) {
                snprintf(why, sizeof(why), "invalid ulimit argument: %.200s", value);
                return flag_error(err, "--ulimit", value, why);
        }
        name = strndup(value, (size_t)(eq - value));
        if (!name)
                return oom(err);
        for (size_t i = 0; i < ARRAY_SIZE(ulimit_names); i++)
                if (strcmp(ulimit_names[i].name, name) == 0)
                        resource = ulimit_names[i].resource;
        if (resource < 0) {
                snprintf(why, sizeof(why), "invalid ulimit type: %.200s", name);
                return flag_error(err, "--ulimit", value, why);
        }
        colon = strchr(eq + 1, ':');
        if (colon && strchr(colon + 1, ':')) {
                snprintf(why, sizeof(why),
                         "too many limit value arguments - %.100s, can only have up to two, "
                         "`soft[:hard]`",
                         eq + 1);
                return flag_error(err, "--ulimit", value, why);
        }
        soft_s = colon ? strndup(eq + 1, (size_t)(colon - eq - 1)) : strdup(eq + 1);
        if (!soft_s)
                return oom(err);
        if (!parse_i64(soft_s, &soft)) {
                snprintf(why, sizeof(why), "strconv.ParseInt: parsing \"%.100s\": invalid syntax",
                         soft_s);
                return flag_error(err, "--ulimit", value, why);
        }
        hard = soft;
        if (colon && !parse_i64(colon + 1, &hard)) {
                snprintf(why, sizeof(why), "strconv.ParseInt: parsing \"%.100s\": invalid syntax",
                         colon + 1);
                return flag_error(err, "--ulimit", value, why);
        }
        if (soft > hard) {
                snprintf(why, sizeof(why),
                         "ulimit soft limit must be less than or equal to hard limit: %lld > %lld",
                         (long long)soft, (long long)hard);
                return flag_error(err, "--ulimit", value, why);
        }
        /* -1 is unlimited in docker; anything else negative is meaningless. */
        if (soft < -1 || hard < -1) {
                snprintf(why, sizeof(why), "invalid ulimit argument: %.200s", value);
                return flag_error(err, "--ulimit", value, why);
        }
        for (size_t i = 0; i < o->n_ulimits; i++)
                if (strcmp(o->ulimits[i].name, name) == 0) {
                        o->ulimits[i].soft = soft;
                        o->ulimits[i].hard = hard;
                        return 0;
                }
        {
                berth_ulimit *n = reallocarray(o->ulimits, o->n_ulimits + 1, sizeof(*n));
                if (!n)
                        return oom(err);
                o->ulimits = n;
                n[o->n_ulimits++] = (berth_ulimit){ TAKE_PTR(name), resource, soft, hard };
        }
        return 0;
}

/* ---- sysctls and signals ---- */

static bool sysctl_allowed(const char *key)
{
        static const char *const exact[] = { "kernel.msgmax", "kernel.msgmnb",
                                             "kernel.msgmni", "kernel.sem",
                                             "kernel.shmall", "kernel.shmmax",
                                             "kernel.shmmni", "kernel.shm_rmid_forced" };

        for (size_t i = 0; i < ARRAY_SIZE(exact); i++)
                if (strcmp(key, exact[i]) == 0)
                        return true;
        return strncmp(key, "fs.mqueue.", 10) == 0 || strncmp(key, "net.", 4) == 0;
}

int berth_parse_sysctl(berth_run_options *o, const char *value, berth_error *err)
{
        const char *eq = strchr(value, '=');
        _cleanup_free_ char *key = NULL;
        char why[256];

        if (eq)
                key = strndup(value, (size_t)(eq - value));
        if (eq && !key)
                return oom(err);
        if (!eq || !sysctl_allowed(key)) {
                snprintf(why, sizeof(why), "sysctl '%.200s' is not allowed", value);
                return flag_error(err, "--sysctl", value, why);
        }
        return berth_strv_push(&o->sysctls, value) < 0 ? oom(err) : 0;
}

static const struct {
        const char *name;
        int sig;
} signals[] = {
        { "ABRT", SIGABRT }, { "ALRM", SIGALRM },     { "BUS", SIGBUS },       { "CHLD", SIGCHLD },
        { "CONT", SIGCONT }, { "FPE", SIGFPE },       { "HUP", SIGHUP },       { "ILL", SIGILL },
        { "INT", SIGINT },   { "IO", SIGIO },         { "IOT", SIGIOT },       { "KILL", SIGKILL },
        { "PIPE", SIGPIPE }, { "POLL", SIGPOLL },     { "PROF", SIGPROF },     { "PWR", SIGPWR },
        { "QUIT", SIGQUIT }, { "SEGV", SIGSEGV },     { "STKFLT", SIGSTKFLT }, { "STOP", SIGSTOP },
        { "SYS", SIGSYS },   { "TERM", SIGTERM },     { "TRAP", SIGTRAP },     { "TSTP", SIGTSTP },
        { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },     { "URG", SIGURG },       { "USR1", SIGUSR1 },
        { "USR2", SIGUSR2 }, { "VTALRM", SIGVTALRM }, { "WINCH", SIGWINCH },   { "XCPU", SIGXCPU },
        { "XFSZ", SIGXFSZ },
};

int berth_parse_signal(const char *value, char **ret, berth_error *err)
{
        const char *name = value;
        int64_t n;

        if (parse_i64(value, &n)) {
                for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
                        if (signals[i].sig == n && strcmp(signals[i].name, "IOT") != 0 &&
                            strcmp(signals[i].name, "POLL") != 0)
                                return asprintf(ret, "SIG%s", signals[i].name) < 0 ? oom(err) : 0;
                if (n >= SIGRTMIN && n <= SIGRTMAX)
                        return asprintf(ret, "SIGRTMIN+%d", (int)(n - SIGRTMIN)) < 0 ? oom(err) : 0;
                goto bad;
        }
        if (strncasecmp(name, "SIG", 3) == 0)
                name += 3;
        for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
                if (strcasecmp(signals[i].name, name) == 0)
                        return asprintf(ret, "SIG%s", signals[i].name) < 0 ? oom(err) : 0;
        if (strncasecmp(name, "RTMIN+", 6) == 0 && parse_i64(name + 6, &n) && n >= 0 &&
            n <= SIGRTMAX - SIGRTMIN)
                return asprintf(ret, "SIGRTMIN+%d", (int)n) < 0 ? oom(err) : 0;
bad:
        return berth_error_set(err, EINVAL, "Invalid signal: %s", value);
}

/* ---- mounts ---- */

static int add_mount(berth_run_options *o, berth_mount_spec *m, berth_error *err)
{
        berth_mount_spec *n = reallocarray(o->mounts, o->n_mounts + 1, sizeof(*n));

        if (!n) {
                berth_mount_spec_release(m);
                return oom(err);
        }
        o->mounts = n;
        n[o->n_mounts++] = *m;
        memset(m, 0, sizeof(*m));
        return 0;
}

static bool is_propagation(const char *s)
{
        static const char *const modes[] = { "private", "rprivate", "shared",
                                             "rshared", "slave",    "rslave" };

        for (size_t i = 0; i < ARRAY_SIZE(modes); i++)
                if (strcmp(s, modes[i]) == 0)
                        return true;
        return false;
}

static int set_str(char **dst, const char *s, berth_error *err)
{
        char *c = strdup(s);

        if (!c)
                return oom(err);
        free(*dst);
        *dst = c;
        return 0;
}

/* -v's mode field: ro|rw, z|Z, nocopy, a propagation, comma-separated, each at most once. */
static int volume_modes(berth_mount_spec *m, const char *modes, berth_error *err)
{
        _cleanup_free_ char *copy = strdup(modes);
        char *p, *next;
        bool rw_seen = false, label_seen = false, prop_seen = false, copy_seen = false;

        if (!copy)
                return oom(err);
        for (p = copy; p; p = next) {
                next = strchr(p, ',');
                if (next)
                        *next++ = '\0';
                if ((strcmp(p, "ro") == 0 || strcmp(p, "rw") == 0) && !rw_seen) {
                        rw_seen = true;
                        m->readonly = p[1] == 'o';
                } else if ((strcmp(p, "z") == 0 || strcmp(p, "Z") == 0) && !label_seen) {
                        label_seen = true;
                        if (set_str(&m->selinux, p, err) < 0)
                                return -ENOMEM;
                } else if (is_propagation(p) && !prop_seen) {
                        prop_seen = true;
                        if (set_str(&m->propagation, p, err) < 0)
                                return -ENOMEM;
                } else if ((strcmp(p, "nocopy") == 0 || strcmp(p, "copy") == 0) && !copy_seen) {
                        copy_seen = true;
                        m->nocopy = p[0] == 'n';
                } else {
                        return berth_error_set(err, EINVAL, "invalid mode: %s", modes);
                }
        }
        return 0;
}

int berth_parse_volume(berth_run_options *o, const char *value, berth_error *err)
{
        _cleanup_strv_ char **parts = NULL;
        berth_mount_spec m = { 0 };
        const char *p = value;
        size_t n;
        int r;

        /* Split at ':' (container paths on Linux have none that matter here). */
        for (;;) {
                const char *c = strchr(p, ':');
                size_t len = c ? (size_t)(c - p) : strlen(p);
                if (len == 0) {
                        if (!*value)
                                return berth_error_set(err, EINVAL, "invalid empty volume spec");
                        return berth_error_set(err, EINVAL,
                                               "invalid spec: %s: empty section between colons",
                                               value);
                }
                if (berth_strv_consume(&parts, strndup(p, len)) < 0)
                        return oom(err);
                if (!c)
                        break;
                p = c + 1;
        }
        n = berth_strv_length(parts);
        if (n > 3)
                return berth_error_set(err, EINVAL, "invalid volume specification: '%s'", value);
        if (n == 1) {
                m.type = BERTH_MOUNT_VOLUME;
                r = set_str(&m.target, parts[0], err);
        } else {
                /* A source that is not a path names a volume, as docker decides it. */
                m.type = parts[0][0] == '/' || parts[0][0] == '.' ? BERTH_MOUNT_BIND
                                                                  : BERTH_MOUNT_VOLUME;
                r = set_str(&m.source, parts[0], err);
                if (r >= 0)
                        r = set_str(&m.target, parts[1], err);
                if (r >= 0 && n == 3)
                        r = volume_modes(&m, parts[2], err);
        }
        if (r >= 0 && m.target[0] != '/')
                r = berth_error_set(err, EINVAL,
                                    "invalid volume specification: '%s': invalid mount config "
                                    "for type \"%s\": invalid mount path: '%s' mount path must "
                                    "be absolute",
                                    value, m.type == BERTH_MOUNT_BIND ? "bind" : "volume",
                                    m.target);
        if (r >= 0 && m.type == BERTH_MOUNT_BIND && m.source[0] != '/')
                r = berth_error_set(err, EINVAL,
                                    "invalid volume specification: '%s': bind source path must "
                                    "be absolute",
                                    value);
        if (r >= 0 && m.type == BERTH_MOUNT_VOLUME && m.propagation)
                r = berth_error_set(err, EINVAL,
                                    "invalid volume specification: '%s': invalid mount config "
                                    "for type \"volume\": field BindOptions must not be "
                                    "specified",
                                    value);
        if (r < 0) {
                berth_mount_spec_release(&m);
                return r;
        }
        return add_mount(o, &m, err);
}

/* "true"/"1"/"" as Go's strconv.ParseBool for --mount's boolean keys. */
static int mount_bool(const char *key, const char *val, bool *ret, berth_error *err)
{
        if (!val || strcmp(val, "true") == 0 || strcmp(val, "1") == 0 || strcmp(val, "True") == 0 ||
            strcmp(val, "TRUE") == 0 || strcmp(val, "t") == 0 || strcmp(val, "T") == 0)
                *ret = true;
        else if (strcmp(val, "false") == 0 || strcmp(val, "0") == 0 || strcmp(val, "False") == 0 ||
                 strcmp(val, "FALSE") == 0 || strcmp(val, "f") == 0 || strcmp(val, "F") == 0)
                *ret = false;
        else
                return berth_error_set(err, EINVAL, "invalid value for %s: %s", key, val);
        return 0;
}

static int mount_field(berth_mount_spec *m, bool *type_set, char *key, const char *val,
                       const char *value, berth_error *err)
{
        int64_t v;

        if (strcmp(key, "type") == 0 && val) {
                *type_set = true;
                if (strcmp(val, "bind") == 0)
                        m->type = BERTH_MOUNT_BIND;
                else if (strcmp(val, "volume") == 0)
                        m->type = BERTH_MOUNT_VOLUME;
                else if (strcmp(val, "tmpfs") == 0)
                        m->type = BERTH_MOUNT_TMPFS;
                else
                        return berth_error_set(err, EINVAL, "invalid mount type: %s", val);
                return 0;
        }
        if ((strcmp(key, "source") == 0 || strcmp(key, "src") == 0) && val)
                return set_str(&m->source, val, err);
        if ((strcmp(key, "target") == 0 || strcmp(key, "dst") == 0 ||
             strcmp(key, "destination") == 0) &&
            val)
                return set_str(&m->target, val, err);
        if (strcmp(key, "readonly") == 0 || strcmp(key, "ro") == 0)
                return mount_bool(key, val, &m->readonly, err);
        if (strcmp(key, "volume-nocopy") == 0)
                return mount_bool(key, val, &m->nocopy, err);
        if (strcmp(key, "bind-propagation") == 0 && val) {
                if (!is_propagation(val))
                        return berth_error_set(err, EINVAL, "invalid value for %s: %s", key, val);
                return set_str(&m->propagation, val, err);
        }
        if (strcmp(key, "tmpfs-size") == 0 && val) {
                if (berth_parse_ram_bytes(val, &v, NULL) < 0 || v <= 0)
                        return berth_error_set(err, EINVAL, "invalid value for %s: %s", key, val);
                m->tmpfs_size = (uint64_t)v;
                return 0;
        }
        if (strcmp(key, "tmpfs-mode") == 0 && val) {
                char *end;
                unsigned long mode;
                errno = 0;
                mode = strtoul(val, &end, 8);
                if (!*val || *end || errno || mode > 07777)
                        return berth_error_set(err, EINVAL, "invalid value for %s: %s", key, val);
                m->tmpfs_mode = (uint32_t)mode;
                return 0;
        }
        if (!val && strcmp(key, "readonly") != 0)
                return berth_error_set(err, EINVAL, "invalid field '%s' must be a key=value pair",
                                       key);
        return berth_error_set(err, EINVAL, "unexpected key '%s' in '%s'", key, value);
}

int berth_parse_mount(berth_run_options *o, const char *value, berth_error *err)
{
        _cleanup_free_ char *copy = strdup(value);
        berth_mount_spec m = { .type = BERTH_MOUNT_VOLUME }; /* docker's default type */
        bool type_set = false;
        const char *tname;
        char *p, *next;
        int r = 0;

        if (!copy)
                return oom(err);
        for (p = copy; p && r >= 0; p = next) {
                char *eq;
                next = strchr(p, ',');
                if (next)
                        *next++ = '\0';
                eq = strchr(p, '=');
                if (eq)
                        *eq = '\0';
                r = mount_field(&m, &type_set, p, eq ? eq + 1 : NULL, value, err);
        }
        tname = m.type == BERTH_MOUNT_BIND    ? "bind"
                : m.type == BERTH_MOUNT_TMPFS ? "tmpfs"
                                              : "volume";
        if (r >= 0 && (!m.target || !*m.target))
                r = berth_error_set(err, EINVAL, "target is required");
        else if (r >= 0 && m.target[0] != '/')
                r = berth_error_set(err, EINVAL,
                                    "invalid mount config for type \"%s\": invalid mount path: "
                                    "'%s' mount path must be absolute",
                                    tname, m.target);
        if (r >= 0 && m.type == BERTH_MOUNT_BIND && (!m.source || !*m.source))
                r = berth_error_set(err, EINVAL,
                                    "invalid mount config for type \"bind\": field Source must "
                                    "not be empty");
        else if (r >= 0 && m.type == BERTH_MOUNT_BIND && m.source[0] != '/')
                r = berth_error_set(err, EINVAL,
                                    "invalid mount config for type \"bind\": invalid mount path: "
                                    "'%s' mount path must be absolute",
                                    m.source);
        if (r >= 0 && m.type == BERTH_MOUNT_TMPFS && m.source)
                r = berth_error_set(err, EINVAL,
                                    "invalid mount config for type \"tmpfs\": field Source must "
                                    "not be specified");
        if (r >= 0 && m.type != BERTH_MOUNT_TMPFS && (m.tmpfs_size || m.tmpfs_mode))
                r = berth_error_set(err, EINVAL,
                                    "invalid mount config for type \"%s\": field TmpfsOptions "
                                    "must not be specified",
                                    tname);
        if (r >= 0 && m.type != BERTH_MOUNT_BIND && m.propagation)
                r = berth_error_set(err, EINVAL,
                                    "invalid mount config for type \"%s\": field BindOptions "
                                    "must not be specified",
                                    tname);
        if (r >= 0 && m.type != BERTH_MOUNT_VOLUME && m.nocopy)
                r = berth_error_set(err, EINVAL,
                                    "invalid mount config for type \"%s\": field VolumeOptions "
                                    "must not be specified",
                                    tname);
        if (r < 0) {
                berth_mount_spec_release(&m);
                return r;
        }
        return add_mount(o, &m, err);
}

int berth_parse_tmpfs(berth_run_options *o, const char *value, berth_error *err)
{
        const char *colon = strchr(value, ':');
        berth_mount_spec m = { .type = BERTH_MOUNT_TMPFS };
        _cleanup_free_ char *opts = NULL;
        char *p, *next;
        int r = 0;

        m.target = colon ? strndup(value, (size_t)(colon - value)) : strdup(value);
        if (!m.target)
                return oom(err);
        if (m.target[0] != '/') {
                r = berth_error_set(err, EINVAL,
                                    "invalid mount config for type \"tmpfs\": invalid mount "
                                    "path: '%s' mount path must be absolute",
                                    m.target);
                berth_mount_spec_release(&m);
                return r;
        }
        if (colon && colon[1]) {
                opts = strdup(colon + 1);
                if (!opts) {
                        berth_mount_spec_release(&m);
                        return oom(err);
                }
        }
        for (p = opts; p && r >= 0; p = next) {
                int64_t v;
                next = strchr(p, ',');
                if (next)
                        *next++ = '\0';
                if (!*p)
                        continue;
                if (strcmp(p, "ro") == 0 || strcmp(p, "rw") == 0)
                        m.readonly = p[1] == 'o';
                else if (strncmp(p, "size=", 5) == 0) {
                        if (berth_parse_ram_bytes(p + 5, &v, NULL) < 0 || v <= 0)
                                r = berth_error_set(err, EINVAL,
                                                    "invalid tmpfs option \"%s\" in --tmpfs %s", p,
                                                    value);
                        else
                                m.tmpfs_size = (uint64_t)v;
                } else if (strncmp(p, "mode=", 5) == 0) {
                        char *end;
                        unsigned long mode;
                        errno = 0;
                        mode = strtoul(p + 5, &end, 8);
                        if (!p[5] || *end || errno || mode > 07777)
                                r = berth_error_set(err, EINVAL,
                                                    "invalid tmpfs option \"%s\" in --tmpfs %s", p,
                                                    value);
                        else
                                m.tmpfs_mode = (uint32_t)mode;
                } else if (berth_strv_push(&m.tmpfs_options, p) < 0)
                        r = oom(err);
        }
        if (r < 0) {
                berth_mount_spec_release(&m);
                return r;
        }
        return add_mount(o, &m, err);
}

int berth_parse_entrypoint(berth_run_options *o, const char *value, berth_error *err)
{
        strv_free(TAKE_PTR(o->entrypoint));
        o->has_entrypoint = true;
        if (!*value)
                return 0;
        return berth_strv_push(&o->entrypoint, value) < 0 ? oom(err) : 0;
}
