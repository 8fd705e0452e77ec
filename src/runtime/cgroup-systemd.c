/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The systemd cgroup driver: the container lives in a transient scope that
 * systemd makes (StartTransientUnit over D-Bus, with Delegate=yes), placed
 * in a slice named by cgroupsPath "slice:prefix:name". systemd needs the
 * process to exist to make a scope, so this driver places it after the
 * clone, while it waits, telling systemd the limits as unit properties
 * (which it writes to the files again at a daemon-reload); from then on
 * the scope's directories are handled like cgroupfs ones (limits written
 * to its files, freezer, stats), and delete stops the unit, which removes
 * them.
 *
 * The D-Bus calls are made by berth-cgroup-systemd (src/cli/systemd), a
 * small program linked with libsystemd: berth-runtime itself is static and
 * Debian has no static libsystemd. It is found through
 * $BERTH_CGROUP_SYSTEMD, else on PATH.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "basic/log.h"
#include "runtime/cgroup.h"

#define HELPER "berth-cgroup-systemd"

bool cg_systemd_running(void)
{
        return access("/run/systemd/system", F_OK) == 0;
}

/* "slice:prefix:name" -> ("slice", "prefix-name.scope"); absent: system.slice, berth-ID.scope. */
int cg_systemd_resolve(const char *cgroups_path, const char *id, char **ret_slice, char **ret_unit,
                       berth_error *err)
{
        const char *p = cgroups_path, *c1, *c2;
        _cleanup_free_ char *slice = NULL, *prefix = NULL, *name = NULL;

        if (!p || !*p) {
                *ret_slice = strdup("system.slice");
                if (asprintf(ret_unit, "berth-%s.scope", id) < 0)
                        *ret_unit = NULL;
                if (!*ret_slice || !*ret_unit)
                        return berth_error_set(err, ENOMEM, "out of memory");
                return 0;
        }
        c1 = strchr(p, ':');
        c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2 || strchr(c2 + 1, ':') || strchr(p, '/'))
                return berth_error_set(err, EINVAL,
                                       "linux.cgroupsPath `%s`: the systemd cgroup manager takes "
                                       "slice:prefix:name",
                                       p);
        slice = strndup(p, (size_t)(c1 - p));
        prefix = strndup(c1 + 1, (size_t)(c2 - c1 - 1));
        name = strdup(c2 + 1);
        if (!slice || !prefix || !name)
                return berth_error_set(err, ENOMEM, "out of memory");
        if (!*name)
                return berth_error_set(err, EINVAL, "linux.cgroupsPath `%s`: no unit name", p);
        if (strlen(name) > 6 && strcmp(name + strlen(name) - 6, ".slice") == 0)
                return berth_error_set(err, ENOTSUP,
                                       "linux.cgroupsPath `%s`: a container in a slice of its own "
                                       "is not supported; name a scope",
                                       p);
        if (!*slice) {
                free(slice);
                slice = strdup("system.slice");
                if (!slice)
                        return berth_error_set(err, ENOMEM, "out of memory");
        }
        if (asprintf(ret_unit, "%s%s%s.scope", prefix, *prefix ? "-" : "", name) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        *ret_slice = TAKE_PTR(slice);
        return 0;
}

/* Runs the helper; its stderr becomes the error message. */
static int run_helper(char *const argv[], berth_error *err)
{
        const char *path = getenv("BERTH_CGROUP_SYSTEMD");
        int pipefd[2], status;
        char msg[1024];
        size_t len = 0;
        pid_t pid;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return berth_error_sys(err, errno, "pipe");
        pid = fork();
        if (pid < 0) {
                close(pipefd[0]);
                close(pipefd[1]);
                return berth_error_sys(err, errno, "fork");
        }
        if (pid == 0) {
                dup2(pipefd[1], STDERR_FILENO);
                if (path && *path)
                        execv(path, argv);
                else
                        execvp(HELPER, argv);
                fprintf(stderr, "%s: %s%s", path && *path ? path : HELPER, strerror(errno),
                        path && *path ? "" : " (install it beside berth-runtime, on PATH)");
                _exit(127);
        }
        close(pipefd[1]);
        for (;;) {
                ssize_t n = read(pipefd[0], msg + len, sizeof(msg) - 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t)n;
                if (len == sizeof(msg) - 1)
                        break;
        }
        close(pipefd[0]);
        msg[len] = '\0';
        while (len > 0 && msg[len - 1] == '\n')
                msg[--len] = '\0';
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return berth_error_sys(err, errno, "wait for %s", HELPER);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        return berth_error_set(err, EIO, "cgroup manager systemd: %s",
                               len ? msg : "the helper failed");
}

