/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Capabilities, masked paths, no-new-privileges, AppArmor and the seccomp
 * profile of a container: see security.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <linux/capability.h>
#include <stdio.h>
#include <strings.h>
#include <sys/prctl.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "basic/json.h"
#include "engine/security.h"
#include "runtime/config.h"

#define MAX_PROFILE_SIZE (4u << 20)

/* moby oci/caps/defaults.go */
static const int default_caps[] = {
        CAP_CHOWN,   CAP_DAC_OVERRIDE, CAP_FSETID,           CAP_FOWNER,
        CAP_MKNOD,   CAP_NET_RAW,      CAP_SETGID,           CAP_SETUID,
        CAP_SETFCAP, CAP_SETPCAP,      CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
        CAP_KILL,    CAP_AUDIT_WRITE,
};

/* moby oci/defaults.go: kernel interfaces that leak host information or let a
 * container poke the host. */
const char *const berth_security_masked_paths[] = {
        "/proc/asound",
        "/proc/acpi",
        "/proc/interrupts",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/proc/sched_debug",
        "/proc/scsi",
        "/sys/firmware",
        "/sys/devices/virtual/powercap",
        NULL,
};

const char *const berth_security_readonly_paths[] = {
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

uint64_t berth_security_default_caps(void)
{
        uint64_t m = 0;

        for (size_t i = 0; i < ARRAY_SIZE(default_caps); i++)
                m |= UINT64_C(1) << default_caps[i];
        return m;
}

int berth_security_last_cap(void)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int v;

        /* Older kernels lack the file; then berth's table is the best guess. */
        if (berth_read_file_at(AT_FDCWD, "/proc/sys/kernel/cap_last_cap", 32, &buf, &len, NULL) < 0)
                return berth_capability_last();
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
                buf[--len] = '\0';
        if (berth_parse_int(buf, &v) < 0 || v < 0 || v > 63)
                return berth_capability_last();
        return v;
}

uint64_t berth_security_all_caps(void)
{
        int last = berth_security_last_cap();
        uint64_t m = 0;

        /* A capability outside berth's own bounding set cannot be given to a
         * container (capset fails), so "all" is the kernel's minus what
         * berth runs without, as podman does. */
        for (int c = 0; c <= last; c++)
                if (prctl(PR_CAPBSET_READ, (unsigned long)c, 0, 0, 0) == 1)
                        m |= UINT64_C(1) << c;
        return m;
}

static bool is_all(const char *s)
{
        return strcasecmp(s, "ALL") == 0;
}

/* The names in v as a mask; *ret_all says whether "ALL" was among them. */
static int parse_caps(char *const *v, const char *flag, uint64_t *ret, bool *ret_all,
                      berth_error *err)
{
        int last = berth_security_last_cap();
        uint64_t m = 0;

        *ret_all = false;
        for (size_t i = 0; v && v[i]; i++) {
                int cap;

                if (is_all(v[i])) {
                        *ret_all = true;
                        continue;
                }
                cap = berth_capability_from_string(v[i]);
                if (cap < 0)
                        return berth_error_set(err, EINVAL, "%s %s: unknown capability", flag,
                                               v[i]);
                if (cap > last)
                        return berth_error_set(err, EINVAL,
                                               "%s %s: not supported by this kernel (last "
                                               "capability is %d)",
                                               flag, v[i], last);
                m |= UINT64_C(1) << cap;
        }
        *ret = m;
        return 0;
}

int berth_security_caps(const berth_security_options *o, uint64_t *ret, berth_error *err)
{
        uint64_t add, drop, all = berth_security_all_caps();
        bool add_all, drop_all;
        int r;

        r = parse_caps(o->cap_add, "--cap-add", &add, &add_all, err);
        if (r < 0)
                return r;
        r = parse_caps(o->cap_drop, "--cap-drop", &drop, &drop_all, err);
        if (r < 0)
                return r;
        /* The order of precedence is Docker's (moby oci/caps TweakCapabilities). */
        if (o->privileged)
                *ret = all;
        else if (add_all)
                *ret = drop_all ? 0 : all & ~drop;
        else if (drop_all)
                *ret = add;
        else
                *ret = ((berth_security_default_caps() & ~drop) | add) & all;
        return 0;
}

