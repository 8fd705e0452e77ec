/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The parsers of `berth run` flag values: good values, bad values and docker's wording. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "basic/cleanup.h"
#include "engine/run-options.h"

/* Asserts that call failed with EINVAL and exactly message msg. */
#define assert_fails(call, msg)                                                                    \
        do {                                                                                       \
                berth_error err = BERTH_ERROR_INIT;                                                \
                int r_ = (call);                                                                   \
                assert_int_equal(r_, -EINVAL);                                                     \
                assert_string_equal(berth_error_msg(&err), (msg));                                 \
                berth_error_release(&err);                                                         \
        } while (0)

#define assert_ok(call)                                                                            \
        do {                                                                                       \
                berth_error err = BERTH_ERROR_INIT;                                                \
                int r_ = (call);                                                                   \
                if (r_ < 0)                                                                        \
                        fail_msg("%s: %s", #call, berth_error_msg(&err));                          \
                berth_error_release(&err);                                                         \
        } while (0)

static void test_ram_bytes(void **state)
{
        static const struct {
                const char *in;
                int64_t out;
        } good[] = {
                { "0", 0 },
                { "512", 512 },
                { "32b", 32 },
                { "1k", 1024 },
                { "1K", 1024 },
                { "512m", 512LL << 20 },
                { "64MB", 64LL << 20 },
                { "64mib", 64LL << 20 },
                { "1.5g", 3LL << 29 },
                { "2 g", 2LL << 30 },
                { "1t", 1LL << 40 },
                { "0.5k", 512 },
        };
        static const char *const bad[] = { "",      "m",    "-1",  "5x",           "1.m",
                                           "1..5m", "12mm", " 1m", "99999999999p", "1e3" };
        int64_t v;

        for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
                assert_ok(berth_parse_ram_bytes(good[i].in, &v, &err));
                assert_int_equal(v, good[i].out);
        }
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                char msg[64];
                snprintf(msg, sizeof(msg), "invalid size: '%s'", bad[i]);
                assert_fails(berth_parse_ram_bytes(bad[i], &v, &err), msg);
        }
}

static void test_memory(void **state)
{
        int64_t v = -5;

        assert_ok(berth_parse_memory("512m", &v, &err));
        assert_int_equal(v, 536870912);
        assert_ok(berth_parse_memory("6m", &v, &err));
        assert_int_equal(v, 6 << 20);
        assert_ok(berth_parse_memory("0", &v, &err));
        assert_int_equal(v, 0);
        assert_fails(berth_parse_memory("5m", &v, &err), "Minimum memory limit allowed is 6MB");
        assert_fails(berth_parse_memory("4k", &v, &err), "Minimum memory limit allowed is 6MB");
        assert_fails(berth_parse_memory("5x", &v, &err),
                     "invalid argument \"5x\" for \"-m, --memory\" flag: invalid size: '5x'");
        assert_ok(berth_parse_memory_swap("-1", &v, &err));
        assert_int_equal(v, -1);
        assert_ok(berth_parse_memory_swap("1g", &v, &err));
        assert_int_equal(v, 1 << 30);
        assert_fails(berth_parse_memory_swap("-2", &v, &err),
                     "invalid argument \"-2\" for \"--memory-swap\" flag: invalid size: '-2'");
        assert_ok(berth_parse_shm_size("128m", &v, &err));
        assert_int_equal(v, 128 << 20);
        assert_fails(berth_parse_shm_size("big", &v, &err),
                     "invalid argument \"big\" for \"--shm-size\" flag: invalid size: 'big'");
}

static void test_cpus(void **state)
{
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        char msg[160], big[32];
        int64_t v;

        assert_ok(berth_parse_cpus("1", &v, &err));
        assert_int_equal(v, 1000000000);
        assert_ok(berth_parse_cpus("0.5", &v, &err));
        assert_int_equal(v, 500000000);
        assert_ok(berth_parse_cpus(".25", &v, &err));
        assert_int_equal(v, 250000000);
        assert_ok(berth_parse_cpus("0", &v, &err));
        assert_int_equal(v, 0);
        if (n >= 2) {
                assert_ok(berth_parse_cpus("1.5", &v, &err));
                assert_int_equal(v, 1500000000);
        }
        assert_fails(berth_parse_cpus("abc", &v, &err),
                     "invalid argument \"abc\" for \"--cpus\" flag: failed to parse abc as a "
                     "rational number");
        assert_fails(berth_parse_cpus("-1", &v, &err),
                     "invalid argument \"-1\" for \"--cpus\" flag: failed to parse -1 as a "
                     "rational number");
        assert_fails(berth_parse_cpus("0.0000000001", &v, &err),
                     "invalid argument \"0.0000000001\" for \"--cpus\" flag: value is too precise");
        snprintf(msg, sizeof(msg),
                 "Range of CPUs is from 0.01 to %ld.00, as there are only %ld CPUs available", n,
                 n);
        snprintf(big, sizeof(big), "%ld", n + 1);
        assert_fails(berth_parse_cpus(big, &v, &err), msg);
        assert_fails(berth_parse_cpus("0.001", &v, &err), msg);
}

