/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The spec builder: docker's rules for args, env, user, mounts, resources, as config.json shows
 * them. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "basic/cleanup.h"
#include "basic/fs.h"
#include "basic/json.h"
#include "basic/strv.h"
#include "engine/spec.h"

static char tmpdir[] = "/tmp/test-spec.XXXXXX";
static char rootfs[512], evil_rootfs[512], relative_rootfs[512], host_passwd[512];

static void write_file(const char *path, const char *data)
{
        FILE *f = fopen(path, "we");

        assert_non_null(f);
        fputs(data, f);
        fclose(f);
}

static void make_rootfs(const char *root)
{
        char p[600];

        assert_int_equal(mkdir(root, 0755), 0);
        snprintf(p, sizeof(p), "%s/etc", root);
        assert_int_equal(mkdir(p, 0755), 0);
}

static int setup(void **state)
{
        char p[600];

        assert_non_null(mkdtemp(tmpdir));
        snprintf(rootfs, sizeof(rootfs), "%s/rootfs", tmpdir);
        make_rootfs(rootfs);
        snprintf(p, sizeof(p), "%s/etc/passwd", rootfs);
        write_file(p, "root:x:0:0:root:/root:/bin/sh\n"
                      "# a comment\n"
                      "broken line\n"
                      "alice:x:1000:1000:Alice:/home/alice:/bin/sh\n"
                      "bob:x:1001:1001::/home/bob:/bin/sh\n"
                      "nobody:x:65534:65534:nobody:/:/bin/false\n");
        snprintf(p, sizeof(p), "%s/etc/group", rootfs);
        write_file(p, "root:x:0:\n"
                      "wheel:x:10:root\n"
                      "staff:x:50:bob,alice\n"
                      "alice:x:1000:\n"
                      "bob:x:1001:\n"
                      "nogroup:x:65534:\n");

        /* A host file the container must never see through a symlink. */
        snprintf(host_passwd, sizeof(host_passwd), "%s/host-passwd", tmpdir);
        write_file(host_passwd, "hostonly:x:777:777::/:/bin/sh\n");
        snprintf(evil_rootfs, sizeof(evil_rootfs), "%s/evil", tmpdir);
        make_rootfs(evil_rootfs);
        snprintf(p, sizeof(p), "%s/etc/passwd", evil_rootfs);
        assert_int_equal(symlink(host_passwd, p), 0);
        snprintf(p, sizeof(p), "%s/etc/group", evil_rootfs);
        assert_int_equal(symlink(host_passwd, p), 0);
        snprintf(relative_rootfs, sizeof(relative_rootfs), "%s/relative", tmpdir);
        make_rootfs(relative_rootfs);
        snprintf(p, sizeof(p), "%s/etc/passwd", relative_rootfs);
        assert_int_equal(symlink("../../../../../../../../host-passwd", p), 0);
        *state = NULL;
        return 0;
}

static int teardown(void **state)
{
        berth_error err = BERTH_ERROR_INIT;

        berth_rm_rf_at(AT_FDCWD, tmpdir, &err);
        berth_error_release(&err);
        return 0;
}

static berth_image_config *image(const char *config)
{
        berth_error err = BERTH_ERROR_INIT;
        berth_image_config *c = NULL;
        _cleanup_free_ char *doc = NULL;

        assert_true(asprintf(&doc,
                             "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":%s,"
                             "\"rootfs\":{\"type\":\"layers\"}}",
                             config) > 0);
        if (berth_image_config_parse(doc, strlen(doc), "config", &c, &err) < 0)
                fail_msg("image config: %s", berth_error_msg(&err));
        return c;
}

/* The value at a path like "process.user.uid" or "mounts[2].destination". */
static json_object *at(json_object *o, const char *path)
{
        _cleanup_free_ char *copy = strdup(path);
        char *tok = copy;

        while (o && tok) {
                char *dot = strchr(tok, '.'), *br;
                if (dot)
                        *dot = '\0';
                br = strchr(tok, '[');
                if (br)
                        *br = '\0';
                if (*tok && !json_object_object_get_ex(o, tok, &o))
                        return NULL;
                if (br)
                        o = json_object_array_get_idx(o, strtoul(br + 1, NULL, 10));
                tok = dot ? dot + 1 : NULL;
        }
        return o;
}

static const char *str_at(json_object *o, const char *path)
{
        json_object *v = at(o, path);

        if (!v)
                fail_msg("no %s in %s", path, json_object_to_json_string(o));
        return json_object_get_string(v);
}

