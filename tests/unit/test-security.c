/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <sched.h>
#include <seccomp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "basic/json.h"
#include "basic/strv.h"
#include "engine/security.h"
#include "runtime/config.h"

#define BIT(c) (UINT64_C(1) << (c))

/* Docker's default CapEff as `docker run busybox grep CapEff /proc/self/status` shows it. */
#define DOCKER_DEFAULT_CAPS UINT64_C(0x00000000a80425fb)

#define REFERENCE_PROFILE "/usr/share/containers/seccomp.json"

static const berth_seccomp_host host_x86 = { "x86_64", 6, 1 };

static json_object *apply_ok(const berth_security_options *o)
{
        berth_error err = BERTH_ERROR_INIT;
        json_object *config = json_object_new_object();

        if (berth_security_apply(config, o, &err) < 0)
                fail_msg("apply: %s", err.msg);
        return config;
}

static char *apply_err(const berth_security_options *o)
{
        _cleanup_json_ json_object *config = json_object_new_object();
        berth_error err = BERTH_ERROR_INIT;

        assert_true(berth_security_apply(config, o, &err) < 0);
        assert_non_null(err.msg);
        return err.msg;
}

static json_object *at(json_object *o, const char *a, const char *b)
{
        json_object *x = NULL, *y = NULL;

        if (!json_object_object_get_ex(o, a, &x))
                return NULL;
        if (!b)
                return x;
        return json_object_object_get_ex(x, b, &y) ? y : NULL;
}

static bool array_has(json_object *a, const char *s)
{
        for (size_t i = 0; a && i < json_object_array_length(a); i++)
                if (strcmp(json_object_get_string(json_object_array_get_idx(a, i)), s) == 0)
                        return true;
        return false;
}

static uint64_t caps_of(json_object *config, const char *set)
{
        json_object *a = at(at(config, "process", "capabilities"), set, NULL);
        uint64_t m = 0;

        assert_non_null(a);
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                const char *name = json_object_get_string(json_object_array_get_idx(a, i));
                int c = berth_capability_from_string(name);

                assert_true(c >= 0);
                m |= BIT(c);
        }
        return m;
}

static void test_default_caps(void **state)
{
        berth_security_options o = { 0 };
        _cleanup_json_ json_object *config = apply_ok(&o);

        assert_int_equal(berth_security_default_caps(), DOCKER_DEFAULT_CAPS);
        assert_int_equal(caps_of(config, "bounding"), DOCKER_DEFAULT_CAPS);
        assert_int_equal(caps_of(config, "effective"), DOCKER_DEFAULT_CAPS);
        assert_int_equal(caps_of(config, "permitted"), DOCKER_DEFAULT_CAPS);
        assert_int_equal(caps_of(config, "inheritable"), 0);
        assert_int_equal(caps_of(config, "ambient"), 0);
        assert_false(json_object_get_boolean(at(config, "process", "noNewPrivileges")));
        assert_null(at(config, "process", "apparmorProfile"));
}