static void test_int64_and_cpuset(void **state)
{
        _cleanup_free_ char *s = NULL;
        int64_t v;

        assert_ok(berth_parse_int64_flag("--pids-limit", "-1", &v, &err));
        assert_int_equal(v, -1);
        assert_ok(berth_parse_int64_flag("--cpu-shares", "512", &v, &err));
        assert_int_equal(v, 512);
        assert_fails(berth_parse_int64_flag("--cpu-shares", "lots", &v, &err),
                     "invalid argument \"lots\" for \"--cpu-shares\" flag: strconv.ParseInt: "
                     "parsing \"lots\": invalid syntax");
        assert_fails(berth_parse_int64_flag("--pids-limit", "99999999999999999999", &v, &err),
                     "invalid argument \"99999999999999999999\" for \"--pids-limit\" flag: "
                     "strconv.ParseInt: parsing \"99999999999999999999\": value out of range");
        assert_ok(berth_parse_cpuset("--cpuset-cpus", "0-3,5", &s, &err));
        assert_string_equal(s, "0-3,5");
        assert_fails(berth_parse_cpuset("--cpuset-cpus", "3-1", &s, &err),
                     "Invalid value 3-1 for cpuset cpus");
        assert_fails(berth_parse_cpuset("--cpuset-mems", "0,", &s, &err),
                     "Invalid value 0, for cpuset mems");
        assert_fails(berth_parse_cpuset("--cpuset-cpus", "", &s, &err),
                     "Invalid value  for cpuset cpus");
        assert_fails(berth_parse_cpuset("--cpuset-cpus", "a", &s, &err),
                     "Invalid value a for cpuset cpus");
}

static void test_env(void **state)
{
        _cleanup_(berth_run_options_release) berth_run_options o;
        static const char file[] = "\xef\xbb\xbf# a comment\n"
                                   "\n"
                                   "   A=1\n"
                                   "B=with spaces  \n"
                                   "FROM_CALLER\n"
                                   "UNSET_IN_CALLER\r\n"
                                   "C=\n"
                                   "D=x=y";

        berth_run_options_init(&o);
        setenv("FROM_CALLER", "yes", 1);
        unsetenv("UNSET_IN_CALLER");
        assert_ok(berth_parse_env(&o, "K=V", &err));
        assert_ok(berth_parse_env(&o, "FROM_CALLER", &err));
        assert_ok(berth_parse_env(&o, "UNSET_IN_CALLER", &err));
        assert_fails(berth_parse_env(&o, "=x", &err), "invalid environment variable: =x");
        assert_fails(berth_parse_env(&o, "", &err), "invalid environment variable: ");
        assert_ok(berth_parse_env_data(&o, file, sizeof(file) - 1, "f", &err));
        assert_non_null(o.env);
        assert_string_equal(o.env[0], "K=V");
        assert_string_equal(o.env[1], "FROM_CALLER=yes");
        assert_string_equal(o.env[2], "A=1");
        assert_string_equal(o.env[3], "B=with spaces  ");
        assert_string_equal(o.env[4], "FROM_CALLER=yes");
        assert_string_equal(o.env[5], "C=");
        assert_string_equal(o.env[6], "D=x=y");
        assert_null(o.env[7]);
        assert_fails(berth_parse_env_data(&o, "A B=1\n", 6, "f", &err),
                     "poorly formatted environment: variable 'A B' contains whitespaces");
        assert_fails(berth_parse_env_data(&o, "=1\n", 3, "f", &err),
                     "poorly formatted environment: no variable name on line '=1'");
        {
                berth_error e = BERTH_ERROR_INIT;
                assert_int_equal(berth_parse_env_file(&o, "/nonexistent/env", &e), -ENOENT);
                assert_string_equal(berth_error_msg(&e),
                                    "open /nonexistent/env: No such file or directory");
                berth_error_release(&e);
        }
        assert_ok(berth_parse_label(&o, "a=b", &err));
        assert_ok(berth_parse_label(&o, "flag", &err));
        assert_string_equal(o.labels[0], "a=b");
        assert_string_equal(o.labels[1], "flag=");
        assert_fails(berth_parse_label(&o, "=v", &err), "invalid label '=v': empty name");
}

