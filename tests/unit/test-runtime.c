/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for the runtime's pure pieces: ids, signals, tables, spec, fd helpers. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "basic/fd.h"
#include "runtime/config.h"
#include "runtime/runtime.h"
#include "runtime/seccomp-cache.h"
#include "runtime/seccomp-filter.h"
#include "runtime/spec.h"

static void test_validate_id(void **state)
{
        static const char *const good[] = { "a", "web-1", "A_b.c+d", "0123456789abcdef" };
        static const char *const bad[] = { "", ".", "..", "a/b", "../x", "a b", "x\n", "é" };
        berth_error err = BERTH_ERROR_INIT;
        char longid[1100];

        (void)state;
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
                assert_int_equal(berth_validate_id(good[i], &err), 0);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_true(berth_validate_id(bad[i], &err) < 0);
                assert_non_null(err.msg);
                berth_error_release(&err);
        }
        memset(longid, 'a', sizeof(longid) - 1);
        longid[sizeof(longid) - 1] = '\0';
        assert_true(berth_validate_id(longid, &err) < 0);
        berth_error_release(&err);
}

static void test_signals(void **state)
{
        (void)state;
        assert_int_equal(berth_signal_from_string("KILL"), SIGKILL);
        assert_int_equal(berth_signal_from_string("SIGKILL"), SIGKILL);
        assert_int_equal(berth_signal_from_string("sigterm"), SIGTERM);
        assert_int_equal(berth_signal_from_string("9"), 9);
        assert_int_equal(berth_signal_from_string("RTMIN+2"), SIGRTMIN + 2);
        assert_true(berth_signal_from_string("NOPE") < 0);
        assert_true(berth_signal_from_string("0") < 0);
        assert_true(berth_signal_from_string("65") < 0);
        assert_true(berth_signal_from_string("") < 0);
        /* every named signal round-trips */
        for (int s = 1; s < 32; s++) {
                const char *name = berth_signal_to_string(s);
                if (name)
                        assert_int_equal(berth_signal_from_string(name), s);
        }
}

static void test_status_table(void **state)
{
        (void)state;
        for (int s = 0; s < _BERTH_STATUS_MAX; s++)
                assert_non_null(berth_status_to_string((enum berth_status)s));
        assert_null(berth_status_to_string(_BERTH_STATUS_MAX));
        assert_string_equal(berth_status_to_string(BERTH_STATUS_RUNNING), "running");
}

static void test_default_spec_parses(void **state)
{
        berth_error err = BERTH_ERROR_INIT;
        struct berth_config *c = NULL;
        char *json = NULL;

        (void)state;
        for (int rootless = 0; rootless <= 1; rootless++) {
                assert_int_equal(berth_spec_default(rootless, &json, &err), 0);
                assert_int_equal(berth_config_parse(json, strlen(json), &c, &err), 0);
                assert_non_null(c->process);
                assert_string_equal(c->process->args[0], "sh");
                assert_true(c->root_readonly);
                assert_true(c->process->no_new_privileges);
                /* rootless: a user namespace mapping us to root, no network namespace */
                bool has_user = false, has_net = false;
                for (size_t i = 0; i < c->linux.n_namespaces; i++) {
                        has_user |= c->linux.namespaces[i].type == BERTH_NS_USER;
                        has_net |= c->linux.namespaces[i].type == BERTH_NS_NETWORK;
                }
                assert_int_equal(has_user, rootless);
                assert_int_equal(has_net, !rootless);
                if (rootless) {
                        assert_int_equal(c->linux.n_uid_mappings, 1);
                        assert_int_equal(c->linux.uid_mappings[0].host_id, geteuid());
                }
                berth_config_free(c);
                free(json);
        }
}

