/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <json-c/json.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth-config.h"
#include "runtime/config.h"
#include "runtime/spec.h"

static const char default_spec[] =
        "{\"ociVersion\":\"" BERTH_OCI_VERSION "\","
        "\"process\":{\"terminal\":true,\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"sh\"],"
        "\"env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
        "\"TERM=xterm\"],\"cwd\":\"/\","
        "\"capabilities\":{"
        "\"bounding\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
        "\"effective\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
        "\"permitted\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
        "\"ambient\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"]},"
        "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],"
        "\"noNewPrivileges\":true},"
        "\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
        "\"hostname\":\"berth\","
        "\"mounts\":["
        "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
        "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
        "\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
        "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\","
        "\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\","
        "\"gid=5\"]},"
        "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\","
        "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"
        "{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\","
        "\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
        "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\","
        "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
        "{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\","
        "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"relatime\",\"ro\"]}],"
        "\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},"
        "\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},"
        "{\"type\":\"uts\"},{\"type\":\"mount\"},{\"type\":\"cgroup\"}],"
        "\"maskedPaths\":[\"/proc/acpi\",\"/proc/asound\",\"/proc/kcore\",\"/proc/keys\","
        "\"/proc/latency_stats\",\"/proc/timer_list\",\"/proc/timer_stats\","
        "\"/proc/sched_debug\",\"/sys/firmware\",\"/proc/scsi\"],"
        "\"readonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\","
        "\"/proc/sysrq-trigger\"]}}";

static char *to_pretty(json_object *o)
{
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                                  JSON_C_TO_STRING_SPACED |
                                                                  JSON_C_TO_STRING_NOSLASHESCAPE);
        return strdup(s);
}

static json_object *id_map(unsigned host_id)
{
        json_object *a = json_object_new_array(), *m = json_object_new_object();

        json_object_object_add(m, "containerID", json_object_new_int(0));
        json_object_object_add(m, "hostID", json_object_new_int64(host_id));
        json_object_object_add(m, "size", json_object_new_int(1));
        json_object_array_add(a, m);
        return a;
}

/* runc's rootless changes to the default spec. */
static void make_rootless(json_object *spec)
{
        json_object *linux_o, *ns, *mounts, *nns = json_object_new_array();

        json_object_object_get_ex(spec, "linux", &linux_o);
        json_object_object_del(linux_o, "resources");
        json_object_object_get_ex(linux_o, "namespaces", &ns);
        for (size_t i = 0; i < json_object_array_length(ns); i++) {
                json_object *e = json_object_array_get_idx(ns, i), *t;
                json_object_object_get_ex(e, "type", &t);
                if (strcmp(json_object_get_string(t), "network") != 0)
                        json_object_array_add(nns, json_object_get(e));
        }
        {
                json_object *u = json_object_new_object();
                json_object_object_add(u, "type", json_object_new_string("user"));
                json_object_array_add(nns, u);
        }
        json_object_object_add(linux_o, "namespaces", nns);
        json_object_object_add(linux_o, "uidMappings", id_map(geteuid()));
        json_object_object_add(linux_o, "gidMappings", id_map(getegid()));

        json_object_object_get_ex(spec, "mounts", &mounts);
        for (size_t i = 0; i < json_object_array_length(mounts); i++) {
                json_object *m = json_object_array_get_idx(mounts, i), *d, *opts;
                json_object_object_get_ex(m, "destination", &d);
                if (strcmp(json_object_get_string(d), "/sys") == 0) {
                        json_object_object_add(m, "type", json_object_new_string("none"));
                        json_object_object_add(m, "source", json_object_new_string("/sys"));
                        opts = json_object_new_array();
                        json_object_array_add(opts, json_object_new_string("rbind"));
                        json_object_array_add(opts, json_object_new_string("nosuid"));
                        json_object_array_add(opts, json_object_new_string("noexec"));
                        json_object_array_add(opts, json_object_new_string("nodev"));
                        json_object_array_add(opts, json_object_new_string("ro"));
                        json_object_object_add(m, "options", opts);
                } else if (strcmp(json_object_get_string(d), "/dev/pts") == 0 &&
                           json_object_object_get_ex(m, "options", &opts)) {
                        json_object *no = json_object_new_array();
                        for (size_t j = 0; j < json_object_array_length(opts); j++) {
                                json_object *o = json_object_array_get_idx(opts, j);
                                if (strcmp(json_object_get_string(o), "gid=5") != 0)
                                        json_object_array_add(no, json_object_get(o));
                        }
                        json_object_object_add(m, "options", no);
                }
        }
}

