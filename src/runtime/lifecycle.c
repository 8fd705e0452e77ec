/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * run (foreground and detached), kill, delete and the list of a container's
 * processes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "basic/log.h"
#include "runtime/creation.h"
#include "runtime/supervise.h"

static const char *const signal_names[] = {
        [SIGHUP] = "HUP",   [SIGINT] = "INT",       [SIGQUIT] = "QUIT", [SIGILL] = "ILL",
        [SIGTRAP] = "TRAP", [SIGABRT] = "ABRT",     [SIGBUS] = "BUS",   [SIGFPE] = "FPE",
        [SIGKILL] = "KILL", [SIGUSR1] = "USR1",     [SIGSEGV] = "SEGV", [SIGUSR2] = "USR2",
        [SIGPIPE] = "PIPE", [SIGALRM] = "ALRM",     [SIGTERM] = "TERM", [SIGSTKFLT] = "STKFLT",
        [SIGCHLD] = "CHLD", [SIGCONT] = "CONT",     [SIGSTOP] = "STOP", [SIGTSTP] = "TSTP",
        [SIGTTIN] = "TTIN", [SIGTTOU] = "TTOU",     [SIGURG] = "URG",   [SIGXCPU] = "XCPU",
        [SIGXFSZ] = "XFSZ", [SIGVTALRM] = "VTALRM", [SIGPROF] = "PROF", [SIGWINCH] = "WINCH",
        [SIGIO] = "IO",     [SIGPWR] = "PWR",       [SIGSYS] = "SYS",
};

int berth_signal_from_string(const char *s)
{
        int n;

        if (!s || !*s)
                return -EINVAL;
        if (berth_parse_int(s, &n) == 0)
                return n > 0 && n < _NSIG ? n : -EINVAL;
        if (strncasecmp(s, "SIG", 3) == 0)
                s += 3;
        for (size_t i = 0; i < ARRAY_SIZE(signal_names); i++)
                if (signal_names[i] && strcasecmp(s, signal_names[i]) == 0)
                        return (int)i;
        if (strcasecmp(s, "IOT") == 0)
                return SIGABRT;
        if (strcasecmp(s, "CLD") == 0)
                return SIGCHLD;
        if (strncasecmp(s, "RTMIN", 5) == 0 || strncasecmp(s, "RTMAX", 5) == 0) {
                int base = strncasecmp(s, "RTMIN", 5) == 0 ? SIGRTMIN : SIGRTMAX, off = 0;
                if (s[5] == '+' && berth_parse_int(s + 6, &off) < 0)
                        return -EINVAL;
                if (s[5] == '-' && berth_parse_int(s + 5, &off) < 0)
                        return -EINVAL;
                if (s[5] && s[5] != '+' && s[5] != '-')
                        return -EINVAL;
                if (base + off < SIGRTMIN || base + off > SIGRTMAX)
                        return -EINVAL;
                return base + off;
        }
        return -EINVAL;
}

const char *berth_signal_to_string(int sig)
{
        if (sig > 0 && (size_t)sig < ARRAY_SIZE(signal_names))
                return signal_names[sig];
        return NULL;
}

int berth_container_destroy(const char *dir, const struct berth_config *cfg,
                            const struct berth_state *s, berth_error *err)
{
        berth_error e = BERTH_ERROR_INIT;
        int r;

        /* The cgroup first: if it cannot go, the state stays for another delete. */
        r = berth_cgroup_destroy_recorded(dir, err);
        if (r < 0)
                return berth_error_prefix(err, "delete `%s`", s->id);
        if (cfg && cfg->hooks[BERTH_HOOK_POSTSTOP].n_hooks > 0) {
                _cleanup_free_ char *json = NULL;
                struct berth_state copy = *s;
                copy.status = BERTH_STATUS_STOPPED;
                copy.pid = 0;
                if (berth_state_to_json(&copy, false, &json, &e) < 0 ||
                    berth_hooks_run(cfg, BERTH_HOOK_POSTSTOP, json, &e) < 0)
                        log_warn("poststop hook: %s", berth_error_msg(&e));
                berth_error_release(&e);
        }
        r = berth_container_remove_state(dir);
        if (r < 0)
                log_warn("remove `%s`: %s", dir, strerror(-r));
        return 0;
}

static int start_run(struct creation *c, berth_error *err)
{
        struct sync_msg m;
        int r;

        r = sync_send(c->sync_fd, SYNC_START, 0, NULL);
        if (r < 0)
                return berth_error_sys(err, -r, "start container init");
        /* The socket is close-on-exec: EOF means the exec happened. */
        r = sync_recv(c->sync_fd, &m);
        if (r == 0 && m.type == SYNC_ERROR)
                return berth_error_set(err, m.code, "%s", m.msg);
        return 0;
}

