/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * exec: a new process inside a created or running container. The runtime
 * joins the pid (and time) namespace for its child, forks, and the child
 * joins the rest (user first, mount last), then goes through the same
 * final steps as the container's init. The parent never enters the
 * container's mount namespace, so pid files land on the host.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "runtime/creation.h"
#include "runtime/supervise.h"

static const enum berth_ns_type child_order[] = {
        BERTH_NS_USER,    BERTH_NS_IPC,    BERTH_NS_UTS,
        BERTH_NS_NETWORK, BERTH_NS_CGROUP, BERTH_NS_MOUNT,
};

int berth_exec_process_from_container(const struct berth_runtime *rt, const char *id,
                                      struct berth_process **ret, berth_error *err)
{
        _cleanup_(berth_config_freep) struct berth_config *cfg = NULL;
        int r = berth_state_config(rt, id, &cfg, err);

        if (r < 0)
                return r;
        if (!cfg->process)
                return berth_error_set(err, EINVAL, "container `%s` has no process", id);
        *ret = TAKE_PTR(cfg->process);
        (*ret)->terminal = false;
        return 0;
}

/* Opens the init's namespaces that differ from ours. */
static int open_container_ns(pid_t pid, int fds[], berth_error *err)
{
        for (int t = 0; t < _BERTH_NS_MAX; t++) {
                const char *name = berth_ns_type_proc_name((enum berth_ns_type)t);
                char path[64], self[64];
                struct stat a, b;

                fds[t] = -1;
                snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, name);
                snprintf(self, sizeof(self), "/proc/self/ns/%s", name);
                if (stat(path, &a) < 0) {
                        if (errno == ENOENT)
                                continue; /* kernel without this namespace type */
                        return berth_error_sys(err, errno, "open %s", path);
                }
                if (stat(self, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
                        continue;
                fds[t] = open(path, O_RDONLY | O_CLOEXEC);
                if (fds[t] < 0)
                        return berth_error_sys(err, errno, "open %s", path);
        }
        return 0;
}

static void close_ns(int fds[])
{
        for (int t = 0; t < _BERTH_NS_MAX; t++)
                if (fds[t] >= 0) {
                        close(fds[t]);
                        fds[t] = -1;
                }
}

static int exec_child_setup(const struct berth_exec_opts *o, struct berth_seccomp_filter *filter,
                            int fds[], int console, char **path, char ***env, berth_error *err)
{
        int r;

        prctl(PR_SET_DUMPABLE, 0);
        for (size_t i = 0; i < ARRAY_SIZE(child_order); i++) {
                enum berth_ns_type t = child_order[i];
                if (fds[t] >= 0 && setns(fds[t], berth_ns_type_clone_flag(t)) < 0)
                        return berth_error_sys(err, errno, "join %s namespace",
                                               berth_ns_type_to_string(t));
        }
        close_ns(fds);
        if (o->process->terminal) {
                int master, slave;
                if (setsid() < 0)
                        return berth_error_sys(err, errno, "setsid");
                r = berth_pty_open(&master, &slave, err);
                if (r < 0)
                        return r;
                r = berth_console_send(console, master, err);
                close(master);
                if (r < 0)
                        return r;
                r = berth_terminal_take(slave, err);
                if (r < 0)
                        return r;
        }
        r = berth_process_chdir(o->process, err);
        if (r < 0)
                return r;
        {
                _cleanup_close_ int proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
                r = berth_process_apply_early(o->process, proc, err);
                if (r < 0)
                        return r;
        }
        r = berth_process_lookup_path(o->process, path, err);
        if (r < 0)
                return r;
        *env = berth_process_env_with_home(o->process);
        if (berth_cloexec_from(3 + (int)o->preserve_fds) < 0)
                return berth_error_sys(err, errno, "mark fds close-on-exec");
        for (int fd = 3; fd < 3 + (int)o->preserve_fds; fd++)
                fcntl(fd, F_SETFD, 0);
        /* Same order as the init: without no_new_privs while still privileged. */
        if (!o->process->no_new_privileges) {
                r = berth_seccomp_load(filter, NULL, err);
                if (r < 0)
                        return r;
        }
        r = berth_process_apply_creds(o->process, err);
        if (r < 0 || !o->process->no_new_privileges)
                return r;
        return berth_seccomp_load(filter, NULL, err);
}

_Noreturn static void exec_child(const struct berth_exec_opts *o,
                                 struct berth_seccomp_filter *filter, int fds[], int console,
                                 int sync_fd, bool wait_placed)
{
        berth_error err = BERTH_ERROR_INIT;
        char *path = NULL, **env = NULL;

        /* In the container's cgroup before anything of the container is joined. */
        if (wait_placed && sync_expect(sync_fd, SYNC_GO, &err) < 0)
                _exit(255);
        if (exec_child_setup(o, filter, fds, console, &path, &env, &err) < 0) {
                sync_send(sync_fd, SYNC_ERROR, err.code, berth_error_msg(&err));
                _exit(255);
        }
        berth_process_exec(o->process, path, env, sync_fd);
}

static int check_execable(const struct berth_runtime *rt, const char *id, struct berth_state **ret,
                          berth_error *err)
{
        int r = berth_state_load(rt, id, ret, err);

        if (r < 0)
                return r;
        if ((*ret)->status == BERTH_STATUS_STOPPED)
                return berth_error_set(err, ESRCH, "cannot exec in a stopped container");
        if ((*ret)->status == BERTH_STATUS_PAUSED)
                return berth_error_set(err, EBUSY, "cannot exec in a paused container");
        return 0;
}

static int spawn(const struct berth_exec_opts *o, struct berth_seccomp_filter *filter,
                 const struct berth_state *s, struct berth_cgroup *cg, int fds[], int console,
                 pid_t *ret_pid, berth_error *err)
{
        int sv[2], r;
        struct sync_msg m;
        pid_t pid;

        /*
         * Unprivileged, we hold no capability over the container's pid
         * namespace until we are in its user namespace: join that first.
         */
        if (fds[BERTH_NS_USER] >= 0 && geteuid() != 0) {
                if (setns(fds[BERTH_NS_USER], CLONE_NEWUSER) < 0)
                        return berth_error_sys(err, errno, "join user namespace of `%s`", s->id);
                close(fds[BERTH_NS_USER]);
                fds[BERTH_NS_USER] = -1;
        }
        /* pid and time namespaces take effect for the child we fork next. */
        for (int t = BERTH_NS_PID; t <= BERTH_NS_TIME; t += BERTH_NS_TIME - BERTH_NS_PID) {
                if (fds[t] >= 0 &&
                    setns(fds[t], berth_ns_type_clone_flag((enum berth_ns_type)t)) < 0)
                        return berth_error_sys(err, errno, "join %s namespace of `%s`",
                                               berth_ns_type_to_string((enum berth_ns_type)t),
                                               s->id);
        }
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return berth_error_sys(err, errno, "socketpair");
        pid = fork();
        if (pid < 0) {
                close(sv[0]);
                close(sv[1]);
                return berth_error_sys(err, errno, "fork");
        }
        if (pid == 0) {
                close(sv[0]);
                exec_child(o, filter, fds, console, sv[1], cg != NULL);
        }
        close(sv[1]);
        if (cg) {
                r = berth_cgroup_enter(cg, pid, err);
                if (r < 0) {
                        close(sv[0]);
                        kill(pid, SIGKILL);
                        waitpid(pid, NULL, 0);
                        return r;
                }
                sync_send(sv[0], SYNC_GO, 0, NULL);
        }
        r = sync_recv(sv[0], &m);
        close(sv[0]);
        *ret_pid = pid;
        if (r == 0 && m.type == SYNC_ERROR) {
                waitpid(pid, NULL, 0);
                return berth_error_set(err, m.code, "%s", m.msg);
        }
        return 0;
}

int berth_container_exec(const struct berth_runtime *rt, const char *id,
                         const struct berth_exec_opts *o, int *ret_status, berth_error *err)
{
        _cleanup_(berth_state_freep) struct berth_state *s = NULL;
        _cleanup_(berth_config_freep) struct berth_config *cfg = NULL;
        _cleanup_(berth_seccomp_filter_freep) struct berth_seccomp_filter *filter = NULL;
        _cleanup_(berth_cgroup_freep) struct berth_cgroup *cg = NULL;
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int console = -1, peer = -1, master = -1;
        int fds[_BERTH_NS_MAX];
        char cache[PATH_MAX];
        uint64_t start;
        pid_t pid = 0;
        int r;

        *ret_status = 0;
        r = check_execable(rt, id, &s, err);
        if (r < 0)
                return r;
        r = berth_state_config(rt, id, &cfg, err);
        if (r < 0)
                return r;
        r = berth_runtime_seccomp_cache(rt, cache, sizeof(cache), err);
        if (r >= 0)
                r = berth_seccomp_compile(cfg, cache, &filter, err);
        if (r >= 0)
                r = berth_seccomp_connect_listener(filter, err);
        if (r < 0)
                return r;
        if (o->process->terminal && o->console_socket) {
                console = berth_console_connect(o->console_socket, err);
                if (console < 0)
                        return console;
        } else if (o->process->terminal) {
                int sv[2];
                if (o->detach)
                        return berth_error_set(err, EINVAL,
                                               "cannot allocate tty if %s will detach without "
                                               "setting console socket",
                                               BERTH_RUNTIME_NAME);
                if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                        return berth_error_sys(err, errno, "socketpair");
                peer = sv[0];
                console = sv[1];
        }
        r = open_container_ns(s->pid, fds, err);
        if (r < 0) {
                close_ns(fds);
                return r;
        }
        /* The namespace fds pin the right process only if it is still ours. */
        if (berth_proc_stat(s->pid, &start, NULL) < 0 || start != s->pid_start_time) {
                close_ns(fds);
                return berth_error_set(err, ESRCH, "container not running");
        }
        r = berth_state_dir(rt, id, &dir, err);
        if (r >= 0)
                r = berth_cgroup_load(dir, &cg, err);
        if (r < 0) {
                close_ns(fds);
                return r;
        }
        if (cg && cg->n_dirs == 0)
                cg = (berth_cgroup_free(cg), NULL);
        r = spawn(o, filter, s, cg, fds, console, &pid, err);
        close_ns(fds);
        if (r < 0)
                return r;
        if (o->pid_file) {
                r = write_pid_file(o->pid_file, pid, err);
                if (r < 0)
                        return r;
        }
        if (peer >= 0 && berth_recv_fd(peer, &master, NULL, 0) < 0)
                master = -1;
        if (!o->detach)
                *ret_status = berth_supervise(pid, master);
        return 0;
}
