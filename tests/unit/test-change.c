/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for image/change.c: `--change` instructions as import and
 * commit apply them, checked against what docker writes for the same
 * Dockerfile lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "basic/cleanup.h"
#include "image/change.h"
#include "image/manifest.h"

static berth_image_config *cfg_new(void)
{
        berth_image_config *c = calloc(1, sizeof(*c));
        assert_non_null(c);
        return c;
}

/* Applies the NULL-terminated changes; asserts success. */
static berth_image_config *apply(const char *first, ...)
{
        berth_image_config *c = cfg_new();
        berth_error err = BERTH_ERROR_INIT;
        const char *v[32];
        size_t n = 0;
        va_list ap;

        va_start(ap, first);
        for (const char *s = first; s; s = va_arg(ap, const char *))
                v[n++] = s;
        va_end(ap);
        v[n] = NULL;
        if (berth_config_apply_changes(&c->config, (char *const *)v, &err) < 0)
                fail_msg("%s", berth_error_msg(&err));
        return c;
}

/* The change fails with a message containing want. */
static void apply_fails(const char *change, const char *want)
{
        _cleanup_(berth_image_config_freep) berth_image_config *c = cfg_new();
        berth_error err = BERTH_ERROR_INIT;
        bool cmd_set = false;

        if (berth_config_apply_change(&c->config, change, &cmd_set, &err) >= 0)
                fail_msg("`%s` was accepted", change);
        if (!strstr(berth_error_msg(&err), want))
                fail_msg("`%s`: message `%s` lacks `%s`", change, berth_error_msg(&err), want);
        berth_error_release(&err);
}

static void assert_strv(char *const *v, const char *first, ...)
{
        va_list ap;
        size_t i = 0;

        assert_non_null(v);
        va_start(ap, first);
        for (const char *s = first; s; s = va_arg(ap, const char *), i++) {
                if (!v[i])
                        fail_msg("missing entry %zu `%s`", i, s);
                assert_string_equal(v[i], s);
        }
        va_end(ap);
        if (v[i])
                fail_msg("extra entry `%s`", v[i]);
}

static const char *label(const berth_image_config *c, const char *key)
{
        json_object *v = NULL;
        if (!c->config.labels || !json_object_object_get_ex(c->config.labels, key, &v))
                return NULL;
        return json_object_get_string(v);
}

static void test_cmd_forms(void **state)
{
        _cleanup_(berth_image_config_freep) berth_image_config *exec = apply("CMD [\"sh\"]", NULL);
        _cleanup_(berth_image_config_freep) berth_image_config *shell =
                apply("cmd echo \"a b\" && ls", NULL);
        _cleanup_(berth_image_config_freep) berth_image_config *empty = apply("CMD []", NULL);
        /* Not a JSON array of strings: the shell form, as docker reads it. */
        _cleanup_(berth_image_config_freep) berth_image_config *notjson =
                apply("CMD [\"sh\", 1]", NULL);

        (void)state;
        assert_strv(exec->config.cmd, "sh", NULL);
        assert_strv(shell->config.cmd, "/bin/sh", "-c", "echo \"a b\" && ls", NULL);
        assert_non_null(empty->config.cmd);
        assert_null(empty->config.cmd[0]);
        assert_strv(notjson->config.cmd, "/bin/sh", "-c", "[\"sh\", 1]", NULL);
        apply_fails("CMD", "requires at least one argument");
}

static void test_entrypoint_resets_cmd(void **state)
{
        _cleanup_(berth_image_config_freep) berth_image_config *a =
                apply("CMD [\"x\"]", "ENTRYPOINT [\"/init\"]", NULL);
        _cleanup_(berth_image_config_freep) berth_image_config *b = cfg_new();
        berth_error err = BERTH_ERROR_INIT;
        bool cmd_set = false;

        (void)state;
        /* CMD first in the same list: kept. */
        assert_strv(a->config.cmd, "x", NULL);
        assert_strv(a->config.entrypoint, "/init", NULL);
        /* A CMD the image had (commit) is dropped by an ENTRYPOINT alone. */
        b->config.cmd = calloc(2, sizeof(char *));
        b->config.cmd[0] = strdup("old");
        assert_int_equal(berth_config_apply_change(&b->config, "ENTRYPOINT top -b", &cmd_set, &err),
                         0);
        assert_null(b->config.cmd);
        assert_strv(b->config.entrypoint, "/bin/sh", "-c", "top -b", NULL);
}

static void test_env(void **state)
{
        _cleanup_(berth_image_config_freep) berth_image_config *c =
                apply("ENV A=1 B=\"two words\" C='single $A' D=\\$A",
                      "ENV LEGACY a value with  spaces", "ENV E=${A}x F=$B G=${NOPE:-dflt}",
                      "ENV H=${A:+set} I=${NOPE:+set} A=replaced", NULL);

        (void)state;
        assert_strv(c->config.env, "A=replaced", "B=two words", "C=single $A", "D=$A",
                    "LEGACY=a value with  spaces", "E=1x", "F=two words", "G=dflt", "H=set",
                    "I=", NULL);
        apply_fails("ENV", "requires at least one argument");
        apply_fails("ENV ONLYKEY", "must have two arguments");
        apply_fails("ENV A=1 B", "key=value");
        apply_fails("ENV =x", "names can not be blank");
        apply_fails("ENV A=\"unterminated", "matching \"");
        apply_fails("ENV A=${B", "missing '}'");
}

