/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <sys/types.h>

/*
 * Waits for `pid` (a child of the caller), forwarding every signal the
 * caller receives to it. With `master` >= 0 it also proxies the terminal:
 * stdin (raw mode when it is a tty) to the pty master and the master to
 * stdout, and window-size changes. Returns the exit status, 128+signal
 * when killed.
 */
int berth_supervise(pid_t pid, int master);
