/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The `berth` command line: docker's commands and flags over the library.
 * Each file holds one command group and only parses, calls the library and
 * prints; main.c dispatches and owns the global options.
 */

#include <stdbool.h>
#include <stdint.h>

#include "basic/error.h"
#include "image/snapshot.h"
#include "image/registry.h"
#include "image/store.h"

struct cli {
        const char *root;    /* --root / BERTH_ROOT, or NULL for the default */
        const char *runroot; /* --runroot / BERTH_RUNROOT */
        bool debug;
        /* --storage-driver / BERTH_STORAGE_DRIVER: how root filesystems are made */
        berth_snapshot_driver storage_driver;
        berth_store *store; /* opened on first use */
};

/* Opens the store once; prints nothing. */
int cli_store(struct cli *c, berth_store **ret, berth_error *err);

/* Prints "Error: <message>" and returns docker's exit code for a failed command (1). */
int cli_fail(berth_error *err);
/* A usage error: prints it with a hint and returns 125, as docker's flag errors do. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* docker's units.HumanSizeWithPrecision(size, 3): "4.26MB", "723kB", "0B". */
void cli_human_size(uint64_t size, char *buf, size_t len);
/* docker's units.HumanDuration: "About a minute", "4 months". */
void cli_human_duration(int64_t seconds, char *buf, size_t len);
/* RFC 3339 in local time as docker prints CreatedAt: "2024-01-02 03:04:05 +0000 UTC". */
void cli_time_string(int64_t t, char *buf, size_t len);

/*
 * The registry flags pull, push and login share: --tls-verify=BOOL
 * ('t') and --authfile FILE ('A'). 1 when o was one of them, 0 when not,
 * 125 (a usage error, printed) for a --tls-verify that is not a boolean.
 */
#define CLI_REGISTRY_OPTIONS                                                                       \
        { "tls-verify", required_argument, NULL, 't' },                                            \
        {                                                                                          \
                "authfile", required_argument, NULL, 'A'                                           \
        }
int cli_registry_flag(const char *cmd, int o, const char *arg, berth_registry_options *ro);

int cmd_pull(struct cli *c, int argc, char **argv);
int cmd_push(struct cli *c, int argc, char **argv);
int cmd_images(struct cli *c, int argc, char **argv);
int cmd_rmi(struct cli *c, int argc, char **argv);
int cmd_tag(struct cli *c, int argc, char **argv);
int cmd_image_inspect(struct cli *c, int argc, char **argv);
int cmd_history(struct cli *c, int argc, char **argv);
int cmd_image_prune(struct cli *c, int argc, char **argv);
int cmd_save(struct cli *c, int argc, char **argv);
int cmd_load(struct cli *c, int argc, char **argv);
int cmd_import(struct cli *c, int argc, char **argv);
int cmd_login(struct cli *c, int argc, char **argv);
int cmd_logout(struct cli *c, int argc, char **argv);
int cmd_image_mount(struct cli *c, int argc, char **argv);
int cmd_image_unmount(struct cli *c, int argc, char **argv);