static void test_features(void **state)
{
        berth_error err = BERTH_ERROR_INIT;
        char *json = NULL;
        json_object *o, *v, *l;

        (void)state;
        assert_int_equal(berth_features_json(&json, &err), 0);
        o = json_tokener_parse(json);
        assert_non_null(o);
        assert_true(json_object_object_get_ex(o, "ociVersionMax", &v));
        assert_string_equal(json_object_get_string(v), "1.2.0");
        assert_true(json_object_object_get_ex(o, "hooks", &v));
        assert_int_equal(json_object_array_length(v), 6);
        assert_true(json_object_object_get_ex(o, "linux", &l));
        assert_true(json_object_object_get_ex(l, "namespaces", &v));
        assert_int_equal(json_object_array_length(v), 8);
        assert_true(json_object_object_get_ex(l, "capabilities", &v));
        assert_int_equal(json_object_array_length(v), berth_capability_last() + 1);
        json_object_put(o);
        free(json);
}

static void test_parse_numbers(void **state)
{
        uint64_t u;
        int64_t i;
        uint32_t u32;
        int n;

        (void)state;
        assert_int_equal(berth_parse_u64("18446744073709551615", &u), 0);
        assert_true(u == UINT64_MAX);
        assert_int_equal(berth_parse_u64("18446744073709551616", &u), -ERANGE);
        assert_int_equal(berth_parse_u64("-1", &u), -EINVAL);
        assert_int_equal(berth_parse_u64("12x", &u), -EINVAL);
        assert_int_equal(berth_parse_u64("", &u), -EINVAL);
        assert_int_equal(berth_parse_i64("-42", &i), 0);
        assert_true(i == -42);
        assert_int_equal(berth_parse_u32("4294967296", &u32), -ERANGE);
        assert_int_equal(berth_parse_int(" 1", &n), -EINVAL);
        assert_int_equal(berth_parse_int("2147483648", &n), -ERANGE);
}

static void test_proc_stat(void **state)
{
        uint64_t start = 0;
        char st = 0;

        (void)state;
        assert_int_equal(berth_proc_stat(getpid(), &start, &st), 0);
        assert_true(start > 0);
        assert_true(st == 'R' || st == 'S');
        assert_true(berth_proc_stat(-5, &start, &st) < 0);
}

static void test_state_json(void **state)
{
        struct berth_kv ann = { (char *)"k", (char *)"v" };
        struct berth_state s = { .id = (char *)"x",
                                 .pid = 42,
                                 .bundle = (char *)"/b",
                                 .rootfs = (char *)"/b/rootfs",
                                 .created = (char *)"t",
                                 .owner = (char *)"",
                                 .annotations = &ann,
                                 .n_annotations = 1,
                                 .status = BERTH_STATUS_CREATED };
        berth_error err = BERTH_ERROR_INIT;
        json_object *o, *v;
        char *json = NULL;

        (void)state;
        assert_int_equal(berth_state_to_json(&s, true, &json, &err), 0);
        o = json_tokener_parse(json);
        assert_non_null(o);
        static const char *const keys[] = { "ociVersion", "id",     "status",
                                            "pid",        "bundle", "rootfs",
                                            "created",    "owner",  "annotations" };
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
                assert_true(json_object_object_get_ex(o, keys[i], &v));
        json_object_object_get_ex(o, "status", &v);
        assert_string_equal(json_object_get_string(v), "created");
        json_object_object_get_ex(o, "annotations", &v);
        json_object_object_get_ex(v, "k", &v);
        assert_string_equal(json_object_get_string(v), "v");
        json_object_put(o);
        free(json);
}

static int compile_profile(const char *seccomp_json, berth_error *err)
{
        char doc[4096];
        struct berth_config *c = NULL;
        struct berth_seccomp_filter *f = NULL;
        int r;

        snprintf(doc, sizeof(doc), "{\"ociVersion\":\"1.2.0\",\"linux\":{\"seccomp\":%s}}",
                 seccomp_json);
        r = berth_config_parse(doc, strlen(doc), &c, err);
        if (r == 0)
                r = berth_seccomp_compile(c, NULL, &f, err);
        berth_seccomp_filter_free(f);
        berth_config_free(c);
        return r;
}