static int64_t int_at(json_object *o, const char *path)
{
        json_object *v = at(o, path);

        if (!v)
                fail_msg("no %s", path);
        return json_object_get_int64(v);
}

/* An array of strings as one "a b c" string for compact comparisons. */
static char *joined(json_object *o, const char *path)
{
        json_object *a = at(o, path);
        char *s = strdup("");

        if (!a)
                return s;
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                char *n = NULL;
                json_object *e = json_object_array_get_idx(a, i);
                assert_true(asprintf(&n, "%s%s%s", s, i ? " " : "",
                                     json_object_is_type(e, json_type_string)
                                             ? json_object_get_string(e)
                                             : json_object_to_json_string(e)) > 0);
                free(s);
                s = n;
        }
        return s;
}

#define assert_joined(o, path, want)                                                               \
        do {                                                                                       \
                _cleanup_free_ char *j_ = joined((o), (path));                                     \
                assert_string_equal(j_, (want));                                                   \
        } while (0)

static json_object *build_in(const char *root, const berth_image_config *img,
                             const berth_run_options *o)
{
        berth_error err = BERTH_ERROR_INIT;
        json_object *spec = NULL;

        if (berth_spec_build(img, o, root, -1, &spec, &err) < 0)
                fail_msg("spec build: %s", berth_error_msg(&err));
        return spec;
}

static json_object *build(const berth_image_config *img, const berth_run_options *o)
{
        return build_in(rootfs, img, o);
}

static void assert_build_fails(const char *root, const berth_image_config *img,
                               const berth_run_options *o, const char *msg)
{
        berth_error err = BERTH_ERROR_INIT;
        json_object *spec = NULL;

        assert_int_equal(berth_spec_build(img, o, root, -1, &spec, &err), -EINVAL);
        assert_null(spec);
        assert_string_equal(berth_error_msg(&err), msg);
        berth_error_release(&err);
}

static char **strv(const char *a, const char *b)
{
        char **v = NULL;

        if (a)
                assert_int_equal(berth_strv_push(&v, a), 0);
        if (b)
                assert_int_equal(berth_strv_push(&v, b), 0);
        return v;
}

/* docker's table: image ENTRYPOINT and CMD, --entrypoint, arguments after the image. */
static void test_args(void **state)
{
        _cleanup_(berth_image_config_freep) berth_image_config *both =
                image("{\"Entrypoint\":[\"/ep\",\"-x\"],\"Cmd\":[\"c1\",\"c2\"]}");
        _cleanup_(berth_image_config_freep) berth_image_config *cmd_only =
                image("{\"Cmd\":[\"sh\"]}");
        _cleanup_(berth_image_config_freep) berth_image_config *ep_only =
                image("{\"Entrypoint\":[\"/ep\"]}");
        _cleanup_(berth_image_config_freep) berth_image_config *none = image("null");
        static const struct {
                int img; /* 0 both, 1 cmd only, 2 ep only, 3 none, 4 no image config */
                const char *entrypoint; /* NULL: not given; "" clears */
                const char *arg;        /* one argument after the image, or NULL */
                const char *want;       /* NULL: "no command specified" */
        } table[] = {
                { 0, NULL, NULL, "/ep -x c1 c2" },
                { 0, NULL, "a", "/ep -x a" },
                { 0, "/other", NULL, "/other" },
                { 0, "/other", "a", "/other a" },
                { 0, "", NULL, NULL },
                { 0, "", "a", "a" },
                { 1, NULL, NULL, "sh" },
                { 1, NULL, "echo", "echo" },
                { 1, "/e", NULL, "/e" },
                { 1, "", NULL, NULL },
                { 2, NULL, NULL, "/ep" },
                { 2, NULL, "a", "/ep a" },
                { 3, NULL, NULL, NULL },
                { 3, NULL, "true", "true" },
                { 4, NULL, NULL, NULL },
                { 4, NULL, "true", "true" },
        };
        const berth_image_config *imgs[] = { both, cmd_only, ep_only, none, NULL };

        for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
                _cleanup_(berth_run_options_release) berth_run_options o;
                berth_error err = BERTH_ERROR_INIT;

                berth_run_options_init(&o);
                if (table[i].entrypoint)
                        assert_int_equal(berth_parse_entrypoint(&o, table[i].entrypoint, &err), 0);
                if (table[i].arg)
                        o.cmd = strv(table[i].arg, NULL);
                if (!table[i].want) {
                        assert_build_fails(rootfs, imgs[table[i].img], &o, "no command specified");
                } else {
                        _cleanup_json_ json_object *s = build(imgs[table[i].img], &o);
                        _cleanup_free_ char *got = joined(s, "process.args");
                        if (strcmp(got, table[i].want) != 0)
                                fail_msg("row %zu: args `%s`, want `%s`", i, got, table[i].want);
                }
        }
}

