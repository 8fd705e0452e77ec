/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * berth-testhelper: what integration tests run inside a container to see what
 * the container sees (ids, capabilities, mounts, namespaces, limits, fds, ...)
 * and to try operations the container should or should not be allowed.
 *
 * It links nothing but libc, statically, so it runs in any rootfs, bare busybox
 * included. Its output is a contract with tests/integration: change a format
 * only together with the tests that read it. Operations that may fail print
 * "ok" or the errno name (EPERM, ...) and exit 0, so a test asserts on the
 * output; bad usage exits 2.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>

/* The few cleanup helpers of src/basic/cleanup.h, repeated to stay libc-only. */
static inline void freep(void *p)
{
        free(*(void **)p);
}

static inline void closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}

static inline void fclosep(FILE **f)
{
        if (*f) {
                int saved = errno;
                fclose(*f);
                errno = saved;
        }
}

static inline void closedirp(DIR **d)
{
        if (*d) {
                int saved = errno;
                closedir(*d);
                errno = saved;
        }
}

#define _cleanup_(f)       __attribute__((cleanup(f)))
#define _cleanup_free_     _cleanup_(freep)
#define _cleanup_close_    _cleanup_(closep)
#define _cleanup_fclose_   _cleanup_(fclosep)
#define _cleanup_closedir_ _cleanup_(closedirp)
#define ARRAY_SIZE(a)      (sizeof(a) / sizeof((a)[0]))

#define TAKE_PTR(p)                                                                                \
        ({                                                                                         \
                __typeof__(p) _p = (p);                                                            \
                (p) = NULL;                                                                        \
                _p;                                                                                \
        })

#define TAKE_FD(fd)                                                                                \
        ({                                                                                         \
                int _fd = (fd);                                                                    \
                (fd) = -1;                                                                         \
                _fd;                                                                               \
        })

#define _unused_ __attribute__((unused))

#define PROG "berth-testhelper"

/* ---- names ---------------------------------------------------------------- */

struct name {
        int num;
        const char *name;
};

/* EOPNOTSUPP and ENOTSUP, EAGAIN and EWOULDBLOCK share a number on Linux. */
static const struct name errno_names[] = {
        { EPERM, "EPERM" },
        { ENOENT, "ENOENT" },
        { ESRCH, "ESRCH" },
        { EINTR, "EINTR" },
        { EIO, "EIO" },
        { ENXIO, "ENXIO" },
        { E2BIG, "E2BIG" },
        { ENOEXEC, "ENOEXEC" },
        { EBADF, "EBADF" },
        { ECHILD, "ECHILD" },
        { EAGAIN, "EAGAIN" },
        { ENOMEM, "ENOMEM" },
        { EACCES, "EACCES" },
        { EFAULT, "EFAULT" },
        { ENOTBLK, "ENOTBLK" },
        { EBUSY, "EBUSY" },
        { EEXIST, "EEXIST" },
        { EXDEV, "EXDEV" },
        { ENODEV, "ENODEV" },
        { ENOTDIR, "ENOTDIR" },
        { EISDIR, "EISDIR" },
        { EINVAL, "EINVAL" },
        { ENFILE, "ENFILE" },
        { EMFILE, "EMFILE" },
        { ENOTTY, "ENOTTY" },
        { ETXTBSY, "ETXTBSY" },
        { EFBIG, "EFBIG" },
        { ENOSPC, "ENOSPC" },
        { ESPIPE, "ESPIPE" },
        { EROFS, "EROFS" },
        { EMLINK, "EMLINK" },
        { EPIPE, "EPIPE" },
        { EDOM, "EDOM" },
        { ERANGE, "ERANGE" },
        { EDEADLK, "EDEADLK" },
        { ENAMETOOLONG, "ENAMETOOLONG" },
        { ENOLCK, "ENOLCK" },
        { ENOSYS, "ENOSYS" },
        { ENOTEMPTY, "ENOTEMPTY" },
        { ELOOP, "ELOOP" },
        { ENODATA, "ENODATA" },
        { EOVERFLOW, "EOVERFLOW" },
        { ENOTSOCK, "ENOTSOCK" },
        { EOPNOTSUPP, "EOPNOTSUPP" },
        { EAFNOSUPPORT, "EAFNOSUPPORT" },
        { EADDRINUSE, "EADDRINUSE" },
        { EADDRNOTAVAIL, "EADDRNOTAVAIL" },
        { ENETDOWN, "ENETDOWN" },
        { ENETUNREACH, "ENETUNREACH" },
        { ECONNRESET, "ECONNRESET" },
        { ENOTCONN, "ENOTCONN" },
        { ETIMEDOUT, "ETIMEDOUT" },
        { ECONNREFUSED, "ECONNREFUSED" },
        { EHOSTUNREACH, "EHOSTUNREACH" },
        { ESTALE, "ESTALE" },
        { EDQUOT, "EDQUOT" },
        { ENOMEDIUM, "ENOMEDIUM" },
        { ECANCELED, "ECANCELED" },
        { EOWNERDEAD, "EOWNERDEAD" },
};