static void test_ulimit(void **state)
{
        _cleanup_(berth_run_options_release) berth_run_options o;

        berth_run_options_init(&o);
        assert_ok(berth_parse_ulimit(&o, "nofile=1024:2048", &err));
        assert_ok(berth_parse_ulimit(&o, "nproc=100", &err));
        assert_ok(berth_parse_ulimit(&o, "core=-1", &err));
        assert_int_equal(o.n_ulimits, 3);
        assert_string_equal(o.ulimits[0].name, "nofile");
        assert_int_equal(o.ulimits[0].resource, RLIMIT_NOFILE);
        assert_int_equal(o.ulimits[0].soft, 1024);
        assert_int_equal(o.ulimits[0].hard, 2048);
        assert_int_equal(o.ulimits[1].soft, 100);
        assert_int_equal(o.ulimits[1].hard, 100);
        assert_int_equal(o.ulimits[2].hard, -1);
        /* A later one of the same name replaces the first, as docker's map does. */
        assert_ok(berth_parse_ulimit(&o, "nofile=10", &err));
        assert_int_equal(o.n_ulimits, 3);
        assert_int_equal(o.ulimits[0].hard, 10);
        assert_fails(berth_parse_ulimit(&o, "nofile", &err),
                     "invalid argument \"nofile\" for \"--ulimit\" flag: invalid ulimit argument: "
                     "nofile");
        assert_fails(berth_parse_ulimit(&o, "files=1", &err),
                     "invalid argument \"files=1\" for \"--ulimit\" flag: invalid ulimit type: "
                     "files");
        assert_fails(berth_parse_ulimit(&o, "nofile=2:1", &err),
                     "invalid argument \"nofile=2:1\" for \"--ulimit\" flag: ulimit soft limit "
                     "must be less than or equal to hard limit: 2 > 1");
        assert_fails(berth_parse_ulimit(&o, "nofile=1:2:3", &err),
                     "invalid argument \"nofile=1:2:3\" for \"--ulimit\" flag: too many limit "
                     "value arguments - 1:2:3, can only have up to two, `soft[:hard]`");
        assert_fails(berth_parse_ulimit(&o, "nofile=x", &err),
                     "invalid argument \"nofile=x\" for \"--ulimit\" flag: strconv.ParseInt: "
                     "parsing \"x\": invalid syntax");
        assert_int_equal(o.n_ulimits, 3);
}

static void test_sysctl_and_signal(void **state)
{
        _cleanup_(berth_run_options_release) berth_run_options o;
        char *s = NULL;

        berth_run_options_init(&o);
        assert_ok(berth_parse_sysctl(&o, "net.ipv4.ip_forward=1", &err));
        assert_ok(berth_parse_sysctl(&o, "kernel.shmmax=100000", &err));
        assert_ok(berth_parse_sysctl(&o, "fs.mqueue.msg_max=20", &err));
        assert_string_equal(o.sysctls[0], "net.ipv4.ip_forward=1");
        assert_fails(berth_parse_sysctl(&o, "kernel.hostname=x", &err),
                     "invalid argument \"kernel.hostname=x\" for \"--sysctl\" flag: sysctl "
                     "'kernel.hostname=x' is not allowed");
        assert_fails(berth_parse_sysctl(&o, "net.core.somaxconn", &err),
                     "invalid argument \"net.core.somaxconn\" for \"--sysctl\" flag: sysctl "
                     "'net.core.somaxconn' is not allowed");

        static const struct {
                const char *in, *out;
        } sigs[] = { { "TERM", "SIGTERM" },     { "SIGKILL", "SIGKILL" },
                     { "sigusr1", "SIGUSR1" },  { "9", "SIGKILL" },
                     { "15", "SIGTERM" },       { "RTMIN+3", "SIGRTMIN+3" },
                     { "SIGWINCH", "SIGWINCH" } };
        for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
                assert_ok(berth_parse_signal(sigs[i].in, &s, &err));
                assert_string_equal(s, sigs[i].out);
                free(s);
        }
        assert_fails(berth_parse_signal("NOPE", &s, &err), "Invalid signal: NOPE");
        assert_fails(berth_parse_signal("0", &s, &err), "Invalid signal: 0");
        assert_fails(berth_parse_signal("200", &s, &err), "Invalid signal: 200");
        assert_fails(berth_parse_signal("", &s, &err), "Invalid signal: ");
}