static int child(json_object *parent, const char *key, json_object **ret, berth_error *err)
{
        json_object *o;

        if (json_object_object_get_ex(parent, key, &o) && o) {
                if (!json_object_is_type(o, json_type_object))
                        return berth_json_type_error(o, key, "an object", err);
                *ret = o;
                return 0;
        }
        o = json_object_new_object();
        if (!o || json_object_object_add(parent, key, o) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        *ret = o;
        return 0;
}

static json_object *cap_array(uint64_t mask)
{
        json_object *a = json_object_new_array();

        for (int c = 0; a && c < 64; c++) {
                const char *name = berth_capability_to_string(c);

                if (!(mask & (UINT64_C(1) << c)) || !name)
                        continue;
                if (json_object_array_add(a, json_object_new_string(name)) < 0) {
                        json_object_put(a);
                        return NULL;
                }
        }
        return a;
}

static int set_caps(json_object *process, uint64_t mask, berth_error *err)
{
        static const struct {
                const char *key;
                bool set;
        } sets[] = {
                { "bounding", true },     { "effective", true }, { "permitted", true },
                { "inheritable", false }, { "ambient", false },
        };
        json_object *caps;

        caps = json_object_new_object();
        if (!caps || json_object_object_add(process, "capabilities", caps) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
                json_object *a = cap_array(sets[i].set ? mask : 0);

                if (!a || json_object_object_add(caps, sets[i].key, a) < 0)
                        return berth_error_set(err, ENOMEM, "out of memory");
        }
        return 0;
}

static int set_paths(json_object *linux_obj, const char *key, const char *const *paths,
                     berth_error *err)
{
        json_object *a = json_object_new_array();

        if (!a || json_object_object_add(linux_obj, key, a) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        for (size_t i = 0; paths && paths[i]; i++)
                if (json_object_array_add(a, json_object_new_string(paths[i])) < 0)
                        return berth_error_set(err, ENOMEM, "out of memory");
        return 0;
}

static bool apparmor_enabled(void)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;

        if (berth_read_file_at(AT_FDCWD, "/sys/module/apparmor/parameters/enabled", 16, &buf, &len,
                               NULL) < 0)
                return false;
        return len > 0 && buf[0] == 'Y';
}

static int set_apparmor(json_object *process, const berth_security_options *o, berth_error *err)
{
        json_object_object_del(process, "apparmorProfile");
        if (!o->apparmor || strcmp(o->apparmor, "unconfined") == 0)
                return 0;
        if (o->apparmor[0] == '\0')
                return berth_error_set(err, EINVAL, "--security-opt apparmor=: empty profile name");
        /* Changing profile needs CAP_MAC_ADMIN over the host's policy. */
        if (o->rootless)
                return berth_error_set(err, EOPNOTSUPP,
                                       "--security-opt apparmor=%s: AppArmor profiles need a "
                                       "rootful engine",
                                       o->apparmor);
        if (!apparmor_enabled())
                return berth_error_set(err, EOPNOTSUPP,
                                       "--security-opt apparmor=%s: AppArmor is not enabled on "
                                       "this host",
                                       o->apparmor);
        if (json_object_object_add(process, "apparmorProfile",
                                   json_object_new_string(o->apparmor)) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        return 0;
}

static int set_seccomp(json_object *linux_obj, const berth_security_options *o, uint64_t caps,
                       berth_error *err)
{
        _cleanup_free_ char *file = NULL, *what = NULL;
        _cleanup_json_ json_object *seccomp = NULL;
        berth_seccomp_host host;
        const char *data = (const char *)berth_seccomp_default_profile;
        size_t len = berth_seccomp_default_profile_len;
        int r;

        json_object_object_del(linux_obj, "seccomp");
        if (o->privileged && !o->seccomp_profile)
                return 0;
        if (o->seccomp_profile && strcmp(o->seccomp_profile, "unconfined") == 0)
                return 0;
        r = berth_seccomp_host_current(&host, err);
        if (r < 0)
                return r;
        if (o->seccomp_profile) {
                if (asprintf(&what, "--security-opt seccomp=%s", o->seccomp_profile) < 0)
                        return berth_error_set(err, ENOMEM, "out of memory");
                r = berth_read_file_at(AT_FDCWD, o->seccomp_profile, MAX_PROFILE_SIZE, &file, &len,
                                       err);
                if (r < 0)
                        return berth_error_prefix(err, "--security-opt seccomp=%s",
                                                  o->seccomp_profile);
                data = file;
        }
        r = berth_seccomp_profile_to_oci(data, len, what ? what : "seccomp-default.json", caps,
                                         &host, &seccomp, err);
        if (r < 0)
                return r;
        if (json_object_object_add(linux_obj, "seccomp", TAKE_PTR(seccomp)) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        return 0;
}

int berth_security_apply(json_object *oci_config, const berth_security_options *o, berth_error *err)
{
        json_object *process, *linux_obj;
        uint64_t caps;
        int r;

        if (!json_object_is_type(oci_config, json_type_object))
                return berth_json_type_error(oci_config, "config", "an object", err);
        r = berth_security_caps(o, &caps, err);
        if (r < 0)
                return r;
        r = child(oci_config, "process", &process, err);
        if (r < 0)
                return r;
        r = child(oci_config, "linux", &linux_obj, err);
        if (r < 0)
                return r;
        r = set_caps(process, caps, err);
        if (r < 0)
                return r;
        if (json_object_object_add(process, "noNewPrivileges",
                                   json_object_new_boolean(o->no_new_privileges)) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        r = set_apparmor(process, o, err);
        if (r < 0)
                return r;
        r = set_paths(linux_obj, "maskedPaths", o->privileged ? NULL : berth_security_masked_paths,
                      err);
        if (r < 0)
                return r;
        r = set_paths(linux_obj, "readonlyPaths",
                      o->privileged ? NULL : berth_security_readonly_paths, err);
        if (r < 0)
                return r;
        return set_seccomp(linux_obj, o, caps, err);
}
