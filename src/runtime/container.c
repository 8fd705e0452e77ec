/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * create, start and run: the runtime's side of a container's birth.
 *
 * create clones the container's first process straight into its new
 * namespaces (clone3, with a pidfd), answers its requests for hooks, and
 * returns once the process waits on the exec fifo. start opens the fifo,
 * which lets the process exec. run does both in one process and, in the
 * foreground, waits for the container and removes it afterwards, as runc
 * does. The runtime never reaps a created container: its caller is the
 * subreaper.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "basic/log.h"
#include "runtime/linux.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#include "runtime/creation.h"

void creation_release(struct creation *c)
{
        berth_cgroup_free(c->cg);
        berth_config_free(c->cfg);
        free(c->bundle);
        free(c->rootfs);
        free(c->state_dir);
        if (c->sync_fd >= 0)
                close(c->sync_fd);
        if (c->pidfd >= 0)
                close(c->pidfd);
        if (c->console_peer >= 0)
                close(c->console_peer);
        if (c->lock_fd >= 0)
                close(c->lock_fd);
}

static int rm_state_dir(const char *dir)
{
        static const char *const files[] = { "exec.fifo", "state.json", "config.json",
                                             "cgroup.json" };
        char path[PATH_MAX];

        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
                unlink(path);
        }
        return rmdir(dir) < 0 && errno != ENOENT ? -errno : 0;
}

int berth_container_remove_state(const char *dir)
{
        return rm_state_dir(dir);
}

int berth_container_reclaim_stale(const char *dir)
{
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        if (faccessat(fd, "state.json", F_OK, 0) == 0)
                return 0;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? -EBUSY : -errno;
        if (faccessat(fd, "state.json", F_OK, 0) == 0)
                return 0; /* finished while we looked */
        log_debug("removing `%s`, left by a create that did not finish", dir);
        {
                berth_error e = BERTH_ERROR_INIT;
                int r = berth_cgroup_destroy_recorded(dir, &e);
                if (r < 0) {
                        log_warn("%s", berth_error_msg(&e));
                        berth_error_release(&e);
                        return r;
                }
        }
        return rm_state_dir(dir) < 0 ? -errno : 1;
}

/* Kills and reaps a child whose creation failed, and removes its state. */
void creation_abort(struct creation *c)
{
        if (c->pid > 0) {
                if (c->pidfd >= 0)
                        syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0);
                else
                        kill(c->pid, SIGKILL);
                while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                c->pid = 0;
        }
        if (c->cg) {
                berth_error e = BERTH_ERROR_INIT;
                if (berth_cgroup_destroy(c->cg, c->state_dir, &e) < 0)
                        log_warn("%s", berth_error_msg(&e));
                berth_error_release(&e);
        }
        if (c->dir_created)
                rm_state_dir(c->state_dir);
}

static int resolve_paths(const struct berth_create_opts *o, struct creation *c, berth_error *err)
{
        _cleanup_free_ char *cfg_path = NULL, *root = NULL;
        char buf[PATH_MAX];
        struct stat st;
        int r;

        if (!realpath(o->bundle ? o->bundle : ".", buf))
                return berth_error_sys(err, errno, "bundle `%s`", o->bundle ? o->bundle : ".");
        c->bundle = strdup(buf);
        if (o->config_path)
                cfg_path = strdup(o->config_path);
        else if (asprintf(&cfg_path, "%s/config.json", c->bundle) < 0)
                cfg_path = NULL;
        if (!c->bundle || !cfg_path)
                return berth_error_set(err, ENOMEM, "out of memory");
        r = berth_config_load(cfg_path, &c->cfg, err);
        if (r < 0)
                return r;
        if (!c->cfg->process)
                return berth_error_set(err, EINVAL, "%s: process: required to create a container",
                                       cfg_path);
        if (!c->cfg->root_path)
                return berth_error_set(err, EINVAL, "%s: root.path: required", cfg_path);
        if (c->cfg->root_path[0] == '/')
                root = strdup(c->cfg->root_path);
        else if (asprintf(&root, "%s/%s", c->bundle, c->cfg->root_path) < 0)
                root = NULL;
        if (!root)
                return berth_error_set(err, ENOMEM, "out of memory");
        if (!realpath(root, buf))
                return berth_error_sys(err, errno, "root.path `%s`", root);
        if (stat(buf, &st) < 0 || !S_ISDIR(st.st_mode))
                return berth_error_set(err, ENOTDIR, "root.path `%s`: not a directory", buf);
        c->rootfs = strdup(buf);
        return c->rootfs ? 0 : berth_error_set(err, ENOMEM, "out of memory");
}

