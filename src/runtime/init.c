/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The container's first process, from clone to execve.
 *
 * Everything that touches a path happens before pivot_root, resolved inside
 * the root with the safe resolver and mounted through the host's verified
 * procfs. After pivot_root only the working directory, credentials and
 * execve remain. The process is not dumpable until it execs, so nothing in
 * the container can open its /proc entries meanwhile.
 *
 * In create mode the process signals SYNC_CREATED and then blocks opening
 * the exec fifo for writing, until `start` opens the read side.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "basic/log.h"
#include "runtime/linux.h"

#ifndef KEYCTL_JOIN_SESSION_KEYRING
#define KEYCTL_JOIN_SESSION_KEYRING 1
#endif

_Noreturn static void init_fail(struct init_ctx *ctx, berth_error *err)
{
        /* After create returned nobody reads the socket: the log is the place. */
        if (ctx->created && !ctx->run_mode)
                log_error("container `%s`: %s", ctx->id, berth_error_msg(err));
        sync_send(ctx->sync_fd, SYNC_ERROR, err->code, berth_error_msg(err));
        _exit(1);
}

static int set_names(struct init_ctx *ctx, berth_error *err)
{
        const struct berth_config *c = ctx->cfg;

        if (c->hostname && sethostname(c->hostname, strlen(c->hostname)) < 0)
                return berth_error_sys(err, errno, "set hostname `%s`", c->hostname);
        if (c->domainname && setdomainname(c->domainname, strlen(c->domainname)) < 0)
                return berth_error_sys(err, errno, "set domainname `%s`", c->domainname);
        return 0;
}

static int set_personality(const struct berth_config *c, berth_error *err)
{
        unsigned long persona;

        if (!c->linux.has_personality)
                return 0;
        if (!c->linux.personality.domain || strcmp(c->linux.personality.domain, "LINUX") == 0)
                persona = PER_LINUX;
        else if (strcmp(c->linux.personality.domain, "LINUX32") == 0)
                persona = PER_LINUX32;
        else
                return berth_error_set(err, EINVAL, "linux.personality.domain: unknown `%s`",
                                       c->linux.personality.domain);
        if (personality(persona) < 0)
                return berth_error_sys(err, errno, "set personality");
        return 0;
}

static int join_session_keyring(struct init_ctx *ctx, berth_error *err)
{
        char name[128];

        if (ctx->no_new_keyring)
                return 0;
        snprintf(name, sizeof(name), "_ses.%s", ctx->id);
        /* Kernels without keyrings (or seccomp'd hosts) just go without one. */
        if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name) < 0 && errno != ENOSYS &&
            errno != EPERM && errno != EACCES)
                return berth_error_sys(err, errno, "join session keyring");
        return 0;
}