static void test_env_and_cwd(void **state)
{
        _cleanup_(berth_image_config_freep) berth_image_config *img =
                image("{\"Env\":[\"PATH=/img/bin\",\"A=1\",\"KEEP=k\"],\"Cmd\":[\"sh\"],"
                      "\"WorkingDir\":\"/srv\"}");
        _cleanup_(berth_image_config_freep) berth_image_config *bare = image("{\"Cmd\":[\"sh\"]}");
        _cleanup_(berth_run_options_release) berth_run_options o;
        berth_error err = BERTH_ERROR_INIT;

        berth_run_options_init(&o);
        o.id = strdup("0123456789abcdef0123456789abcdef");
        assert_int_equal(berth_parse_env(&o, "A=2", &err), 0);
        assert_int_equal(berth_parse_env(&o, "B=3", &err), 0);
        {
                _cleanup_json_ json_object *s = build(img, &o);
                /* Defaults first, the image's in place (PATH replaced), then -e. */
                assert_joined(s, "process.env",
                              "PATH=/img/bin HOSTNAME=0123456789ab A=2 KEEP=k B=3");
                assert_string_equal(str_at(s, "process.cwd"), "/srv");
                assert_false(json_object_get_boolean(at(s, "process.terminal")));
        }
        o.tty = true;
        o.workdir = strdup("/work");
        {
                _cleanup_json_ json_object *s = build(bare, &o);
                assert_joined(s, "process.env",
                              "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "
                              "HOSTNAME=0123456789ab TERM=xterm A=2 B=3");
                assert_string_equal(str_at(s, "process.cwd"), "/work");
                assert_true(json_object_get_boolean(at(s, "process.terminal")));
        }
        free(o.workdir);
        o.workdir = NULL;
        {
                _cleanup_json_ json_object *s = build(bare, &o);
                assert_string_equal(str_at(s, "process.cwd"), "/");
        }
        o.workdir = strdup("relative");
        assert_build_fails(rootfs, bare, &o,
                           "the working directory 'relative' is invalid, it needs to be an "
                           "absolute path");
}

static void check_user(const char *root, const char *image_user, const char *user, int64_t uid,
                       int64_t gid, const char *sgids)
{
        _cleanup_(berth_image_config_freep) berth_image_config *img = NULL;
        _cleanup_(berth_run_options_release) berth_run_options o;
        _cleanup_json_ json_object *s = NULL;
        _cleanup_free_ char *cfg = NULL;

        assert_true(asprintf(&cfg, "{\"Cmd\":[\"id\"],\"User\":\"%s\"}", image_user) > 0);
        img = image(cfg);
        berth_run_options_init(&o);
        if (user)
                o.user = strdup(user);
        s = build_in(root, img, &o);
        if (int_at(s, "process.user.uid") != uid || int_at(s, "process.user.gid") != gid)
                fail_msg("-u %s: got %s", user, json_object_to_json_string(at(s, "process.user")));
        assert_joined(s, "process.user.additionalGids", sgids);
}