/* The scope's directories, from the cgroups the kernel now lists for pid. */
static int dirs_of(struct berth_cgroup *cg, pid_t pid, berth_error *err)
{
        _cleanup_free_ struct cg_mount *mounts = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        char path[64];
        size_t n = 0, cap = 0;
        int r;

        r = cg_read_mounts(&mounts, &n);
        if (r < 0)
                return berth_error_sys(err, -r, "read /proc/self/mountinfo");
        snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
        f = fopen(path, "re");
        if (!f)
                return berth_error_sys(err, errno, "open `%s`", path);
        while (getline(&line, &cap, f) > 0) {
                char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL, dir[PATH_MAX];
                if (!c2)
                        continue;
                *c2 = '\0';
                c2[strcspn(c2 + 1, "\n") + 1] = '\0';
                if (!strstr(c2 + 1, cg->unit))
                        continue; /* a hierarchy systemd does not manage for the scope */
                for (size_t i = 0; i < n; i++) {
                        if (strcmp(mounts[i].controllers, c1 + 1) != 0)
                                continue;
                        if (cg_dir_in(&mounts[i], c2 + 1, dir, sizeof(dir)) == 0 &&
                            cg_add_dir(cg, mounts[i].controllers, dir, false) < 0)
                                return berth_error_set(err, ENOMEM, "out of memory");
                }
        }
        if (cg->n_dirs == 0)
                return berth_error_set(err, ENOENT,
                                       "cgroup manager systemd: %s was started but process %d is "
                                       "not in it",
                                       cg->unit, (int)pid);
        return 0;
}

/* The unit properties berth-cgroup-systemd sets on a scope, as "NAME=VALUE". */
struct props {
        char *v[24];
        size_t n;
};

static void props_release(struct props *p)
{
        for (size_t i = 0; i < p->n; i++)
                free(p->v[i]);
        p->n = 0;
}

static int add(struct props *p, const char *name, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int add(struct props *p, const char *name, const char *fmt, ...)
{
        _cleanup_free_ char *value = NULL;
        va_list ap;
        int r;

        if (p->n == sizeof(p->v) / sizeof(p->v[0]))
                return -E2BIG;
        va_start(ap, fmt);
        r = vasprintf(&value, fmt, ap);
        va_end(ap);
        if (r < 0) {
                value = NULL; /* undefined after a failure */
                return -ENOMEM;
        }
        if (asprintf(&p->v[p->n], "%s=%s", name, value) < 0)
                return -ENOMEM;
        p->n++;
        return 0;
}

/* A limit in OCI terms (negative: none) as systemd's value. */
static int add_max(struct props *p, const char *name, int64_t v)
{
        return v < 0 ? add(p, name, "infinity") : add(p, name, "%lld", (long long)v);
}

/* unified keys that are systemd properties, values "max" or a number. */
static int add_unified(struct props *p, const struct berth_kv *kv)
{
        static const struct {
                const char *key, *name;
        } map[] = {
                { "memory.min", "MemoryMin" },          { "memory.low", "MemoryLow" },
                { "memory.high", "MemoryHigh" },        { "memory.max", "MemoryMax" },
                { "memory.swap.max", "MemorySwapMax" }, { "pids.max", "TasksMax" },
                { "cpu.weight", "CPUWeight" },
        };
        char v[32];
        uint64_t n;

        for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
                if (strcmp(kv->key, map[i].key) != 0)
                        continue;
                /* As the kernel reads the file: surrounding blanks do not count. */
                snprintf(v, sizeof(v), "%s", kv->value + strspn(kv->value, " \t\n"));
                v[strcspn(v, " \t\n")] = '\0';
                if (strcmp(v, "max") == 0)
                        return add(p, map[i].name, "infinity");
                if (berth_parse_u64(v, &n) == 0)
                        return add(p, map[i].name, "%llu", (unsigned long long)n);
                return 0; /* not a value systemd takes: the file's write reports it */
        }
        return 0;
}

/*
 * What systemd must know of the limits: at every daemon-reload it writes a
 * scope's cgroup attributes again, its defaults for those it was not told
 * (memory.low 0, memory.swap.max max, cpu.max's period 100 ms, ...), so a
 * limit written only to the files would be undone. The same conversions as
 * the cgroupfs drivers make; v1 systemd has fewer of them.
 */
