/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * berth-runtime's command line: main.c parses the global flags and
 * dispatches; each file holds one group of commands. Commands parse their
 * own flags (runc's names, single or double dash), call the library and
 * print. A command returns the process exit code.
 */

#include <stdbool.h>

#include "basic/error.h"
#include "runtime/runtime.h"

struct cli {
        struct berth_runtime rt;
        const char *log_path;
        bool debug;
};

/* Prints "Error: <msg>" (and logs it) and returns 1. */
int cli_fail(berth_error *err);
/* Prints a usage error for `cmd` and returns 1. */
int cli_usage(const char *cmd, const char *msg);

int cmd_create(struct cli *c, int argc, char **argv);
int cmd_start(struct cli *c, int argc, char **argv);
int cmd_run(struct cli *c, int argc, char **argv);
int cmd_kill(struct cli *c, int argc, char **argv);
int cmd_delete(struct cli *c, int argc, char **argv);
int cmd_state(struct cli *c, int argc, char **argv);
int cmd_list(struct cli *c, int argc, char **argv);
int cmd_ps(struct cli *c, int argc, char **argv);
int cmd_exec(struct cli *c, int argc, char **argv);
int cmd_spec(struct cli *c, int argc, char **argv);
int cmd_features(struct cli *c, int argc, char **argv);
int cmd_update(struct cli *c, int argc, char **argv);
int cmd_pause(struct cli *c, int argc, char **argv);
int cmd_resume(struct cli *c, int argc, char **argv);
int cmd_events(struct cli *c, int argc, char **argv);