/* CapBnd of this process, from /proc/self/status: what "ALL" can give. */
static uint64_t host_bounding_set(void)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        uint64_t m = 0;
        char *p;

        assert_int_equal(
                berth_read_file_at(AT_FDCWD, "/proc/self/status", 1u << 16, &buf, &len, NULL), 0);
        p = strstr(buf, "\nCapBnd:\t");
        assert_non_null(p);
        p += strlen("\nCapBnd:\t");
        for (; (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'); p++)
                m = m << 4 | (uint64_t)(*p <= '9' ? *p - '0' : *p - 'a' + 10);
        assert_int_equal(m >> (berth_security_last_cap() + 1), 0);
        return m;
}

static uint64_t caps_for(char **add, char **drop)
{
        berth_security_options o = { .cap_add = add, .cap_drop = drop };
        berth_error err = BERTH_ERROR_INIT;
        uint64_t m = 0;

        if (berth_security_caps(&o, &m, &err) < 0)
                fail_msg("caps: %s", err.msg);
        return m;
}

static void test_cap_add_drop(void **state)
{
        uint64_t all = host_bounding_set();

        /* With or without CAP_, any case. */
        assert_int_equal(caps_for((char *[]){ "sys_admin", "CAP_NET_ADMIN", NULL },
                                  (char *[]){ "MKNOD", NULL }),
                         (DOCKER_DEFAULT_CAPS | BIT(CAP_SYS_ADMIN) | BIT(CAP_NET_ADMIN)) &
                                 ~BIT(CAP_MKNOD));
        /* --cap-drop ALL keeps only what is added. */
        assert_int_equal(caps_for((char *[]){ "CHOWN", NULL }, (char *[]){ "ALL", NULL }),
                         BIT(CAP_CHOWN));
        assert_int_equal(caps_for(NULL, (char *[]){ "all", NULL }), 0);
        /* --cap-add ALL gives every capability but the dropped ones. */
        assert_int_equal(caps_for((char *[]){ "ALL", NULL }, (char *[]){ "NET_RAW", NULL }),
                         all & ~BIT(CAP_NET_RAW));
        /* A capability both dropped and added is kept, as in Docker. */
        assert_int_equal(caps_for((char *[]){ "KILL", NULL }, (char *[]){ "KILL", NULL }),
                         DOCKER_DEFAULT_CAPS);
}

static void test_cap_bad_names(void **state)
{
        berth_security_options o = { .cap_add = (char *[]){ "CAP_FOO", NULL } };
        _cleanup_free_ char *m1 = apply_err(&o), *m2 = NULL;

        assert_string_equal(m1, "--cap-add CAP_FOO: unknown capability");
        o.cap_add = NULL;
        o.cap_drop = (char *[]){ "CHOWN", "", NULL };
        m2 = apply_err(&o);
        assert_string_equal(m2, "--cap-drop : unknown capability");
}

static void test_privileged(void **state)
{
        berth_security_options o = { .privileged = true, .cap_drop = (char *[]){ "CHOWN", NULL } };
        _cleanup_json_ json_object *config = apply_ok(&o);
        uint64_t all = host_bounding_set();

        /* Every capability berth can give; --cap-drop does not apply, as in Docker. */
        assert_int_equal(caps_of(config, "effective"), all);
        assert_int_equal(caps_of(config, "bounding"), all);
        assert_null(at(config, "linux", "seccomp"));
        assert_int_equal(json_object_array_length(at(config, "linux", "maskedPaths")), 0);
        assert_int_equal(json_object_array_length(at(config, "linux", "readonlyPaths")), 0);
}

static void test_masked_paths_and_nnp(void **state)
{
        berth_security_options o = { .no_new_privileges = true, .apparmor = "unconfined" };
        _cleanup_json_ json_object *config = json_object_new_object();
        berth_error err = BERTH_ERROR_INIT;
        json_object *masked, *ro;

        /* What the spec builder wrote there before is replaced. */
        json_object_object_add(config, "process", json_object_new_object());
        json_object_object_add(at(config, "process", NULL), "apparmorProfile",
                               json_object_new_string("stale"));
        assert_int_equal(berth_security_apply(config, &o, &err), 0);
        assert_true(json_object_get_boolean(at(config, "process", "noNewPrivileges")));
        assert_null(at(config, "process", "apparmorProfile"));
        masked = at(config, "linux", "maskedPaths");
        ro = at(config, "linux", "readonlyPaths");
        for (const char *const *p =
                     (const char *const[]){ "/proc/kcore", "/proc/keys", "/proc/timer_list",
                                            "/proc/sched_debug", "/proc/acpi", "/proc/scsi",
                                            "/sys/firmware", NULL };
             *p; p++)
                assert_true(array_has(masked, *p));
        for (const char *const *p = (const char *const[]){ "/proc/sys", "/proc/sysrq-trigger",
                                                           "/proc/irq", "/proc/bus", NULL };
             *p; p++)
                assert_true(array_has(ro, *p));
        assert_false(array_has(masked, "/proc/sys"));
}

static void test_apparmor_rootless(void **state)
{
        berth_security_options o = { .apparmor = "p", .rootless = true };
        _cleanup_free_ char *m = apply_err(&o);
        _cleanup_json_ json_object *config = NULL;

        assert_string_equal(m,
                            "--security-opt apparmor=p: AppArmor profiles need a rootful engine");
        o.apparmor = NULL;
        config = apply_ok(&o);
        assert_int_equal(caps_of(config, "effective"), DOCKER_DEFAULT_CAPS);
}

static void test_apparmor(void **state)
{
        _cleanup_free_ char *buf = NULL;
        berth_security_options o = { .apparmor = "berth-test-profile" };
        size_t len = 0;
        bool enabled = berth_read_file_at(AT_FDCWD, "/sys/module/apparmor/parameters/enabled", 16,
                                          &buf, &len, NULL) == 0 &&
                       buf[0] == 'Y';

        if (enabled) {
                _cleanup_json_ json_object *config = apply_ok(&o);

                assert_string_equal(
                        json_object_get_string(at(config, "process", "apparmorProfile")),
                        "berth-test-profile");
        } else {
                _cleanup_free_ char *m = apply_err(&o);

                assert_string_equal(m, "--security-opt apparmor=berth-test-profile: AppArmor is "
                                       "not enabled on this host");
        }
}

/* ---- seccomp ------------------------------------------------------------------------- */

static json_object *profile(const char *data, size_t len, uint64_t caps,
                            const berth_seccomp_host *h)
{
        berth_error err = BERTH_ERROR_INIT;
        json_object *oci = NULL;

        if (berth_seccomp_profile_to_oci(data, len, "test", caps, h, &oci, &err) < 0)
                fail_msg("profile: %s", err.msg);
        return oci;
}

static json_object *default_profile(uint64_t caps, const berth_seccomp_host *h)
{
        return profile((const char *)berth_seccomp_default_profile,
                       berth_seccomp_default_profile_len, caps, h);
}

/* The entries of an OCI profile naming `name`. */
static size_t entries_for(json_object *oci, const char *name, json_object **ret, size_t max)
{
        json_object *sc = at(oci, "syscalls", NULL);
        size_t n = 0;

        for (size_t i = 0; i < json_object_array_length(sc); i++) {
                json_object *e = json_object_array_get_idx(sc, i);

                if (array_has(at(e, "names", NULL), name) && n < max)
                        ret[n++] = e;
        }
        return n;
}

/* Allowed at all (unconditionally or with argument conditions). */
static bool allows(json_object *oci, const char *name)
{
        json_object *e[16];
        size_t n = entries_for(oci, name, e, 16);

        for (size_t i = 0; i < n; i++)
                if (strcmp(json_object_get_string(at(e[i], "action", NULL)), "SCMP_ACT_ALLOW") == 0)
                        return true;
        return false;
}

static bool allows_unconditionally(json_object *oci, const char *name)
{
        json_object *e[16];
        size_t n = entries_for(oci, name, e, 16);

        for (size_t i = 0; i < n; i++)
                if (strcmp(json_object_get_string(at(e[i], "action", NULL)), "SCMP_ACT_ALLOW") ==
                            0 &&
                    !at(e[i], "args", NULL))
                        return true;
        return false;
}

static void test_default_profile_shape(void **state)
{
        _cleanup_json_ json_object *oci = default_profile(DOCKER_DEFAULT_CAPS, &host_x86);
        json_object *arches = at(oci, "architectures", NULL), *e[8], *arg;

        assert_string_equal(json_object_get_string(at(oci, "defaultAction", NULL)),
                            "SCMP_ACT_ERRNO");
        assert_int_equal(json_object_get_int(at(oci, "defaultErrnoRet", NULL)), EPERM);
        assert_int_equal(json_object_array_length(arches), 3);
        assert_true(array_has(arches, "SCMP_ARCH_X86_64"));
        assert_true(array_has(arches, "SCMP_ARCH_X86"));
        assert_true(array_has(arches, "SCMP_ARCH_X32"));

        /* Without CAP_SYS_ADMIN: no namespaces, no mounts. */
        for (const char *const *p =
                     (const char *const[]){ "mount", "umount2", "unshare", "setns", "pivot_root",
                                            "bpf", "keyctl", "add_key", "kexec_load", NULL };
             *p; p++)
                if (allows(oci, *p))
                        fail_msg("%s allowed with the default capabilities", *p);
        /* clone only without CLONE_NEW* flags... */
        assert_int_equal(entries_for(oci, "clone", e, 8), 1);
        arg = json_object_array_get_idx(at(e[0], "args", NULL), 0);
        assert_string_equal(json_object_get_string(at(arg, "op", NULL)), "SCMP_CMP_MASKED_EQ");
        assert_int_equal(json_object_get_int64(at(arg, "value", NULL)),
                         CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |
                                 CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET);
        assert_int_equal(json_object_get_int64(at(arg, "valueTwo", NULL)), 0);
        /* ...and clone3, whose flags seccomp cannot see, says ENOSYS so libc falls back. */
        assert_int_equal(entries_for(oci, "clone3", e, 8), 1);
        assert_string_equal(json_object_get_string(at(e[0], "action", NULL)), "SCMP_ACT_ERRNO");
        assert_int_equal(json_object_get_int(at(e[0], "errnoRet", NULL)), ENOSYS);
        /* personality: the five safe values only. */
        assert_int_equal(entries_for(oci, "personality", e, 8), 5);
        assert_false(allows_unconditionally(oci, "personality"));
        /* chroot comes with CAP_SYS_CHROOT, in the default set. */
        assert_true(allows_unconditionally(oci, "chroot"));
        assert_true(allows_unconditionally(oci, "arch_prctl"));
        assert_true(allows_unconditionally(oci, "ptrace")); /* kernel 6.1 >= 4.8 */
}

static void test_caps_enable_syscalls(void **state)
{
        _cleanup_json_ json_object *admin =
                default_profile(DOCKER_DEFAULT_CAPS | BIT(CAP_SYS_ADMIN), &host_x86);
        _cleanup_json_ json_object *ptrace =
                default_profile(DOCKER_DEFAULT_CAPS | BIT(CAP_SYS_PTRACE), &host_x86);
        _cleanup_json_ json_object *no_chroot =
                default_profile(DOCKER_DEFAULT_CAPS & ~BIT(CAP_SYS_CHROOT), &host_x86);
        _cleanup_json_ json_object *time_ = default_profile(BIT(CAP_SYS_TIME), &host_x86);
        json_object *e[8];

        for (const char *const *p =
                     (const char *const[]){ "mount", "umount2", "unshare", "setns", "sethostname",
                                            "clone3", "fsopen", "bpf", "syslog", NULL };
             *p; p++)
                if (!allows_unconditionally(admin, *p))
                        fail_msg("%s not allowed with CAP_SYS_ADMIN", *p);
        /* clone is then unrestricted and clone3 no longer ENOSYS. */
        assert_int_equal(entries_for(admin, "clone", e, 8), 1);
        assert_null(at(e[0], "args", NULL));
        assert_int_equal(entries_for(admin, "clone3", e, 8), 1);

        for (const char *const *p =
                     (const char *const[]){ "ptrace", "process_vm_readv", "process_vm_writev",
                                            "kcmp", "pidfd_getfd", NULL };
             *p; p++)
                if (!allows_unconditionally(ptrace, *p))
                        fail_msg("%s not allowed with CAP_SYS_PTRACE", *p);
        assert_false(allows(ptrace, "mount"));
        assert_false(allows(no_chroot, "chroot"));
        assert_true(allows(time_, "settimeofday"));
        assert_true(allows(time_, "clock_settime"));
}

static void test_arch_and_kernel_conditions(void **state)
{
        static const berth_seccomp_host old = { "x86_64", 4, 4 }, arm = { "aarch64", 6, 1 },
                                        s390 = { "s390x", 5, 10 }, other = { "sparc64", 6, 1 };
        _cleanup_json_ json_object *o_old = default_profile(DOCKER_DEFAULT_CAPS, &old);
        _cleanup_json_ json_object *o_arm = default_profile(DOCKER_DEFAULT_CAPS, &arm);
        _cleanup_json_ json_object *o_s390 = default_profile(DOCKER_DEFAULT_CAPS, &s390);
        _cleanup_json_ json_object *o_other = default_profile(DOCKER_DEFAULT_CAPS, &other);
        json_object *e[8];

        /* Before 4.8 a tracer could bypass seccomp. */
        assert_false(allows(o_old, "ptrace"));
        assert_true(allows(o_arm, "ptrace"));

        assert_true(array_has(at(o_arm, "architectures", NULL), "SCMP_ARCH_AARCH64"));
        assert_true(array_has(at(o_arm, "architectures", NULL), "SCMP_ARCH_ARM"));
        assert_false(allows(o_arm, "arch_prctl"));
        assert_true(allows(o_arm, "cacheflush"));
        assert_false(allows(o_s390, "cacheflush"));

        /* s390 passes clone's flags second. */
        assert_int_equal(entries_for(o_s390, "clone", e, 8), 1);
        assert_int_equal(
                json_object_get_int(
                        at(json_object_array_get_idx(at(e[0], "args", NULL), 0), "index", NULL)),
                1);
        /* A host the profile does not list: native architecture only. */
        assert_null(at(o_other, "architectures", NULL));
}

static void test_profile_data_names(void **state)
{
        _cleanup_json_ json_object *data = NULL;
        berth_error err = BERTH_ERROR_INIT;
        json_object *groups;
        size_t names = 0;

        assert_int_equal(berth_json_parse_object((const char *)berth_seccomp_default_profile,
                                                 berth_seccomp_default_profile_len,
                                                 "seccomp-default.json", &data, &err),
                         0);
        groups = at(data, "groups", NULL);
        assert_true(json_object_array_length(groups) > 20);
        for (size_t i = 0; i < json_object_array_length(groups); i++) {
                json_object *sc = at(json_object_array_get_idx(groups, i), "syscalls", NULL);

                assert_non_null(at(json_object_array_get_idx(groups, i), "why", NULL));
                for (size_t k = 0; k < json_object_array_length(sc); k++) {
                        const char *n = json_object_get_string(json_object_array_get_idx(sc, k));

                        names++;
                        if (seccomp_syscall_resolve_name(n) == __NR_SCMP_ERROR)
                                fail_msg("seccomp-default.json: `%s` is not a syscall libseccomp "
                                         "knows",
                                         n);
                }
        }
        assert_true(names > 300);
}

/* ---- comparison with Docker's profile ------------------------------------------------ */

/*
 * The syscalls the reference profile (Docker's format) allows for `caps` on
 * x86_64, evaluated here independently of the code under test.
 */
static char **reference_allowed(json_object *ref, uint64_t caps)
{
        json_object *sc = at(ref, "syscalls", NULL);
        char **v = NULL;

        for (size_t i = 0; i < json_object_array_length(sc); i++) {
                json_object *e = json_object_array_get_idx(sc, i), *names;
                json_object *ic = at(e, "includes", "caps"), *ia = at(e, "includes", "arches");
                json_object *ec = at(e, "excludes", "caps"), *ea = at(e, "excludes", "arches");
                bool ok = strcmp(json_object_get_string(at(e, "action", NULL)), "SCMP_ACT_ALLOW") ==
                          0;

                for (size_t k = 0; ok && ic && k < json_object_array_length(ic); k++)
                        ok = caps & BIT(berth_capability_from_string(json_object_get_string(
                                            json_object_array_get_idx(ic, k))));
                for (size_t k = 0; ok && ec && k < json_object_array_length(ec); k++)
                        ok = !(caps & BIT(berth_capability_from_string(json_object_get_string(
                                              json_object_array_get_idx(ec, k)))));
                ok = ok && (!ia || json_object_array_length(ia) == 0 || array_has(ia, "amd64"));
                ok = ok && !array_has(ea, "amd64");
                names = at(e, "names", NULL);
                for (size_t k = 0; ok && k < json_object_array_length(names); k++)
                        assert_int_equal(berth_strv_push_unique(
                                                 &v, json_object_get_string(
                                                             json_object_array_get_idx(names, k))),
                                         0);
        }
        return v;
}

/*
 * Where berth's profile and the reference differ on purpose. The reference
 * is containers-common's profile (podman's), which follows Docker's list of
 * syscalls but leaves mount, namespaces and a few more to the capability
 * checks; berth gates them on the capability in the filter as moby's
 * default.json does.
 */
static const struct difference {
        const char *name;
        bool only_berth;     /* else only the reference allows it */
        uint64_t unless_any; /* no difference once one of these caps is effective */
        uint64_t when_all;   /* a difference only when all of these are effective */
        const char *why;
} differences[] = {
        /* Docker allows these only with CAP_SYS_ADMIN; containers-common always. */
        { "mount", false, BIT(CAP_SYS_ADMIN), 0, "moby: CAP_SYS_ADMIN" },
        { "umount", false, BIT(CAP_SYS_ADMIN), 0, "moby: CAP_SYS_ADMIN" },
        { "umount2", false, BIT(CAP_SYS_ADMIN), 0, "moby: CAP_SYS_ADMIN" },
        { "mount_setattr", false, BIT(CAP_SYS_ADMIN), 0, "moby: CAP_SYS_ADMIN" },
        { "move_mount", false, BIT(CAP_SYS_ADMIN), 0, "moby: CAP_SYS_ADMIN" },
        { "open_tree", false, BIT(CAP_SYS_ADMIN), 0, "moby: CAP_SYS_ADMIN" },
        { "fsopen", false, BIT(CAP_SYS_ADMIN), 0, "moby: CAP_SYS_ADMIN" },
        { "fsconfig", false, BIT(CAP_SYS_ADMIN), 0, "moby: CAP_SYS_ADMIN" },
        { "fsmount", false, BIT(CAP_SYS_ADMIN), 0, "moby: CAP_SYS_ADMIN" },
        { "fspick", false, BIT(CAP_SYS_ADMIN), 0, "moby: CAP_SYS_ADMIN" },
        { "pivot_root", false, BIT(CAP_SYS_ADMIN), 0, "needs CAP_SYS_ADMIN in the kernel anyway" },
        { "unshare", false, BIT(CAP_SYS_ADMIN), 0, "user namespaces: moby gates on CAP_SYS_ADMIN" },
        { "setns", false, BIT(CAP_SYS_ADMIN), 0, "moby: CAP_SYS_ADMIN" },
        { "clone3", false, BIT(CAP_SYS_ADMIN), 0, "ENOSYS so libc falls back to filtered clone" },
        { "syslog", false, BIT(CAP_SYS_ADMIN) | BIT(CAP_SYSLOG), 0, "moby: CAP_SYSLOG" },
        { "reboot", false, BIT(CAP_SYS_BOOT), 0, "moby: CAP_SYS_BOOT" },
        { "get_mempolicy", false, BIT(CAP_SYS_NICE), 0, "moby: CAP_SYS_NICE" },
        { "mbind", false, BIT(CAP_SYS_NICE), 0, "moby: CAP_SYS_NICE" },
        { "set_mempolicy", false, BIT(CAP_SYS_NICE), 0, "moby: CAP_SYS_NICE" },
        { "pidfd_getfd", false, BIT(CAP_SYS_PTRACE), 0, "moby: CAP_SYS_PTRACE" },
        /* The kernel keyring is not namespaced; moby refuses keyctl. */
        { "keyctl", false, 0, 0, "keyring not namespaced (moby refuses it)" },
        /* Not syscalls on x86: MIPS's indirect syscall, and timerfd removed in 2.6.25. */
        { "syscall", false, 0, 0, "not an x86 syscall" },
        { "timerfd", false, 0, 0, "removed from Linux in 2.6.25" },
        /* Newer than this containers-common; moby allows them. */
        { "cachestat", true, 0, 0, "Linux 6.5, in moby's list" },
        { "fchmodat2", true, 0, 0, "Linux 6.6, in moby's list" },
        { "futex_waitv", true, 0, 0, "Linux 5.16, in moby's list" },
        { "futex_wake", true, 0, 0, "Linux 6.7, in moby's list" },
        { "futex_wait", true, 0, 0, "Linux 6.7, in moby's list" },
        { "futex_requeue", true, 0, 0, "Linux 6.7, in moby's list" },
        { "map_shadow_stack", true, 0, 0, "Linux 6.6, in moby's list" },
        /* containers-common refuses these explicitly; moby allows them. */
        { "io_pgetevents", true, 0, 0, "moby allows it" },
        { "io_pgetevents_time64", true, 0, 0, "moby allows it" },
        { "vmsplice", true, 0, 0, "moby allows it" },
        /* berth names the capabilities split out of CAP_SYS_ADMIN (5.8). */
        { "bpf", true, BIT(CAP_SYS_ADMIN), BIT(CAP_BPF), "moby: CAP_BPF" },
        { "perf_event_open", true, BIT(CAP_SYS_ADMIN), BIT(CAP_PERFMON), "moby: CAP_PERFMON" },
        { "quotactl_fd", true, 0, BIT(CAP_SYS_ADMIN), "Linux 5.14, moby: CAP_SYS_ADMIN" },
        { "set_mempolicy_home_node", true, 0, BIT(CAP_SYS_NICE), "Linux 5.17, moby: CAP_SYS_NICE" },
};

static bool expected_difference(const char *name, bool only_berth, uint64_t caps)
{
        for (size_t i = 0; i < ARRAY_SIZE(differences); i++) {
                const struct difference *d = &differences[i];

                if (strcmp(d->name, name) == 0 && d->only_berth == only_berth &&
                    !(caps & d->unless_any) && (caps & d->when_all) == d->when_all)
                        return true;
        }
        return false;
}

static void compare_with_reference(json_object *ref, uint64_t caps)
{
        _cleanup_json_ json_object *mine = default_profile(caps, &host_x86);
        _cleanup_strv_ char **theirs = reference_allowed(ref, caps), **ours = NULL;
        json_object *sc = at(mine, "syscalls", NULL);
        size_t bad = 0;

        for (size_t i = 0; i < json_object_array_length(sc); i++) {
                json_object *e = json_object_array_get_idx(sc, i), *names = at(e, "names", NULL);

                if (strcmp(json_object_get_string(at(e, "action", NULL)), "SCMP_ACT_ALLOW") != 0)
                        continue;
                for (size_t k = 0; k < json_object_array_length(names); k++)
                        assert_int_equal(
                                berth_strv_push_unique(
                                        &ours, json_object_get_string(
                                                       json_object_array_get_idx(names, k))),
                                0);
        }
        for (char **p = theirs; p && *p; p++)
                if (!berth_strv_contains(ours, *p) && !expected_difference(*p, false, caps)) {
                        print_error("caps %#" PRIx64 ": reference allows `%s`, berth does not\n",
                                    caps, *p);
                        bad++;
                }
        for (char **p = ours; p && *p; p++)
                if (!berth_strv_contains(theirs, *p) && !expected_difference(*p, true, caps)) {
                        print_error("caps %#" PRIx64
                                    ": berth allows `%s`, the reference does not\n",
                                    caps, *p);
                        bad++;
                }
        /* And every listed difference is still real, so the list stays honest. */
        for (size_t i = 0; i < ARRAY_SIZE(differences); i++) {
                const struct difference *d = &differences[i];

                if ((caps & d->unless_any) || (caps & d->when_all) != d->when_all)
                        continue;
                if (berth_strv_contains(d->only_berth ? ours : theirs, d->name) &&
                    !berth_strv_contains(d->only_berth ? theirs : ours, d->name))
                        continue;
                print_error("caps %#" PRIx64 ": listed difference `%s` (%s) does not hold\n", caps,
                            d->name, d->why);
                bad++;
        }
        assert_int_equal(bad, 0);
}

static void test_compare_with_docker_profile(void **state)
{
        _cleanup_json_ json_object *ref = NULL;
        berth_error err = BERTH_ERROR_INIT;

        if (access(REFERENCE_PROFILE, R_OK) < 0) {
                skip();
                return;
        }
        assert_int_equal(berth_json_parse_file(REFERENCE_PROFILE, 1u << 20, &ref, &err), 0);
        compare_with_reference(ref, DOCKER_DEFAULT_CAPS);
        compare_with_reference(ref, DOCKER_DEFAULT_CAPS | BIT(CAP_SYS_ADMIN));
        compare_with_reference(ref, DOCKER_DEFAULT_CAPS | BIT(CAP_SYS_PTRACE));
        compare_with_reference(ref, DOCKER_DEFAULT_CAPS | BIT(CAP_SYS_NICE));
        compare_with_reference(ref, DOCKER_DEFAULT_CAPS | BIT(CAP_SYS_BOOT) | BIT(CAP_SYS_TIME) |
                                            BIT(CAP_SYS_MODULE) | BIT(CAP_SYS_RAWIO));
        compare_with_reference(ref, DOCKER_DEFAULT_CAPS | BIT(CAP_BPF) | BIT(CAP_PERFMON) |
                                            BIT(CAP_SYSLOG) | BIT(CAP_DAC_READ_SEARCH));
        compare_with_reference(ref, 0);
        compare_with_reference(ref, BIT(CAP_LAST_CAP + 1) - 1);
}

/* The reference file in Docker's format goes through --security-opt seccomp=FILE. */
static void test_docker_format_profile(void **state)
{
        _cleanup_free_ char *data = NULL;
        _cleanup_json_ json_object *oci = NULL, *admin = NULL;
        size_t len = 0;

        if (berth_read_file_at(AT_FDCWD, REFERENCE_PROFILE, 1u << 20, &data, &len, NULL) < 0) {
                skip();
                return;
        }
        oci = profile(data, len, DOCKER_DEFAULT_CAPS, &host_x86);
        admin = profile(data, len, DOCKER_DEFAULT_CAPS | BIT(CAP_SYS_ADMIN), &host_x86);
        assert_string_equal(json_object_get_string(at(oci, "defaultAction", NULL)),
                            "SCMP_ACT_ERRNO");
        assert_int_equal(json_object_array_length(at(oci, "architectures", NULL)), 3);
        assert_string_equal(json_object_get_string(
                                    json_object_array_get_idx(at(oci, "architectures", NULL), 0)),
                            "SCMP_ARCH_X86_64");
        /* includes.caps: sethostname only with CAP_SYS_ADMIN. */
        assert_false(allows(oci, "sethostname"));
        assert_true(allows(admin, "sethostname"));
        /* includes.arches: arch_prctl on amd64. */
        assert_true(allows(oci, "arch_prctl"));
        assert_false(allows(oci, "s390_runtime_instr"));
        /* No includes/excludes reach the runtime. */
        for (size_t i = 0; i < json_object_array_length(at(oci, "syscalls", NULL)); i++) {
                json_object *e = json_object_array_get_idx(at(oci, "syscalls", NULL), i);

                assert_null(at(e, "includes", NULL));
                assert_null(at(e, "excludes", NULL));
        }
}

static void expect_profile_error(const char *json, const char *msg)
{
        _cleanup_json_ json_object *oci = NULL;
        berth_error err = BERTH_ERROR_INIT;

        assert_true(berth_seccomp_profile_to_oci(json, strlen(json), "p.json", 0, &host_x86, &oci,
                                                 &err) < 0);
        if (!strstr(err.msg, msg))
                fail_msg("`%s` not in `%s`", msg, err.msg);
        berth_error_release(&err);
}

static void test_bad_profiles(void **state)
{
        expect_profile_error("{\"defaultAction\":\"errno\",\"defaultErrno\":\"EPERM\","
                             "\"groups\":[{\"action\":\"allow\",\"syscals\":[\"read\"]}]}",
                             "p.json: groups[0].syscals: unknown member");
        expect_profile_error("{\"defaultAction\":\"errno\",\"defaultErrno\":\"EPERM\","
                             "\"groups\":[{\"action\":\"allow\",\"syscalls\":[\"read\"],"
                             "\"ifCaps\":[\"CAP_NOPE\"]}]}",
                             "groups[0].ifCaps: unknown capability `CAP_NOPE`");
        expect_profile_error("{\"defaultAction\":\"errno\",\"defaultErrno\":\"EWHAT\","
                             "\"groups\":[]}",
                             "defaultErrno: unknown errno `EWHAT`");
        expect_profile_error("{\"defaultAction\":\"errno\",\"defaultErrno\":\"EPERM\","
                             "\"groups\":[{\"action\":\"deny\",\"syscalls\":[\"read\"]}]}",
                             "groups[0]: unknown action `deny`");
        expect_profile_error("{\"defaultAction\":\"errno\",\"defaultErrno\":\"EPERM\","
                             "\"groups\":[{\"action\":\"allow\",\"syscalls\":[\"read\"],"
                             "\"args\":[{\"index\":0,\"op\":\"eq\",\"anyOf\":[1,2]},"
                             "{\"index\":1,\"op\":\"eq\",\"anyOf\":[1,2]}]}]}",
                             "only one argument may use anyOf");
        expect_profile_error("{\"defaultAction\":\"errno\",\"defaultErrno\":\"EPERM\","
                             "\"groups\":[{\"action\":\"allow\",\"syscalls\":[\"read\"],"
                             "\"args\":[{\"index\":6,\"op\":\"eq\",\"value\":1}]}]}",
                             "groups[0].args[0].index: 6 is not an argument 0-5");
        expect_profile_error("{\"defaultAction\":\"errno\",\"defaultErrno\":\"EPERM\","
                             "\"groups\":[{\"action\":\"allow\",\"syscalls\":[\"read\"],"
                             "\"minKernel\":\"four\"}]}",
                             "groups[0].minKernel: `four` is not a version");
        expect_profile_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":"
                             "[\"read\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":\"x\"}]}",
                             "p.json: syscalls[0].args: expected an array, got a string");
        expect_profile_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":"
                             "[\"read\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":"
                             "{\"caps\":[\"CAP_BOGUS\"]}}]}",
                             "syscalls[0].includes.caps: unknown capability `CAP_BOGUS`");
        expect_profile_error("[]", "expected");
        expect_profile_error("{\"foo\":1}", "not a seccomp profile");
}