/* What the parser cannot know alone: the host-dependent and cross-field rules. */
static int validate_config(const struct berth_config *cfg, berth_error *err)
{
        const struct berth_capabilities *caps = &cfg->process->capabilities;

        /*
         * An unknown capability name is most likely a typo that would leave
         * a capability the user wanted dropped, or one they needed missing:
         * refuse it (runc warns and goes on).
         */
        if (caps->n_unknown)
                return berth_error_set(err, EINVAL, "process.capabilities: unknown capability `%s`",
                                       caps->unknown[0]);
        return berth_sysctl_validate(cfg, err);
}

static int mkdir_p(const char *path, mode_t mode)
{
        char buf[PATH_MAX];
        size_t len = strlen(path);

        if (len >= sizeof(buf))
                return -ENAMETOOLONG;
        memcpy(buf, path, len + 1);
        for (char *p = buf + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(buf, mode) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

static int make_state_dir(const struct berth_runtime *rt, const char *id, struct creation *c,
                          const char *config_src, berth_error *err)
{
        const char *root = berth_runtime_state_root(rt);
        _cleanup_free_ char *cfg = NULL, *copy = NULL;
        size_t len;
        int r;

        r = mkdir_p(root, 0711);
        if (r < 0 && geteuid() != 0 && !(rt && rt->state_root) && !getenv("XDG_RUNTIME_DIR"))
                return berth_error_set(err, -r,
                                       "create state root `%s`: %s (XDG_RUNTIME_DIR is not set: "
                                       "set it, or pass --root)",
                                       root, strerror(-r));
        if (r < 0)
                return berth_error_sys(err, -r, "create state root `%s`", root);
        r = berth_state_dir(rt, id, &c->state_dir, err);
        if (r < 0)
                return r;
        for (int attempt = 0;; attempt++) {
                if (mkdir(c->state_dir, 0711) == 0)
                        break;
                if (errno != EEXIST)
                        return berth_error_sys(err, errno, "create `%s`", c->state_dir);
                if (attempt > 0 || berth_container_reclaim_stale(c->state_dir) <= 0)
                        return berth_error_set(err, EEXIST, "container with id `%s` already exists",
                                               id);
        }
        c->dir_created = true;
        /* Held until state.json is written: without both, the dir is a killed create's. */
        c->lock_fd = berth_state_lock(c->state_dir, err);
        if (c->lock_fd < 0)
                return c->lock_fd;
        /* exec and delete read the config as it was at create time. */
        r = berth_read_file_at(AT_FDCWD, config_src, BERTH_CONFIG_MAX_SIZE, &cfg, &len, err);
        if (r < 0)
                return r;
        if (asprintf(&copy, "%s/config.json", c->state_dir) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        return berth_write_file_atomic(copy, cfg, len, 0600, err);
}

static int open_host_proc(berth_error *err)
{
        _cleanup_close_ int fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
        struct statfs sfs;

        if (fd < 0)
                return berth_error_sys(err, errno, "open /proc");
        if (fstatfs(fd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
                return berth_error_set(err, EINVAL, "/proc is not a procfs");
        return TAKE_FD(fd);
}

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* cgroup_fd >= 0: born into that cgroup (v2); *ret_placed says whether it was. */
static pid_t clone_child(unsigned long flags, int cgroup_fd, int *ret_pidfd, bool *ret_placed)
{
        struct clone_args args = {
                .flags = flags | CLONE_PIDFD,
                .pidfd = (uint64_t)(uintptr_t)ret_pidfd,
                .exit_signal = SIGCHLD,
        };
        long pid;

        *ret_placed = false;
        if (cgroup_fd >= 0) {
                args.flags |= CLONE_INTO_CGROUP;
                args.cgroup = (uint64_t)cgroup_fd;
                pid = syscall(SYS_clone3, &args, sizeof(args));
                if (pid >= 0) {
                        *ret_placed = true;
                        return (pid_t)pid;
                }
                /* Before 5.7, or a cgroup clone3 refuses: place by cgroup.procs instead. */
                args.flags &= ~CLONE_INTO_CGROUP;
                args.cgroup = 0;
        }
        pid = syscall(SYS_clone3, &args, sizeof(args));

        if (pid < 0 && (errno == ENOSYS || errno == E2BIG)) {
                /* No clone3: unshare in a fork keeps the semantics, minus the pidfd. */
                *ret_pidfd = -1;
                pid = fork();
                if (pid == 0 && unshare((int)(flags & ~(unsigned long)CLONE_NEWPID)) < 0)
                        _exit(127);
        }
        return (pid_t)pid;
}

static int state_of(const struct berth_create_opts *o, const struct creation *c,
                    enum berth_status status, struct berth_state *s)
{
        uint64_t start = 0;

        memset(s, 0, sizeof(*s));
        if (c->pid > 0 && berth_proc_stat(c->pid, &start, NULL) < 0)
                start = 0;
        s->id = (char *)o->id;
        s->pid = c->pid;
        s->pid_start_time = start;
        s->bundle = c->bundle;
        s->rootfs = c->rootfs;
        s->annotations = c->cfg->annotations;
        s->n_annotations = c->cfg->n_annotations;
        s->status = status;
        return 0;
}

static int run_parent_hooks(const struct berth_create_opts *o, struct creation *c, berth_error *err)
{
        _cleanup_free_ char *json = NULL;
        struct berth_state s;
        int r;

        state_of(o, c, BERTH_STATUS_CREATING, &s);
        s.created = (char *)"";
        s.owner = (char *)"";
        r = berth_state_to_json(&s, false, &json, err);
        if (r < 0)
                return r;
        r = berth_hooks_run(c->cfg, BERTH_HOOK_PRESTART, json, err);
        if (r < 0)
                return r;
        return berth_hooks_run(c->cfg, BERTH_HOOK_CREATE_RUNTIME, json, err);
}

/* Waits for the child to finish its set-up, serving its hook requests. */
static int wait_created(const struct berth_create_opts *o, struct creation *c, berth_error *err)
{
        for (;;) {
                struct sync_msg m;
                int r = sync_recv(c->sync_fd, &m);

                if (r == -ECONNRESET)
                        return berth_error_set(err, ECONNRESET,
                                               "container init exited unexpectedly");
                if (r < 0)
                        return berth_error_sys(err, -r, "read from container init");
                switch (m.type) {
                case SYNC_CREATED:
                        return 0;
                case SYNC_ERROR:
                        return berth_error_set(err, m.code, "%s", m.msg);
                case SYNC_RUN_HOOKS:
                        r = run_parent_hooks(o, c, err);
                        if (r < 0) {
                                sync_send(c->sync_fd, SYNC_ERROR, err->code, berth_error_msg(err));
                                return r;
                        }
                        sync_send(c->sync_fd, SYNC_GO, 0, NULL);
                        break;
                default:
                        return berth_error_set(err, EPROTO, "unexpected message %u", m.type);
                }
        }
}

int write_pid_file(const char *path, pid_t pid, berth_error *err)
{
        char buf[32];
        int len = snprintf(buf, sizeof(buf), "%d", (int)pid);
        int r = berth_write_file_atomic(path, buf, (size_t)len, 0644, err);

        return r < 0 ? berth_error_prefix(err, "pid file") : 0;
}

static int save_state(const struct berth_create_opts *o, struct creation *c, berth_error *err)
{
        _cleanup_free_ char *created = berth_now_rfc3339(), *owner = strdup("");
        struct berth_state s;
        int r;

        state_of(o, c, BERTH_STATUS_CREATED, &s);
        s.created = created;
        s.owner = owner;
        r = berth_state_save(c->state_dir, &s, err);
        if (r < 0)
                return r;
        if (o->pid_file)
                return write_pid_file(o->pid_file, c->pid, err);
        return 0;
}

static void init_ctx_setup(struct init_ctx *ctx, const struct berth_create_opts *o,
                           struct creation *c)
{
        memset(ctx, 0, sizeof(*ctx));
        ctx->cfg = c->cfg;
        ctx->proc = c->cfg->process;
        ctx->id = o->id;
        ctx->bundle = c->bundle;
        ctx->rootfs = c->rootfs;
        ctx->fifo_fd = -1;
        ctx->console_sock = -1;
        ctx->hostproc_fd = -1;
        ctx->null_fd = -1;
        for (int i = 0; i < _BERTH_NS_MAX; i++)
                ctx->ns_fds[i] = -1;
        ctx->preserve_fds = o->preserve_fds;
        ctx->no_pivot = o->no_pivot;
        ctx->no_new_keyring = o->no_new_keyring;
        ctx->has_create_runtime_hooks = c->cfg->hooks[BERTH_HOOK_PRESTART].n_hooks > 0 ||
                                        c->cfg->hooks[BERTH_HOOK_CREATE_RUNTIME].n_hooks > 0;
}

static int open_fifo(struct creation *c, berth_error *err)
{
        char path[PATH_MAX];
        int fd;

        snprintf(path, sizeof(path), "%s/exec.fifo", c->state_dir);
        if (mkfifo(path, 0622) < 0)
                return berth_error_sys(err, errno, "create `%s`", path);
        fd = open(path, O_PATH | O_CLOEXEC);
        if (fd < 0)
                return berth_error_sys(err, errno, "open `%s`", path);
        return fd;
}

static int spawn_init(struct init_ctx *ctx, struct creation *c, berth_error *err)
{
        unsigned long flags = berth_ns_clone_flags(c->cfg);
        int sv[2], cgfd, r;
        bool placed;

        r = berth_ns_open_paths(c->cfg, ctx->ns_fds, err);
        if (r < 0)
                return r;
        r = berth_ns_join(ctx->ns_fds, true, err);
        if (r < 0)
                return r;
        if ((flags & CLONE_NEWTIME) &&
            (c->cfg->linux.time_monotonic.set || c->cfg->linux.time_boottime.set)) {
                r = berth_ns_time_offsets(c->cfg, err);
                if (r < 0)
                        return r;
                flags &= ~(unsigned long)CLONE_NEWTIME;
        }
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return berth_error_sys(err, errno, "socketpair");
        /*
         * A new cgroup namespace takes its root from the cgroup the process
         * is in when it is made: the init unshares it once placed.
         */
        if (c->cg && (flags & CLONE_NEWCGROUP)) {
                flags &= ~(unsigned long)CLONE_NEWCGROUP;
                ctx->unshare_cgroupns = true;
        }
        cgfd = berth_cgroup_clone_fd(c->cg);
        ctx->clone_flags = flags;
        ctx->sync_fd = sv[1];
        /* The child clears it when clone3 placed it (it sees `placed` too). */
        ctx->wait_placed = c->cg != NULL;
        c->sync_fd = sv[0];
        c->pid = clone_child(flags, cgfd, &c->pidfd, &placed);
        if (c->pid < 0) {
                close(sv[1]);
                if (cgfd >= 0)
                        close(cgfd);
                c->pid = 0;
                return berth_error_sys(err, errno, "clone container process");
        }
        if (c->pid == 0) {
                close(sv[0]);
                /* Born into the cgroup after all: no one will send a GO for it. */
                if (placed)
                        ctx->wait_placed = false;
                berth_init_main(ctx);
        }
        close(sv[1]);
        if (cgfd >= 0)
                close(cgfd);
        if (c->cg && !placed) {
                r = berth_cgroup_enter(c->cg, c->pid, err);
                if (r < 0)
                        return r;
        }
        if (flags & CLONE_NEWUSER) {
                r = berth_ns_write_id_maps(c->pid, c->cfg, err);
                if (r < 0)
                        return r;
        }
        if ((flags & CLONE_NEWUSER) || (c->cg && !placed))
                sync_send(c->sync_fd, SYNC_GO, 0, NULL);
        return 0;
}

static void init_ctx_release(struct init_ctx *ctx)
{
        if (ctx->fifo_fd >= 0)
                close(ctx->fifo_fd);
        if (ctx->console_sock >= 0)
                close(ctx->console_sock);
        if (ctx->hostproc_fd >= 0)
                close(ctx->hostproc_fd);
        for (int i = 0; i < _BERTH_NS_MAX; i++)
                if (ctx->ns_fds[i] >= 0)
                        close(ctx->ns_fds[i]);
        berth_seccomp_filter_free(ctx->seccomp);
        berth_idmap_release(ctx->idmap_fds, ctx->cfg->n_mounts);
}

/* What the init inherits: fifo, host procfs, console, compiled seccomp filter. */
static int open_init_fds(const struct berth_runtime *rt, struct init_ctx *ctx,
                         const struct berth_create_opts *o, struct creation *c, berth_error *err)
{
        bool terminal = c->cfg->process->terminal;
        char cache[PATH_MAX];

        if (!ctx->run_mode) {
                ctx->fifo_fd = open_fifo(c, err);
                if (ctx->fifo_fd < 0)
                        return ctx->fifo_fd;
        }
        ctx->hostproc_fd = open_host_proc(err);
        if (ctx->hostproc_fd < 0)
                return ctx->hostproc_fd;
        if (terminal && o->console_socket) {
                ctx->console_sock = berth_console_connect(o->console_socket, err);
                if (ctx->console_sock < 0)
                        return ctx->console_sock;
        } else if (terminal) {
                /* Foreground run without a console socket: we proxy the pty ourselves. */
                int sv[2];
                if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                        return berth_error_sys(err, errno, "socketpair");
                c->console_peer = sv[0];
                ctx->console_sock = sv[1];
        }
        if (berth_idmap_prepare(c->cfg, c->bundle, &ctx->idmap_fds, err) < 0)
                return berth_error_ret(err);
        if (berth_runtime_seccomp_cache(rt, cache, sizeof(cache), err) < 0)
                return berth_error_ret(err);
        return berth_seccomp_compile(c->cfg, cache, &ctx->seccomp, err);
}

static int start_init(const struct berth_runtime *rt, const struct berth_create_opts *o,
                      bool run_mode, struct creation *c, berth_error *err)
{
        _cleanup_(init_ctx_release) struct init_ctx ctx;
        int r;

        init_ctx_setup(&ctx, o, c);
        ctx.run_mode = run_mode;
        ctx.lock_fd = c->lock_fd;
        r = open_init_fds(rt, &ctx, o, c, err);
        if (r < 0)
                return r;
        return spawn_init(&ctx, c, err);
}

/* Everything create and run share, up to the process waiting to exec. */
int do_create(const struct berth_runtime *rt, const struct berth_create_opts *o, bool run_mode,
              struct creation *c, berth_error *err)
{
        _cleanup_free_ char *cfg_src = NULL;
        int r;

        r = berth_validate_id(o->id, err);
        if (r < 0)
                return r;
        r = resolve_paths(o, c, err);
        if (r < 0)
                return r;
        r = validate_config(c->cfg, err);
        if (r < 0)
                return r;
        if (c->cfg->process->terminal && !o->console_socket && (!run_mode || o->detach))
                return berth_error_set(err, EINVAL,
                                       "cannot allocate tty if %s will detach without setting "
                                       "console socket",
                                       BERTH_RUNTIME_NAME);
        if (o->config_path)
                cfg_src = strdup(o->config_path);
        else if (asprintf(&cfg_src, "%s/config.json", c->bundle) < 0)
                cfg_src = NULL;
        if (!cfg_src)
                return berth_error_set(err, ENOMEM, "out of memory");
        r = make_state_dir(rt, o->id, c, cfg_src, err);
        if (r < 0)
                return r;
        r = berth_cgroup_create(rt, c->cfg, o->id, c->state_dir, &c->cg, err);
        if (r < 0)
                return r;

        r = start_init(rt, o, run_mode, c, err);
        if (r < 0)
                return r;
        r = wait_created(o, c, err);
        if (r < 0)
                return r;
        r = save_state(o, c, err);
        if (r < 0)
                return r;
        close(c->lock_fd);
        c->lock_fd = -1;
        return 0;
}

int berth_container_create(const struct berth_runtime *rt, const struct berth_create_opts *o,
                           berth_error *err)
{
        struct creation c = CREATION_INIT;
        int r = do_create(rt, o, false, &c, err);

        if (r < 0)
                creation_abort(&c);
        creation_release(&c);
        return r;
}

int run_poststart(const struct berth_config *cfg, const struct berth_state *s)
{
        _cleanup_free_ char *json = NULL;
        berth_error e = BERTH_ERROR_INIT;

        if (cfg->hooks[BERTH_HOOK_POSTSTART].n_hooks == 0)
                return 0;
        if (berth_state_to_json(s, false, &json, &e) == 0 &&
            berth_hooks_run(cfg, BERTH_HOOK_POSTSTART, json, &e) == 0)
                return 0;
        log_warn("poststart hook: %s", berth_error_msg(&e));
        berth_error_release(&e);
        return 0;
}

/*
 * The init keeps the fifo's write side open, close-on-exec, through its
 * startContainer hooks: EOF means it has exec'd the container's process
 * (poststart hooks run after that, as the spec asks) or died.
 */
static int wait_exec(int fd, berth_error *err)
{
        char byte;

        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                ssize_t n;
                if (poll(&p, 1, -1) < 0 && errno != EINTR)
                        return berth_error_sys(err, errno, "wait for container process");
                n = read(fd, &byte, 1);
                if (n == 0)
                        break;
                if (n < 0 && errno != EAGAIN && errno != EINTR)
                        return berth_error_sys(err, errno, "wait for container process");
        }
        /* A process that already ran and exited also reads as EOF: that is a start. */
        return 0;
}

/* Opens the fifo's read side without blocking and waits for the init's byte. */
static int release_fifo(const char *dir, const struct berth_state *s, berth_error *err)
{
        char path[PATH_MAX], byte = 0;
        _cleanup_close_ int fd = -1, pidfd = berth_pidfd_open(s->pid);
        struct pollfd pfd[2];
        ssize_t n;

        snprintf(path, sizeof(path), "%s/exec.fifo", dir);
        fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return berth_error_sys(err, errno, "open exec fifo");
        pfd[0] = (struct pollfd){ .fd = fd, .events = POLLIN };
        pfd[1] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
        for (;;) {
                int r = poll(pfd, pidfd >= 0 ? 2 : 1, 10000);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return berth_error_sys(err, errno, "wait for container init");
                if (r == 0)
                        return berth_error_set(err, ETIMEDOUT, "container init did not answer");
                if (pfd[0].revents)
                        break;
                if (pfd[1].revents)
                        return berth_error_set(err, ESRCH, "container init exited before start");
        }
        n = read(fd, &byte, 1);
        if (n != 1 || byte != '0')
                return berth_error_set(err, EIO, "container init exited before start");
        unlink(path);
        return wait_exec(fd, err);
}

int berth_container_start(const struct berth_runtime *rt, const char *id, berth_error *err)
{
        _cleanup_(berth_state_freep) struct berth_state *s = NULL;
        _cleanup_(berth_config_freep) struct berth_config *cfg = NULL;
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int lock = -1;
        int r;

        r = berth_state_load_locked(rt, id, &s, &dir, &lock, err);
        if (r < 0)
                return r;
        switch (s->status) {
        case BERTH_STATUS_CREATED:
                break;
        case BERTH_STATUS_STOPPED:
                return berth_error_set(err, EINVAL, "cannot start a container that has stopped");
        default:
                return berth_error_set(err, EINVAL, "cannot start an already running container");
        }
        r = berth_state_config(rt, id, &cfg, err);
        if (r < 0)
                return r;
        r = release_fifo(dir, s, err);
        if (r < 0)
                return r;
        s->status = BERTH_STATUS_RUNNING;
        return run_poststart(cfg, s);
}
