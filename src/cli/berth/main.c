/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/log.h"
#include "berth-config.h"
#include "cli/berth/cli.h"

typedef int (*command_fn)(struct cli *c, int argc, char **argv);

static const struct command {
        const char *name;
        command_fn fn;
        const char *help;
} commands[] = {
        { "pull", cmd_pull, "Download an image from a registry" },
        { "push", cmd_push, "Upload an image to a registry" },
        { "images", cmd_images, "List images" },
        { "rmi", cmd_rmi, "Remove one or more images" },
        { "tag", cmd_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE" },
        { "history", cmd_history, "Show the history of an image" },
        { "inspect", cmd_image_inspect, "Return low-level information on images" },
        { "save", cmd_save,
          "Save one or more images to a tar archive (streamed to STDOUT by "
          "default)" },
        { "load", cmd_load, "Load an image from a tar archive or STDIN" },
        { "import", cmd_import, "Import the contents from a tarball to create a filesystem image" },
        { "login", cmd_login, "Log in to a registry" },
        { "logout", cmd_logout, "Log out from a registry" },
};

static const struct command image_commands[] = {
        { "ls", cmd_images, "List images" },
        { "list", cmd_images, NULL },
        { "pull", cmd_pull, "Download an image from a registry" },
        { "push", cmd_push, "Upload an image to a registry" },
        { "rm", cmd_rmi, "Remove one or more images" },
        { "remove", cmd_rmi, NULL },
        { "tag", cmd_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE" },
        { "inspect", cmd_image_inspect, "Display detailed information on one or more images" },
        { "history", cmd_history, "Show the history of an image" },
        { "prune", cmd_image_prune, "Remove unused images" },
        { "mount", cmd_image_mount, "Mount an image's root filesystem" },
        { "unmount", cmd_image_unmount, "Unmount an image's root filesystem" },
        { "umount", cmd_image_unmount, NULL },
        { "save", cmd_save,
          "Save one or more images to a tar archive (streamed to STDOUT by "
          "default)" },
        { "load", cmd_load, "Load an image from a tar archive or STDIN" },
        { "import", cmd_import, "Import the contents from a tarball to create a filesystem image" },
};

int cli_fail(berth_error *err)
{
        fprintf(stderr, "Error: %s\n", berth_error_msg(err));
        berth_error_release(err);
        return 1;
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "Error: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\nSee 'berth %s --help'.\n", cmd);
        return 125;
}

int cli_store(struct cli *c, berth_store **ret, berth_error *err)
{
        if (!c->store) {
                int r = berth_store_open(c->root, c->runroot, &c->store, err);
                if (r < 0)
                        return r;
        }
        *ret = c->store;
        return 0;
}

static void list_commands(FILE *f, const struct command *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (v[i].help)
                        fprintf(f, "  %-10s %s\n", v[i].name, v[i].help);
}

static void usage(FILE *f)
{
        fprintf(f, "Usage:  berth [OPTIONS] COMMAND\n\n"
                   "A container engine with docker's commands.\n\nCommands:\n");
        list_commands(f, commands, sizeof(commands) / sizeof(commands[0]));
        fprintf(f, "\nManagement commands:\n  image      Manage images\n");
        fprintf(f, "\nGlobal options:\n"
                   "      --root DIR       store directory (default /var/lib/berth)\n"
                   "      --runroot DIR    run directory (default /run/berth)\n"
                   "      --storage-driver DRIVER\n"
                   "                       overlay or vfs (default: overlay where it works)\n"
                   "  -D, --debug          enable debug output\n"
                   "  -l, --log-level LVL  debug, info, warn, error\n"
                   "  -v, --version        print version information and quit\n");
}

static void version(void)
{
        printf("berth version %s, build %s\n", BERTH_VERSION,
               BERTH_COMMIT[0] ? BERTH_COMMIT : "unknown");
}

/* "--name VALUE" or "--name=VALUE": 1 and *v set, 0 not this flag, -1 missing value. */
static int flag_value(char **argv, int argc, int *i, const char *name, const char **v)
{
        size_t n = strlen(name);

        if (strncmp(argv[*i], name, n) != 0)
                return 0;
        if (argv[*i][n] == '=') {
                *v = argv[*i] + n + 1;
                return 1;
        }
        if (argv[*i][n] != '\0')
                return 0;
        if (*i + 1 >= argc)
                return -1;
        *v = argv[++*i];
        return 1;
}

static const struct command *find(const struct command *v, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(v[i].name, name) == 0)
                        return &v[i];
        return NULL;
}