static void test_user(void **state)
{
        _cleanup_(berth_image_config_freep) berth_image_config *img = image("{\"Cmd\":[\"id\"]}");
        _cleanup_(berth_run_options_release) berth_run_options o;

        /* root by default; the primary group, then /etc/group memberships (root is in wheel). */
        check_user(rootfs, "", NULL, 0, 0, "0 10");
        check_user(rootfs, "", "alice", 1000, 1000, "1000 50");
        check_user(rootfs, "", "1000", 1000, 1000, "1000 50");
        check_user(rootfs, "", "bob", 1001, 1001, "1001 50");
        check_user(rootfs, "", "alice:staff", 1000, 50, "50");
        check_user(rootfs, "", "alice:1001", 1000, 1001, "1001");
        check_user(rootfs, "", "1000:1000", 1000, 1000, "1000");
        check_user(rootfs, "", "nobody", 65534, 65534, "65534");
        /* A numeric uid without an entry is fine: gid 0, as docker does. */
        check_user(rootfs, "", "4242", 4242, 0, "0");
        check_user(rootfs, "", "4242:4343", 4242, 4343, "4343");
        check_user(rootfs, "", "2147483647", 2147483647, 0, "0");
        /* The image's User applies without -u, and -u wins over it. */
        check_user(rootfs, "bob", NULL, 1001, 1001, "1001 50");
        check_user(rootfs, "bob", "alice", 1000, 1000, "1000 50");

        berth_run_options_init(&o);
        o.user = strdup("ghost");
        assert_build_fails(rootfs, img, &o,
                           "unable to find user ghost: no matching entries in passwd file");
        free(o.user);
        o.user = strdup("2147483648");
        assert_build_fails(rootfs, img, &o, "uids and gids must be in range 0-2147483647");
        free(o.user);
        o.user = strdup("1:99999999999");
        assert_build_fails(rootfs, img, &o, "uids and gids must be in range 0-2147483647");
        free(o.user);
        o.user = strdup("alice:ghosts");
        assert_build_fails(rootfs, img, &o,
                           "unable to find group ghosts: no matching entries in group file");
        free(o.user);

        /*
         * /etc/passwd a symlink to a host file (absolute or climbing with ..):
         * resolved inside the root, where it leads nowhere, so the container
         * has no passwd entries. The host's "hostonly" user must not appear.
         */
        o.user = strdup("hostonly");
        assert_build_fails(evil_rootfs, img, &o,
                           "unable to find user hostonly: no matching entries in passwd file");
        assert_build_fails(relative_rootfs, img, &o,
                           "unable to find user hostonly: no matching entries in passwd file");
        check_user(evil_rootfs, "", "777", 777, 0, "0");
        check_user(relative_rootfs, "", "777", 777, 0, "0");
}

static void test_user_evil_group(void **state)
{
        _cleanup_(berth_image_config_freep) berth_image_config *img = image("{\"Cmd\":[\"id\"]}");
        _cleanup_(berth_run_options_release) berth_run_options o;

        /* /etc/group a symlink to the host's file: its group "hostonly" is not found. */
        berth_run_options_init(&o);
        o.user = strdup("0:hostonly");
        assert_build_fails(evil_rootfs, img, &o,
                           "unable to find group hostonly: no matching entries in group file");
}

