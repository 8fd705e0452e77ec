/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What every container process does last, whether it is the container's
 * init or a process started by exec: resource limits, working directory,
 * credentials, capabilities, no_new_privs, and execve.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "runtime/linux.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char *env_get(const struct berth_process *p, const char *name)
{
        size_t len = strlen(name);

        for (size_t i = 0; i < p->n_env; i++)
                if (strncmp(p->env[i], name, len) == 0 && p->env[i][len] == '=')
                        return p->env[i] + len + 1;
        return NULL;
}

/*
 * strerror() as Go spells it, lower case: podman and containerd look for
 * "no such file or directory" and "permission denied" in runc's messages
 * to choose exit codes 127 and 126.
 */
static const char *go_strerror(int e, char *buf, size_t size)
{
        snprintf(buf, size, "%s", strerror(e));
        if (buf[0] >= 'A' && buf[0] <= 'Z')
                buf[0] = (char)(buf[0] - 'A' + 'a');
        return buf;
}

static bool is_executable(const char *path, int *ret_errno)
{
        struct stat st;

        if (stat(path, &st) < 0) {
                *ret_errno = errno;
                return false;
        }
        if (S_ISDIR(st.st_mode)) {
                *ret_errno = EISDIR;
                return false;
        }
        if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111)) {
                *ret_errno = EACCES;
                return false;
        }
        return true;
}

int berth_process_lookup_path(const struct berth_process *p, char **ret, berth_error *err)
{
        const char *name, *path;
        char buf[PATH_MAX];
        int e = 0;

        if (!p->args || p->n_args == 0 || !p->args[0] || !*p->args[0])
                return berth_error_set(err, EINVAL, "process.args: must not be empty");
        name = p->args[0];
        if (strchr(name, '/')) {
                if (!is_executable(name, &e))
                        return berth_error_set(err, e, "exec: \"%s\": stat %s: %s", name, name,
                                               go_strerror(e, buf, sizeof(buf)));
                *ret = strdup(name);
                return *ret ? 0 : berth_error_set(err, ENOMEM, "out of memory");
        }
        path = env_get(p, "PATH");
        if (!path)
                path = DEFAULT_PATH;
        while (*path) {
                const char *end = strchrnul(path, ':');
                size_t dirlen = (size_t)(end - path);
                int n = snprintf(buf, sizeof(buf), "%.*s/%s", (int)dirlen, dirlen ? path : ".",
                                 name);
                if (dirlen == 0)
                        n = snprintf(buf, sizeof(buf), "./%s", name);
                if (n > 0 && (size_t)n < sizeof(buf) && is_executable(buf, &e)) {
                        *ret = strdup(buf);
                        return *ret ? 0 : berth_error_set(err, ENOMEM, "out of memory");
                }
                path = *end ? end + 1 : end;
        }
        return berth_error_set(err, ENOENT, "exec: \"%s\": executable file not found in $PATH",
                               name);
}