int berth_container_run(const struct berth_runtime *rt, const struct berth_create_opts *o,
                        int *ret_status, berth_error *err)
{
        struct creation c = CREATION_INIT;
        _cleanup_(berth_state_freep) struct berth_state *s = NULL;
        int r;

        *ret_status = 0;
        r = do_create(rt, o, true, &c, err);
        if (r >= 0)
                r = start_run(&c, err);
        if (r < 0) {
                creation_abort(&c);
                creation_release(&c);
                return r;
        }
        r = berth_state_load(rt, o->id, &s, err);
        if (r == 0) {
                s->status = BERTH_STATUS_RUNNING;
                run_poststart(c.cfg, s);
        }
        berth_error_release(err);
        if (!o->detach) {
                int master = -1;
                if (c.console_peer >= 0 && berth_recv_fd(c.console_peer, &master, NULL, 0) < 0)
                        master = -1;
                *ret_status = berth_supervise(c.pid, master);
                if (master >= 0)
                        close(master);
                if (s && berth_container_destroy(c.state_dir, c.cfg, s, err) < 0) {
                        log_warn("%s", berth_error_msg(err));
                        berth_error_release(err);
                }
        }
        creation_release(&c);
        return 0;
}

/* Reads the pid namespace of a process as "pid:[N]". */
static int ns_of(pid_t pid, char *buf, size_t size)
{
        char path[64];
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
        n = readlink(path, buf, size - 1);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        return 0;
}

static int cmp_pid(const void *a, const void *b)
{
        pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
        return (x > y) - (x < y);
}

static int append_pid(pid_t **list, size_t *n, pid_t pid)
{
        pid_t *nl = realloc(*list, (*n + 1) * sizeof(pid_t));
        if (!nl)
                return -ENOMEM;
        nl[(*n)++] = pid;
        *list = nl;
        return 0;
}

/*
 * The container's processes: those in its own pid namespace. (With the
 * cgroup drivers of the next part this becomes cgroup.procs.) When the
 * container shares the host's pid namespace only its init is reported.
 */
static int scan_pids(pid_t init, pid_t **ret, size_t *ret_n)
{
        char want[64], self[64], have[64];
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        pid_t *list = NULL;
        size_t n = 0;

        if (ns_of(init, want, sizeof(want)) < 0 || ns_of(getpid(), self, sizeof(self)) < 0 ||
            strcmp(want, self) == 0) {
                *ret = NULL;
                *ret_n = 0;
                if (append_pid(ret, ret_n, init) < 0)
                        return -ENOMEM;
                return 0;
        }
        d = opendir("/proc");
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                int pid;
                if (berth_parse_int(de->d_name, &pid) < 0)
                        continue;
                char st = 0;
                if (ns_of(pid, have, sizeof(have)) < 0 || strcmp(have, want) != 0)
                        continue;
                /* Zombies have left (cgroup.procs drops them too). */
                if (berth_proc_stat(pid, NULL, &st) < 0 || st == 'Z' || st == 'X')
                        continue;
                if (append_pid(&list, &n, pid) < 0) {
                        free(list);
                        return -ENOMEM;
                }
        }
        if (n)
                qsort(list, n, sizeof(pid_t), cmp_pid);
        *ret = list;
        *ret_n = n;
        return 0;
}

/* The container's processes: its cgroup's, or those in its pid namespace without one. */
static int container_pids(const struct berth_runtime *rt, const struct berth_state *s,
                          struct berth_cgroup **ret_cg, pid_t **ret, size_t *ret_n)
{
        _cleanup_free_ char *dir = NULL;
        berth_error e = BERTH_ERROR_INIT;

        *ret_cg = NULL;
        if (berth_state_dir(rt, s->id, &dir, &e) == 0 && berth_cgroup_load(dir, ret_cg, &e) == 0 &&
            *ret_cg && berth_cgroup_pids(*ret_cg, ret, ret_n) == 0)
                return 0;
        berth_error_release(&e);
        return scan_pids(s->pid, ret, ret_n);
}

int berth_container_pids(const struct berth_runtime *rt, const char *id, pid_t **ret, size_t *ret_n,
                         berth_error *err)
{
        _cleanup_(berth_state_freep) struct berth_state *s = NULL;
        _cleanup_(berth_cgroup_freep) struct berth_cgroup *cg = NULL;
        int r = berth_state_load(rt, id, &s, err);

        *ret = NULL;
        *ret_n = 0;
        if (r < 0)
                return r;
        if (s->status == BERTH_STATUS_STOPPED)
                return 0;
        r = container_pids(rt, s, &cg, ret, ret_n);
        if (r < 0)
                return berth_error_sys(err, -r, "list processes of `%s`", id);
        return 0;
}

