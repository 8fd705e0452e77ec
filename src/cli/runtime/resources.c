/* SPDX-License-Identifier: GPL-2.0-or-later */
/* update, pause, resume, events */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "cli/runtime/cli.h"

/* "512", "64k", "100M", "1g", "2GiB", "-1": bytes, binary multiples (runc's RAMInBytes). */
static int parse_bytes(const char *s, int64_t *ret)
{
        static const char units[] = "bkmgtp";
        char *end;
        long long v;
        int shift = 0;

        if (strcmp(s, "-1") == 0) {
                *ret = -1;
                return 0;
        }
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno || end == s || v < 0)
                return -EINVAL;
        if (*end) {
                const char *u = strchr(units, (char)tolower((unsigned char)*end));
                if (!u || *u == '\0')
                        return -EINVAL;
                shift = (int)(u - units) * 10;
                end++;
                if (*end == 'i' || *end == 'I')
                        end++;
                if (*end == 'b' || *end == 'B')
                        end++;
                if (*end)
                        return -EINVAL;
        }
        if (shift && v > (INT64_MAX >> shift))
                return -ERANGE;
        *ret = (int64_t)v << shift;
        return 0;
}

enum {
        OPT_BLKIO_WEIGHT = 0x100,
        OPT_CPU_PERIOD,
        OPT_CPU_QUOTA,
        OPT_CPU_BURST,
        OPT_CPU_SHARE,
        OPT_CPU_RT_PERIOD,
        OPT_CPU_RT_RUNTIME,
        OPT_CPUSET_CPUS,
        OPT_CPUSET_MEMS,
        OPT_KERNEL_MEMORY,
        OPT_KERNEL_MEMORY_TCP,
        OPT_MEMORY,
        OPT_MEMORY_RESERVATION,
        OPT_MEMORY_SWAP,
        OPT_PIDS_LIMIT,
        OPT_L3_CACHE,
        OPT_MEM_BW,
};

static const struct option update_options[] = {
        { "resources", required_argument, NULL, 'r' },
        { "blkio-weight", required_argument, NULL, OPT_BLKIO_WEIGHT },
        { "cpu-period", required_argument, NULL, OPT_CPU_PERIOD },
        { "cpu-quota", required_argument, NULL, OPT_CPU_QUOTA },
        { "cpu-burst", required_argument, NULL, OPT_CPU_BURST },
        { "cpu-share", required_argument, NULL, OPT_CPU_SHARE },
        { "cpu-rt-period", required_argument, NULL, OPT_CPU_RT_PERIOD },
        { "cpu-rt-runtime", required_argument, NULL, OPT_CPU_RT_RUNTIME },
        { "cpuset-cpus", required_argument, NULL, OPT_CPUSET_CPUS },
        { "cpuset-mems", required_argument, NULL, OPT_CPUSET_MEMS },
        { "kernel-memory", required_argument, NULL, OPT_KERNEL_MEMORY },
        { "kernel-memory-tcp", required_argument, NULL, OPT_KERNEL_MEMORY_TCP },
        { "memory", required_argument, NULL, OPT_MEMORY },
        { "memory-reservation", required_argument, NULL, OPT_MEMORY_RESERVATION },
        { "memory-swap", required_argument, NULL, OPT_MEMORY_SWAP },
        { "pids-limit", required_argument, NULL, OPT_PIDS_LIMIT },
        { "l3-cache-schema", required_argument, NULL, OPT_L3_CACHE },
        { "mem-bw-schema", required_argument, NULL, OPT_MEM_BW },
        { "help", no_argument, NULL, 'h' },
        { 0 },
};

static void update_usage(void)
{
        printf("Usage: %s update [options] <container-id>\n\n"
               "  -r, --resources FILE      linux.resources JSON (\"-\": standard input)\n"
               "  --memory BYTES            memory limit (k, m, g suffixes; -1: none)\n"
               "  --memory-reservation BYTES, --memory-swap BYTES (memory+swap)\n"
               "  --kernel-memory-tcp BYTES\n"
               "  --cpu-share N, --cpu-period US, --cpu-quota US, --cpu-burst US\n"
               "  --cpu-rt-period US, --cpu-rt-runtime US\n"
               "  --cpuset-cpus LIST, --cpuset-mems LIST\n"
               "  --blkio-weight N (10-1000), --pids-limit N (0 or -1: none)\n",
               BERTH_RUNTIME_NAME);
}

