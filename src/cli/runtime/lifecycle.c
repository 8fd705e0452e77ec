/* SPDX-License-Identifier: GPL-2.0-or-later */
/* create, start, run, kill, delete */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "basic/fd.h"
#include "cli/runtime/cli.h"

enum {
        OPT_PID_FILE = 0x100,
        OPT_CONSOLE_SOCKET,
        OPT_NO_PIVOT,
        OPT_NO_NEW_KEYRING,
        OPT_PRESERVE_FDS,
        OPT_NO_SUBREAPER,
        OPT_KEEP,
};

static const struct option create_options[] = {
        { "bundle", required_argument, NULL, 'b' },
        { "config", required_argument, NULL, 'c' },
        { "pid-file", required_argument, NULL, OPT_PID_FILE },
        { "console-socket", required_argument, NULL, OPT_CONSOLE_SOCKET },
        { "no-pivot", no_argument, NULL, OPT_NO_PIVOT },
        { "no-new-keyring", no_argument, NULL, OPT_NO_NEW_KEYRING },
        { "preserve-fds", required_argument, NULL, OPT_PRESERVE_FDS },
        { "detach", no_argument, NULL, 'd' },
        { "no-subreaper", no_argument, NULL, OPT_NO_SUBREAPER },
        { "keep", no_argument, NULL, OPT_KEEP },
        { "help", no_argument, NULL, 'h' },
        { 0 },
};

static int parse_create(const char *cmd, bool run, int argc, char **argv,
                        struct berth_create_opts *o)
{
        int opt;

        optind = 1;
        opterr = 1;
        while ((opt = getopt_long_only(argc, argv, "+b:c:dh", create_options, NULL)) != -1) {
                switch (opt) {
                case 'b':
                        o->bundle = optarg;
                        break;
                case 'c':
                        o->config_path = optarg;
                        break;
                case OPT_PID_FILE:
                        o->pid_file = optarg;
                        break;
                case OPT_CONSOLE_SOCKET:
                        o->console_socket = optarg;
                        break;
                case OPT_NO_PIVOT:
                        o->no_pivot = true;
                        break;
                case OPT_NO_NEW_KEYRING:
                        o->no_new_keyring = true;
                        break;
                case OPT_PRESERVE_FDS:
                        if (berth_parse_u32(optarg, &o->preserve_fds) < 0)
                                return cli_usage(cmd, "--preserve-fds: expected a number");
                        break;
                case 'd':
                        if (!run)
                                return cli_usage(cmd, "unknown option --detach");
                        o->detach = true;
                        break;
                case OPT_NO_SUBREAPER:
                case OPT_KEEP:
                        break;
                case 'h':
                        printf("Usage: %s %s [--bundle DIR] [--pid-file FILE] "
                               "[--console-socket SOCK] [--no-pivot] [--no-new-keyring] "
                               "[--preserve-fds N]%s <container-id>\n",
                               BERTH_RUNTIME_NAME, cmd, run ? " [--detach]" : "");
                        return -2;
                default:
                        return cli_usage(cmd, "invalid option");
                }
        }
        if (optind != argc - 1)
                return cli_usage(cmd, "expects exactly one container id");
        o->id = argv[optind];
        return 0;
}

int cmd_create(struct cli *c, int argc, char **argv)
{
        struct berth_create_opts o = { 0 };
        berth_error err = BERTH_ERROR_INIT;
        int r = parse_create("create", false, argc, argv, &o);

        if (r != 0)
                return r == -2 ? 0 : r;
        if (berth_container_create(&c->rt, &o, &err) < 0)
                return cli_fail(&err);
        return 0;
}

int cmd_run(struct cli *c, int argc, char **argv)
{
        struct berth_create_opts o = { 0 };
        berth_error err = BERTH_ERROR_INIT;
        int status = 0, r = parse_create("run", true, argc, argv, &o);

        if (r != 0)
                return r == -2 ? 0 : r;
        if (berth_container_run(&c->rt, &o, &status, &err) < 0)
                return cli_fail(&err);
        return status;
}

static const char *single_id(const char *cmd, int argc, char **argv, int *ret)
{
        if (argc - optind != 1) {
                *ret = cli_usage(cmd, "expects exactly one container id");
                return NULL;
        }
        return argv[optind];
}

static const struct option no_options[] = { { "help", no_argument, NULL, 'h' }, { 0 } };

int cmd_start(struct cli *c, int argc, char **argv)
{
        berth_error err = BERTH_ERROR_INIT;
        const char *id;
        int r = 0;

        optind = 1;
        if (getopt_long_only(argc, argv, "+h", no_options, NULL) != -1) {
                printf("Usage: %s start <container-id>\n", BERTH_RUNTIME_NAME);
                return 0;
        }
        id = single_id("start", argc, argv, &r);
        if (!id)
                return r;
        if (berth_container_start(&c->rt, id, &err) < 0)
                return cli_fail(&err);
        return 0;
}

int cmd_kill(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "all", no_argument, NULL, 'a' },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        berth_error err = BERTH_ERROR_INIT;
        bool all = false;
        int opt, sig = SIGTERM;

        optind = 1;
        while ((opt = getopt_long_only(argc, argv, "+ah", opts, NULL)) != -1) {
                if (opt == 'a')
                        all = true;
                else if (opt == 'h') {
                        printf("Usage: %s kill [--all] <container-id> [signal]\n",
                               BERTH_RUNTIME_NAME);
                        return 0;
                } else
                        return cli_usage("kill", "invalid option");
        }
        if (argc - optind < 1 || argc - optind > 2)
                return cli_usage("kill", "expects a container id and an optional signal");
        if (argc - optind == 2) {
                sig = berth_signal_from_string(argv[optind + 1]);
                if (sig < 0) {
                        berth_error_set(&err, EINVAL, "unknown signal `%s`", argv[optind + 1]);
                        return cli_fail(&err);
                }
        }
        if (berth_container_kill(&c->rt, argv[optind], sig, all, &err) < 0)
                return cli_fail(&err);
        return 0;
}

int cmd_delete(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "force", no_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        berth_error err = BERTH_ERROR_INIT;
        bool force = false;
        const char *id;
        int opt, r = 0;

        optind = 1;
        while ((opt = getopt_long_only(argc, argv, "+fh", opts, NULL)) != -1) {
                if (opt == 'f')
                        force = true;
                else if (opt == 'h') {
                        printf("Usage: %s delete [--force] <container-id>\n", BERTH_RUNTIME_NAME);
                        return 0;
                } else
                        return cli_usage("delete", "invalid option");
        }
        id = single_id("delete", argc, argv, &r);
        if (!id)
                return r;
        r = berth_container_delete(&c->rt, id, force, &err);
        if (r == -ENOENT && force) {
                berth_error_release(&err);
                return 0;
        }
        if (r < 0)
                return cli_fail(&err);
        return 0;
}
