/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test driver of the engine's spec builder until `berth run` exists:
 *
 *   berth-spec-build --root R --runroot RR --rootfs DIR [docker run flags] IMAGE [CMD...]
 *
 * loads IMAGE's config from the store, parses the flags with the engine's
 * parsers and prints the OCI config.json built for DIR (a root filesystem
 * from `berth image mount`). Errors print "Error: ..." and exit 125, as
 * docker does.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/json.h"
#include "basic/strv.h"
#include "engine/run-options.h"
#include "engine/spec.h"
#include "image/image.h"
#include "image/store.h"

enum {
        O_ROOT = 256,
        O_RUNROOT,
        O_ROOTFS,
        O_ENV_FILE,
        O_ENTRYPOINT,
        O_READ_ONLY,
        O_MOUNT,
        O_TMPFS,
        O_MEMORY_SWAP,
        O_CPUS,
        O_CPU_SHARES,
        O_CPUSET_CPUS,
        O_PIDS,
        O_ULIMIT,
        O_SYSCTL,
        O_SHM,
        O_STOP_SIGNAL,
        O_ID,
        O_NETWORK,
        O_CGROUPS_PATH,
};

static const struct option longopts[] = {
        { "root", required_argument, NULL, O_ROOT },
        { "runroot", required_argument, NULL, O_RUNROOT },
        { "rootfs", required_argument, NULL, O_ROOTFS },
        { "env", required_argument, NULL, 'e' },
        { "env-file", required_argument, NULL, O_ENV_FILE },
        { "workdir", required_argument, NULL, 'w' },
        { "user", required_argument, NULL, 'u' },
        { "entrypoint", required_argument, NULL, O_ENTRYPOINT },
        { "hostname", required_argument, NULL, 'h' },
        { "label", required_argument, NULL, 'l' },
        { "tty", no_argument, NULL, 't' },
        { "interactive", no_argument, NULL, 'i' },
        { "read-only", no_argument, NULL, O_READ_ONLY },
        { "volume", required_argument, NULL, 'v' },
        { "mount", required_argument, NULL, O_MOUNT },
        { "tmpfs", required_argument, NULL, O_TMPFS },
        { "memory", required_argument, NULL, 'm' },
        { "memory-swap", required_argument, NULL, O_MEMORY_SWAP },
        { "cpus", required_argument, NULL, O_CPUS },
        { "cpu-shares", required_argument, NULL, O_CPU_SHARES },
        { "cpuset-cpus", required_argument, NULL, O_CPUSET_CPUS },
        { "pids-limit", required_argument, NULL, O_PIDS },
        { "ulimit", required_argument, NULL, O_ULIMIT },
        { "sysctl", required_argument, NULL, O_SYSCTL },
        { "shm-size", required_argument, NULL, O_SHM },
        { "stop-signal", required_argument, NULL, O_STOP_SIGNAL },
        { "id", required_argument, NULL, O_ID },
        { "network", required_argument, NULL, O_NETWORK },
        { "cgroups-path", required_argument, NULL, O_CGROUPS_PATH },
        { NULL, 0, NULL, 0 },
};

static int set(char **dst, const char *v)
{
        free(*dst);
        *dst = strdup(v);
        return *dst ? 0 : -1;
}