static int read_resources(const char *path, struct berth_resources *res, berth_error *err)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r;

        if (strcmp(path, "-") == 0) {
                r = berth_read_fd(STDIN_FILENO, 1 << 20, &data, &len);
                if (r < 0)
                        return berth_error_sys(err, -r, "read resources from standard input");
                return berth_resources_parse(data, len, "standard input", res, err);
        }
        r = berth_read_file_at(AT_FDCWD, path, 1 << 20, &data, &len, err);
        if (r < 0)
                return r;
        return berth_resources_parse(data, len, path, res, err);
}

/* One single-value flag into res; -1 with a usage message on a bad value. */
static int update_flag(int opt, const char *arg, struct berth_resources *res)
{
        int64_t b;
        uint64_t u;

        switch (opt) {
        case OPT_MEMORY:
        case OPT_MEMORY_RESERVATION:
        case OPT_MEMORY_SWAP:
        case OPT_KERNEL_MEMORY:
        case OPT_KERNEL_MEMORY_TCP:
                if (parse_bytes(arg, &b) < 0)
                        return -1;
                res->has_memory = true;
                if (opt == OPT_MEMORY)
                        res->memory.has_limit = true, res->memory.limit = b;
                else if (opt == OPT_MEMORY_RESERVATION)
                        res->memory.has_reservation = true, res->memory.reservation = b;
                else if (opt == OPT_MEMORY_SWAP)
                        res->memory.has_swap = true, res->memory.swap = b;
                else if (opt == OPT_KERNEL_MEMORY)
                        res->memory.has_kernel = true, res->memory.kernel = b;
                else
                        res->memory.has_kernel_tcp = true, res->memory.kernel_tcp = b;
                return 0;
        case OPT_CPU_QUOTA:
        case OPT_CPU_RT_RUNTIME:
        case OPT_PIDS_LIMIT:
                if (berth_parse_i64(arg, &b) < 0)
                        return -1;
                if (opt == OPT_PIDS_LIMIT) {
                        res->has_pids_limit = true;
                        res->pids_limit = b;
                        return 0;
                }
                res->has_cpu = true;
                if (opt == OPT_CPU_QUOTA)
                        res->cpu.has_quota = true, res->cpu.quota = b;
                else
                        res->cpu.has_realtime_runtime = true, res->cpu.realtime_runtime = b;
                return 0;
        case OPT_CPU_PERIOD:
        case OPT_CPU_BURST:
        case OPT_CPU_SHARE:
        case OPT_CPU_RT_PERIOD:
                if (berth_parse_u64(arg, &u) < 0)
                        return -1;
                res->has_cpu = true;
                if (opt == OPT_CPU_PERIOD)
                        res->cpu.has_period = true, res->cpu.period = u;
                else if (opt == OPT_CPU_BURST)
                        res->cpu.has_burst = true, res->cpu.burst = u;
                else if (opt == OPT_CPU_SHARE)
                        res->cpu.has_shares = true, res->cpu.shares = u;
                else
                        res->cpu.has_realtime_period = true, res->cpu.realtime_period = u;
                return 0;
        case OPT_CPUSET_CPUS:
        case OPT_CPUSET_MEMS: {
                char **slot = opt == OPT_CPUSET_CPUS ? &res->cpu.cpus : &res->cpu.mems;
                free(*slot);
                *slot = strdup(arg);
                res->has_cpu = true;
                return *slot ? 0 : -1;
        }
        case OPT_BLKIO_WEIGHT:
                if (berth_parse_u64(arg, &u) < 0 || u > 1000 || (u && u < 10))
                        return -1;
                res->has_block_io = true;
                res->block_io.has_weight = true;
                res->block_io.weight = (uint16_t)u;
                return 0;
        default:
                return -1;
        }
}

int cmd_update(struct cli *c, int argc, char **argv)
{
        struct berth_resources res = { 0 };
        const char *file = NULL;
        berth_error err = BERTH_ERROR_INIT;
        bool flags = false;
        int opt, r;

        optind = 1;
        opterr = 1;
        while ((opt = getopt_long_only(argc, argv, "+r:h", update_options, NULL)) != -1) {
                switch (opt) {
                case 'r':
                        file = optarg;
                        break;
                case 'h':
                        update_usage();
                        berth_resources_release(&res);
                        return 0;
                case OPT_L3_CACHE:
                case OPT_MEM_BW:
                        berth_resources_release(&res);
                        return cli_usage("update", "Intel RDT is not supported");
                case '?':
                        berth_resources_release(&res);
                        return cli_usage("update", "invalid option");
                default:
                        if (update_flag(opt, optarg, &res) < 0) {
                                char msg[160];
                                const char *name = "?";
                                for (const struct option *o = update_options; o->name; o++)
                                        if (o->val == opt)
                                                name = o->name;
                                snprintf(msg, sizeof(msg), "--%s: invalid value `%s`", name,
                                         optarg);
                                berth_resources_release(&res);
                                return cli_usage("update", msg);
                        }
                        flags = true;
                }
        }
        if (optind != argc - 1) {
                berth_resources_release(&res);
                return cli_usage("update", "expects exactly one container id");
        }
        if (file && flags) {
                berth_resources_release(&res);
                return cli_usage("update", "--resources cannot be combined with single flags");
        }
        if (file && read_resources(file, &res, &err) < 0)
                return cli_fail(&err);
        r = berth_container_update(&c->rt, argv[optind], &res, &err);
        berth_resources_release(&res);
        return r < 0 ? cli_fail(&err) : 0;
}