/* Waits in create mode on the fifo; in run mode on the parent's SYNC_START. */
static int wait_for_start(struct init_ctx *ctx, berth_error *err)
{
        char path[64];
        int fd;

        if (ctx->run_mode)
                return sync_expect(ctx->sync_fd, SYNC_START, err);
        snprintf(path, sizeof(path), "self/fd/%d", ctx->fifo_fd);
        fd = openat(ctx->hostproc_fd, path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return berth_error_sys(err, errno, "open exec fifo");
        if (write(fd, "0", 1) != 1) {
                close(fd);
                return berth_error_sys(err, errno, "write exec fifo");
        }
        /* Left open: execve closes it, which tells `start` we are running. */
        return 0;
}

static int state_json(struct init_ctx *ctx, enum berth_status status, char **ret, berth_error *err)
{
        struct berth_state s = {
                .id = (char *)ctx->id,
                .pid = ctx->host_pid,
                .bundle = (char *)ctx->bundle,
                .rootfs = (char *)ctx->rootfs,
                .created = (char *)"",
                .owner = (char *)"",
                .annotations = ctx->cfg->annotations,
                .n_annotations = ctx->cfg->n_annotations,
                .status = status,
        };

        return berth_state_to_json(&s, false, ret, err);
}

/* Runs the hooks of `kind` that run inside the container, with its state. */
static int container_hooks(struct init_ctx *ctx, enum berth_hook_kind kind,
                           enum berth_status status, berth_error *err)
{
        _cleanup_free_ char *json = NULL;
        int r;

        if (ctx->cfg->hooks[kind].n_hooks == 0)
                return 0;
        r = state_json(ctx, status, &json, err);
        if (r < 0)
                return r;
        return berth_hooks_run(ctx->cfg, kind, json, err);
}

static int load_seccomp(struct init_ctx *ctx, berth_error *err)
{
        _cleanup_free_ char *json = NULL;
        int r;

        if (!ctx->seccomp)
                return 0;
        r = state_json(ctx, BERTH_STATUS_RUNNING, &json, err);
        if (r < 0)
                return r;
        return berth_seccomp_load(ctx->seccomp, json, err);
}

/*
 * After start: seccomp goes in as late as it can. Without no_new_privs the
 * kernel wants CAP_SYS_ADMIN for it, so it is loaded before the credentials
 * change; with it, after (as runc does).
 */
static int finish_process(struct init_ctx *ctx, berth_error *err)
{
        int r;

        if (!ctx->proc->no_new_privileges) {
                r = load_seccomp(ctx, err);
                if (r < 0)
                        return r;
        }
        r = berth_process_apply_creds(ctx->proc, err);
        if (r < 0 || !ctx->proc->no_new_privileges)
                return r;
        return load_seccomp(ctx, err);
}

static int setup_filesystem(struct init_ctx *ctx, int *slave, berth_error *err)
{
        _cleanup_close_ int rootfd = -1;
        int r;

        r = berth_rootfs_prepare(ctx, &rootfd, err);
        if (r < 0)
                return r;
        if (ctx->proc->terminal) {
                r = berth_terminal_setup(ctx, rootfd, slave, err);
                if (r < 0)
                        return r;
        }
        if (ctx->has_create_runtime_hooks) {
                r = sync_send(ctx->sync_fd, SYNC_RUN_HOOKS, 0, NULL);
                if (r < 0)
                        return berth_error_sys(err, -r, "ask for createRuntime hooks");
                r = sync_expect(ctx->sync_fd, SYNC_GO, err);
                if (r < 0)
                        return r;
        }
        r = container_hooks(ctx, BERTH_HOOK_CREATE_CONTAINER, BERTH_STATUS_CREATING, err);
        if (r < 0)
                return r;
        r = berth_rootfs_finish_paths(ctx, rootfd, err);
        if (r < 0)
                return r;
        r = berth_rootfs_pivot(ctx, rootfd, err);
        if (r < 0)
                return r;
        return berth_rootfs_readonly(ctx, err);
}

static int init_setup(struct init_ctx *ctx, berth_error *err)
{
        int slave = -1, r;

        if ((ctx->clone_flags & CLONE_NEWUSER) || ctx->wait_placed) {
                r = sync_expect(ctx->sync_fd, SYNC_GO, err);
                if (r < 0)
                        return r;
        }
        /* The id maps are written: no longer dumpable (see berth_init_main). */
        if (ctx->clone_flags & CLONE_NEWUSER)
                prctl(PR_SET_DUMPABLE, 0);
        if ((ctx->clone_flags & CLONE_NEWUSER) &&
            (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
                return berth_error_sys(err, errno, "become root in the user namespace");
        /* Only now, in its cgroup, so the namespace's root is the container's cgroup. */
        if (ctx->unshare_cgroupns && unshare(CLONE_NEWCGROUP) < 0)
                return berth_error_sys(err, errno, "unshare the cgroup namespace");
        ctx->userns = (ctx->clone_flags & CLONE_NEWUSER) || ctx->ns_fds[BERTH_NS_USER] >= 0;
        ctx->mntns = (ctx->clone_flags & CLONE_NEWNS) || ctx->ns_fds[BERTH_NS_MOUNT] >= 0;
        r = berth_ns_join(ctx->ns_fds, false, err);
        if (r < 0)
                return r;
        if (setsid() < 0)
                return berth_error_sys(err, errno, "setsid");
        r = set_names(ctx, err);
        if (r < 0)
                return r;
        r = join_session_keyring(ctx, err);
        if (r < 0)
                return r;
        r = berth_seccomp_connect_listener(ctx->seccomp, err);
        if (r < 0)
                return r;
        r = setup_filesystem(ctx, &slave, err);
        if (r < 0)
                return r;
        if (slave >= 0) {
                r = berth_terminal_take(slave, err);
                if (r < 0)
                        return r;
        }
        r = berth_process_chdir(ctx->proc, err);
        if (r < 0)
                return r;
        r = set_personality(ctx->cfg, err);
        if (r < 0)
                return r;
        r = berth_process_apply_early(ctx->proc, ctx->hostproc_fd, err);
        if (r < 0)
                return r;
        ctx->exec_env = berth_process_env_with_home(ctx->proc);
        return berth_process_lookup_path(ctx->proc, &ctx->exec_path, err);
}

/* The host's procfs names us by our pid in the host's namespace. */
static pid_t host_pid(int hostproc_fd)
{
        char buf[32];
        ssize_t n = readlinkat(hostproc_fd, "self", buf, sizeof(buf) - 1);
        int pid;

        if (n <= 0)
                return getpid();
        buf[n] = '\0';
        return berth_parse_int(buf, &pid) == 0 ? pid : getpid();
}

_Noreturn void berth_init_main(struct init_ctx *ctx)
{
        berth_error err = BERTH_ERROR_INIT;
        sigset_t none;

        /* Setup is killed with its parent; the death signal is cleared once created. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        /*
         * In a new user namespace, dumpable until our id maps are written: an
         * undumpable process's /proc/PID is root's, which an unprivileged
         * parent (and newuidmap on its behalf) cannot write.
         */
        if (!(ctx->clone_flags & CLONE_NEWUSER))
                prctl(PR_SET_DUMPABLE, 0);
        /* Our copy of the creator's lock would outlive it until execve. */
        if (ctx->lock_fd >= 0)
                close(ctx->lock_fd);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        umask(0);
        ctx->host_pid = host_pid(ctx->hostproc_fd);
        if (init_setup(ctx, &err) < 0)
                init_fail(ctx, &err);
        /* CVE-2024-21626: nothing but stdio and preserved fds crosses execve. */
        if (berth_cloexec_from(3 + (int)ctx->preserve_fds) < 0) {
                berth_error_sys(&err, errno, "mark fds close-on-exec");
                init_fail(ctx, &err);
        }
        for (int fd = 3; fd < 3 + (int)ctx->preserve_fds; fd++)
                fcntl(fd, F_SETFD, 0);
        /* Before telling the parent: it exits as soon as it hears, and must not take us along. */
        prctl(PR_SET_PDEATHSIG, 0);
        if (sync_send(ctx->sync_fd, SYNC_CREATED, 0, NULL) < 0)
                _exit(1);
        ctx->created = true;
        if (wait_for_start(ctx, &err) < 0 ||
            container_hooks(ctx, BERTH_HOOK_START_CONTAINER, BERTH_STATUS_CREATED, &err) < 0 ||
            finish_process(ctx, &err) < 0)
                init_fail(ctx, &err);
        berth_process_exec(ctx->proc, ctx->exec_path, ctx->exec_env, ctx->sync_fd);
}
