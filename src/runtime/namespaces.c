/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "runtime/linux.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

int berth_ns_open_paths(const struct berth_config *cfg, int ns_fds[], berth_error *err)
{
        for (int i = 0; i < _BERTH_NS_MAX; i++)
                ns_fds[i] = -1;
        for (size_t i = 0; i < cfg->linux.n_namespaces; i++) {
                const struct berth_namespace *ns = &cfg->linux.namespaces[i];
                int fd;

                if (!ns->path || !*ns->path)
                        continue;
                fd = open(ns->path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return berth_error_sys(err, errno, "open %s namespace `%s`",
                                               berth_ns_type_to_string(ns->type), ns->path);
                ns_fds[ns->type] = fd;
        }
        return 0;
}

unsigned long berth_ns_clone_flags(const struct berth_config *cfg)
{
        unsigned long flags = 0;

        for (size_t i = 0; i < cfg->linux.n_namespaces; i++) {
                const struct berth_namespace *ns = &cfg->linux.namespaces[i];
                if (ns->path && *ns->path)
                        continue;
                flags |= (unsigned long)berth_ns_type_clone_flag(ns->type);
        }
        return flags;
}

/*
 * Joins the namespaces opened by berth_ns_open_paths(). The "early" pass
 * runs in the parent before the clone, for the kinds that only take effect
 * for children (pid, time); the late pass runs in the child, user first so
 * that it holds capabilities over the others, and mount last.
 */
int berth_ns_join(int ns_fds[], bool early, berth_error *err)
{
        static const enum berth_ns_type late_order[] = {
                BERTH_NS_USER,    BERTH_NS_IPC,    BERTH_NS_UTS,
                BERTH_NS_NETWORK, BERTH_NS_CGROUP, BERTH_NS_MOUNT,
        };
        static const enum berth_ns_type early_order[] = { BERTH_NS_PID, BERTH_NS_TIME };
        const enum berth_ns_type *order = early ? early_order : late_order;
        size_t n = early ? ARRAY_SIZE(early_order) : ARRAY_SIZE(late_order);

        for (size_t i = 0; i < n; i++) {
                enum berth_ns_type t = order[i];
                if (ns_fds[t] < 0)
                        continue;
                if (setns(ns_fds[t], berth_ns_type_clone_flag(t)) < 0)
                        return berth_error_sys(err, errno, "join %s namespace",
                                               berth_ns_type_to_string(t));
                close(ns_fds[t]);
                ns_fds[t] = -1;
        }
        return 0;
}

/*
 * A new time namespace takes its offsets before any process is in it, so
 * the parent unshares it for its children, writes the offsets, and the
 * clone that follows lands inside.
 */
int berth_ns_time_offsets(const struct berth_config *cfg, berth_error *err)
{
        const struct berth_time_offset *mono = &cfg->linux.time_monotonic;
        const struct berth_time_offset *boot = &cfg->linux.time_boottime;
        char buf[256];
        int len = 0;

        if (unshare(CLONE_NEWTIME) < 0)
                return berth_error_sys(err, errno, "create time namespace");
        if (mono->set)
                len += snprintf(buf + len, sizeof(buf) - (size_t)len, "monotonic %lld %u\n",
                                (long long)mono->secs, mono->nanosecs);
        if (boot->set)
                len += snprintf(buf + len, sizeof(buf) - (size_t)len, "boottime %lld %u\n",
                                (long long)boot->secs, boot->nanosecs);
        if (len == 0)
                return 0;
        /* One write per line: the kernel takes one offset per write. */
        for (char *line = buf, *nl; *line; line = nl + 1) {
                nl = strchr(line, '\n');
                if (!nl)
                        break;
                if (berth_write_file_at(AT_FDCWD, "/proc/self/timens_offsets", line,
                                        (size_t)(nl - line + 1), err) < 0)
                        return berth_error_prefix(err, "set linux.timeOffsets");
        }
        return 0;
}

static int write_map(pid_t pid, const char *file, const struct berth_id_mapping *m, size_t n,
                     berth_error *err)
{
        char path[64], buf[4096];
        size_t len = 0;

        for (size_t i = 0; i < n; i++) {
                int w = snprintf(buf + len, sizeof(buf) - len, "%u %u %u\n", m[i].container_id,
                                 m[i].host_id, m[i].size);
                if (w < 0 || (size_t)w >= sizeof(buf) - len)
                        return berth_error_set(err, E2BIG, "%s: too many mappings", file);
                len += (size_t)w;
        }
        snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
        return berth_write_file_at(AT_FDCWD, path, buf, len, err);
}

/* The only map an unprivileged process may write itself: its own id, once. */
static bool is_own_id_map(const struct berth_id_mapping *m, size_t n, unsigned own)
{
        return n == 1 && m[0].size == 1 && m[0].host_id == own;
}

/* Reads everything the helper says, keeping at most the first size - 1 bytes. */
static void read_helper_output(int fd, char *buf, size_t size)
{
        size_t len = 0;

        for (;;) {
                char scratch[512];
                char *dst = len + 1 < size ? buf + len : scratch;
                size_t room = len + 1 < size ? size - len - 1 : sizeof(scratch);
                ssize_t n = read(fd, dst, room);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                if (dst != scratch)
                        len += (size_t)n;
        }
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
                len--;
        buf[len] = '\0';
        for (char *p = buf; *p; p++)
                if (*p == '\n')
                        *p = ' ';
}

static int spawn_helper(const char *helper, char *const argv[], int out_fd, pid_t *ret_pid)
{
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t none, all;
        int r;

        sigemptyset(&none);
        sigfillset(&all);
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&fa, out_fd, STDERR_FILENO);
        posix_spawnattr_init(&attr);
        /* Whatever the runtime's caller blocked or ignored is not the helper's business. */
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &all);
        r = posix_spawnp(ret_pid, helper, &fa, &attr, argv, environ);
        posix_spawnattr_destroy(&attr);
        posix_spawn_file_actions_destroy(&fa);
        return -r;
}