static int one_id(const char *cmd, int argc, char **argv)
{
        if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                printf("Usage: %s %s <container-id>\n", BERTH_RUNTIME_NAME, cmd);
                return 0;
        }
        if (argc != 2 || argv[1][0] == '-')
                return cli_usage(cmd, "expects exactly one container id");
        return 1;
}

int cmd_pause(struct cli *c, int argc, char **argv)
{
        berth_error err = BERTH_ERROR_INIT;
        int r = one_id("pause", argc, argv);

        if (r != 1)
                return r;
        return berth_container_pause(&c->rt, argv[1], &err) < 0 ? cli_fail(&err) : 0;
}

int cmd_resume(struct cli *c, int argc, char **argv)
{
        berth_error err = BERTH_ERROR_INIT;
        int r = one_id("resume", argc, argv);

        if (r != 1)
                return r;
        return berth_container_resume(&c->rt, argv[1], &err) < 0 ? cli_fail(&err) : 0;
}

/* Go's duration syntax as runc takes it: "5s", "100ms", "1m30s", "2h". */
static int parse_duration_ms(const char *s, unsigned *ret)
{
        double total = 0;

        if (!*s)
                return -EINVAL;
        while (*s) {
                char *end;
                double v = strtod(s, &end), mult;
                if (end == s || v < 0)
                        return -EINVAL;
                s = end;
                if (strncmp(s, "ms", 2) == 0)
                        mult = 1, s += 2;
                else if (strncmp(s, "us", 2) == 0)
                        mult = 0.001, s += 2;
                else if (*s == 's')
                        mult = 1000, s++;
                else if (*s == 'm')
                        mult = 60000, s++;
                else if (*s == 'h')
                        mult = 3600000, s++;
                else
                        return -EINVAL;
                total += v * mult;
        }
        if (total < 1 || total > 86400000.0 * 30)
                return -ERANGE;
        *ret = (unsigned)total;
        return 0;
}

static int print_line(const char *json, void *userdata)
{
        (void)userdata;
        if (printf("%s\n", json) < 0 || fflush(stdout) != 0)
                return 1; /* the reader went away */
        return 0;
}

int cmd_events(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "stats", no_argument, NULL, 's' },
                { "interval", required_argument, NULL, 'i' },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        berth_error err = BERTH_ERROR_INIT;
        unsigned interval = 5000;
        bool stats = false;
        int opt;

        optind = 1;
        opterr = 1;
        while ((opt = getopt_long_only(argc, argv, "+h", opts, NULL)) != -1) {
                switch (opt) {
                case 's':
                        stats = true;
                        break;
                case 'i':
                        if (parse_duration_ms(optarg, &interval) < 0)
                                return cli_usage("events",
                                                 "--interval: expected a duration such as 5s");
                        break;
                case 'h':
                        printf("Usage: %s events [--stats] [--interval 5s] <container-id>\n"
                               "  --stats     print statistics once and exit\n"
                               "  --interval  how often to print statistics (default 5s);\n"
                               "              OOM kills are printed as they happen\n",
                               BERTH_RUNTIME_NAME);
                        return 0;
                default:
                        return cli_usage("events", "invalid option");
                }
        }
        if (optind != argc - 1)
                return cli_usage("events", "expects exactly one container id");
        signal(SIGPIPE, SIG_IGN);
        if (stats) {
                struct berth_stats st;
                _cleanup_free_ char *json = NULL;
                int r = berth_container_stats(&c->rt, argv[optind], &st, &err);
                if (r == 0)
                        r = berth_stats_to_json(argv[optind], &st, &json, &err);
                berth_stats_release(&st);
                if (r < 0)
                        return cli_fail(&err);
                printf("%s\n", json);
                return 0;
        }
        if (berth_container_events(&c->rt, argv[optind], interval, print_line, NULL, &err) < 0)
                return cli_fail(&err);
        return 0;
}
