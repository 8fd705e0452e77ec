/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/log.h"
#include "berth-config.h"
#include "cli/runtime/cli.h"

static const struct command {
        const char *name;
        int (*fn)(struct cli *c, int argc, char **argv);
        bool enters_container; /* runs from a sealed copy of the binary */
        const char *help;
} commands[] = {
        { "create", cmd_create, true, "create a container" },
        { "start", cmd_start, false, "start a created container" },
        { "run", cmd_run, true, "create and start a container" },
        { "state", cmd_state, false, "print the state of a container" },
        { "kill", cmd_kill, false, "send a signal to a container's init (or all processes)" },
        { "delete", cmd_delete, false, "delete a container and its state" },
        { "list", cmd_list, false, "list containers" },
        { "ps", cmd_ps, false, "list the processes of a container" },
        { "update", cmd_update, false, "change the resource limits of a container" },
        { "pause", cmd_pause, false, "freeze every process of a container" },
        { "resume", cmd_resume, false, "thaw a paused container" },
        { "events", cmd_events, false, "print statistics and OOM events of a container" },
        { "exec", cmd_exec, true, "run a new process inside a container" },
        { "spec", cmd_spec, false, "write a default config.json" },
        { "features", cmd_features, false, "print the runtime's features as JSON" },
};

int cli_fail(berth_error *err)
{
        const char *msg = berth_error_msg(err);

        if (berth_log_fd() >= 0)
                log_error("%s", msg);
        fprintf(stderr, "Error: %s\n", msg);
        berth_error_release(err);
        return 1;
}

int cli_usage(const char *cmd, const char *msg)
{
        fprintf(stderr, "Error: %s: %s\nRun '%s %s --help' for usage.\n", cmd, msg,
                BERTH_RUNTIME_NAME, cmd);
        if (berth_log_fd() >= 0)
                log_error("%s: %s", cmd, msg);
        return 1;
}

static void usage(FILE *f)
{
        fprintf(f,
                "Usage: %s [global options] COMMAND [options] [arguments]\n\n"
                "An OCI runtime (runc-compatible command line).\n\nCommands:\n",
                BERTH_RUNTIME_NAME);
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
        fprintf(f, "\nGlobal options:\n"
                   "  --root DIR             state directory (default /run/berth-runtime)\n"
                   "  --log FILE             write log messages to FILE\n"
                   "  --log-format FORMAT    text or json\n"
                   "  --debug                log debug messages\n"
                   "  --systemd-cgroup       use the systemd cgroup manager\n"
                   "  --cgroup-manager MGR   cgroupfs, systemd or disabled\n"
                   "  -v, --version          print the version\n");
}

static void version(void)
{
        printf("%s version %s\ncommit: %s\nspec: %s\n", BERTH_RUNTIME_NAME, BERTH_VERSION,
               BERTH_COMMIT[0] ? BERTH_COMMIT : "unknown", BERTH_OCI_VERSION);
}

/* Matches "--name", "-name", "--name=v", "-name=v"; *value gets "v" or the next arg. */
static bool global_flag(const char *arg, const char *name, bool takes_value, int *i, int argc,
                        char **argv, const char **value)
{
        const char *p = arg;
        size_t n = strlen(name);

        if (p[0] != '-')
                return false;
        p += p[1] == '-' ? 2 : 1;
        if (strncmp(p, name, n) != 0 || (p[n] != '\0' && p[n] != '='))
                return false;
        if (!takes_value)
                return p[n] == '\0' || strcmp(p + n, "=true") == 0 || strcmp(p + n, "=1") == 0;
        if (p[n] == '=') {
                *value = p + n + 1;
                return true;
        }
        if (*i + 1 >= argc)
                return false;
        *value = argv[++*i];
        return true;
}

static int parse_globals(struct cli *c, int argc, char **argv, const char **log_format)
{
        int i;

        for (i = 1; i < argc && argv[i][0] == '-'; i++) {
                const char *a = argv[i], *v = NULL;
                if (global_flag(a, "root", true, &i, argc, argv, &v))
                        c->rt.state_root = v;
                else if (global_flag(a, "log", true, &i, argc, argv, &v))
                        c->log_path = v;
                else if (global_flag(a, "log-format", true, &i, argc, argv, &v))
                        *log_format = v;
                else if (global_flag(a, "log-level", true, &i, argc, argv, &v))
                        c->debug = c->debug || strcmp(v, "debug") == 0;
                else if (global_flag(a, "debug", false, &i, argc, argv, &v))
                        c->debug = true;
                else if (global_flag(a, "systemd-cgroup", false, &i, argc, argv, &v))
                        c->rt.systemd_cgroup = true;
                else if (global_flag(a, "cgroup-manager", true, &i, argc, argv, &v)) {
                        if (strcmp(v, "cgroupfs") && strcmp(v, "systemd") && strcmp(v, "disabled"))
                                return -EINVAL;
                        c->rt.cgroup_manager = v;
                        c->rt.systemd_cgroup = strcmp(v, "systemd") == 0;
                } else if (global_flag(a, "rootless", true, &i, argc, argv, &v) ||
                           global_flag(a, "criu", true, &i, argc, argv, &v))
                        ; /* accepted for compatibility; rootless is detected */
                else if (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0 ||
                         strcmp(a, "-version") == 0) {
                        version();
                        exit(0);
                } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
                        usage(stdout);
                        exit(0);
                } else {
                        fprintf(stderr, "Error: unknown global option `%s`\n", a);
                        return -EINVAL;
                }
        }
        return i;
}

int main(int argc, char **argv)
{
        struct cli c = { 0 };
        const char *log_format = "text";
        berth_error err = BERTH_ERROR_INIT;
        int i;

        i = parse_globals(&c, argc, argv, &log_format);
        if (i < 0)
                return 1;
        if (c.log_path && berth_log_open(c.log_path) < 0) {
                fprintf(stderr, "Error: open log `%s`: %s\n", c.log_path, strerror(errno));
                return 1;
        }
        if (strcmp(log_format, "json") == 0)
                berth_log_set_format(BERTH_LOG_JSON);
        else if (strcmp(log_format, "text") != 0) {
                fprintf(stderr, "Error: --log-format: expected text or json, got `%s`\n",
                        log_format);
                return 1;
        }
        if (c.debug)
                berth_log_set_level(BERTH_LOG_DEBUG);
        if (i >= argc) {
                usage(stderr);
                return 1;
        }
        for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++) {
                if (strcmp(argv[i], commands[k].name) != 0)
                        continue;
                if (commands[k].enters_container && berth_ensure_cloned_binary(argv, &err) < 0)
                        return cli_fail(&err);
                log_debug("%s %s", BERTH_RUNTIME_NAME, argv[i]);
                return commands[k].fn(&c, argc - i, argv + i);
        }
        fprintf(stderr, "Error: unknown command `%s`\n", argv[i]);
        return 1;
}
