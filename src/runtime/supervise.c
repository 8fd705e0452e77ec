/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The foreground side of `run` and `exec`: forward signals to the process,
 * proxy a pty when the runtime allocated one itself (no console socket),
 * and return the process's exit status as a shell reports it.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "runtime/supervise.h"

static int status_from_wait(int st)
{
        if (WIFEXITED(st))
                return WEXITSTATUS(st);
        if (WIFSIGNALED(st))
                return 128 + WTERMSIG(st);
        return 255;
}

static void copy_winsize(int master)
{
        struct winsize ws;

        if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
                ioctl(master, TIOCSWINSZ, &ws);
}

/* Copies what is readable on `from` to `to`; false at EOF or error. */
static bool pump(int from, int to)
{
        char buf[8192];
        ssize_t n = read(from, buf, sizeof(buf));

        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return true;
        if (n <= 0)
                return false;
        return berth_write_all(to, buf, (size_t)n) >= 0;
}

static void forward(const struct signalfd_siginfo *si, pid_t pid, int pidfd, int master)
{
        if (si->ssi_signo == SIGCHLD)
                return;
        if (si->ssi_signo == SIGWINCH) {
                if (master >= 0)
                        copy_winsize(master);
                return;
        }
        if (pidfd >= 0)
                syscall(SYS_pidfd_send_signal, pidfd, si->ssi_signo, NULL, 0);
        else
                kill(pid, (int)si->ssi_signo);
}

int berth_supervise(pid_t pid, int master)
{
        _cleanup_close_ int pidfd = berth_pidfd_open(pid), sfd = -1;
        struct termios saved, raw;
        bool restore = false, in_open = master >= 0, out_open = master >= 0;
        sigset_t all, old;
        int st = 0;

        sigfillset(&all);
        sigdelset(&all, SIGSEGV);
        sigdelset(&all, SIGBUS);
        sigdelset(&all, SIGILL);
        sigdelset(&all, SIGFPE);
        sigprocmask(SIG_BLOCK, &all, &old);
        sfd = signalfd(-1, &all, SFD_CLOEXEC);
        if (master >= 0 && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
                raw = saved;
                cfmakeraw(&raw);
                restore = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
                copy_winsize(master);
        }
        for (;;) {
                struct pollfd p[4] = {
                        { .fd = sfd, .events = POLLIN },
                        { .fd = pidfd, .events = POLLIN },
                        { .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN },
                        { .fd = out_open ? master : -1, .events = POLLIN },
                };
                struct signalfd_siginfo si;
                pid_t w = waitpid(pid, &st, WNOHANG);

                if (w == pid || (w < 0 && errno != EINTR))
                        break;
                if (poll(p, 4, pidfd >= 0 ? -1 : 50) < 0 && errno != EINTR)
                        break;
                if ((p[0].revents & POLLIN) && read(sfd, &si, sizeof(si)) == sizeof(si))
                        forward(&si, pid, pidfd, master);
                if (p[2].revents && !pump(STDIN_FILENO, master))
                        in_open = false;
                if (p[3].revents && !pump(master, STDOUT_FILENO))
                        out_open = false;
        }
        /* Drain what the process wrote before it exited. */
        while (out_open) {
                struct pollfd p = { .fd = master, .events = POLLIN };
                if (poll(&p, 1, 0) <= 0 || !pump(master, STDOUT_FILENO))
                        break;
        }
        if (restore)
                tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        sigprocmask(SIG_SETMASK, &old, NULL);
        return status_from_wait(st);
}