static const struct name signal_names[] = {
        { SIGHUP, "SIGHUP" },   { SIGINT, "SIGINT" },       { SIGQUIT, "SIGQUIT" },
        { SIGILL, "SIGILL" },   { SIGTRAP, "SIGTRAP" },     { SIGABRT, "SIGABRT" },
        { SIGBUS, "SIGBUS" },   { SIGFPE, "SIGFPE" },       { SIGKILL, "SIGKILL" },
        { SIGUSR1, "SIGUSR1" }, { SIGSEGV, "SIGSEGV" },     { SIGUSR2, "SIGUSR2" },
        { SIGPIPE, "SIGPIPE" }, { SIGALRM, "SIGALRM" },     { SIGTERM, "SIGTERM" },
        { SIGCHLD, "SIGCHLD" }, { SIGCONT, "SIGCONT" },     { SIGSTOP, "SIGSTOP" },
        { SIGTSTP, "SIGTSTP" }, { SIGTTIN, "SIGTTIN" },     { SIGTTOU, "SIGTTOU" },
        { SIGURG, "SIGURG" },   { SIGXCPU, "SIGXCPU" },     { SIGXFSZ, "SIGXFSZ" },
        { SIGPROF, "SIGPROF" }, { SIGVTALRM, "SIGVTALRM" }, { SIGWINCH, "SIGWINCH" },
        { SIGIO, "SIGIO" },     { SIGPWR, "SIGPWR" },       { SIGSYS, "SIGSYS" },
};

/* Bits 0..40 as of Linux 5.9 (CAP_CHECKPOINT_RESTORE). */
static const char *const cap_names[] = {
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_DAC_READ_SEARCH",
        "CAP_FOWNER",
        "CAP_FSETID",
        "CAP_KILL",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETPCAP",
        "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST",
        "CAP_NET_ADMIN",
        "CAP_NET_RAW",
        "CAP_IPC_LOCK",
        "CAP_IPC_OWNER",
        "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO",
        "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT",
        "CAP_SYS_ADMIN",
        "CAP_SYS_BOOT",
        "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG",
        "CAP_MKNOD",
        "CAP_LEASE",
        "CAP_AUDIT_WRITE",
        "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN",
        "CAP_SYSLOG",
        "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND",
        "CAP_AUDIT_READ",
        "CAP_PERFMON",
        "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE",
};

static const struct name rlimit_names[] = {
        { RLIMIT_AS, "RLIMIT_AS" },
        { RLIMIT_CORE, "RLIMIT_CORE" },
        { RLIMIT_CPU, "RLIMIT_CPU" },
        { RLIMIT_DATA, "RLIMIT_DATA" },
        { RLIMIT_FSIZE, "RLIMIT_FSIZE" },
        { RLIMIT_LOCKS, "RLIMIT_LOCKS" },
        { RLIMIT_MEMLOCK, "RLIMIT_MEMLOCK" },
        { RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE" },
        { RLIMIT_NICE, "RLIMIT_NICE" },
        { RLIMIT_NOFILE, "RLIMIT_NOFILE" },
        { RLIMIT_NPROC, "RLIMIT_NPROC" },
        { RLIMIT_RSS, "RLIMIT_RSS" },
        { RLIMIT_RTPRIO, "RLIMIT_RTPRIO" },
        { RLIMIT_RTTIME, "RLIMIT_RTTIME" },
        { RLIMIT_SIGPENDING, "RLIMIT_SIGPENDING" },
        { RLIMIT_STACK, "RLIMIT_STACK" },
};

static const char *lookup_name(const struct name *table, size_t n, int num)
{
        for (size_t i = 0; i < n; i++)
                if (table[i].num == num)
                        return table[i].name;
        return NULL;
}

/* "EPERM", or "E<n>" for numbers not in the table. Not reentrant. */
static const char *errno_name(int e)
{
        static char buf[32];
        const char *s = lookup_name(errno_names, ARRAY_SIZE(errno_names), e);

        if (s)
                return s;
        snprintf(buf, sizeof(buf), "E%d", e);
        return buf;
}

static const char *signal_name(int sig)
{
        static char buf[32];
        const char *s = lookup_name(signal_names, ARRAY_SIZE(signal_names), sig);

        if (s)
                return s;
        snprintf(buf, sizeof(buf), "SIG%d", sig);
        return buf;
}

/* ---- checked parsing -------------------------------------------------------- */

/* Parses a whole decimal string into [min, max]; -1 with errno set otherwise. */
static int parse_ll(const char *s, long long min, long long max, long long *ret)
{
        char *end = NULL;
        long long v;

        if (!s || !*s || isspace((unsigned char)*s)) {
                errno = EINVAL;
                return -1;
        }
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno != 0)
                return -1;
        if (*end != '\0') {
                errno = EINVAL;
                return -1;
        }
        if (v < min || v > max) {
                errno = ERANGE;
                return -1;
        }
        *ret = v;
        return 0;
}

/* Parses a whole hexadecimal string (no 0x) as /proc/self/status shows masks. */
static int parse_hex_u64(const char *s, uint64_t *ret)
{
        char *end = NULL;
        unsigned long long v;

        if (!s || !isxdigit((unsigned char)*s)) {
                errno = EINVAL;
                return -1;
        }
        errno = 0;
        v = strtoull(s, &end, 16);
        if (errno != 0)
                return -1;
        if (*end != '\0') {
                errno = EINVAL;
                return -1;
        }
        *ret = v;
        return 0;
}

/* Non-negative, finite seconds, fractions allowed, at most a year. */
static int parse_seconds(const char *s, struct timespec *ret)
{
        char *end = NULL;
        double v;

        if (!s || !*s || isspace((unsigned char)*s)) {
                errno = EINVAL;
                return -1;
        }
        errno = 0;
        v = strtod(s, &end);
        if (errno != 0)
                return -1;
        if (*end != '\0' || !isfinite(v)) {
                errno = EINVAL;
                return -1;
        }
        if (v < 0 || v > 366.0 * 24 * 3600) {
                errno = ERANGE;
                return -1;
        }
        ret->tv_sec = (time_t)v;
        ret->tv_nsec = (long)((v - (double)ret->tv_sec) * 1e9);
        if (ret->tv_nsec > 999999999)
                ret->tv_nsec = 999999999;
        return 0;
}

static int bad_arg(const char *what, const char *value)
{
        fprintf(stderr, PROG ": invalid %s '%s': %s\n", what, value, errno_name(errno));
        return 2;
}