/*
 * newuidmap/newgidmap (shadow's setuid helpers; Debian's uidmap package)
 * write any map that /etc/subuid or /etc/subgid grant the calling user, as
 * runc and podman use them. What they print when they refuse is the error.
 */
static int run_idmap_helper(bool gid, pid_t pid, const struct berth_id_mapping *m, size_t n,
                            berth_error *err)
{
        const char *helper = gid ? "newgidmap" : "newuidmap";
        _cleanup_free_ char **argv = calloc(3 * n + 3, sizeof(char *));
        _cleanup_free_ char(*nums)[12] = calloc(3 * n + 1, sizeof(*nums));
        _cleanup_close_ int rfd = -1;
        char out[1024], cmd[256];
        int pipefd[2], st, r;
        size_t k = 0, len;
        pid_t child;

        if (!argv || !nums)
                return berth_error_set(err, ENOMEM, "out of memory");
        /* helper PID ID LOWER COUNT ...; nums[k - 1] holds argv[k]. */
        argv[k++] = (char *)helper;
        snprintf(nums[0], sizeof(nums[0]), "%d", (int)pid);
        argv[k++] = nums[0];
        for (size_t i = 0; i < n; i++) {
                const uint32_t v[3] = { m[i].container_id, m[i].host_id, m[i].size };
                for (size_t j = 0; j < 3; j++, k++) {
                        snprintf(nums[k - 1], sizeof(nums[0]), "%u", v[j]);
                        argv[k] = nums[k - 1];
                }
        }
        len = (size_t)snprintf(cmd, sizeof(cmd), "%s", helper);
        for (size_t i = 1; i < k && len < sizeof(cmd); i++)
                len += (size_t)snprintf(cmd + len, sizeof(cmd) - len, " %s", argv[i]);
        if (len >= sizeof(cmd))
                snprintf(cmd + sizeof(cmd) - 4, 4, "...");

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return berth_error_sys(err, errno, "%s: pipe", helper);
        rfd = pipefd[0];
        r = spawn_helper(helper, argv, pipefd[1], &child);
        close(pipefd[1]);
        if (r == -ENOENT)
                return berth_error_set(err, ENOENT,
                                       "`%s` not found in PATH: an unprivileged user needs it "
                                       "(package uidmap) for any mapping but its own id",
                                       helper);
        if (r < 0)
                return berth_error_sys(err, -r, "run `%s`", cmd);
        read_helper_output(rfd, out, sizeof(out));
        while (waitpid(child, &st, 0) < 0)
                if (errno != EINTR)
                        return berth_error_sys(err, errno, "wait for `%s`", helper);
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
                return 0;
        if (WIFEXITED(st))
                return berth_error_set(err, EPERM,
                                       "`%s` failed (exit status %d)%s%s (are the ranges granted "
                                       "to uid %u in %s?)",
                                       cmd, WEXITSTATUS(st), *out ? ": " : "", out,
                                       (unsigned)getuid(), gid ? "/etc/subgid" : "/etc/subuid");
        return berth_error_set(err, EPERM, "`%s` killed by signal %d", cmd, WTERMSIG(st));
}