static void test_volume(void **state)
{
        _cleanup_(berth_run_options_release) berth_run_options o;

        berth_run_options_init(&o);
        assert_ok(berth_parse_volume(&o, "/host:/ctr", &err));
        assert_ok(berth_parse_volume(&o, "/host/ro:/ro:ro,Z,rshared", &err));
        assert_ok(berth_parse_volume(&o, "data:/var/lib/data:nocopy", &err));
        assert_ok(berth_parse_volume(&o, "/anon", &err));
        assert_int_equal(o.n_mounts, 4);
        assert_int_equal(o.mounts[0].type, BERTH_MOUNT_BIND);
        assert_string_equal(o.mounts[0].source, "/host");
        assert_string_equal(o.mounts[0].target, "/ctr");
        assert_false(o.mounts[0].readonly);
        assert_null(o.mounts[0].propagation);
        assert_true(o.mounts[1].readonly);
        assert_string_equal(o.mounts[1].selinux, "Z");
        assert_string_equal(o.mounts[1].propagation, "rshared");
        assert_int_equal(o.mounts[2].type, BERTH_MOUNT_VOLUME);
        assert_string_equal(o.mounts[2].source, "data");
        assert_true(o.mounts[2].nocopy);
        assert_int_equal(o.mounts[3].type, BERTH_MOUNT_VOLUME);
        assert_null(o.mounts[3].source);
        assert_string_equal(o.mounts[3].target, "/anon");

        assert_fails(berth_parse_volume(&o, "/a::/b", &err),
                     "invalid spec: /a::/b: empty section between colons");
        assert_fails(berth_parse_volume(&o, "", &err), "invalid empty volume spec");
        assert_fails(berth_parse_volume(&o, "/a:/b:ro:x", &err),
                     "invalid volume specification: '/a:/b:ro:x'");
        assert_fails(berth_parse_volume(&o, "/a:/b:rw,ro", &err), "invalid mode: rw,ro");
        assert_fails(berth_parse_volume(&o, "/a:/b:bogus", &err), "invalid mode: bogus");
        assert_fails(berth_parse_volume(&o, "/a:rel", &err),
                     "invalid volume specification: '/a:rel': invalid mount config for type "
                     "\"bind\": invalid mount path: 'rel' mount path must be absolute");
        assert_fails(berth_parse_volume(&o, "vol:/x:rshared", &err),
                     "invalid volume specification: 'vol:/x:rshared': invalid mount config for "
                     "type \"volume\": field BindOptions must not be specified");
        assert_int_equal(o.n_mounts, 4);
}