/* ---- small I/O helpers ------------------------------------------------------ */

/* Reads a whole file of at most max bytes into a NUL-terminated buffer. */
static char *read_file(const char *path, size_t max, size_t *ret_len)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, size = 0;

        if (fd < 0)
                return NULL;
        for (;;) {
                ssize_t n;

                if (size - len < 2) {
                        size_t nsize = size ? size * 2 : 4096;
                        char *nbuf;

                        if (size >= max) {
                                errno = EFBIG;
                                return NULL;
                        }
                        if (nsize > max)
                                nsize = max;
                        nbuf = realloc(buf, nsize);
                        if (!nbuf)
                                return NULL;
                        buf = nbuf;
                        size = nsize;
                }
                n = read(fd, buf + len, size - len - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return NULL;
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        buf[len] = '\0';
        if (ret_len)
                *ret_len = len;
        return TAKE_PTR(buf);
}

/* readlinkat() into a fresh NUL-terminated string, however long the target. */
static char *read_link_at(int dirfd, const char *path)
{
        size_t size = 256;

        for (;;) {
                char *buf = malloc(size);
                ssize_t n;

                if (!buf)
                        return NULL;
                n = readlinkat(dirfd, path, buf, size);
                if (n < 0) {
                        int saved = errno;
                        free(buf);
                        errno = saved;
                        return NULL;
                }
                if ((size_t)n < size) {
                        buf[n] = '\0';
                        return buf;
                }
                free(buf);
                if (size > SIZE_MAX / 2) {
                        errno = ENAMETOOLONG;
                        return NULL;
                }
                size *= 2;
        }
}

static int sleep_for(struct timespec ts)
{
        while (nanosleep(&ts, &ts) < 0)
                if (errno != EINTR)
                        return -1;
        return 0;
}

static int cmp_strp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_int(const void *a, const void *b)
{
        int x = *(const int *)a, y = *(const int *)b;

        return (x > y) - (x < y);
}

/* ---- JSON writer -------------------------------------------------------------- */

/*
 * Streams one JSON value to a FILE. need_comma is all the state a writer of
 * well-nested calls needs: true after a finished value, false after an
 * opening bracket or a key.
 */
struct json {
        FILE *f;
        bool need_comma;
};

static void json_sep(struct json *j)
{
        if (j->need_comma)
                fputc(',', j->f);
        j->need_comma = false;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
        unsigned char lo = 0x80, hi = 0xbf;
        size_t len;

        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                len = 2;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                len = 3;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                len = 4;
        else
                return 0;
        /* Second-byte ranges that exclude overlongs, surrogates and > U+10FFFF. */
        if (s[0] == 0xe0)
                lo = 0xa0;
        else if (s[0] == 0xed)
                hi = 0x9f;
        else if (s[0] == 0xf0)
                lo = 0x90;
        else if (s[0] == 0xf4)
                hi = 0x8f;
        if (n < len || s[1] < lo || s[1] > hi)
                return 0;
        for (size_t i = 2; i < len; i++)
                if (s[i] < 0x80 || s[i] > 0xbf)
                        return 0;
        return len;
}

/* Writes s as a JSON string; bytes that are not UTF-8 become \u00XX. */
static void json_write_str(FILE *f, const char *str, size_t n)
{
        const unsigned char *s = (const unsigned char *)str;

        fputc('"', f);
        for (size_t i = 0; i < n;) {
                unsigned char c = s[i];
                size_t len;

                switch (c) {
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                case '\r':
                        fputs("\\r", f);
                        break;
                case '\t':
                        fputs("\\t", f);
                        break;
                default:
                        len = c < 0x20 || c == 0x7f ? 0 : utf8_len(s + i, n - i);
                        if (len == 0) {
                                fprintf(f, "\\u%04x", c);
                                break;
                        }
                        fwrite(s + i, 1, len, f);
                        i += len;
                        continue;
                }
                i++;
        }
        fputc('"', f);
}

static void json_open(struct json *j, char bracket)
{
        json_sep(j);
        fputc(bracket, j->f);
}

static void json_close(struct json *j, char bracket)
{
        fputc(bracket, j->f);
        j->need_comma = true;
}

static void json_key(struct json *j, const char *key)
{
        json_sep(j);
        json_write_str(j->f, key, strlen(key));
        fputc(':', j->f);
}

static void json_null(struct json *j)
{
        json_sep(j);
        fputs("null", j->f);
        j->need_comma = true;
}

static void json_strn(struct json *j, const char *s, size_t n)
{
        json_sep(j);
        json_write_str(j->f, s, n);
        j->need_comma = true;
}

/* A string value, or null for NULL. */
static void json_str(struct json *j, const char *s)
{
        if (s)
                json_strn(j, s, strlen(s));
        else
                json_null(j);
}

static void json_int(struct json *j, long long v)
{
        json_sep(j);
        fprintf(j->f, "%lld", v);
        j->need_comma = true;
}

static void json_uint(struct json *j, unsigned long long v)
{
        json_sep(j);
        fprintf(j->f, "%llu", v);
        j->need_comma = true;
}

static void json_bool(struct json *j, bool v)
{
        json_sep(j);
        fputs(v ? "true" : "false", j->f);
        j->need_comma = true;
}

/* ---- report ------------------------------------------------------------------- */

/*
 * Copies the value of the "Key:<tab>value" line of /proc/self/status text into
 * buf; NULL if the line is missing or longer than buf.
 */
static const char *status_value(const char *status, const char *key, char *buf, size_t size)
{
        size_t klen = strlen(key);

        for (const char *p = status; p && *p;) {
                const char *nl = strchr(p, '\n');
                const char *end = nl ? nl : p + strlen(p);

                if (strncmp(p, key, klen) == 0 && p[klen] == ':') {
                        const char *v = p + klen + 1;

                        while (v < end && (*v == ' ' || *v == '\t'))
                                v++;
                        if ((size_t)(end - v) >= size)
                                return NULL;
                        memcpy(buf, v, (size_t)(end - v));
                        buf[end - v] = '\0';
                        return buf;
                }
                p = nl ? nl + 1 : NULL;
        }
        return NULL;
}

static void report_ids(struct json *j)
{
        int n = getgroups(0, NULL);
        _cleanup_free_ gid_t *groups = NULL;

        json_key(j, "pid");
        json_int(j, getpid());
        json_key(j, "ppid");
        json_int(j, getppid());
        json_key(j, "uid");
        json_uint(j, getuid());
        json_key(j, "gid");
        json_uint(j, getgid());
        json_key(j, "euid");
        json_uint(j, geteuid());
        json_key(j, "egid");
        json_uint(j, getegid());

        json_key(j, "groups");
        if (n > 0) {
                groups = calloc((size_t)n, sizeof(gid_t));
                if (groups)
                        n = getgroups(n, groups);
        }
        if (n < 0 || (n > 0 && !groups)) {
                json_null(j);
                return;
        }
        json_open(j, '[');
        for (int i = 0; i < n; i++)
                json_uint(j, groups[i]);
        json_close(j, ']');
}

static void report_process(struct json *j)
{
        struct utsname u;
        _cleanup_free_ char *cwd = getcwd(NULL, 0);
        mode_t mask = umask(0);
        bool have_uname = uname(&u) == 0;
        char buf[16];

        umask(mask);
        json_key(j, "hostname");
        json_str(j, have_uname ? u.nodename : NULL);
        json_key(j, "domainname");
        json_str(j, have_uname ? u.domainname : NULL);
        json_key(j, "cwd");
        json_str(j, cwd);
        json_key(j, "umask");
        snprintf(buf, sizeof(buf), "%04o", (unsigned)mask);
        json_str(j, buf);
        json_key(j, "no_new_privs");
        json_int(j, prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
}

/* A capability mask as an array of names, null if the hex does not parse. */
static void json_caps(struct json *j, const char *hex)
{
        uint64_t mask;

        if (!hex || parse_hex_u64(hex, &mask) < 0) {
                json_null(j);
                return;
        }
        json_open(j, '[');
        for (unsigned bit = 0; bit < 64; bit++) {
                char buf[16];

                if (!(mask & (UINT64_C(1) << bit)))
                        continue;
                if (bit < ARRAY_SIZE(cap_names)) {
                        json_str(j, cap_names[bit]);
                } else {
                        snprintf(buf, sizeof(buf), "CAP_%u", bit);
                        json_str(j, buf);
                }
        }
        json_close(j, ']');
}

static void report_status(struct json *j)
{
        static const struct {
                const char *key, *field;
        } sets[] = {
                { "bounding", "CapBnd" },    { "effective", "CapEff" }, { "permitted", "CapPrm" },
                { "inheritable", "CapInh" }, { "ambient", "CapAmb" },
        };
        _cleanup_free_ char *status = read_file("/proc/self/status", 1 << 20, NULL);
        char buf[64];
        const char *v;
        long long seccomp;

        json_key(j, "seccomp");
        v = status ? status_value(status, "Seccomp", buf, sizeof(buf)) : NULL;
        json_int(j, v && parse_ll(v, INT_MIN, INT_MAX, &seccomp) == 0 ? seccomp : -1);

        json_key(j, "caps");
        json_open(j, '{');
        for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
                json_key(j, sets[i].key);
                json_caps(j, status ? status_value(status, sets[i].field, buf, sizeof(buf)) : NULL);
        }
        json_close(j, '}');

        json_key(j, "caps_hex");
        json_open(j, '{');
        for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
                json_key(j, sets[i].key);
                json_str(j, status ? status_value(status, sets[i].field, buf, sizeof(buf)) : NULL);
        }
        json_close(j, '}');

        json_key(j, "sigmask");
        json_str(j, status ? status_value(status, "SigBlk", buf, sizeof(buf)) : NULL);
        json_key(j, "sigignore");
        json_str(j, status ? status_value(status, "SigIgn", buf, sizeof(buf)) : NULL);
}