static int write_attr(int hostproc_fd, const char *attr, const char *value, berth_error *err)
{
        char path[128];
        _cleanup_close_ int fd = -1;

        snprintf(path, sizeof(path), "thread-self/attr/%s", attr);
        fd = openat(hostproc_fd, path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (berth_write_all(fd, value, strlen(value)) < 0)
                return berth_error_sys(err, errno, "set %s to `%s`", attr, value);
        return 0;
}

static int apply_security_labels(const struct berth_process *p, int hostproc_fd, berth_error *err)
{
        char buf[4096];
        int r;

        if (p->apparmor_profile && *p->apparmor_profile) {
                if (access("/sys/kernel/security/apparmor", F_OK) < 0 &&
                    access("/sys/module/apparmor", F_OK) < 0)
                        return berth_error_set(err, EOPNOTSUPP,
                                               "process.apparmorProfile `%s`: AppArmor is not "
                                               "enabled on this host",
                                               p->apparmor_profile);
                snprintf(buf, sizeof(buf), "exec %s", p->apparmor_profile);
                r = write_attr(hostproc_fd, "apparmor/exec", buf, err);
                if (r == -ENOENT)
                        r = write_attr(hostproc_fd, "exec", buf, err);
                if (r < 0)
                        return r == -ENOENT || r == -EINVAL
                                       ? berth_error_sys(err, -r, "process.apparmorProfile `%s`",
                                                         p->apparmor_profile)
                                       : r;
        }
        if (p->selinux_label && *p->selinux_label) {
                if (access("/sys/fs/selinux/enforce", F_OK) < 0)
                        return berth_error_set(err, EOPNOTSUPP,
                                               "process.selinuxLabel `%s`: SELinux is not "
                                               "enabled on this host",
                                               p->selinux_label);
                r = write_attr(hostproc_fd, "exec", p->selinux_label, err);
                if (r < 0)
                        return r == -ENOENT
                                       ? berth_error_sys(err, ENOENT, "process.selinuxLabel `%s`",
                                                         p->selinux_label)
                                       : r;
        }
        return 0;
}

static int apply_rlimits(const struct berth_process *p, berth_error *err)
{
        for (size_t i = 0; i < p->n_rlimits; i++) {
                const struct berth_rlimit *l = &p->rlimits[i];
                struct rlimit rl = { .rlim_cur = l->soft, .rlim_max = l->hard };
                if (setrlimit((__rlimit_resource_t)l->resource, &rl) < 0)
                        return berth_error_sys(
                                err, errno, "process.rlimits: set %s to soft %llu hard %llu",
                                l->type, (unsigned long long)l->soft, (unsigned long long)l->hard);
        }
        return 0;
}

static int apply_oom_score_adj(const struct berth_process *p, int hostproc_fd, berth_error *err)
{
        char buf[16];
        int len;

        if (!p->has_oom_score_adj)
                return 0;
        len = snprintf(buf, sizeof(buf), "%d", p->oom_score_adj);
        if (berth_write_file_at(hostproc_fd, "self/oom_score_adj", buf, (size_t)len, err) < 0)
                return berth_error_prefix(err, "process.oomScoreAdj %d", p->oom_score_adj);
        return 0;
}

static int apply_io_priority(const struct berth_process *p, berth_error *err)
{
        if (!p->has_io_priority)
                return 0;
        /* IOPRIO_PRIO_VALUE(class, data); IOPRIO_WHO_PROCESS = 1 */
        if (syscall(SYS_ioprio_set, 1, 0, (p->io_priority_class << 13) | p->io_priority) < 0)
                return berth_error_sys(err, errno, "process.ioPriority");
        return 0;
}

static int apply_cpu_affinity(const char *list, const char *field, berth_error *err)
{
        cpu_set_t set;
        const char *s = list;

        if (!list || !*list)
                return 0;
        CPU_ZERO(&set);
        while (*s) {
                char *end;
                unsigned long a, b;
                errno = 0;
                a = strtoul(s, &end, 10);
                b = a;
                if (errno || end == s)
                        return berth_error_set(err, EINVAL, "%s: invalid cpu list `%s`", field,
                                               list);
                if (*end == '-') {
                        s = end + 1;
                        b = strtoul(s, &end, 10);
                        if (errno || end == s || b < a)
                                return berth_error_set(err, EINVAL, "%s: invalid cpu list `%s`",
                                                       field, list);
                }
                for (unsigned long c = a; c <= b && c < CPU_SETSIZE; c++)
                        CPU_SET(c, &set);
                s = *end == ',' ? end + 1 : end;
                if (*end && *end != ',')
                        return berth_error_set(err, EINVAL, "%s: invalid cpu list `%s`", field,
                                               list);
        }
        if (sched_setaffinity(0, sizeof(set), &set) < 0)
                return berth_error_sys(err, errno, "%s `%s`", field, list);
        return 0;
}

/*
 * A container starts with every signal unblocked and at its default
 * action, whatever its caller had ignored or blocked (ignored signals
 * survive execve). The raw syscall reaches the two signals glibc keeps to
 * itself (32, 33), which a caller built on glibc may leave ignored too; an
 * all-zero kernel sigaction is SIG_DFL on every architecture.
 */
/* The kernel's sigset_t: glibc's _NSIG counts one past the last signal. */
#define KERNEL_SIGSET_SIZE ((_NSIG - 1) / 8)

static void reset_signals(void)
{
        struct {
                unsigned long words[8];
        } dfl = { { 0 } };
        sigset_t none;

        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        syscall(SYS_rt_sigaction, sig, &dfl, NULL, KERNEL_SIGSET_SIZE);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
}

int berth_process_apply_early(const struct berth_process *p, int hostproc_fd, berth_error *err)
{
        int r;

        reset_signals();
        r = apply_rlimits(p, err);
        if (r < 0)
                return r;
        r = apply_oom_score_adj(p, hostproc_fd, err);
        if (r < 0)
                return r;
        r = apply_io_priority(p, err);
        if (r < 0)
                return r;
        r = apply_cpu_affinity(p->exec_cpu_affinity_initial, "process.execCPUAffinity.initial",
                               err);
        if (r < 0)
                return r;
        return apply_security_labels(p, hostproc_fd, err);
}

int berth_process_chdir(const struct berth_process *p, berth_error *err)
{
        char buf[PATH_MAX];
        const char *cwd = p->cwd && *p->cwd ? p->cwd : "/";

        if (chdir(cwd) < 0)
                return berth_error_sys(err, errno, "process.cwd `%s`", cwd);
        /* A cwd outside the root reads back without a leading '/' (CVE-2024-21626). */
        if (!getcwd(buf, sizeof(buf)) || buf[0] != '/')
                return berth_error_set(err, EPERM, "process.cwd `%s` is outside the container",
                                       cwd);
        return 0;
}

int berth_process_apply_creds(const struct berth_process *p, berth_error *err)
{
        const struct berth_user *u = &p->user;
        int r;

        if (p->has_capabilities) {
                r = berth_caps_drop_bounding(&p->capabilities, err);
                if (r < 0)
                        return r;
        }
        if (setgroups(u->n_additional_gids, (const gid_t *)u->additional_gids) < 0 &&
            !(errno == EPERM && u->n_additional_gids == 0))
                return berth_error_sys(err, errno, "process.user.additionalGids");
        if (prctl(PR_SET_KEEPCAPS, 1) < 0)
                return berth_error_sys(err, errno, "keep capabilities");
        if (setresgid(u->gid, u->gid, u->gid) < 0)
                return berth_error_sys(err, errno, "process.user.gid %u", u->gid);
        if (setresuid(u->uid, u->uid, u->uid) < 0)
                return berth_error_sys(err, errno, "process.user.uid %u", u->uid);
        if (p->has_capabilities) {
                r = berth_caps_apply(&p->capabilities, err);
                if (r < 0)
                        return r;
        }
        prctl(PR_SET_KEEPCAPS, 0);
        umask(u->has_umask ? (mode_t)u->umask : 0022);
        if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return berth_error_sys(err, errno, "process.noNewPrivileges");
        return apply_cpu_affinity(p->exec_cpu_affinity_final, "process.execCPUAffinity.final", err);
}

/* The home directory of `uid` in the container's /etc/passwd, or NULL. */
static char *passwd_home(uint32_t uid)
{
        _cleanup_close_ int fd = open("/etc/passwd", O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        _cleanup_free_ char *data = NULL;
        struct stat st;

        /* The image's file: a FIFO or a device must not block or feed us. */
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
            berth_read_fd(fd, 4 << 20, &data, NULL) < 0)
                return NULL;
        for (char *line = data, *nl; line && *line; line = nl) {
                char *f[7] = { line };
                int n = 1;
                uint32_t id;
                nl = strchr(line, '\n');
                if (nl)
                        *nl++ = '\0';
                for (char *c = line; *c && n < 7; c++)
                        if (*c == ':') {
                                *c = '\0';
                                f[n++] = c + 1;
                        }
                if (n == 7 && berth_parse_u32(f[2], &id) == 0 && id == uid && *f[5])
                        return strdup(f[5]);
        }
        return NULL;
}

char **berth_process_env_with_home(const struct berth_process *p)
{
        _cleanup_free_ char *home = NULL;
        char **env;

        for (size_t i = 0; i < p->n_env; i++)
                if (strncmp(p->env[i], "HOME=", 5) == 0)
                        return NULL;
        /* Like runc: HOME from the user's passwd entry, else "/". */
        home = passwd_home(p->user.uid);
        env = calloc(p->n_env + 2, sizeof(char *));
        if (!env)
                return NULL;
        for (size_t i = 0; i < p->n_env; i++)
                env[i] = p->env[i];
        if (asprintf(&env[p->n_env], "HOME=%s", home ? home : "/") < 0) {
                free(env);
                return NULL;
        }
        return env;
}

_Noreturn void berth_process_exec(const struct berth_process *p, const char *path, char **env,
                                  int sync_fd)
{
        static char *const empty_env[] = { NULL };
        berth_error err = BERTH_ERROR_INIT;
        char buf[128];

        execve(path, p->args, env ? env : p->env ? p->env : empty_env);
        berth_error_set(&err, errno, "exec: \"%s\": %s", path,
                        go_strerror(errno, buf, sizeof(buf)));
        if (sync_fd >= 0)
                sync_send(sync_fd, SYNC_ERROR, err.code, err.msg);
        _exit(errno == ENOENT ? 127 : 126);
}