int berth_spec_default(bool rootless, char **ret, berth_error *err)
{
        json_object *spec = json_tokener_parse(default_spec);

        if (!spec)
                return berth_error_set(err, EINVAL, "internal error: default spec");
        if (rootless)
                make_rootless(spec);
        *ret = to_pretty(spec);
        json_object_put(spec);
        return *ret ? 0 : berth_error_set(err, ENOMEM, "out of memory");
}

static json_object *strings(const char *const *v, size_t n)
{
        json_object *a = json_object_new_array();

        for (size_t i = 0; i < n; i++)
                json_object_array_add(a, json_object_new_string(v[i]));
        return a;
}

#define STRINGS(v) strings(v, sizeof(v) / sizeof(v[0]))

static const char *const mount_options[] = {
        "acl",
        "async",
        "atime",
        "bind",
        "defaults",
        "dev",
        "diratime",
        "dirsync",
        "exec",
        "idmap",
        "iversion",
        "lazytime",
        "loud",
        "mand",
        "noacl",
        "noatime",
        "nodev",
        "nodiratime",
        "noexec",
        "noiversion",
        "nolazytime",
        "nomand",
        "norelatime",
        "nostrictatime",
        "nosuid",
        "nosymfollow",
        "private",
        "ratime",
        "rbind",
        "rdev",
        "rdiratime",
        "relatime",
        "remount",
        "rexec",
        "ridmap",
        "rnoatime",
        "rnodev",
        "rnodiratime",
        "rnoexec",
        "rnorelatime",
        "rnostrictatime",
        "rnosuid",
        "rnosymfollow",
        "ro",
        "rprivate",
        "rrelatime",
        "rro",
        "rrw",
        "rshared",
        "rslave",
        "rstrictatime",
        "rsuid",
        "rsymfollow",
        "runbindable",
        "rw",
        "shared",
        "silent",
        "slave",
        "strictatime",
        "suid",
        "symfollow",
        "sync",
        "tmpcopyup",
        "unbindable",
};

static const char *const seccomp_actions[] = {
        "SCMP_ACT_ALLOW",        "SCMP_ACT_ERRNO",       "SCMP_ACT_KILL",
        "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
        "SCMP_ACT_NOTIFY",       "SCMP_ACT_TRACE",       "SCMP_ACT_TRAP",
};
static const char *const seccomp_operators[] = {
        "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",        "SCMP_CMP_LE",
        "SCMP_CMP_LT", "SCMP_CMP_NE", "SCMP_CMP_MASKED_EQ",
};
static const char *const seccomp_archs[] = {
        "SCMP_ARCH_AARCH64",   "SCMP_ARCH_ARM",    "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",
        "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32",
        "SCMP_ARCH_PPC",       "SCMP_ARCH_PPC64",  "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_RISCV64",
        "SCMP_ARCH_S390",      "SCMP_ARCH_S390X",  "SCMP_ARCH_X32",      "SCMP_ARCH_X86",
        "SCMP_ARCH_X86_64",
};
static const char *const seccomp_flags[] = {
        "SECCOMP_FILTER_FLAG_LOG",
        "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        "SECCOMP_FILTER_FLAG_TSYNC",
};