static void report_rlimits(struct json *j)
{
        json_key(j, "rlimits");
        json_open(j, '{');
        for (size_t i = 0; i < ARRAY_SIZE(rlimit_names); i++) {
                struct rlimit rl;

                json_key(j, rlimit_names[i].name);
                if (getrlimit(rlimit_names[i].num, &rl) < 0) {
                        json_null(j);
                        continue;
                }
                json_open(j, '{');
                json_key(j, "soft");
                if (rl.rlim_cur == RLIM_INFINITY)
                        json_str(j, "unlimited");
                else
                        json_uint(j, rl.rlim_cur);
                json_key(j, "hard");
                if (rl.rlim_max == RLIM_INFINITY)
                        json_str(j, "unlimited");
                else
                        json_uint(j, rl.rlim_max);
                json_close(j, '}');
        }
        json_close(j, '}');
}

/* Open fds, sorted, without the one this listing itself holds. */
static void report_fds(struct json *j)
{
        _cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
        _cleanup_free_ int *fds = NULL;
        size_t n = 0, size = 0;
        struct dirent *de;

        json_key(j, "fds");
        if (!d) {
                json_null(j);
                return;
        }
        while ((de = readdir(d))) {
                long long fd;

                if (parse_ll(de->d_name, 0, INT_MAX, &fd) < 0 || fd == dirfd(d))
                        continue;
                if (n == size) {
                        size_t nsize = size ? size * 2 : 16;
                        int *nfds = reallocarray(fds, nsize, sizeof(int));

                        if (!nfds)
                                break;
                        fds = nfds;
                        size = nsize;
                }
                fds[n++] = (int)fd;
        }
        if (n > 0)
                qsort(fds, n, sizeof(int), cmp_int);

        json_open(j, '[');
        for (size_t i = 0; i < n; i++) {
                char name[16];
                _cleanup_free_ char *target = NULL;

                snprintf(name, sizeof(name), "%d", fds[i]);
                target = read_link_at(dirfd(d), name);
                if (!target)
                        continue; /* closed since readdir() */
                json_open(j, '{');
                json_key(j, "fd");
                json_int(j, fds[i]);
                json_key(j, "target");
                json_str(j, target);
                json_close(j, '}');
        }
        json_close(j, ']');
}

