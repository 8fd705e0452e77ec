/* SPDX-License-Identifier: GPL-2.0-or-later */
/* spec, features */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "cli/runtime/cli.h"
#include "runtime/spec.h"

int cmd_spec(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "bundle", required_argument, NULL, 'b' },
                { "rootless", no_argument, NULL, 'r' },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        _cleanup_free_ char *json = NULL, *path = NULL;
        berth_error err = BERTH_ERROR_INIT;
        const char *bundle = ".";
        bool rootless = false;
        _cleanup_close_ int fd = -1;
        int opt;

        (void)c;
        optind = 1;
        while ((opt = getopt_long_only(argc, argv, "+b:h", opts, NULL)) != -1) {
                if (opt == 'b')
                        bundle = optarg;
                else if (opt == 'r')
                        rootless = true;
                else if (opt == 'h') {
                        printf("Usage: %s spec [--bundle DIR] [--rootless]\n", BERTH_RUNTIME_NAME);
                        return 0;
                } else
                        return cli_usage("spec", "invalid option");
        }
        if (optind != argc)
                return cli_usage("spec", "takes no arguments");
        if (berth_spec_default(rootless, &json, &err) < 0)
                return cli_fail(&err);
        if (asprintf(&path, "%s/config.json", bundle) < 0)
                return 1;
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) {
                if (errno == EEXIST)
                        berth_error_set(&err, EEXIST, "File %s exists. Remove it first", path);
                else
                        berth_error_sys(&err, errno, "create `%s`", path);
                return cli_fail(&err);
        }
        if (berth_write_all(fd, json, strlen(json)) < 0 || berth_write_all(fd, "\n", 1) < 0) {
                berth_error_sys(&err, errno, "write `%s`", path);
                return cli_fail(&err);
        }
        return 0;
}

int cmd_features(struct cli *c, int argc, char **argv)
{
        _cleanup_free_ char *json = NULL;
        berth_error err = BERTH_ERROR_INIT;

        (void)c;
        (void)argv;
        if (argc != 1)
                return cli_usage("features", "takes no arguments");
        if (berth_features_json(&json, &err) < 0)
                return cli_fail(&err);
        printf("%s\n", json);
        return 0;
}
