/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for the cgroup layer's pure pieces: crun's v1-to-v2
 * conversions, cgroupsPath rules, cpu lists, the resources parser used by
 * `update`, and the on-disk record (corrupt records are errors, not
 * guesses).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "basic/fd.h"
#include "runtime/cgroup.h"

static void test_shares_to_weight(void **state)
{
        (void)state;
        /* The two defaults map onto each other, the ends onto the ends. */
        assert_int_equal(cg_cpu_shares_to_weight(1024), 100);
        assert_int_equal(cg_cpu_shares_to_weight(2), 1);
        assert_int_equal(cg_cpu_shares_to_weight(1), 1);
        assert_int_equal(cg_cpu_shares_to_weight(262144), 10000);
        assert_int_equal(cg_cpu_shares_to_weight(1u << 30), 10000);
        assert_int_equal(cg_cpu_shares_to_weight(0), 0);
        assert_int_equal(cg_cpu_shares_to_weight(512), 59);
        assert_int_equal(cg_cpu_shares_to_weight(2048), 174);
        /* Monotonic over the whole range. */
        for (uint64_t s = 3, prev = 1; s <= 262144; s = s * 3 / 2 + 1) {
                uint64_t w = cg_cpu_shares_to_weight(s);
                assert_true(w >= prev);
                assert_true(w >= 1 && w <= 10000);
                prev = w;
        }
}

static void test_blkio_weight(void **state)
{
        (void)state;
        assert_int_equal(cg_blkio_weight_to_io_weight(10), 1);
        assert_int_equal(cg_blkio_weight_to_io_weight(1000), 10000);
        assert_int_equal(cg_blkio_weight_to_io_weight(500), 1 + 490 * 9999 / 990);
        assert_int_equal(cg_blkio_weight_to_io_weight(0), 0);
}

static void test_resolve_path(void **state)
{
        static const char *const bad[] = { "/a/../b", "..", "a/./b", "/x/..", "system.slice:p:n" };
        berth_error err = BERTH_ERROR_INIT;
        char *p = NULL;

        (void)state;
        assert_int_equal(cg_resolve_path(NULL, "ctr", &p, &err), 0);
        assert_string_equal(p, "ctr");
        free(p);
        assert_int_equal(cg_resolve_path("", "ctr", &p, &err), 0);
        assert_string_equal(p, "ctr");
        free(p);
        assert_int_equal(cg_resolve_path("/berth/x//", "ctr", &p, &err), 0);
        assert_string_equal(p, "/berth/x");
        free(p);
        assert_int_equal(cg_resolve_path("rel/x", "ctr", &p, &err), 0);
        assert_string_equal(p, "rel/x");
        free(p);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                p = NULL;
                assert_true(cg_resolve_path(bad[i], "ctr", &p, &err) < 0);
                assert_null(p);
                assert_non_null(strstr(berth_error_msg(&err), "cgroupsPath"));
                berth_error_release(&err);
        }
}

static void test_systemd_resolve(void **state)
{
        static const char *const bad[] = { "a:b", "a:b:c:d", "/x/y:a:b", "s:p:", "s:p:x.slice" };
        berth_error err = BERTH_ERROR_INIT;
        char *slice = NULL, *unit = NULL;

        (void)state;
        assert_int_equal(cg_systemd_resolve(NULL, "ctr", &slice, &unit, &err), 0);
        assert_string_equal(slice, "system.slice");
        assert_string_equal(unit, "berth-ctr.scope");
        free(slice);
        free(unit);
        assert_int_equal(cg_systemd_resolve("machine.slice:libpod:abc", "ctr", &slice, &unit, &err),
                         0);
        assert_string_equal(slice, "machine.slice");
        assert_string_equal(unit, "libpod-abc.scope");
        free(slice);
        free(unit);
        assert_int_equal(cg_systemd_resolve(":crio:abc", "ctr", &slice, &unit, &err), 0);
        assert_string_equal(slice, "system.slice");
        assert_string_equal(unit, "crio-abc.scope");
        free(slice);
        free(unit);
        assert_int_equal(cg_systemd_resolve("user.slice::abc", "ctr", &slice, &unit, &err), 0);
        assert_string_equal(unit, "abc.scope");
        free(slice);
        free(unit);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_true(cg_systemd_resolve(bad[i], "ctr", &slice, &unit, &err) < 0);
                assert_non_null(strstr(berth_error_msg(&err), "cgroupsPath"));
                berth_error_release(&err);
        }
}

static void test_unified_key(void **state)
{
        static const char *const bad[] = {
                "", "../memory.max", "a/b", "cgroup.procs", "cgroup.subtree_control", ".", ".hidden"
        };
        berth_error err = BERTH_ERROR_INIT;

        (void)state;
        assert_int_equal(cg_check_unified_key("memory.high", &err), 0);
        assert_int_equal(cg_check_unified_key("pids.max", &err), 0);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_true(cg_check_unified_key(bad[i], &err) < 0);
                assert_non_null(strstr(berth_error_msg(&err), "unified"));
                berth_error_release(&err);
        }
}