static json_object *linux_features(void)
{
        static const char *const ns[] = { "cgroup", "ipc",  "mount", "network",
                                          "pid",    "time", "user",  "uts" };
        json_object *l = json_object_new_object(), *caps = json_object_new_array();
        json_object *cg = json_object_new_object(), *sc = json_object_new_object();
        json_object *aa = json_object_new_object(), *se = json_object_new_object();

        json_object_object_add(l, "namespaces", STRINGS(ns));
        for (int c = 0; c <= berth_capability_last(); c++)
                json_object_array_add(caps, json_object_new_string(berth_capability_to_string(c)));
        json_object_object_add(l, "capabilities", caps);
        /* cgroupfs on v1 and v2; systemd's system instance (not a user's). */
        json_object_object_add(cg, "v1", json_object_new_boolean(1));
        json_object_object_add(cg, "v2", json_object_new_boolean(1));
        json_object_object_add(cg, "systemd", json_object_new_boolean(1));
        json_object_object_add(cg, "systemdUser", json_object_new_boolean(0));
        json_object_object_add(cg, "rdma", json_object_new_boolean(1));
        json_object_object_add(l, "cgroup", cg);
        json_object_object_add(sc, "enabled", json_object_new_boolean(1));
        json_object_object_add(sc, "actions", STRINGS(seccomp_actions));
        json_object_object_add(sc, "operators", STRINGS(seccomp_operators));
        json_object_object_add(sc, "archs", STRINGS(seccomp_archs));
        json_object_object_add(sc, "knownFlags", STRINGS(seccomp_flags));
        json_object_object_add(sc, "supportedFlags", STRINGS(seccomp_flags));
        json_object_object_add(l, "seccomp", sc);
        json_object_object_add(
                aa, "enabled",
                json_object_new_boolean(access("/sys/kernel/security/apparmor", F_OK) == 0));
        json_object_object_add(l, "apparmor", aa);
        json_object_object_add(
                se, "enabled",
                json_object_new_boolean(access("/sys/fs/selinux/enforce", F_OK) == 0));
        json_object_object_add(l, "selinux", se);
        {
                json_object *rdt = json_object_new_object();
                json_object_object_add(rdt, "enabled", json_object_new_boolean(0));
                json_object_object_add(l, "intelRdt", rdt);
        }
        {
                json_object *me = json_object_new_object(), *idm = json_object_new_object();
                json_object_object_add(idm, "enabled", json_object_new_boolean(1));
                json_object_object_add(me, "idmap", idm);
                json_object_object_add(l, "mountExtensions", me);
        }
        return l;
}

int berth_features_json(char **ret, berth_error *err)
{
        static const char *const hooks[] = { "prestart",       "createRuntime", "createContainer",
                                             "startContainer", "poststart",     "poststop" };
        json_object *f = json_object_new_object(), *ann = json_object_new_object();
        const struct scmp_version *v = seccomp_version();
        char ver[64];

        json_object_object_add(f, "ociVersionMin", json_object_new_string("1.0.0"));
        json_object_object_add(f, "ociVersionMax", json_object_new_string(BERTH_OCI_VERSION));
        json_object_object_add(f, "hooks", STRINGS(hooks));
        json_object_object_add(f, "mountOptions", STRINGS(mount_options));
        json_object_object_add(f, "linux", linux_features());
        snprintf(ver, sizeof(ver), "%u.%u.%u", v->major, v->minor, v->micro);
        json_object_object_add(ann, "io.github.seccomp.libseccomp.version",
                               json_object_new_string(ver));
        json_object_object_add(ann, "org.berth.runtime.version",
                               json_object_new_string(BERTH_VERSION));
        json_object_object_add(f, "annotations", ann);
        *ret = to_pretty(f);
        json_object_put(f);
        return *ret ? 0 : berth_error_set(err, ENOMEM, "out of memory");
}