/* Undoes the kernel's \ooo escaping of spaces, tabs, newlines and backslashes. */
static char *unescape_octal(char *s)
{
        char *w = s;

        for (const char *r = s; *r;) {
                if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
                    r[3] >= '0' && r[3] <= '7') {
                        *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
                        r += 4;
                } else {
                        *w++ = *r++;
                }
        }
        *w = '\0';
        return s;
}

/*
 * One /proc/self/mountinfo line:
 *   id parent maj:min root mount_point options [optional...] - fstype source super_options
 * Returns -1 for a line that does not have that shape.
 */
static int report_mount_line(struct json *j, char *line)
{
        char *f[64];
        size_t n = 0, dash = 0;
        long long id, parent;

        line[strcspn(line, "\n")] = '\0';
        for (char *p = line; p && n < ARRAY_SIZE(f);) {
                f[n++] = p;
                p = strchr(p, ' ');
                if (p)
                        *p++ = '\0';
        }
        for (size_t i = 6; i < n && !dash; i++)
                if (strcmp(f[i], "-") == 0)
                        dash = i;
        if (!dash || dash + 2 >= n || parse_ll(f[0], 0, LLONG_MAX, &id) < 0 ||
            parse_ll(f[1], 0, LLONG_MAX, &parent) < 0)
                return -1;
        /* Rejoin the optional fields, which were split at single spaces. */
        for (size_t i = 6; i + 1 < dash; i++)
                f[i][strlen(f[i])] = ' ';

        json_open(j, '{');
        json_key(j, "id");
        json_int(j, id);
        json_key(j, "parent");
        json_int(j, parent);
        json_key(j, "mount_point");
        json_str(j, unescape_octal(f[4]));
        json_key(j, "root");
        json_str(j, unescape_octal(f[3]));
        json_key(j, "options");
        json_str(j, f[5]);
        json_key(j, "optional");
        json_str(j, dash > 6 ? f[6] : "");
        json_key(j, "fstype");
        json_str(j, unescape_octal(f[dash + 1]));
        json_key(j, "source");
        json_str(j, unescape_octal(f[dash + 2]));
        json_key(j, "super_options");
        json_str(j, dash + 3 < n ? unescape_octal(f[dash + 3]) : "");
        json_close(j, '}');
        return 0;
}

static void report_mounts(struct json *j)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        _cleanup_free_ char *line = NULL;
        size_t size = 0;

        json_key(j, "mounts");
        if (!f) {
                json_null(j);
                return;
        }
        json_open(j, '[');
        while (getline(&line, &size, f) > 0)
                if (report_mount_line(j, line) < 0)
                        fprintf(stderr, PROG ": skipping malformed mountinfo line\n");
        json_close(j, ']');
}

static void report_file_raw(struct json *j, const char *key, const char *path)
{
        size_t len = 0;
        _cleanup_free_ char *s = read_file(path, 1 << 20, &len);

        json_key(j, key);
        if (s)
                json_strn(j, s, len);
        else
                json_str(j, "");
}

static void report_env(struct json *j)
{
        json_key(j, "env");
        json_open(j, '[');
        for (char **e = environ; e && *e; e++)
                json_str(j, *e);
        json_close(j, ']');
}

static void report_ns(struct json *j)
{
        static const char *const names[] = { "pid", "net",  "mnt",    "ipc",
                                             "uts", "user", "cgroup", "time" };

        json_key(j, "ns");
        json_open(j, '{');
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                char path[64];
                _cleanup_free_ char *target = NULL;

                snprintf(path, sizeof(path), "/proc/self/ns/%s", names[i]);
                target = read_link_at(AT_FDCWD, path);
                json_key(j, names[i]);
                json_str(j, target);
        }
        json_close(j, '}');
}

static void report_misc(struct json *j)
{
        _cleanup_free_ char *oom = read_file("/proc/self/oom_score_adj", 64, NULL);
        long long adj;

        json_key(j, "personality");
        json_int(j, personality(0xffffffff));
        json_key(j, "oom_score_adj");
        if (oom)
                oom[strcspn(oom, "\n")] = '\0';
        if (oom && parse_ll(oom, INT_MIN, INT_MAX, &adj) == 0)
                json_int(j, adj);
        else
                json_null(j);
        json_key(j, "tty");
        json_bool(j, isatty(0));
        json_key(j, "ttyname");
        json_str(j, ttyname(0));
}

static int cmd_report(_unused_ int argc, _unused_ char **argv)
{
        struct json j = { .f = stdout };

        /* First, so that no file opened for another key shows up. */
        json_open(&j, '{');
        report_fds(&j);
        report_ids(&j);
        report_process(&j);
        report_status(&j);
        report_rlimits(&j);
        report_mounts(&j);
        report_file_raw(&j, "uid_map", "/proc/self/uid_map");
        report_file_raw(&j, "gid_map", "/proc/self/gid_map");
        report_env(&j);
        report_ns(&j);
        report_misc(&j);
        json_close(&j, '}');
        fputc('\n', stdout);
        return 0;
}