static void test_mounts(void **state)
{
        _cleanup_(berth_image_config_freep) berth_image_config *img = image("{\"Cmd\":[\"sh\"]}");
        _cleanup_(berth_run_options_release) berth_run_options o;
        _cleanup_json_ json_object *s = NULL;
        berth_error err = BERTH_ERROR_INIT;

        berth_run_options_init(&o);
        {
                _cleanup_json_ json_object *d = build(img, &o);
                json_object *m = at(d, "mounts");
                static const char *const dests[] = { "/proc",   "/dev",           "/dev/pts",
                                                     "/sys",    "/sys/fs/cgroup", "/dev/mqueue",
                                                     "/dev/shm" };
                assert_int_equal(json_object_array_length(m), ARRAY_SIZE(dests));
                for (size_t i = 0; i < ARRAY_SIZE(dests); i++) {
                        char p[64];
                        snprintf(p, sizeof(p), "mounts[%zu].destination", i);
                        assert_string_equal(str_at(d, p), dests[i]);
                }
                assert_joined(d, "mounts[6].options", "nosuid noexec nodev mode=1777 size=65536k");
                assert_joined(d, "mounts[3].options", "nosuid noexec nodev ro");
        }
        /* Given order, but a parent before its children (docker sorts by depth). */
        assert_int_equal(berth_parse_volume(&o, "/h/deep:/a/b/c:ro", &err), 0);
        assert_int_equal(berth_parse_tmpfs(&o, "/run:size=1m,exec", &err), 0);
        assert_int_equal(
                berth_parse_mount(&o, "type=bind,src=/h/a,dst=/a,bind-propagation=rshared", &err),
                0);
        assert_int_equal(berth_parse_volume(&o, "named:/data", &err), 0);
        o.mounts[3].host_path = strdup("/var/lib/berth/volumes/named/_data");
        assert_int_equal(berth_parse_shm_size("128m", &o.shm_size, &err), 0);
        s = build(img, &o);
        assert_int_equal(json_object_array_length(at(s, "mounts")), 11);
        assert_string_equal(str_at(s, "mounts[6].options[4]"), "size=131072k");
        assert_string_equal(str_at(s, "mounts[7].destination"), "/run");
        assert_string_equal(str_at(s, "mounts[7].type"), "tmpfs");
        assert_joined(s, "mounts[7].options", "rw noexec nosuid nodev size=1048576 exec");
        assert_string_equal(str_at(s, "mounts[8].destination"), "/a");
        assert_joined(s, "mounts[8].options", "rbind rshared");
        assert_string_equal(str_at(s, "mounts[9].destination"), "/data");
        assert_string_equal(str_at(s, "mounts[9].source"), "/var/lib/berth/volumes/named/_data");
        assert_joined(s, "mounts[9].options", "rbind rprivate");
        assert_string_equal(str_at(s, "mounts[10].destination"), "/a/b/c");
        assert_string_equal(str_at(s, "mounts[10].type"), "bind");
        assert_string_equal(str_at(s, "mounts[10].source"), "/h/deep");
        assert_joined(s, "mounts[10].options", "rbind ro rprivate");

        /* A user's mount replaces docker's default at the same place. */
        assert_int_equal(berth_parse_tmpfs(&o, "/dev/shm:size=1m", &err), 0);
        {
                _cleanup_json_ json_object *d = build(img, &o);
                assert_int_equal(json_object_array_length(at(d, "mounts")), 11);
                assert_string_equal(str_at(d, "mounts[6].destination"), "/run");
        }
        assert_int_equal(berth_parse_volume(&o, "/x:/run", &err), 0);
        assert_build_fails(rootfs, img, &o, "Duplicate mount point: /run");
        berth_mount_spec_release(&o.mounts[--o.n_mounts]);
        free(o.mounts[3].host_path);
        o.mounts[3].host_path = NULL;
        assert_build_fails(rootfs, img, &o,
                           "volume named at /data has no host directory (the engine resolves "
                           "volumes before building the spec)");
}

static void test_resources_and_limits(void **state)
{
        _cleanup_(berth_image_config_freep) berth_image_config *img = image("{\"Cmd\":[\"sh\"]}");
        _cleanup_(berth_run_options_release) berth_run_options o;
        _cleanup_json_ json_object *s = NULL;
        berth_error err = BERTH_ERROR_INIT;

        berth_run_options_init(&o);
        {
                _cleanup_json_ json_object *d = build(img, &o);
                assert_null(at(d, "linux.resources.memory"));
                assert_null(at(d, "linux.resources.cpu"));
                assert_null(at(d, "process.rlimits"));
                assert_false(json_object_get_boolean(at(d, "linux.resources.devices[0].allow")));
        }
        assert_int_equal(berth_parse_memory("512m", &o.memory, &err), 0);
        o.nano_cpus = 1500000000; /* --cpus 1.5 (the parser checks the machine's CPU count) */
        assert_int_equal(berth_parse_int64_flag("--pids-limit", "100", &o.pids_limit, &err), 0);
        assert_int_equal(berth_parse_int64_flag("--cpu-shares", "512", &o.cpu_shares, &err), 0);
        assert_int_equal(berth_parse_cpuset("--cpuset-cpus", "0", &o.cpuset_cpus, &err), 0);
        assert_int_equal(berth_parse_ulimit(&o, "nofile=1024:2048", &err), 0);
        assert_int_equal(berth_parse_ulimit(&o, "core=-1", &err), 0);
        assert_int_equal(berth_parse_sysctl(&o, "net.ipv4.ip_forward=1", &err), 0);
        s = build(img, &o);
        assert_int_equal(int_at(s, "linux.resources.memory.limit"), 536870912);
        assert_int_equal(int_at(s, "linux.resources.memory.swap"), 1073741824);
        assert_int_equal(int_at(s, "linux.resources.cpu.quota"), 150000);
        assert_int_equal(int_at(s, "linux.resources.cpu.period"), 100000);
        assert_int_equal(int_at(s, "linux.resources.cpu.shares"), 512);
        assert_string_equal(str_at(s, "linux.resources.cpu.cpus"), "0");
        assert_int_equal(int_at(s, "linux.resources.pids.limit"), 100);
        assert_string_equal(str_at(s, "process.rlimits[0].type"), "RLIMIT_NOFILE");
        assert_int_equal(int_at(s, "process.rlimits[0].soft"), 1024);
        assert_int_equal(int_at(s, "process.rlimits[0].hard"), 2048);
        assert_string_equal(str_at(s, "process.rlimits[1].type"), "RLIMIT_CORE");
        assert_true(json_object_get_uint64(at(s, "process.rlimits[1].hard")) == UINT64_MAX);
        {
                json_object *v = NULL;
                assert_true(json_object_object_get_ex(at(s, "linux.sysctl"), "net.ipv4.ip_forward",
                                                      &v));
                assert_string_equal(json_object_get_string(v), "1");
        }

        o.memory_swap = -1;
        {
                _cleanup_json_ json_object *d = build(img, &o);
                assert_int_equal(int_at(d, "linux.resources.memory.swap"), -1);
        }
        o.memory_swap = 100 << 20;
        assert_build_fails(rootfs, img, &o,
                           "Minimum memoryswap limit should be larger than memory limit, see "
                           "usage");
        o.memory = 0;
        assert_build_fails(rootfs, img, &o,
                           "You should always set the Memory limit when using Memoryswap limit, "
                           "see usage");
}

