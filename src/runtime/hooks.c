/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * OCI hooks: each runs with the container's state JSON on stdin, its own
 * args and env, and an optional timeout after which it is killed and the
 * operation fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "runtime/linux.h"

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

_Noreturn static void hook_child(const struct berth_hook *h, int in_fd)
{
        static char *const empty[] = { NULL };
        char *const fallback_args[] = { h->path, NULL };

        if (dup2(in_fd, STDIN_FILENO) < 0)
                _exit(126);
        execve(h->path, h->args ? h->args : fallback_args, h->env ? h->env : empty);
        _exit(127);
}

/* Waits for the hook, killing it at its deadline; returns the wait status. */
static int wait_hook(pid_t pid, int pidfd, int timeout_s, bool *timed_out)
{
        int64_t deadline = timeout_s > 0 ? now_ms() + (int64_t)timeout_s * 1000 : -1;
        int st = 0;

        *timed_out = false;
        for (;;) {
                pid_t w = waitpid(pid, &st, deadline < 0 ? 0 : WNOHANG);
                int64_t left;
                if (w == pid)
                        return st;
                if (w < 0 && errno != EINTR)
                        return -errno;
                if (deadline < 0)
                        continue;
                left = deadline - now_ms();
                if (left <= 0) {
                        kill(pid, SIGKILL);
                        waitpid(pid, &st, 0);
                        *timed_out = true;
                        return st;
                }
                if (pidfd >= 0) {
                        struct pollfd p = { .fd = pidfd, .events = POLLIN };
                        poll(&p, 1, (int)(left > 100 ? 100 : left));
                } else {
                        struct timespec ts = { 0, 5 * 1000 * 1000 };
                        nanosleep(&ts, NULL);
                }
        }
}

static int run_hook(const struct berth_hook *h, const char *kind, size_t idx, const char *state,
                    berth_error *err)
{
        _cleanup_close_ int pidfd = -1;
        int pipefd[2], st;
        bool timed_out;
        pid_t pid;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return berth_error_sys(err, errno, "%s hook #%zu: pipe", kind, idx);
        pid = fork();
        if (pid < 0) {
                close(pipefd[0]);
                close(pipefd[1]);
                return berth_error_sys(err, errno, "%s hook #%zu: fork", kind, idx);
        }
        if (pid == 0) {
                close(pipefd[1]);
                hook_child(h, pipefd[0]);
        }
        close(pipefd[0]);
        pidfd = berth_pidfd_open(pid);
        /* A hook that does not read its stdin must not block us: ignore EPIPE. */
        {
                struct sigaction sa = { .sa_handler = SIG_IGN }, old;
                sigaction(SIGPIPE, &sa, &old);
                berth_write_all(pipefd[1], state, strlen(state));
                sigaction(SIGPIPE, &old, NULL);
        }
        close(pipefd[1]);
        st = wait_hook(pid, pidfd, h->has_timeout ? h->timeout : 0, &timed_out);
        if (timed_out)
                return berth_error_set(err, ETIMEDOUT, "%s hook #%zu `%s`: timed out after %d s",
                                       kind, idx, h->path, h->timeout);
        if (st < 0)
                return berth_error_sys(err, -st, "%s hook #%zu `%s`: wait", kind, idx, h->path);
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
                return 0;
        if (WIFEXITED(st))
                return berth_error_set(err, ECANCELED, "%s hook #%zu `%s`: exit status %d", kind,
                                       idx, h->path, WEXITSTATUS(st));
        return berth_error_set(err, ECANCELED, "%s hook #%zu `%s`: killed by signal %d", kind, idx,
                               h->path, WTERMSIG(st));
}

int berth_hooks_run(const struct berth_config *cfg, enum berth_hook_kind kind,
                    const char *state_json, berth_error *err)
{
        const struct berth_hook_list *l = &cfg->hooks[kind];

        for (size_t i = 0; i < l->n_hooks; i++) {
                int r = run_hook(&l->hooks[i], berth_hook_kind_to_string(kind), i, state_json, err);
                if (r < 0)
                        return r;
        }
        return 0;
}