static void test_seccomp_compile(void **state)
{
        berth_error err = BERTH_ERROR_INIT;

        (void)state;
        assert_int_equal(
                compile_profile("{\"defaultAction\":\"SCMP_ACT_ALLOW\","
                                "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"],"
                                "\"syscalls\":[{\"names\":[\"mkdir\",\"no_such_call\"],"
                                "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13},"
                                "{\"names\":[\"kill\"],\"action\":\"SCMP_ACT_ERRNO\","
                                "\"args\":[{\"index\":1,\"value\":9,\"op\":\"SCMP_CMP_EQ\"},"
                                "{\"index\":1,\"value\":15,\"op\":\"SCMP_CMP_EQ\"}]}]}",
                                &err),
                0);
        /* a rule that repeats the default action is dropped, not an error */
        assert_int_equal(compile_profile("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":"
                                         "[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"}]}",
                                         &err),
                         0);
        assert_true(compile_profile("{\"defaultAction\":\"SCMP_ACT_ALLOW\","
                                    "\"architectures\":[\"SCMP_ARCH_NOPE\"]}",
                                    &err) < 0);
        assert_non_null(strstr(err.msg, "SCMP_ARCH_NOPE"));
        berth_error_release(&err);
        assert_true(compile_profile("{\"defaultAction\":\"SCMP_ACT_ALLOW\","
                                    "\"flags\":[\"SECCOMP_FILTER_FLAG_NOPE\"]}",
                                    &err) < 0);
        assert_non_null(strstr(err.msg, "SECCOMP_FILTER_FLAG_NOPE"));
        berth_error_release(&err);
        assert_true(
                compile_profile("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":"
                                "[{\"names\":[\"kill\"],\"action\":\"SCMP_ACT_ERRNO\","
                                "\"args\":[{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
                                &err) < 0);
        berth_error_release(&err);
}

static char *key_of(const char *seccomp_json)
{
        char doc[2048];
        berth_error err = BERTH_ERROR_INIT;
        struct berth_config *c = NULL;
        char *key;

        snprintf(doc, sizeof(doc), "{\"ociVersion\":\"1.2.0\",\"linux\":{\"seccomp\":%s}}",
                 seccomp_json);
        assert_int_equal(berth_config_parse(doc, strlen(doc), &c, &err), 0);
        key = berth_seccomp_cache_key(&c->linux.seccomp);
        berth_config_free(c);
        assert_non_null(key);
        return key;
}

/* A cached program must never serve another profile: keys differ wherever profiles do. */
static void test_seccomp_cache_key(void **state)
{
        static const char *const profiles[] = {
                "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir unlink\"],"
                "\"action\":\"SCMP_ACT_ERRNO\"}]}",
                "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\","
                "\"unlink\"],\"action\":\"SCMP_ACT_ERRNO\"}]}",
                "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\","
                "\"unlink\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1}]}",
                "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"kill\"],"
                "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":1,\"value\":9,"
                "\"op\":\"SCMP_CMP_EQ\"}]}]}",
                "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"kill\"],"
                "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":1,\"value\":15,"
                "\"op\":\"SCMP_CMP_EQ\"}]}]}",
                "{\"defaultAction\":\"SCMP_ACT_ERRNO\"}",
                "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_X86\"]}",
        };
        char *keys[sizeof(profiles) / sizeof(profiles[0])];
        size_t n = sizeof(profiles) / sizeof(profiles[0]);

        (void)state;
        for (size_t i = 0; i < n; i++)
                keys[i] = key_of(profiles[i]);
        for (size_t i = 0; i < n; i++)
                for (size_t j = i + 1; j < n; j++)
                        assert_string_not_equal(keys[i], keys[j]);
        /* and the same profile always gives the same key */
        char *again = key_of(profiles[1]);
        assert_string_equal(again, keys[1]);
        free(again);
        for (size_t i = 0; i < n; i++)
                free(keys[i]);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_validate_id),     cmocka_unit_test(test_signals),
                cmocka_unit_test(test_status_table),    cmocka_unit_test(test_default_spec_parses),
                cmocka_unit_test(test_features),        cmocka_unit_test(test_parse_numbers),
                cmocka_unit_test(test_proc_stat),       cmocka_unit_test(test_state_json),
                cmocka_unit_test(test_seccomp_compile), cmocka_unit_test(test_seccomp_cache_key),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