static void test_seccomp_option(void **state)
{
        berth_security_options o = { .seccomp_profile = "unconfined" };
        _cleanup_json_ json_object *config = apply_ok(&o);
        _cleanup_free_ char *m = NULL, *m2 = NULL;
        char path[] = "/tmp/berth-test-seccomp-XXXXXX";
        _cleanup_close_ int fd = mkstemp(path);
        static const char bad[] = "{\"defaultAction\":\"errno\",\"groups\":[]}";

        assert_null(at(config, "linux", "seccomp"));
        assert_non_null(at(config, "linux", "maskedPaths"));

        o.seccomp_profile = "/nonexistent/profile.json";
        m = apply_err(&o);
        assert_string_equal(m, "--security-opt seccomp=/nonexistent/profile.json: open "
                               "`/nonexistent/profile.json`: No such file or directory");

        assert_true(fd >= 0);
        assert_int_equal(write(fd, bad, sizeof(bad) - 1), (ssize_t)(sizeof(bad) - 1));
        o.seccomp_profile = path;
        m2 = apply_err(&o);
        unlink(path);
        assert_non_null(strstr(m2, "--security-opt seccomp=/tmp/berth-test-seccomp-"));
        assert_non_null(strstr(m2, "defaultErrno is needed"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_default_caps),
                cmocka_unit_test(test_cap_add_drop),
                cmocka_unit_test(test_cap_bad_names),
                cmocka_unit_test(test_privileged),
                cmocka_unit_test(test_masked_paths_and_nnp),
                cmocka_unit_test(test_apparmor),
                cmocka_unit_test(test_apparmor_rootless),
                cmocka_unit_test(test_default_profile_shape),
                cmocka_unit_test(test_caps_enable_syscalls),
                cmocka_unit_test(test_arch_and_kernel_conditions),
                cmocka_unit_test(test_profile_data_names),
                cmocka_unit_test(test_compare_with_docker_profile),
                cmocka_unit_test(test_docker_format_profile),
                cmocka_unit_test(test_bad_profiles),
                cmocka_unit_test(test_seccomp_option),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