static void test_label(void **state)
{
        _cleanup_(berth_image_config_freep) berth_image_config *c =
                apply("ENV V=1.2", "LABEL a=b \"c d\"=\"e f\" version=$V", "LABEL legacy the value",
                      "LABEL a=again", NULL);

        (void)state;
        assert_string_equal(label(c, "a"), "again");
        assert_string_equal(label(c, "c d"), "e f");
        assert_string_equal(label(c, "version"), "1.2");
        assert_string_equal(label(c, "legacy"), "the value");
}

static void test_expose(void **state)
{
        _cleanup_(berth_image_config_freep) berth_image_config *c =
                apply("ENV P=8080", "EXPOSE 80 53/UDP 7000-7002/tcp $P 80/tcp 9/sctp", NULL);

        (void)state;
        assert_strv(c->config.exposed_ports, "80/tcp", "53/udp", "7000/tcp", "7001/tcp", "7002/tcp",
                    "8080/tcp", "9/sctp", NULL);
        apply_fails("EXPOSE 65536", "invalid port");
        apply_fails("EXPOSE 80/icmp", "invalid proto");
        apply_fails("EXPOSE 90-80", "invalid range");
        apply_fails("EXPOSE http", "invalid port");
        apply_fails("EXPOSE", "requires at least one argument");
}

static void test_volume_workdir_user(void **state)
{
        _cleanup_(berth_image_config_freep) berth_image_config *c =
                apply("VOLUME [\"/a\", \"/b\"]", "VOLUME /c /a", "WORKDIR /srv",
                      "WORKDIR app/../web", "WORKDIR ./x//", "ENV U=daemon", "USER $U:1", NULL);

        (void)state;
        assert_strv(c->config.volumes, "/a", "/b", "/c", NULL);
        assert_string_equal(c->config.working_dir, "/srv/web/x");
        assert_string_equal(c->config.user, "daemon:1");
        apply_fails("VOLUME [\"\"]", "can not be an empty string");
        apply_fails("USER", "requires exactly one argument");
        apply_fails("WORKDIR", "requires exactly one argument");
}

static void test_stopsignal_onbuild(void **state)
{
        _cleanup_(berth_image_config_freep) berth_image_config *c =
                apply("STOPSIGNAL SIGRTMIN+3", "STOPSIGNAL 9", "ONBUILD run make",
                      "ONBUILD COPY . /src", NULL);

        (void)state;
        assert_string_equal(c->config.stop_signal, "9");
        assert_strv(c->config.on_build, "RUN make", "COPY . /src", NULL);
        _cleanup_(berth_image_config_freep) berth_image_config *d = apply("STOPSIGNAL term", NULL);
        assert_string_equal(d->config.stop_signal, "term");
        apply_fails("STOPSIGNAL SIGNOPE", "invalid signal");
        apply_fails("STOPSIGNAL 0", "invalid signal");
        apply_fails("ONBUILD ONBUILD RUN x", "isn't allowed");
        apply_fails("ONBUILD FROM x", "isn't allowed as an ONBUILD trigger");
}

static void test_unknown(void **state)
{
        (void)state;
        apply_fails("FROM busybox", "FROM is not a valid change command");
        apply_fails("RUN make", "RUN is not a valid change command");
        apply_fails("   ", "empty instruction");
        /* The message names the whole instruction. */
        apply_fails("COPY a b", "change `COPY a b`");
}

/* Survives ASan: what a config gets is freed by berth_image_config_free. */
static void test_serialise(void **state)
{
        _cleanup_(berth_image_config_freep) berth_image_config *c =
                apply("CMD [\"sh\"]", "ENV A=1", "EXPOSE 80", "LABEL k=v", "VOLUME /v", NULL);
        _cleanup_free_ char *json = NULL;

        (void)state;
        json = berth_image_config_to_json(c);
        assert_non_null(json);
        assert_non_null(strstr(json,
                               "\"config\":{\"ExposedPorts\":{\"80/tcp\":{}},\"Env\":[\"A=1\"],"
                               "\"Cmd\":[\"sh\"],\"Volumes\":{\"/v\":{}},\"Labels\":{\"k\":"
                               "\"v\"}}"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cmd_forms),
                cmocka_unit_test(test_entrypoint_resets_cmd),
                cmocka_unit_test(test_env),
                cmocka_unit_test(test_label),
                cmocka_unit_test(test_expose),
                cmocka_unit_test(test_volume_workdir_user),
                cmocka_unit_test(test_stopsignal_onbuild),
                cmocka_unit_test(test_unknown),
                cmocka_unit_test(test_serialise),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