/* A process without CAP_SETGID may write its own gid only once setgroups is denied. */
static int deny_setgroups(pid_t pid, berth_error *err)
{
        char path[64];

        snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
        return berth_write_file_at(AT_FDCWD, path, "deny", 4, err);
}

static int write_one_map(pid_t pid, bool gid, const struct berth_id_mapping *m, size_t n,
                         berth_error *err)
{
        const char *file = gid ? "gid_map" : "uid_map";
        int r;

        if (n == 0)
                return 0;
        if (geteuid() == 0)
                return write_map(pid, file, m, n, err);
        if (!is_own_id_map(m, n, gid ? getegid() : geteuid()))
                return run_idmap_helper(gid, pid, m, n, err);
        if (gid) {
                r = deny_setgroups(pid, err);
                if (r < 0)
                        return r;
        }
        return write_map(pid, file, m, n, err);
}

/*
 * Written from the parent user namespace while the child waits. Root writes
 * any map; anyone else writes a map of its own id directly and leaves the
 * rest to newuidmap/newgidmap. The child stays dumpable until then, or
 * /proc/PID/ would be root's and neither could open it.
 */
int berth_ns_write_id_maps(pid_t pid, const struct berth_config *cfg, berth_error *err)
{
        int r;

        r = write_one_map(pid, false, cfg->linux.uid_mappings, cfg->linux.n_uid_mappings, err);
        if (r < 0)
                return berth_error_prefix(err, "write linux.uidMappings");
        r = write_one_map(pid, true, cfg->linux.gid_mappings, cfg->linux.n_gid_mappings, err);
        if (r < 0)
                return berth_error_prefix(err, "write linux.gidMappings");
        return 0;
}

static bool has_ns(const struct berth_config *cfg, enum berth_ns_type t)
{
        for (size_t i = 0; i < cfg->linux.n_namespaces; i++)
                if (cfg->linux.namespaces[i].type == t)
                        return true;
        return false;
}

/*
 * Only sysctls that belong to a namespace of the container may be set, or
 * the container would change the host (runc's rules).
 */
int berth_sysctl_validate(const struct berth_config *cfg, berth_error *err)
{
        static const char *const ipc_keys[] = {
                "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
        };

        for (size_t i = 0; i < cfg->linux.n_sysctl; i++) {
                char key[256];
                bool ipc = false;

                snprintf(key, sizeof(key), "%s", cfg->linux.sysctl[i].key);
                for (char *p = key; *p; p++)
                        if (*p == '/')
                                *p = '.';
                for (size_t k = 0; k < ARRAY_SIZE(ipc_keys); k++)
                        ipc |= strcmp(key, ipc_keys[k]) == 0;
                if (ipc || strncmp(key, "fs.mqueue.", 10) == 0) {
                        if (has_ns(cfg, BERTH_NS_IPC))
                                continue;
                        return berth_error_set(err, EINVAL,
                                               "linux.sysctl: `%s` is not allowed in the host's "
                                               "ipc namespace",
                                               key);
                }
                if (strncmp(key, "net.", 4) == 0) {
                        if (has_ns(cfg, BERTH_NS_NETWORK))
                                continue;
                        return berth_error_set(err, EINVAL,
                                               "linux.sysctl: `%s` is not allowed in the host's "
                                               "network namespace",
                                               key);
                }
                if (strcmp(key, "kernel.domainname") == 0 && has_ns(cfg, BERTH_NS_UTS))
                        continue;
                if (strcmp(key, "kernel.hostname") == 0 && has_ns(cfg, BERTH_NS_UTS))
                        return berth_error_set(err, EINVAL,
                                               "linux.sysctl: `kernel.hostname` is not allowed, "
                                               "use the hostname field");
                return berth_error_set(err, EINVAL,
                                       "linux.sysctl: `%s` is not in a separate kernel namespace",
                                       key);
        }
        return 0;
}