/* ---- processes and signals ---------------------------------------------------- */

static int cmd_exit(_unused_ int argc, char **argv)
{
        long long code;

        if (parse_ll(argv[0], 0, 255, &code) < 0)
                return bad_arg("exit code", argv[0]);
        return (int)code;
}

static int cmd_sleep(_unused_ int argc, char **argv)
{
        struct timespec ts;

        if (parse_seconds(argv[0], &ts) < 0)
                return bad_arg("seconds", argv[0]);
        sleep_for(ts);
        return 0;
}

static volatile sig_atomic_t caught_signal;

static void on_signal(int sig)
{
        caught_signal = sig;
}

static int cmd_pause(_unused_ int argc, _unused_ char **argv)
{
        static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2 };
        struct sigaction sa = { .sa_handler = on_signal };
        sigset_t block, wait_mask;

        /* Blocked until sigsuspend() so that no signal slips in before it. */
        sigemptyset(&block);
        for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
                sigaddset(&block, sigs[i]);
        sigprocmask(SIG_BLOCK, &block, &wait_mask);
        sa.sa_mask = block;
        for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
                if (sigaction(sigs[i], &sa, NULL) < 0) {
                        fprintf(stderr, PROG ": sigaction: %s\n", errno_name(errno));
                        return 1;
                }
        for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
                sigdelset(&wait_mask, sigs[i]);
        while (caught_signal == 0)
                sigsuspend(&wait_mask);

        printf("signal %s\n", signal_name(caught_signal));
        if (caught_signal == SIGUSR1 || caught_signal == SIGUSR2)
                return 0;
        return 128 + caught_signal;
}

/* A signal as a number, "TERM" or "SIGTERM". */
static int parse_signal(const char *s, int *ret)
{
        long long num;

        if (parse_ll(s, 0, SIGRTMAX, &num) == 0) {
                *ret = (int)num;
                return 0;
        }
        for (size_t i = 0; i < ARRAY_SIZE(signal_names); i++)
                if (strcmp(s, signal_names[i].name) == 0 ||
                    strcmp(s, signal_names[i].name + 3) == 0) {
                        *ret = signal_names[i].num;
                        return 0;
                }
        errno = EINVAL;
        return -1;
}

static int cmd_kill(_unused_ int argc, char **argv)
{
        long long pid;
        int sig;

        if (parse_ll(argv[0], INT_MIN + 1, INT_MAX, &pid) < 0)
                return bad_arg("pid", argv[0]);
        if (parse_signal(argv[1], &sig) < 0)
                return bad_arg("signal", argv[1]);
        puts(kill((pid_t)pid, sig) < 0 ? errno_name(errno) : "ok");
        return 0;
}

static int cmd_fork_exec(_unused_ int argc, char **argv)
{
        pid_t pid;
        int status;

        fflush(stdout);
        pid = fork();
        if (pid < 0) {
                puts(errno_name(errno));
                return 1;
        }
        if (pid == 0) {
                execvp(argv[0], argv);
                fprintf(stderr, PROG ": exec %s: %s\n", argv[0], errno_name(errno));
                _exit(errno == ENOENT ? 127 : 126);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        puts(errno_name(errno));
                        return 1;
                }
        if (WIFEXITED(status))
                printf("exit %d\n", WEXITSTATUS(status));
        else if (WIFSIGNALED(status))
                printf("signal %d\n", WTERMSIG(status));
        return 0;
}

static int cmd_spawn_sleepers(_unused_ int argc, char **argv)
{
        long long n;
        struct timespec ts;

        if (parse_ll(argv[0], 0, 10000, &n) < 0)
                return bad_arg("count", argv[0]);
        if (parse_seconds(argv[1], &ts) < 0)
                return bad_arg("seconds", argv[1]);
        fflush(stdout);
        for (long long i = 0; i < n; i++) {
                pid_t pid = fork();

                if (pid < 0) {
                        fprintf(stderr, PROG ": fork: %s\n", errno_name(errno));
                        break;
                }
                if (pid == 0) {
                        sleep_for(ts);
                        _exit(0);
                }
        }
        sleep_for(ts);
        while (wait(NULL) > 0 || errno == EINTR)
                ;
        return 0;
}

static int cmd_alloc(_unused_ int argc, char **argv)
{
        const size_t mib = 1024 * 1024;
        /* 1 TiB, or what size_t can count on a 32-bit build. */
        const long long max_mb =
                SIZE_MAX / mib - 1 < (1 << 20) ? (long long)(SIZE_MAX / mib - 1) : (1 << 20);
        long page = sysconf(_SC_PAGESIZE);
        long long mb;
        _cleanup_free_ char *buf = NULL;

        if (parse_ll(argv[0], 0, max_mb, &mb) < 0)
                return bad_arg("megabytes", argv[0]);
        if (page <= 0)
                page = 4096;
        buf = malloc((size_t)mb * mib + 1);
        if (!buf) {
                puts(errno_name(ENOMEM));
                return 1;
        }
        /* volatile, so the compiler cannot drop stores nobody reads back. */
        for (size_t i = 0; i < (size_t)mb * mib; i += (size_t)page)
                ((volatile char *)buf)[i] = 1;
        puts("ok");
        fflush(stdout);
        sleep_for((struct timespec){ .tv_sec = 1 });
        return 0;
}