static int parse_flag(berth_run_options *o, int c, const char *v, berth_error *err)
{
        switch (c) {
        case 'e':
                return berth_parse_env(o, v, err);
        case O_ENV_FILE:
                return berth_parse_env_file(o, v, err);
        case 'w':
                return set(&o->workdir, v);
        case 'u':
                return set(&o->user, v);
        case O_ENTRYPOINT:
                return berth_parse_entrypoint(o, v, err);
        case 'h':
                return set(&o->hostname, v);
        case 'l':
                return berth_parse_label(o, v, err);
        case 't':
                o->tty = true;
                return 0;
        case 'i':
                o->stdin_open = true;
                return 0;
        case O_READ_ONLY:
                o->read_only = true;
                return 0;
        case 'v':
                return berth_parse_volume(o, v, err);
        case O_MOUNT:
                return berth_parse_mount(o, v, err);
        case O_TMPFS:
                return berth_parse_tmpfs(o, v, err);
        case 'm':
                return berth_parse_memory(v, &o->memory, err);
        case O_MEMORY_SWAP:
                return berth_parse_memory_swap(v, &o->memory_swap, err);
        case O_CPUS:
                return berth_parse_cpus(v, &o->nano_cpus, err);
        case O_CPU_SHARES:
                return berth_parse_int64_flag("--cpu-shares", v, &o->cpu_shares, err);
        case O_CPUSET_CPUS:
                return berth_parse_cpuset("--cpuset-cpus", v, &o->cpuset_cpus, err);
        case O_PIDS:
                return berth_parse_int64_flag("--pids-limit", v, &o->pids_limit, err);
        case O_ULIMIT:
                return berth_parse_ulimit(o, v, err);
        case O_SYSCTL:
                return berth_parse_sysctl(o, v, err);
        case O_SHM:
                return berth_parse_shm_size(v, &o->shm_size, err);
        case O_STOP_SIGNAL:
                return berth_parse_signal(v, &o->stop_signal, err);
        case O_ID:
                return set(&o->id, v);
        case O_CGROUPS_PATH:
                return set(&o->cgroups_path, v);
        case O_NETWORK:
                if (strcmp(v, "host") == 0)
                        o->network_host = true;
                else if (strcmp(v, "none") != 0)
                        return set(&o->netns_path, v);
                return 0;
        default:
                return berth_error_set(err, EINVAL, "unknown flag");
        }
}

int main(int argc, char **argv)
{
        _cleanup_(berth_run_options_release) berth_run_options o;
        _cleanup_(berth_image_config_freep) berth_image_config *cfg = NULL;
        _cleanup_json_ json_object *spec = NULL;
        berth_error err = BERTH_ERROR_INIT;
        const char *root = NULL, *runroot = NULL, *rootfs = NULL;
        berth_store *s = NULL;
        berth_image img;
        int c, r = 0;

        berth_run_options_init(&o);
        while (r >= 0 && (c = getopt_long(argc, argv, "+e:w:u:h:l:tiv:m:", longopts, NULL)) != -1) {
                if (c == O_ROOT)
                        root = optarg;
                else if (c == O_RUNROOT)
                        runroot = optarg;
                else if (c == O_ROOTFS)
                        rootfs = optarg;
                else if (c == '?')
                        return 125;
                else
                        r = parse_flag(&o, c, optarg, &err);
        }
        if (r >= 0 && (!root || !runroot || !rootfs || optind >= argc))
                r = berth_error_set(&err, EINVAL,
                                    "usage: berth-spec-build --root R --runroot RR --rootfs DIR "
                                    "[flags] IMAGE [CMD...]");
        for (int i = optind + 1; r >= 0 && i < argc; i++)
                if (berth_strv_push(&o.cmd, argv[i]) < 0)
                        r = berth_error_set(&err, ENOMEM, "out of memory");
        if (r >= 0)
                r = berth_store_open(root, runroot, &s, &err);
        if (r >= 0) {
                memset(&img, 0, sizeof(img));
                r = berth_store_image_find(s, argv[optind], &img, &err);
                if (r >= 0) {
                        r = berth_image_config_load(s, &img, &cfg, &err);
                        berth_image_release(&img);
                }
        }
        if (r >= 0)
                r = berth_spec_build(cfg, &o, rootfs, -1, &spec, &err);
        berth_store_free(s);
        if (r < 0) {
                fprintf(stderr, "Error: %s\n", berth_error_msg(&err));
                berth_error_release(&err);
                return 125;
        }
        puts(json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PRETTY |
                                                          JSON_C_TO_STRING_NOSLASHESCAPE));
        return 0;
}