static int run(struct cli *c, int argc, char **argv)
{
        const struct command *cmd;

        if (strcmp(argv[0], "image") == 0) {
                if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                        printf("Usage:  berth image COMMAND\n\nManage images\n\nCommands:\n");
                        list_commands(stdout, image_commands,
                                      sizeof(image_commands) / sizeof(image_commands[0]));
                        return argc < 2 ? 125 : 0;
                }
                cmd = find(image_commands, sizeof(image_commands) / sizeof(image_commands[0]),
                           argv[1]);
                if (!cmd)
                        return cli_usage("image", "unknown command \"%s\" for \"berth image\"",
                                         argv[1]);
                return cmd->fn(c, argc - 1, argv + 1);
        }
        if (strcmp(argv[0], "version") == 0) {
                version();
                return 0;
        }
        if (strcmp(argv[0], "help") == 0) {
                usage(stdout);
                return 0;
        }
        cmd = find(commands, sizeof(commands) / sizeof(commands[0]), argv[0]);
        if (!cmd) {
                fprintf(stderr, "berth: '%s' is not a berth command.\nSee 'berth --help'\n",
                        argv[0]);
                return 125;
        }
        return cmd->fn(c, argc, argv);
}

static int set_storage_driver(struct cli *c, const char *v, const char *what)
{
        if (berth_snapshot_driver_from_string(v, &c->storage_driver) < 0)
                return cli_usage("", "%s: unsupported storage driver \"%s\" (overlay or vfs)", what,
                                 v);
        return 0;
}

int main(int argc, char **argv)
{
        struct cli c = { 0 };
        const char *env = getenv("BERTH_STORAGE_DRIVER");
        int i, r;

        /* Writes to closed pipes fail with EPIPE where they happen rather than kill berth. */
        signal(SIGPIPE, SIG_IGN);
        berth_log_set_level(BERTH_LOG_WARNING);
        if (env && set_storage_driver(&c, env, "BERTH_STORAGE_DRIVER") != 0)
                return 125;
        for (i = 1; i < argc && argv[i][0] == '-'; i++) {
                const char *v = NULL;
                int f;

                if ((f = flag_value(argv, argc, &i, "--root", &v)) != 0)
                        c.root = v;
                else if ((f = flag_value(argv, argc, &i, "--runroot", &v)) != 0)
                        c.runroot = v;
                else if ((f = flag_value(argv, argc, &i, "--storage-driver", &v)) != 0) {
                        if (f > 0 && set_storage_driver(&c, v, "--storage-driver") != 0)
                                return 125;
                } else if ((f = flag_value(argv, argc, &i, "--log-level", &v)) != 0 ||
                           (f = flag_value(argv, argc, &i, "-l", &v)) != 0) {
                        if (f > 0 && strcmp(v, "debug") == 0)
                                c.debug = true;
                } else if (strcmp(argv[i], "-D") == 0 || strcmp(argv[i], "--debug") == 0)
                        c.debug = true;
                else if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--version") == 0) {
                        version();
                        return 0;
                } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
                        usage(stdout);
                        return 0;
                } else
                        return cli_usage("", "unknown flag: %s", argv[i]);
                if (f < 0)
                        return cli_usage("", "flag needs an argument: %s", argv[i]);
        }
        if (i >= argc) {
                usage(stderr);
                return 125;
        }
        if (c.debug)
                berth_log_set_level(BERTH_LOG_DEBUG);
        r = run(&c, argc - i, argv + i);
        berth_store_free(c.store);
        if (fflush(stdout) != 0 && r == 0)
                r = 1;
        return r;
}