static double seconds_of(struct timespec ts)
{
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Spins for SECONDS of wall time and prints the CPU time it got and the
 * wall time, in milliseconds: "cpu_ms wall_ms". Under a CPU quota the first
 * stays near quota/period of the second.
 */
static int cmd_burn(_unused_ int argc, char **argv)
{
        struct timespec want, start, now, cpu;
        volatile unsigned long spin = 0;

        if (parse_seconds(argv[0], &want) < 0)
                return bad_arg("seconds", argv[0]);
        clock_gettime(CLOCK_MONOTONIC, &start);
        do {
                for (int i = 0; i < 100000; i++)
                        spin++;
                clock_gettime(CLOCK_MONOTONIC, &now);
        } while (seconds_of(now) - seconds_of(start) < seconds_of(want));
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
        printf("%.0f %.0f\n", seconds_of(cpu) * 1000, (seconds_of(now) - seconds_of(start)) * 1000);
        return 0;
}

/* ---- files -------------------------------------------------------------------- */

static int cmd_open(int argc, char **argv)
{
        const char *mode = argc > 1 ? argv[1] : "r";
        int flags;
        _cleanup_close_ int fd = -1;

        if (strcmp(mode, "r") == 0)
                flags = O_RDONLY;
        else if (strcmp(mode, "w") == 0)
                flags = O_WRONLY;
        else if (strcmp(mode, "rw") == 0)
                flags = O_RDWR;
        else {
                errno = EINVAL;
                return bad_arg("mode (r, w or rw)", mode);
        }
        fd = open(argv[0], flags | O_CLOEXEC | O_NOCTTY);
        puts(fd < 0 ? errno_name(errno) : "ok");
        return 0;
}

/* Creates the file if missing, so that a read-only rootfs shows as EROFS. */
static int cmd_write(_unused_ int argc, char **argv)
{
        _cleanup_close_ int fd = -1;
        const char *p = argv[1];
        size_t left = strlen(p);

        fd = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
        if (fd < 0) {
                puts(errno_name(errno));
                return 0;
        }
        while (left > 0) {
                ssize_t n = write(fd, p, left);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        puts(errno_name(errno));
                        return 0;
                }
                p += n;
                left -= (size_t)n;
        }
        if (close(TAKE_FD(fd)) < 0) {
                puts(errno_name(errno));
                return 0;
        }
        puts("ok");
        return 0;
}

static const char *file_type(mode_t mode)
{
        switch (mode & S_IFMT) {
        case S_IFCHR:
                return "char";
        case S_IFBLK:
                return "block";
        case S_IFDIR:
                return "dir";
        case S_IFREG:
                return "file";
        case S_IFLNK:
                return "symlink";
        case S_IFIFO:
                return "fifo";
        case S_IFSOCK:
                return "socket";
        default:
                return "unknown";
        }
}

static int cmd_stat(_unused_ int argc, char **argv)
{
        struct json j = { .f = stdout };
        struct stat st;
        char mode[16];

        json_open(&j, '{');
        if (lstat(argv[0], &st) < 0) {
                json_key(&j, "error");
                json_str(&j, errno_name(errno));
        } else {
                snprintf(mode, sizeof(mode), "%04o", (unsigned)(st.st_mode & 07777));
                json_key(&j, "type");
                json_str(&j, file_type(st.st_mode));
                json_key(&j, "mode");
                json_str(&j, mode);
                json_key(&j, "uid");
                json_uint(&j, st.st_uid);
                json_key(&j, "gid");
                json_uint(&j, st.st_gid);
                json_key(&j, "major");
                json_uint(&j, major(st.st_rdev));
                json_key(&j, "minor");
                json_uint(&j, minor(st.st_rdev));
                json_key(&j, "size");
                json_int(&j, st.st_size);
        }
        json_close(&j, '}');
        fputc('\n', stdout);
        return 0;
}

static int cmd_cat(_unused_ int argc, char **argv)
{
        _cleanup_close_ int fd = open(argv[0], O_RDONLY | O_CLOEXEC | O_NOCTTY);
        char buf[65536];

        if (fd < 0) {
                fprintf(stderr, "%s\n", errno_name(errno));
                return 1;
        }
        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        fprintf(stderr, "%s\n", errno_name(errno));
                        return 1;
                }
                if (n == 0)
                        return 0;
                fwrite(buf, 1, (size_t)n, stdout);
        }
}

/* A growable list of strings that a cleanup attribute frees. */
struct strlist {
        char **v;
        size_t n, size;
};

static void strlist_release(struct strlist *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
        free(l->v);
}

static int strlist_add(struct strlist *l, const char *s)
{
        if (l->n == l->size) {
                size_t nsize = l->size ? l->size * 2 : 64;
                char **nv = reallocarray(l->v, nsize, sizeof(char *));

                if (!nv)
                        return -1;
                l->v = nv;
                l->size = nsize;
        }
        l->v[l->n] = strdup(s);
        if (!l->v[l->n])
                return -1;
        l->n++;
        return 0;
}

static int cmd_ls(_unused_ int argc, char **argv)
{
        _cleanup_closedir_ DIR *d = opendir(argv[0]);
        _cleanup_(strlist_release) struct strlist names = { 0 };
        struct dirent *de;

        if (!d) {
                fprintf(stderr, "%s\n", errno_name(errno));
                return 1;
        }
        for (;;) {
                errno = 0;
                de = readdir(d);
                if (!de)
                        break;
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (strlist_add(&names, de->d_name) < 0)
                        break;
        }
        if (errno != 0) {
                fprintf(stderr, "%s\n", errno_name(errno));
                return 1;
        }
        if (names.n > 0)
                qsort(names.v, names.n, sizeof(char *), cmp_strp);
        for (size_t i = 0; i < names.n; i++)
                puts(names.v[i]);
        return 0;
}

static int cmd_mkdir(_unused_ int argc, char **argv)
{
        puts(mkdir(argv[0], 0755) < 0 ? errno_name(errno) : "ok");
        return 0;
}