static void test_parse_list(void **state)
{
        uint32_t *v = NULL;
        size_t n = 0;

        (void)state;
        assert_int_equal(cg_parse_list("0-2,4,7-8", &v, &n), 0);
        assert_int_equal(n, 6);
        assert_int_equal(v[0], 0);
        assert_int_equal(v[2], 2);
        assert_int_equal(v[3], 4);
        assert_int_equal(v[5], 8);
        free(v);
        assert_int_equal(cg_parse_list("", &v, &n), 0);
        assert_int_equal(n, 0);
        free(v);
        assert_int_equal(cg_parse_list("3-1", &v, &n), -EINVAL);
        assert_int_equal(cg_parse_list("0-999999", &v, &n), -EINVAL);
}

static void test_resources_parse(void **state)
{
        static const char good[] =
                "{\"memory\":{\"limit\":1048576,\"swap\":-1},\"pids\":{\"limit\":7},"
                "\"cpu\":{\"shares\":512,\"cpus\":\"0-1\"},"
                "\"devices\":[{\"allow\":false,\"access\":\"rwm\"}],"
                "\"unified\":{\"memory.high\":\"10M\"}}";
        static const struct {
                const char *json, *want;
        } bad[] = {
                { "{\"pids\":{\"limit\":\"x\"}}", "pids.limit" },
                { "{\"memory\":{\"limit\":1.5}}", "memory.limit" },
                { "{\"devices\":[{\"allow\":true,\"access\":\"rwx\"}]}", "access" },
                { "[]", "standard input" },
                { "{\"cpu\":", "standard input" },
        };
        struct berth_resources rs;
        berth_error err = BERTH_ERROR_INIT;

        (void)state;
        assert_int_equal(berth_resources_parse(good, strlen(good), "res.json", &rs, &err), 0);
        assert_true(rs.has_memory && rs.memory.has_limit && rs.memory.limit == 1048576);
        assert_true(rs.memory.has_swap && rs.memory.swap == -1);
        assert_true(rs.has_pids_limit && rs.pids_limit == 7);
        assert_true(rs.cpu.has_shares && rs.cpu.shares == 512);
        assert_string_equal(rs.cpu.cpus, "0-1");
        assert_int_equal(rs.n_devices, 1);
        assert_int_equal(rs.n_unified, 1);
        berth_resources_release(&rs);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_true(berth_resources_parse(bad[i].json, strlen(bad[i].json),
                                                  "standard input", &rs, &err) < 0);
                if (!strstr(berth_error_msg(&err), bad[i].want))
                        fail_msg("%s: `%s` not in `%s`", bad[i].json, bad[i].want,
                                 berth_error_msg(&err));
                berth_error_release(&err);
        }
}

static void write_record(const char *dir, const char *text)
{
        char path[4096];
        int fd;

        snprintf(path, sizeof(path), "%s/cgroup.json", dir);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(berth_write_all(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
}

static void test_record(void **state)
{
        static const char *const corrupt[] = {
                "not json",
                "{\"driver\":\"nope\",\"path\":\"/x\"}",
                "{\"driver\":\"cgroupfs-v1\"}",
                ("{\"driver\":\"cgroupfs-v2\",\"path\":\"/x\",\"dirs\":[{\"controllers\":\"\","
                 "\"path\":\"relative\"}]}"),
        };
        char dir[] = "/tmp/berth-test-cgroup-XXXXXX";
        struct berth_cgroup *cg = NULL;
        berth_error err = BERTH_ERROR_INIT;

        (void)state;
        assert_non_null(mkdtemp(dir));
        /* No record: no cgroup, no error. */
        assert_int_equal(berth_cgroup_load(dir, &cg, &err), 0);
        assert_null(cg);
        write_record(dir, "{\"driver\":\"cgroupfs-v1\",\"path\":\"/c\",\"rootless\":false,"
                          "\"dirs\":[{\"controllers\":\"cpu,cpuacct\",\"path\":\"/sys/fs/cgroup/"
                          "cpu,cpuacct/c\",\"created\":true},{\"controllers\":\"memory\","
                          "\"path\":\"/sys/fs/cgroup/memory/c\",\"created\":false}]}");
        assert_int_equal(berth_cgroup_load(dir, &cg, &err), 0);
        assert_non_null(cg);
        assert_string_equal(cg->path, "/c");
        assert_int_equal(cg->n_dirs, 2);
        assert_string_equal(cg_dir_of(cg, "cpuacct"), "/sys/fs/cgroup/cpu,cpuacct/c");
        assert_string_equal(cg_dir_of(cg, "memory"), "/sys/fs/cgroup/memory/c");
        assert_null(cg_dir_of(cg, "cpuset"));
        assert_null(cg_dir_of(cg, "cpuac"));
        assert_false(cg->dirs[1].created);
        berth_cgroup_free(cg);
        for (size_t i = 0; i < sizeof(corrupt) / sizeof(corrupt[0]); i++) {
                cg = NULL;
                write_record(dir, corrupt[i]);
                assert_true(berth_cgroup_load(dir, &cg, &err) < 0);
                assert_null(cg);
                assert_non_null(strstr(berth_error_msg(&err), "cgroup.json"));
                berth_error_release(&err);
        }
        {
                char path[4096];
                snprintf(path, sizeof(path), "%s/cgroup.json", dir);
                assert_int_equal(unlink(path), 0);
        }
        assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_shares_to_weight), cmocka_unit_test(test_blkio_weight),
                cmocka_unit_test(test_resolve_path),     cmocka_unit_test(test_systemd_resolve),
                cmocka_unit_test(test_unified_key),      cmocka_unit_test(test_parse_list),
                cmocka_unit_test(test_resources_parse),  cmocka_unit_test(test_record),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
