/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The systemd cgroup driver: the container lives in a transient scope that
 * systemd makes (StartTransientUnit over D-Bus, with Delegate=yes), placed
 * in a slice named by cgroupsPath "slice:prefix:name". systemd needs the
 * process to exist to make a scope, so this driver places it after the
 * clone, while it waits; from then on the scope's directories are handled
 * like cgroupfs ones (limits written to its files, freezer, stats), and
 * delete stops the unit, which removes them.
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

int cg_systemd_start(struct berth_cgroup *cg, pid_t pid, const struct berth_resources *res,
                     berth_error *err)
{
        bool v2 = cg->driver == &cgroup_v2_driver;
        char pidbuf[16], props[4][64];
        char *argv[10];
        int n = 0, k = 0;

        snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
        argv[n++] = (char *)HELPER;
        argv[n++] = (char *)"start";
        argv[n++] = cg->slice;
        argv[n++] = cg->unit;
        argv[n++] = pidbuf;
        /* What systemd would otherwise put back on the scope at a daemon-reload. */
        if (res && res->has_memory && res->memory.has_limit && res->memory.limit > 0)
                snprintf(props[k++], sizeof(props[0]), "%s=%lld", v2 ? "MemoryMax" : "MemoryLimit",
                         (long long)res->memory.limit);
        if (res && res->has_pids_limit && res->pids_limit > 0)
                snprintf(props[k++], sizeof(props[0]), "TasksMax=%lld", (long long)res->pids_limit);
        if (res && res->has_cpu && res->cpu.has_shares && res->cpu.shares)
                snprintf(props[k++], sizeof(props[0]), "%s=%llu", v2 ? "CPUWeight" : "CPUShares",
                         (unsigned long long)(v2 ? cg_cpu_shares_to_weight(res->cpu.shares)
                                                 : res->cpu.shares));
        if (res && res->has_cpu && res->cpu.has_quota && res->cpu.quota > 0) {
                uint64_t period = res->cpu.has_period && res->cpu.period ? res->cpu.period : 100000;
                snprintf(props[k++], sizeof(props[0]), "CPUQuotaPerSecUSec=%llu",
                         (unsigned long long)((uint64_t)res->cpu.quota * 1000000 / period));
        }
        for (int i = 0; i < k; i++)
                argv[n++] = props[i];
        argv[n] = NULL;
        if (run_helper(argv, err) < 0)
                return -1;
        return dirs_of(cg, pid, err);
}

int cg_systemd_stop(const struct berth_cgroup *cg, berth_error *err)
{
        char *argv[] = { (char *)HELPER, (char *)"stop", cg->unit, NULL };

        return run_helper(argv, err);
}