static int scope_props(const struct berth_resources *res, bool v2, struct props *p)
{
        const struct berth_memory_resources *m = &res->memory;
        const struct berth_cpu_resources *c = &res->cpu;
        int r = 0;

        if (res->has_memory && m->has_limit && m->limit > 0)
                r = add_max(p, v2 ? "MemoryMax" : "MemoryLimit", m->limit);
        if (r >= 0 && v2 && res->has_memory && m->has_reservation && m->reservation != 0)
                r = add_max(p, "MemoryLow", m->reservation);
        /* OCI's swap is memory+swap, MemorySwapMax the swap alone. */
        if (r >= 0 && v2 && res->has_memory && m->has_swap && m->swap > 0 && m->has_limit &&
            m->limit > 0 && m->swap >= m->limit)
                r = add_max(p, "MemorySwapMax", m->swap - m->limit);
        /* Without TasksMax a scope gets systemd's DefaultTasksMax, not "max". */
        if (r >= 0 && res->has_pids_limit && res->pids_limit != 0)
                r = add_max(p, "TasksMax", res->pids_limit);
        if (r >= 0 && res->has_cpu && c->has_shares && c->shares)
                r = v2 ? add(p, "CPUWeight", "%llu",
                             (unsigned long long)cg_cpu_shares_to_weight(c->shares))
                       : add(p, "CPUShares", "%llu", (unsigned long long)c->shares);
        if (r >= 0 && res->has_cpu && c->has_quota && c->quota > 0) {
                uint64_t period = c->has_period && c->period ? c->period : 100000;
                /* Rounded up: systemd's quota is per_sec * period / 10^6, rounded down. */
                uint64_t per_sec = ((uint64_t)c->quota * 1000000 + period - 1) / period;
                r = add(p, "CPUQuotaPerSecUSec", "%llu", (unsigned long long)per_sec);
                if (r >= 0)
                        r = add(p, "CPUQuotaPeriodUSec", "%llu", (unsigned long long)period);
        }
        if (r >= 0 && v2 && res->has_cpu && c->cpus && *c->cpus)
                r = add(p, "AllowedCPUs", "%s", c->cpus);
        if (r >= 0 && v2 && res->has_cpu && c->mems && *c->mems)
                r = add(p, "AllowedMemoryNodes", "%s", c->mems);
        if (r >= 0 && v2 && res->has_block_io && res->block_io.has_weight && res->block_io.weight)
                r = add(p, "IOWeight", "%llu",
                        (unsigned long long)cg_blkio_weight_to_io_weight(res->block_io.weight));
        for (size_t i = 0; r >= 0 && v2 && i < res->n_unified; i++)
                r = add_unified(p, &res->unified[i]);
        return r;
}

int cg_systemd_start(struct berth_cgroup *cg, pid_t pid, const struct berth_resources *res,
                     berth_error *err)
{
        _cleanup_(props_release) struct props p = { 0 };
        char pidbuf[16];
        char *argv[6 + sizeof(p.v) / sizeof(p.v[0])];
        size_t n = 0;
        int r;

        snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
        if (res) {
                r = scope_props(res, cg->driver == &cgroup_v2_driver, &p);
                if (r < 0)
                        return berth_error_sys(err, -r, "cgroup manager systemd: properties of %s",
                                               cg->unit);
        }
        argv[n++] = (char *)HELPER;
        argv[n++] = (char *)"start";
        argv[n++] = cg->slice;
        argv[n++] = cg->unit;
        argv[n++] = pidbuf;
        for (size_t i = 0; i < p.n; i++)
                argv[n++] = p.v[i];
        argv[n] = NULL;
        if (run_helper(argv, err) < 0)
                return -1;
        return dirs_of(cg, pid, err);
}

int cg_systemd_set(const struct berth_cgroup *cg, const struct berth_resources *res,
                   berth_error *err)
{
        _cleanup_(props_release) struct props p = { 0 };
        char *argv[4 + sizeof(p.v) / sizeof(p.v[0])];
        bool v2 = cg->driver == &cgroup_v2_driver;
        struct berth_resources given = *res;
        size_t n = 0;
        int r;

        /* A quota alone keeps the scope's period, as the files keep it. */
        if (given.has_cpu && given.cpu.has_quota && !(given.cpu.has_period && given.cpu.period)) {
                const char *d = cg_dir_of(cg, v2 ? "" : "cpu");
                _cleanup_free_ char *cur = NULL;
                uint64_t period = 0;
                if (d && v2 && cg_read(d, "cpu.max", &cur) == 0 && strchr(cur, ' '))
                        berth_parse_u64(strchr(cur, ' ') + 1, &period);
                else if (d && !v2)
                        cg_read_u64(d, "cpu.cfs_period_us", &period);
                if (period) {
                        given.cpu.has_period = true;
                        given.cpu.period = period;
                }
        }
        r = scope_props(&given, v2, &p);
        if (r < 0)
                return berth_error_sys(err, -r, "cgroup manager systemd: properties of %s",
                                       cg->unit);
        if (p.n == 0)
                return 0;
        argv[n++] = (char *)HELPER;
        argv[n++] = (char *)"set";
        argv[n++] = cg->unit;
        for (size_t i = 0; i < p.n; i++)
                argv[n++] = p.v[i];
        argv[n] = NULL;
        return run_helper(argv, err);
}

int cg_systemd_stop(const struct berth_cgroup *cg, berth_error *err)
{
        char *argv[] = { (char *)HELPER, (char *)"stop", cg->unit, NULL };

        return run_helper(argv, err);
}