static void test_mount_flag(void **state)
{
        _cleanup_(berth_run_options_release) berth_run_options o;

        berth_run_options_init(&o);
        assert_ok(berth_parse_mount(
                &o, "type=bind,source=/h,target=/c,readonly,bind-propagation=rslave", &err));
        assert_ok(berth_parse_mount(&o, "type=volume,src=v1,dst=/data,volume-nocopy", &err));
        assert_ok(berth_parse_mount(&o, "destination=/vol2", &err)); /* volume by default */
        assert_ok(berth_parse_mount(&o, "type=tmpfs,dst=/scratch,tmpfs-size=64m,tmpfs-mode=1770",
                                    &err));
        assert_ok(berth_parse_mount(&o, "type=bind,src=/h2,dst=/c2,ro=false", &err));
        assert_int_equal(o.n_mounts, 5);
        assert_int_equal(o.mounts[0].type, BERTH_MOUNT_BIND);
        assert_true(o.mounts[0].readonly);
        assert_string_equal(o.mounts[0].propagation, "rslave");
        assert_int_equal(o.mounts[1].type, BERTH_MOUNT_VOLUME);
        assert_string_equal(o.mounts[1].source, "v1");
        assert_true(o.mounts[1].nocopy);
        assert_int_equal(o.mounts[2].type, BERTH_MOUNT_VOLUME);
        assert_null(o.mounts[2].source);
        assert_int_equal(o.mounts[3].type, BERTH_MOUNT_TMPFS);
        assert_int_equal(o.mounts[3].tmpfs_size, 64 << 20);
        assert_int_equal(o.mounts[3].tmpfs_mode, 01770);
        assert_false(o.mounts[4].readonly);

        assert_fails(berth_parse_mount(&o, "type=bind,src=/h", &err), "target is required");
        assert_fails(berth_parse_mount(&o, "type=nfs,dst=/x", &err), "invalid mount type: nfs");
        assert_fails(berth_parse_mount(&o, "type=bind,dst=/x,color=red", &err),
                     "unexpected key 'color' in 'type=bind,dst=/x,color=red'");
        assert_fails(berth_parse_mount(&o, "type=bind,dst=/x,source", &err),
                     "invalid field 'source' must be a key=value pair");
        assert_fails(berth_parse_mount(&o, "type=bind,src=/h,dst=/x,readonly=maybe", &err),
                     "invalid value for readonly: maybe");
        assert_fails(berth_parse_mount(&o, "type=bind,dst=/x", &err),
                     "invalid mount config for type \"bind\": field Source must not be empty");
        assert_fails(berth_parse_mount(&o, "type=tmpfs,src=/h,dst=/x", &err),
                     "invalid mount config for type \"tmpfs\": field Source must not be "
                     "specified");
        assert_fails(berth_parse_mount(&o, "type=volume,dst=/x,tmpfs-size=1m", &err),
                     "invalid mount config for type \"volume\": field TmpfsOptions must not be "
                     "specified");
        assert_fails(berth_parse_mount(&o, "type=tmpfs,dst=/x,tmpfs-size=lots", &err),
                     "invalid value for tmpfs-size: lots");
        assert_fails(berth_parse_mount(&o, "type=bind,src=/h,dst=x", &err),
                     "invalid mount config for type \"bind\": invalid mount path: 'x' mount path "
                     "must be absolute");
        assert_int_equal(o.n_mounts, 5);
}

static void test_tmpfs_and_entrypoint(void **state)
{
        _cleanup_(berth_run_options_release) berth_run_options o;

        berth_run_options_init(&o);
        assert_ok(berth_parse_tmpfs(&o, "/run:rw,size=64m,exec,mode=755", &err));
        assert_ok(berth_parse_tmpfs(&o, "/tmp", &err));
        assert_int_equal(o.n_mounts, 2);
        assert_int_equal(o.mounts[0].tmpfs_size, 64 << 20);
        assert_int_equal(o.mounts[0].tmpfs_mode, 0755);
        assert_string_equal(o.mounts[0].tmpfs_options[0], "exec");
        assert_null(o.mounts[0].tmpfs_options[1]);
        assert_null(o.mounts[1].tmpfs_options);
        assert_fails(berth_parse_tmpfs(&o, "run", &err),
                     "invalid mount config for type \"tmpfs\": invalid mount path: 'run' mount "
                     "path must be absolute");
        assert_fails(berth_parse_tmpfs(&o, "/run:size=x", &err),
                     "invalid tmpfs option \"size=x\" in --tmpfs /run:size=x");
        assert_fails(berth_parse_tmpfs(&o, "/run:mode=999", &err),
                     "invalid tmpfs option \"mode=999\" in --tmpfs /run:mode=999");

        assert_ok(berth_parse_entrypoint(&o, "/bin/echo", &err));
        assert_true(o.has_entrypoint);
        assert_string_equal(o.entrypoint[0], "/bin/echo");
        assert_ok(berth_parse_entrypoint(&o, "", &err));
        assert_true(o.has_entrypoint);
        assert_null(o.entrypoint);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ram_bytes),
                cmocka_unit_test(test_memory),
                cmocka_unit_test(test_cpus),
                cmocka_unit_test(test_int64_and_cpuset),
                cmocka_unit_test(test_env),
                cmocka_unit_test(test_ulimit),
                cmocka_unit_test(test_sysctl_and_signal),
                cmocka_unit_test(test_volume),
                cmocka_unit_test(test_mount_flag),
                cmocka_unit_test(test_tmpfs_and_entrypoint),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