/* mknod PATH c|b MAJOR MINOR, or mknod PATH p. */
static int cmd_mknod(int argc, char **argv)
{
        long long maj = 0, min = 0;
        mode_t type;

        if (strcmp(argv[1], "c") == 0)
                type = S_IFCHR;
        else if (strcmp(argv[1], "b") == 0)
                type = S_IFBLK;
        else if (strcmp(argv[1], "p") == 0 && argc == 2)
                type = S_IFIFO;
        else {
                errno = EINVAL;
                return bad_arg("node type (c, b or p)", argv[1]);
        }
        if (type != S_IFIFO) {
                if (argc != 4) {
                        fprintf(stderr, "usage: " PROG " mknod PATH c|b MAJOR MINOR\n");
                        return 2;
                }
                if (parse_ll(argv[2], 0, UINT32_MAX, &maj) < 0)
                        return bad_arg("major", argv[2]);
                if (parse_ll(argv[3], 0, UINT32_MAX, &min) < 0)
                        return bad_arg("minor", argv[3]);
        }
        puts(mknod(argv[0], type | 0666, makedev((unsigned)maj, (unsigned)min)) < 0
                     ? errno_name(errno)
                     : "ok");
        return 0;
}

/* ---- privileged operations ---------------------------------------------------- */

static int cmd_mount(_unused_ int argc, char **argv)
{
        puts(mount(argv[1], argv[2], argv[0], 0, NULL) < 0 ? errno_name(errno) : "ok");
        return 0;
}

static int cmd_sethostname(_unused_ int argc, char **argv)
{
        puts(sethostname(argv[0], strlen(argv[0])) < 0 ? errno_name(errno) : "ok");
        return 0;
}

static int cmd_setuid(_unused_ int argc, char **argv)
{
        long long uid;

        /* (uid_t)-1 means "unchanged" to the kernel, so it is not a uid. */
        if (parse_ll(argv[0], 0, UINT32_MAX - 1, &uid) < 0)
                return bad_arg("uid", argv[0]);
        puts(setuid((uid_t)uid) < 0 ? errno_name(errno) : "ok");
        return 0;
}

static int cmd_chroot(_unused_ int argc, char **argv)
{
        puts(chroot(argv[0]) < 0 ? errno_name(errno) : "ok");
        return 0;
}

/* ---- misc ------------------------------------------------------------------------ */

static int cmd_echo(int argc, char **argv)
{
        for (int i = 0; i < argc; i++) {
                if (i > 0)
                        fputc(' ', stdout);
                fputs(argv[i], stdout);
        }
        fputc('\n', stdout);
        return 0;
}

static int cmd_env(_unused_ int argc, char **argv)
{
        const char *v = getenv(argv[0]);

        if (!v)
                return 1;
        puts(v);
        return 0;
}

/* ---- main ----------------------------------------------------------------------- */

struct command {
        const char *name;
        const char *args;
        int min_args, max_args; /* max_args -1: any number */
        int (*run)(int argc, char **argv);
};

static const struct command commands[] = {
        { "report", "", 0, 0, cmd_report },
        { "exit", "N", 1, 1, cmd_exit },
        { "sleep", "SECONDS", 1, 1, cmd_sleep },
        { "pause", "", 0, 0, cmd_pause },
        { "open", "PATH [r|w|rw]", 1, 2, cmd_open },
        { "write", "PATH CONTENT", 2, 2, cmd_write },
        { "stat", "PATH", 1, 1, cmd_stat },
        { "cat", "PATH", 1, 1, cmd_cat },
        { "ls", "PATH", 1, 1, cmd_ls },
        { "mkdir", "PATH", 1, 1, cmd_mkdir },
        { "mknod", "PATH c|b MAJOR MINOR | PATH p", 2, 4, cmd_mknod },
        { "mount", "TYPE SRC DST", 3, 3, cmd_mount },
        { "sethostname", "NAME", 1, 1, cmd_sethostname },
        { "setuid", "N", 1, 1, cmd_setuid },
        { "kill", "PID SIG", 2, 2, cmd_kill },
        { "chroot", "PATH", 1, 1, cmd_chroot },
        { "fork-exec", "PATH [ARGS...]", 1, -1, cmd_fork_exec },
        { "spawn-sleepers", "N SECONDS", 2, 2, cmd_spawn_sleepers },
        { "alloc", "MB", 1, 1, cmd_alloc },
        { "burn", "SECONDS", 1, 1, cmd_burn },
        { "echo", "[ARGS...]", 0, -1, cmd_echo },
        { "env", "NAME", 1, 1, cmd_env },
};

static void usage(void)
{
        fprintf(stderr, "usage: " PROG " COMMAND [ARGS...]\ncommands:\n");
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                fprintf(stderr, "  %s %s\n", commands[i].name, commands[i].args);
}

int main(int argc, char **argv)
{
        const struct command *cmd = NULL;
        int nargs, r;

        if (argc < 2) {
                usage();
                return 2;
        }
        for (size_t i = 0; i < ARRAY_SIZE(commands) && !cmd; i++)
                if (strcmp(argv[1], commands[i].name) == 0)
                        cmd = &commands[i];
        if (!cmd) {
                fprintf(stderr, PROG ": unknown command '%s'\n", argv[1]);
                usage();
                return 2;
        }
        nargs = argc - 2;
        if (nargs < cmd->min_args || (cmd->max_args >= 0 && nargs > cmd->max_args)) {
                fprintf(stderr, "usage: " PROG " %s %s\n", cmd->name, cmd->args);
                return 2;
        }

        r = cmd->run(nargs, argv + 2);
        if (fflush(stdout) != 0 || ferror(stdout)) {
                fprintf(stderr, PROG ": write stdout: %s\n", errno_name(errno));
                return r ? r : 1;
        }
        return r;
}