static void test_root_hostname_namespaces(void **state)
{
        _cleanup_(berth_image_config_freep) berth_image_config *img = image("{\"Cmd\":[\"sh\"]}");
        _cleanup_(berth_run_options_release) berth_run_options o;

        berth_run_options_init(&o);
        o.id = strdup("fedcba9876543210fedcba9876543210");
        o.cgroupns = BERTH_CGROUPNS_HOST;
        {
                _cleanup_json_ json_object *s = build(img, &o);
                json_object_iter it;
                const char *keys[8];
                size_t n = 0;
                /* Keys in a stable order, as docker writes them. */
                json_object_object_foreachC(s, it) keys[n++] = it.key;
                assert_int_equal(n, 6);
                assert_string_equal(keys[0], "ociVersion");
                assert_string_equal(keys[1], "process");
                assert_string_equal(keys[2], "root");
                assert_string_equal(keys[3], "hostname");
                assert_string_equal(keys[4], "mounts");
                assert_string_equal(keys[5], "linux");
                assert_string_equal(str_at(s, "ociVersion"), "1.2.0");
                assert_string_equal(str_at(s, "hostname"), "fedcba987654");
                assert_string_equal(str_at(s, "root.path"), rootfs);
                assert_false(json_object_get_boolean(at(s, "root.readonly")));
                assert_joined(s, "linux.namespaces",
                              "{ \"type\": \"mount\" } { \"type\": \"network\" } { \"type\": "
                              "\"uts\" } { \"type\": \"pid\" } { \"type\": \"ipc\" }");
                assert_null(at(s, "linux.cgroupsPath"));
        }
        o.hostname = strdup("web");
        o.read_only = true;
        o.cgroupns = BERTH_CGROUPNS_PRIVATE;
        o.netns_path = strdup("/run/netns/x");
        o.cgroups_path = strdup("/berth/abc");
        {
                _cleanup_json_ json_object *s = build(img, &o);
                assert_string_equal(str_at(s, "hostname"), "web");
                assert_true(json_object_get_boolean(at(s, "root.readonly")));
                assert_string_equal(str_at(s, "process.env[1]"), "HOSTNAME=web");
                assert_string_equal(str_at(s, "linux.namespaces[1].path"), "/run/netns/x");
                assert_string_equal(str_at(s, "linux.namespaces[5].type"), "cgroup");
                assert_string_equal(str_at(s, "linux.cgroupsPath"), "/berth/abc");
        }
        o.network_host = true;
        {
                _cleanup_json_ json_object *s = build(img, &o);
                assert_string_equal(str_at(s, "linux.namespaces[1].type"), "uts");
        }
        {
                berth_error err = BERTH_ERROR_INIT;
                assert_int_equal(berth_parse_sysctl(&o, "net.ipv4.ip_forward=1", &err), 0);
        }
        assert_build_fails(rootfs, img, &o,
                           "sysctl 'net.ipv4.ip_forward=1' not allowed in host network namespace");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_args),
                cmocka_unit_test(test_env_and_cwd),
                cmocka_unit_test(test_user),
                cmocka_unit_test(test_user_evil_group),
                cmocka_unit_test(test_mounts),
                cmocka_unit_test(test_resources_and_limits),
                cmocka_unit_test(test_root_hostname_namespaces),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