static int signal_init(const struct berth_state *s, int sig, berth_error *err)
{
        _cleanup_close_ int pidfd = berth_pidfd_open(s->pid);
        uint64_t start;

        if (pidfd >= 0) {
                /* The pidfd pins the process: check it is still ours, then signal. */
                if (berth_proc_stat(s->pid, &start, NULL) < 0 || start != s->pid_start_time)
                        return berth_error_set(err, ESRCH, "container not running");
                if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
                        return berth_error_sys(err, errno, "kill container `%s`", s->id);
                return 0;
        }
        if (kill(s->pid, sig) < 0)
                return berth_error_sys(err, errno, "kill container `%s`", s->id);
        return 0;
}

int berth_container_kill(const struct berth_runtime *rt, const char *id, int sig, bool all,
                         berth_error *err)
{
        _cleanup_(berth_state_freep) struct berth_state *s = NULL;
        _cleanup_(berth_cgroup_freep) struct berth_cgroup *cg = NULL;
        _cleanup_free_ char *dir = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        int r;

        r = berth_state_load(rt, id, &s, err);
        if (r < 0)
                return r;
        if (s->status == BERTH_STATUS_STOPPED)
                return berth_error_set(err, ESRCH, "container not running");
        if (!all)
                return signal_init(s, sig, err);
        r = berth_state_dir(rt, id, &dir, err);
        if (r < 0)
                return r;
        r = berth_cgroup_load(dir, &cg, err);
        if (r < 0)
                return r;
        if (cg && cg->n_dirs) {
                /* Frozen while signalled: nothing forks past it. */
                return berth_cgroup_signal_all(cg, sig, err);
        }
        r = scan_pids(s->pid, &pids, &n);
        if (r < 0)
                return berth_error_sys(err, -r, "list processes of `%s`", id);
        for (size_t i = 0; i < n; i++)
                if (pids[i] != s->pid)
                        kill(pids[i], sig);
        return signal_init(s, sig, err);
}

/* Waits (up to ~10 s) until the init is gone or a zombie. */
static int wait_stopped(const char *dir, const struct berth_state *s)
{
        _cleanup_close_ int pidfd = berth_pidfd_open(s->pid);

        for (int i = 0; i < 1000; i++) {
                if (berth_state_probe(dir, s->pid, s->pid_start_time) == BERTH_STATUS_STOPPED)
                        return 0;
                if (pidfd >= 0) {
                        struct pollfd p = { .fd = pidfd, .events = POLLIN };
                        poll(&p, 1, 10);
                } else {
                        struct timespec ts = { 0, 10 * 1000 * 1000 };
                        nanosleep(&ts, NULL);
                }
        }
        return -ETIMEDOUT;
}

int berth_container_delete(const struct berth_runtime *rt, const char *id, bool force,
                           berth_error *err)
{
        _cleanup_(berth_state_freep) struct berth_state *s = NULL;
        _cleanup_(berth_config_freep) struct berth_config *cfg = NULL;
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int lock = -1;
        berth_error e = BERTH_ERROR_INIT;
        int r;

        r = berth_state_load_locked(rt, id, &s, &dir, &lock, err);
        if (r == -ENOENT && berth_state_dir(rt, id, &dir, NULL) == 0) {
                /* A create killed half-way left a dir without state: that goes too. */
                int q = berth_container_reclaim_stale(dir);
                if (q == 1) {
                        berth_error_release(err);
                        return 0;
                }
                if (q == -EBUSY)
                        return berth_error_set(err, EBUSY, "container `%s` is being created", id);
        }
        if (r < 0)
                return r;
        if ((s->status == BERTH_STATUS_RUNNING || s->status == BERTH_STATUS_PAUSED) && !force)
                return berth_error_set(err, EBUSY,
                                       "cannot delete container `%s` that is not stopped: %s", id,
                                       berth_status_to_string(s->status));
        if (s->status != BERTH_STATUS_STOPPED) {
                berth_container_kill(rt, id, SIGKILL, true, &e);
                berth_error_release(&e);
                if (wait_stopped(dir, s) < 0)
                        return berth_error_set(err, ETIMEDOUT,
                                               "container `%s` did not stop after SIGKILL", id);
        }
        if (berth_state_config(rt, id, &cfg, &e) < 0) {
                log_warn("delete `%s`: %s", id, berth_error_msg(&e));
                berth_error_release(&e);
        }
        return berth_container_destroy(dir, cfg, s, err);
}
