/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for the config.json parser (runtime/config.c), its tables and basic/json.c. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "basic/cleanup.h"
#include "basic/json.h"
#include "runtime/config.h"

/*
 * JSON written as C tokens, so the documents below stay readable. Each macro
 * stringizes its own arguments: passed on to another macro they would be
 * macro-expanded first, and stdbool.h's `true` would become `1`.
 */
#define J(...)       #__VA_ARGS__
#define DOC_START    "{\"ociVersion\": \"1.2.0\", "
#define DOC(...)     DOC_START #__VA_ARGS__ "}"
#define PROC(...)    DOC_START "\"process\": {\"cwd\": \"/\", \"args\": [\"sh\"], " #__VA_ARGS__ "}}"
#define LINUX(...)   DOC_START "\"linux\": {" #__VA_ARGS__ "}}"
#define RES(...)     DOC_START "\"linux\": {\"resources\": {" #__VA_ARGS__ "}}}"
#define SECCOMP(...) DOC_START "\"linux\": {\"seccomp\": {" #__VA_ARGS__ "}}}"

static const char runc_spec[] = J({
        "ociVersion" : "1.0.2-dev",
        "process" : {
                "terminal" : true,
                "user" : { "uid" : 0, "gid" : 0 },
                "args" : ["sh"],
                "env" : [
                        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                        "TERM=xterm"
                ],
                "cwd" : "/",
                "capabilities" : {
                        "bounding" : [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
                        "effective" : [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
                        "permitted" : [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
                        "ambient" : [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ]
                },
                "rlimits" : [ { "type" : "RLIMIT_NOFILE", "hard" : 1024, "soft" : 1024 } ],
                "noNewPrivileges" : true
        },
        "root" : { "path" : "rootfs", "readonly" : true },
        "hostname" : "runc",
        "mounts" : [
                { "destination" : "/proc", "type" : "proc", "source" : "proc" }, {
                        "destination" : "/dev",
                        "type" : "tmpfs",
                        "source" : "tmpfs",
                        "options" : [ "nosuid", "strictatime", "mode=755", "size=65536k" ]
                },
                {
                        "destination" : "/dev/pts",
                        "type" : "devpts",
                        "source" : "devpts",
                        "options" : [
                                "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
                                "gid=5"
                        ]
                },
                {
                        "destination" : "/dev/shm",
                        "type" : "tmpfs",
                        "source" : "shm",
                        "options" : [ "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" ]
                },
                {
                        "destination" : "/dev/mqueue",
                        "type" : "mqueue",
                        "source" : "mqueue",
                        "options" : [ "nosuid", "noexec", "nodev" ]
                },
                {
                        "destination" : "/sys",
                        "type" : "sysfs",
                        "source" : "sysfs",
                        "options" : [ "nosuid", "noexec", "nodev", "ro" ]
                },
                {
                        "destination" : "/sys/fs/cgroup",
                        "type" : "cgroup",
                        "source" : "cgroup",
                        "options" : [ "nosuid", "noexec", "nodev", "relatime", "ro" ]
                }
        ],
        "linux" : {
                "resources" : { "devices" : [ { "allow" : false, "access" : "rwm" } ] },
                "namespaces" : [
                        { "type" : "pid" }, { "type" : "network" }, { "type" : "ipc" },
                        { "type" : "uts" }, { "type" : "mount" }
                ],
                "maskedPaths" : [
                        "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                        "/proc/sched_debug", "/sys/firmware", "/proc/scsi"
                ],
                "readonlyPaths" :
                        [ "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger" ]
        }
});

/* Every field berth knows, with distinct values, plus fields it must ignore. */
static const char full_config[] = J({
        "ociVersion" : "1.2.0",
        "root" : { "path" : "rootfs", "readonly" : true },
        "hostname" : "box",
        "domainname" : "example.org",
        "process" : {
                "terminal" : true,
                "consoleSize" : { "height" : 24, "width" : 80 },
                "user" : {
                        "uid" : 1000,
                        "gid" : 1001,
                        "umask" : 18,
                        "additionalGids" : [ 5, 6, 4294967295 ],
                        "username" : "me"
                },
                "args" : [ "sh", "-c", "echo hi" ],
                "commandLine" : "ignored on linux",
                "env" : [ "PATH=/usr/bin:/bin", "TERM=xterm", "EMPTY=" ],
                "cwd" : "/home/me",
                "capabilities" : {
                        "bounding" : [
                                "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_BOGUS"
                        ],
                        "effective" : ["CAP_KILL"],
                        "inheritable" : [],
                        "permitted" : [ "CAP_KILL", "cap_sys_admin", "CHECKPOINT_RESTORE" ],
                        "ambient" : [ "CAP_BOGUS", "CAP_FUTURE" ]
                },
                "rlimits" : [
                        { "type" : "RLIMIT_NOFILE", "hard" : 1024, "soft" : 512 }, {
                                "type" : "RLIMIT_CORE",
                                "hard" : 18446744073709551615,
                                "soft" : 18446744073709551615
                        }
                ],
                "noNewPrivileges" : true,
                "apparmorProfile" : "docker-default",
                "oomScoreAdj" : -500,
                "selinuxLabel" : "system_u:system_r:container_t:s0",
                "ioPriority" : { "class" : "IOPRIO_CLASS_BE", "priority" : 4 },
                "scheduler" : {
                        "policy" : "SCHED_DEADLINE",
                        "nice" : -5,
                        "priority" : 0,
                        "flags" : ["SCHED_FLAG_RESET_ON_FORK"],
                        "runtime" : 10000000,
                        "deadline" : 20000000,
                        "period" : 30000000
                },
                "execCPUAffinity" : { "initial" : "0-1", "final" : "2,3" }
        },
        "mounts" : [
                { "destination" : "/proc", "type" : "proc", "source" : "proc" }, {
                        "destination" : "/data",
                        "type" : "none",
                        "source" : "/srv/data",
                        "options" : [ "rbind", "rprivate", "rro", "rnosuid", "rnoatime", "idmap" ],
                        "uidMappings" :
                                [ { "containerID" : 0, "hostID" : 100000, "size" : 65536 } ],
                        "gidMappings" : [ { "containerID" : 0, "hostID" : 200000, "size" : 1000 } ]
                },
                {
                        "destination" : "/tmp",
                        "type" : "tmpfs",
                        "source" : "tmpfs",
                        "options" : [ "nosuid", "nodev", "tmpcopyup", "mode=1777", "size=10m" ]
                }
        ],
        "hooks" : {
                "prestart" : [ {
                        "path" : "/usr/bin/hook",
                        "args" : [ "hook", "prestart" ],
                        "env" : ["A=1"],
                        "timeout" : 5
                } ],
                "createRuntime" : [ { "path" : "/bin/cr" } ],
                "createContainer" : [ { "path" : "/bin/cc" } ],
                "startContainer" : [ { "path" : "/bin/sc" } ],
                "poststart" : [ { "path" : "/bin/ps" } ],
                "poststop" : [ { "path" : "/bin/a" }, { "path" : "/bin/b" } ],
                "futureHook" : [ { "path" : "ignored" } ]
        },
        "annotations" : { "org.opencontainers.image.os" : "linux", "com.example.key" : "value" },
        "linux" : {
                "namespaces" : [
                        { "type" : "pid" }, { "type" : "network", "path" : "/var/run/netns/x" },
                        { "type" : "mount" }, { "type" : "ipc" }, { "type" : "uts" },
                        { "type" : "user" }, { "type" : "cgroup", "path" : "" },
                        { "type" : "time" }
                ],
                "uidMappings" : [
                        { "containerID" : 0, "hostID" : 1000, "size" : 1 },
                        { "containerID" : 1, "hostID" : 100000, "size" : 65535 }
                ],
                "gidMappings" : [ { "containerID" : 0, "hostID" : 1000, "size" : 1 } ],
                "timeOffsets" : {
                        "monotonic" : { "secs" : -3600, "nanosecs" : 5 },
                        "boottime" : { "secs" : 7200 }
                },
                "devices" : [
                        {
                                "path" : "/dev/fuse",
                                "type" : "c",
                                "major" : 10,
                                "minor" : 229,
                                "fileMode" : 438,
                                "uid" : 0,
                                "gid" : 5
                        },
                        { "path" : "/dev/fifo", "type" : "p" }
                ],
                "cgroupsPath" : "/berth/box",
                "resources" : {
                        "devices" : [
                                { "allow" : false, "access" : "rwm" }, {
                                        "allow" : true,
                                        "type" : "c",
                                        "major" : 10,
                                        "minor" : 229,
                                        "access" : "rw"
                                },
                                { "allow" : true, "type" : "b", "major" : -1, "access" : "m" }
                        ],
                        "memory" : {
                                "limit" : 536870912,
                                "reservation" : 268435456,
                                "swap" : -1,
                                "kernelTCP" : 1024,
                                "swappiness" : 60,
                                "disableOOMKiller" : false,
                                "useHierarchy" : true,
                                "checkBeforeUpdate" : true
                        },
                        "cpu" : {
                                "shares" : 1024,
                                "quota" : 50000,
                                "burst" : 1000,
                                "period" : 100000,
                                "realtimeRuntime" : 950000,
                                "realtimePeriod" : 1000000,
                                "cpus" : "0-3",
                                "mems" : "0",
                                "idle" : 1
                        },
                        "pids" : { "limit" : 100 },
                        "blockIO" : {
                                "weight" : 500,
                                "leafWeight" : 300,
                                "weightDevice" : [ { "major" : 8, "minor" : 0, "weight" : 600 } ],
                                "throttleReadBpsDevice" :
                                        [ { "major" : 8, "minor" : 0, "rate" : 1048576 } ],
                                "throttleWriteBpsDevice" :
                                        [ { "major" : 8, "minor" : 16, "rate" : 2097152 } ],
                                "throttleReadIOPSDevice" :
                                        [ { "major" : 8, "minor" : 32, "rate" : 100 } ],
                                "throttleWriteIOPSDevice" : [
                                        { "major" : 8, "minor" : 48, "rate" : 200 },
                                        { "major" : 8, "minor" : 64, "rate" : 300 }
                                ]
                        },
                        "hugepageLimits" : [ { "pageSize" : "2MB", "limit" : 209715200 } ],
                        "network" : {
                                "classID" : 1048577,
                                "priorities" : [ { "name" : "eth0", "priority" : 500 } ]
                        },
                        "rdma" : { "mlx5_1" : { "hcaHandles" : 3, "hcaObjects" : 10000 } },
                        "unified" : { "memory.high" : "1073741824", "io.weight" : "default 100" }
                },
                "rootfsPropagation" : "rslave",
                "seccomp" : {
                        "defaultAction" : "SCMP_ACT_ERRNO",
                        "defaultErrnoRet" : 1,
                        "architectures" : [ "SCMP_ARCH_X86_64", "SCMP_ARCH_X86" ],
                        "flags" : ["SECCOMP_FILTER_FLAG_LOG"],
                        "listenerPath" : "/run/seccomp.sock",
                        "listenerMetadata" : "meta",
                        "syscalls" : [
                                { "names" : [ "read", "write" ], "action" : "SCMP_ACT_ALLOW" }, {
                                        "names" : ["personality"],
                                        "action" : "SCMP_ACT_ALLOW",
                                        "args" : [
                                                {
                                                        "index" : 0,
                                                        "value" : 4294967295,
                                                        "op" : "SCMP_CMP_EQ"
                                                },
                                                {
                                                        "index" : 5,
                                                        "value" : 255,
                                                        "valueTwo" : 8,
                                                        "op" : "SCMP_CMP_MASKED_EQ"
                                                }
                                        ]
                                },
                                {
                                        "names" : ["mkdir"],
                                        "action" : "SCMP_ACT_ERRNO",
                                        "errnoRet" : 38
                                },
                                { "names" : ["connect"], "action" : "SCMP_ACT_NOTIFY" }
                        ]
                },
                "sysctl" : { "net.ipv4.ip_forward" : "1", "kernel.msgmax" : "65536" },
                "maskedPaths" : ["/proc/kcore"],
                "readonlyPaths" : [ "/proc/sys", "/proc/bus" ],
                "mountLabel" : "system_u:object_r:container_file_t:s0",
                "personality" : { "domain" : "LINUX32", "flags" : [] },
                "intelRdt" : { "closID" : "ignored" }
        },
        "windows" : { "layerFolders" : [] },
        "vendorExtension" : 42
});

static struct berth_config *parse_ok(const char *doc)
{
        berth_error err = BERTH_ERROR_INIT;
        struct berth_config *c = NULL;
        int r;

        r = berth_config_parse(doc, strlen(doc), &c, &err);
        if (r < 0) {
                print_error("unexpected error %d: %s\n", r, berth_error_msg(&err));
                berth_error_release(&err);
                fail();
        }
        assert_non_null(c);
        assert_null(err.msg);
        return c;
}

/* The parse fails, returns nothing, and the message starts with `want`. */
static void check_error_len(const char *doc, size_t len, const char *want)
{
        berth_error err = BERTH_ERROR_INIT;
        struct berth_config *c = NULL;
        int r;

        r = berth_config_parse(doc, len, &c, &err);
        if (r >= 0 || c || !err.msg || strncmp(err.msg, want, strlen(want)) != 0) {
                print_error("document: %.300s\nwant:     %s\ngot:      %d %s\n", doc, want, r,
                            err.msg ? err.msg : "(no message)");
                berth_config_free(c);
                berth_error_release(&err);
                fail();
        }
        berth_error_release(&err);
}

static void check_error(const char *doc, const char *want)
{
        check_error_len(doc, strlen(doc), want);
}

static bool has_cap(uint64_t set, int cap)
{
        return set & (UINT64_C(1) << cap);
}

static void test_runc_spec(void **state)
{
        _cleanup_(berth_config_freep) struct berth_config *c = parse_ok(runc_spec);
        const struct berth_process *p = c->process;

        assert_string_equal(c->oci_version, "1.0.2-dev");
        assert_string_equal(c->root_path, "rootfs");
        assert_true(c->root_readonly);
        assert_string_equal(c->hostname, "runc");
        assert_null(c->domainname);
        assert_non_null(p);
        assert_true(p->terminal);
        assert_int_equal(p->n_args, 1);
        assert_string_equal(p->args[0], "sh");
        assert_null(p->args[1]);
        assert_int_equal(p->n_env, 2);
        assert_string_equal(p->env[1], "TERM=xterm");
        assert_null(p->env[2]);
        assert_string_equal(p->cwd, "/");
        assert_true(p->has_capabilities);
        assert_true(has_cap(p->capabilities.bounding, CAP_AUDIT_WRITE));
        assert_true(has_cap(p->capabilities.bounding, CAP_KILL));
        assert_true(has_cap(p->capabilities.bounding, CAP_NET_BIND_SERVICE));
        assert_false(has_cap(p->capabilities.bounding, CAP_SYS_ADMIN));
        assert_int_equal(p->capabilities.inheritable, 0);
        assert_int_equal(p->capabilities.n_unknown, 0);
        assert_int_equal(p->n_rlimits, 1);
        assert_int_equal(p->rlimits[0].resource, RLIMIT_NOFILE);
        assert_true(p->no_new_privileges);
        assert_false(p->has_oom_score_adj);

        assert_int_equal(c->n_mounts, 7);
        assert_string_equal(c->mounts[0].destination, "/proc");
        assert_null(c->mounts[0].data);
        assert_int_equal(c->mounts[0].flags, 0);
        assert_string_equal(c->mounts[1].data, "mode=755,size=65536k");
        assert_int_equal(c->mounts[1].flags, MS_NOSUID | MS_STRICTATIME);
        assert_string_equal(c->mounts[2].data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
        assert_int_equal(c->mounts[5].flags, MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY);
        assert_int_equal(c->mounts[6].flags,
                         MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY);

        assert_true(c->has_linux);
        assert_int_equal(c->linux.n_namespaces, 5);
        assert_int_equal(c->linux.namespaces[1].type, BERTH_NS_NETWORK);
        assert_null(c->linux.namespaces[1].path);
        assert_true(c->linux.has_resources);
        assert_int_equal(c->linux.resources.n_devices, 1);
        assert_false(c->linux.resources.devices[0].allow);
        assert_int_equal(c->linux.resources.devices[0].type, 'a');
        assert_false(c->linux.resources.devices[0].has_major);
        assert_string_equal(c->linux.resources.devices[0].access, "rwm");
        assert_false(c->linux.resources.has_memory);
        assert_int_equal(c->linux.n_masked_paths, 10);
        assert_string_equal(c->linux.masked_paths[9], "/proc/scsi");
        assert_int_equal(c->linux.n_readonly_paths, 5);
        assert_false(c->linux.has_seccomp);
        assert_int_equal(c->linux.rootfs_propagation_flags, 0);
        for (int k = 0; k < _BERTH_HOOK_MAX; k++)
                assert_int_equal(c->hooks[k].n_hooks, 0);
}

static void check_full_process(const struct berth_process *p)
{
        assert_true(p->terminal);
        assert_true(p->has_console_size);
        assert_int_equal(p->console_height, 24);
        assert_int_equal(p->console_width, 80);
        assert_int_equal(p->user.uid, 1000);
        assert_int_equal(p->user.gid, 1001);
        assert_true(p->user.has_umask);
        assert_int_equal(p->user.umask, 18);
        assert_int_equal(p->user.n_additional_gids, 3);
        assert_int_equal(p->user.additional_gids[2], UINT32_MAX);
        assert_string_equal(p->user.username, "me");
        assert_int_equal(p->n_args, 3);
        assert_string_equal(p->args[2], "echo hi");
        assert_string_equal(p->command_line, "ignored on linux");
        assert_string_equal(p->env[2], "EMPTY=");
        assert_string_equal(p->cwd, "/home/me");
        assert_int_equal(p->capabilities.effective, UINT64_C(1) << CAP_KILL);
        assert_true(has_cap(p->capabilities.permitted, CAP_SYS_ADMIN));
        assert_true(has_cap(p->capabilities.permitted, CAP_CHECKPOINT_RESTORE));
        assert_int_equal(p->capabilities.inheritable, 0);
        assert_int_equal(p->capabilities.ambient, 0);
        /* Unknown names are kept once each, in order of appearance. */
        assert_int_equal(p->capabilities.n_unknown, 2);
        assert_string_equal(p->capabilities.unknown[0], "CAP_BOGUS");
        assert_string_equal(p->capabilities.unknown[1], "CAP_FUTURE");
        assert_null(p->capabilities.unknown[2]);
        assert_int_equal(p->n_rlimits, 2);
        assert_string_equal(p->rlimits[0].type, "RLIMIT_NOFILE");
        assert_int_equal(p->rlimits[0].soft, 512);
        assert_int_equal(p->rlimits[0].hard, 1024);
        assert_int_equal(p->rlimits[1].resource, RLIMIT_CORE);
        assert_true(p->rlimits[1].hard == UINT64_MAX);
        assert_string_equal(p->apparmor_profile, "docker-default");
        assert_true(p->has_oom_score_adj);
        assert_int_equal(p->oom_score_adj, -500);
        assert_string_equal(p->selinux_label, "system_u:system_r:container_t:s0");
        assert_true(p->has_io_priority);
        assert_int_equal(p->io_priority_class, 2); /* IOPRIO_CLASS_BE */
        assert_int_equal(p->io_priority, 4);
        assert_true(p->has_scheduler);
        assert_int_equal(p->scheduler.policy, BERTH_SCHED_DEADLINE);
        assert_int_equal(p->scheduler.nice, -5);
        assert_int_equal(p->scheduler.n_flags, 1);
        assert_int_equal(p->scheduler.runtime, 10000000);
        assert_int_equal(p->scheduler.deadline, 20000000);
        assert_int_equal(p->scheduler.period, 30000000);
        assert_string_equal(p->exec_cpu_affinity_initial, "0-1");
        assert_string_equal(p->exec_cpu_affinity_final, "2,3");
}

static void check_full_mounts_hooks(const struct berth_config *c)
{
        const struct berth_mount *m = &c->mounts[1];

        assert_int_equal(c->n_mounts, 3);
        assert_string_equal(m->source, "/srv/data");
        assert_true(m->bind);
        assert_int_equal(m->flags, MS_BIND | MS_REC);
        assert_int_equal(m->propagation, MS_PRIVATE | MS_REC);
        assert_true(m->recursive_ro);
        assert_int_equal(m->rec_set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOATIME);
        assert_int_equal(m->rec_clear, MOUNT_ATTR__ATIME);
        assert_true(m->idmap);
        assert_false(m->idmap_recursive);
        assert_null(m->data);
        assert_int_equal(m->n_uid_mappings, 1);
        assert_int_equal(m->uid_mappings[0].host_id, 100000);
        assert_int_equal(m->uid_mappings[0].size, 65536);
        assert_int_equal(m->gid_mappings[0].host_id, 200000);
        assert_true(c->mounts[2].tmpcopyup);
        assert_string_equal(c->mounts[2].data, "mode=1777,size=10m");
        assert_int_equal(c->mounts[2].n_options, 5);

        assert_int_equal(c->hooks[BERTH_HOOK_PRESTART].n_hooks, 1);
        assert_string_equal(c->hooks[BERTH_HOOK_PRESTART].hooks[0].path, "/usr/bin/hook");
        assert_int_equal(c->hooks[BERTH_HOOK_PRESTART].hooks[0].n_args, 2);
        assert_int_equal(c->hooks[BERTH_HOOK_PRESTART].hooks[0].n_env, 1);
        assert_true(c->hooks[BERTH_HOOK_PRESTART].hooks[0].has_timeout);
        assert_int_equal(c->hooks[BERTH_HOOK_PRESTART].hooks[0].timeout, 5);
        assert_string_equal(c->hooks[BERTH_HOOK_CREATE_RUNTIME].hooks[0].path, "/bin/cr");
        assert_false(c->hooks[BERTH_HOOK_CREATE_RUNTIME].hooks[0].has_timeout);
        assert_string_equal(c->hooks[BERTH_HOOK_CREATE_CONTAINER].hooks[0].path, "/bin/cc");
        assert_string_equal(c->hooks[BERTH_HOOK_START_CONTAINER].hooks[0].path, "/bin/sc");
        assert_string_equal(c->hooks[BERTH_HOOK_POSTSTART].hooks[0].path, "/bin/ps");
        assert_int_equal(c->hooks[BERTH_HOOK_POSTSTOP].n_hooks, 2);
        assert_string_equal(c->hooks[BERTH_HOOK_POSTSTOP].hooks[1].path, "/bin/b");

        assert_int_equal(c->n_annotations, 2);
        assert_string_equal(berth_config_annotation(c, "com.example.key"), "value");
        assert_string_equal(berth_config_annotation(c, "org.opencontainers.image.os"), "linux");
        assert_null(berth_config_annotation(c, "missing"));
        assert_null(berth_config_annotation(c, NULL));
        assert_null(berth_config_annotation(NULL, "x"));
}

static void check_full_linux(const struct berth_linux *l)
{
        assert_int_equal(l->n_namespaces, 8);
        assert_string_equal(l->namespaces[1].path, "/var/run/netns/x");
        assert_int_equal(l->namespaces[6].type, BERTH_NS_CGROUP);
        assert_null(l->namespaces[6].path); /* "" means a new namespace */
        assert_int_equal(l->namespaces[7].type, BERTH_NS_TIME);
        assert_int_equal(l->n_uid_mappings, 2);
        assert_int_equal(l->uid_mappings[1].container_id, 1);
        assert_int_equal(l->uid_mappings[1].size, 65535);
        assert_int_equal(l->n_gid_mappings, 1);
        assert_true(l->time_monotonic.set);
        assert_int_equal(l->time_monotonic.secs, -3600);
        assert_int_equal(l->time_monotonic.nanosecs, 5);
        assert_true(l->time_boottime.set);
        assert_int_equal(l->time_boottime.secs, 7200);
        assert_int_equal(l->n_devices, 2);
        assert_int_equal(l->devices[0].type, 'c');
        assert_int_equal(l->devices[0].major, 10);
        assert_int_equal(l->devices[0].minor, 229);
        assert_true(l->devices[0].has_file_mode);
        assert_int_equal(l->devices[0].file_mode, 0666);
        assert_true(l->devices[0].has_gid);
        assert_int_equal(l->devices[0].gid, 5);
        assert_int_equal(l->devices[1].type, 'p');
        assert_false(l->devices[1].has_uid);
        assert_string_equal(l->cgroups_path, "/berth/box");
        assert_string_equal(l->rootfs_propagation, "rslave");
        assert_int_equal(l->rootfs_propagation_flags, MS_SLAVE | MS_REC);
        assert_int_equal(l->n_sysctl, 2);
        assert_string_equal(l->sysctl[0].key, "net.ipv4.ip_forward");
        assert_string_equal(l->sysctl[0].value, "1");
        assert_int_equal(l->n_masked_paths, 1);
        assert_int_equal(l->n_readonly_paths, 2);
        assert_string_equal(l->mount_label, "system_u:object_r:container_file_t:s0");
        assert_true(l->has_personality);
        assert_string_equal(l->personality.domain, "LINUX32");
        assert_int_equal(l->personality.n_flags, 0);
        assert_non_null(l->personality.flags);
}

static void check_full_resources(const struct berth_resources *r)
{
        assert_int_equal(r->n_devices, 3);
        assert_true(r->devices[1].allow);
        assert_int_equal(r->devices[1].type, 'c');
        assert_true(r->devices[1].has_minor);
        assert_int_equal(r->devices[1].minor, 229);
        assert_int_equal(r->devices[2].major, -1);
        assert_false(r->devices[2].has_minor);
        assert_true(r->has_memory);
        assert_true(r->memory.has_limit);
        assert_int_equal(r->memory.limit, 536870912);
        assert_int_equal(r->memory.swap, -1);
        assert_false(r->memory.has_kernel);
        assert_true(r->memory.has_kernel_tcp);
        assert_int_equal(r->memory.swappiness, 60);
        assert_true(r->memory.has_disable_oom_killer);
        assert_false(r->memory.disable_oom_killer);
        assert_true(r->memory.check_before_update);
        assert_true(r->has_cpu);
        assert_int_equal(r->cpu.shares, 1024);
        assert_int_equal(r->cpu.quota, 50000);
        assert_int_equal(r->cpu.burst, 1000);
        assert_int_equal(r->cpu.realtime_period, 1000000);
        assert_string_equal(r->cpu.cpus, "0-3");
        assert_true(r->cpu.has_idle);
        assert_true(r->has_pids_limit);
        assert_int_equal(r->pids_limit, 100);
        assert_true(r->has_block_io);
        assert_int_equal(r->block_io.weight, 500);
        assert_int_equal(r->block_io.leaf_weight, 300);
        assert_int_equal(r->block_io.weight_device[0].weight, 600);
        assert_false(r->block_io.weight_device[0].has_leaf_weight);
        assert_int_equal(r->block_io.throttle_read_bps[0].rate, 1048576);
        assert_int_equal(r->block_io.throttle_write_bps[0].minor, 16);
        assert_int_equal(r->block_io.throttle_read_iops[0].rate, 100);
        assert_int_equal(r->block_io.n_throttle_write_iops, 2);
        assert_int_equal(r->block_io.throttle_write_iops[1].rate, 300);
        assert_string_equal(r->hugepage_limits[0].page_size, "2MB");
        assert_int_equal(r->hugepage_limits[0].limit, 209715200);
        assert_true(r->has_net_class_id);
        assert_int_equal(r->net_class_id, 1048577);
        assert_string_equal(r->net_priorities[0].name, "eth0");
        assert_int_equal(r->net_priorities[0].priority, 500);
        assert_int_equal(r->n_rdma, 1);
        assert_string_equal(r->rdma[0].device, "mlx5_1");
        assert_int_equal(r->rdma[0].hca_objects, 10000);
        assert_int_equal(r->n_unified, 2);
        assert_string_equal(r->unified[1].key, "io.weight");
        assert_string_equal(r->unified[1].value, "default 100");
}

static void check_full_seccomp(const struct berth_seccomp *s)
{
        assert_int_equal(s->default_action, BERTH_SCMP_ACT_ERRNO);
        assert_true(s->has_default_errno_ret);
        assert_int_equal(s->default_errno_ret, 1);
        assert_int_equal(s->n_architectures, 2);
        assert_string_equal(s->architectures[1], "SCMP_ARCH_X86");
        assert_string_equal(s->flags[0], "SECCOMP_FILTER_FLAG_LOG");
        assert_string_equal(s->listener_path, "/run/seccomp.sock");
        assert_string_equal(s->listener_metadata, "meta");
        assert_int_equal(s->n_syscalls, 4);
        assert_int_equal(s->syscalls[0].n_names, 2);
        assert_string_equal(s->syscalls[0].names[1], "write");
        assert_int_equal(s->syscalls[0].n_args, 0);
        assert_int_equal(s->syscalls[1].n_args, 2);
        assert_int_equal(s->syscalls[1].args[0].value, 4294967295u);
        assert_int_equal(s->syscalls[1].args[0].op, BERTH_SCMP_CMP_EQ);
        assert_int_equal(s->syscalls[1].args[1].index, 5);
        assert_int_equal(s->syscalls[1].args[1].value_two, 8);
        assert_int_equal(s->syscalls[1].args[1].op, BERTH_SCMP_CMP_MASKED_EQ);
        assert_false(s->syscalls[1].has_errno_ret);
        assert_true(s->syscalls[2].has_errno_ret);
        assert_int_equal(s->syscalls[2].errno_ret, 38);
        assert_int_equal(s->syscalls[3].action, BERTH_SCMP_ACT_NOTIFY);
}

static void test_full_config(void **state)
{
        _cleanup_(berth_config_freep) struct berth_config *c = parse_ok(full_config);

        assert_string_equal(c->oci_version, "1.2.0");
        assert_string_equal(c->domainname, "example.org");
        assert_non_null(c->process);
        check_full_process(c->process);
        check_full_mounts_hooks(c);
        assert_true(c->has_linux);
        check_full_linux(&c->linux);
        assert_true(c->linux.has_resources);
        check_full_resources(&c->linux.resources);
        assert_true(c->linux.has_seccomp);
        check_full_seccomp(&c->linux.seccomp);
}

static void test_minimal_config(void **state)
{
        static const char doc[] = J({ "ociVersion" : "1.2.0" });
        _cleanup_(berth_config_freep) struct berth_config *c = parse_ok(doc);

        assert_null(c->process);
        assert_null(c->root_path);
        assert_false(c->has_linux);
        assert_int_equal(c->n_mounts, 0);
        assert_null(c->mounts);
        assert_int_equal(c->n_annotations, 0);
}

static void test_nulls_are_absent(void **state)
{
        static const char doc[] = J({
                "ociVersion" : "1.2.0",
                "hostname" : null,
                "mounts" : null,
                "process" : {
                        "cwd" : "/",
                        "args" : ["true"],
                        "env" : null,
                        "user" : null,
                        "oomScoreAdj" : null
                },
                "linux" : { "resources" : { "memory" : { "limit" : null } } }
        });
        _cleanup_(berth_config_freep) struct berth_config *c = parse_ok(doc);

        assert_null(c->hostname);
        assert_int_equal(c->n_mounts, 0);
        assert_int_equal(c->process->n_env, 0);
        assert_int_equal(c->process->user.uid, 0);
        assert_false(c->process->has_oom_score_adj);
        assert_true(c->linux.resources.has_memory);
        assert_false(c->linux.resources.memory.has_limit);
}

static void test_errors_document(void **state)
{
        static const char nul_in_string[] = "{\"ociVersion\":\"1.2.0\",\"hostname\":\"a\\u0000b\"}";
        static const char nul_byte[] = "{\"ociVersion\":\"1.2.0\"}\0{}";
        static const char bad_utf8[] = "{\"ociVersion\":\"1.2.0\",\"hostname\":\"\xff\"}";

        check_error("", "config.json: unexpected end of data");
        check_error("   ", "config.json: unexpected end of data");
        check_error("{", "config.json: unexpected end of data");
        check_error("[]", "config.json: expected a JSON object, got an array");
        check_error("42", "config.json: expected a JSON object, got an integer");
        check_error("{\"ociVersion\":\"1.2.0\"} x", "config.json: line 1, column 24: ");
        check_error("{\"ociVersion\":\"1.2.0\"}{}", "config.json: line 1, column 23");
        check_error("{\n\"ociVersion\": \"1.2.0\",\n}", "config.json: line 3, column 1: ");
        check_error("{\"a\" 1}", "config.json: line 1, column 6: ");
        check_error_len(nul_byte, sizeof(nul_byte) - 1, "config.json: line 1, column 23");
        check_error(bad_utf8, "config.json: line 1, column 35: invalid utf-8");
        check_error(nul_in_string, "config.json: hostname: string contains a NUL byte");
        check_error("{}", "config.json: ociVersion: required field is missing");
        check_error(J({ "ociVersion" : 1 }),
                    "config.json: ociVersion: expected a string, got an integer 1");
        check_error(J({ "ociVersion" : "" }), "config.json: ociVersion: must not be empty");
        check_error(J({ "ociVersion" : null }),
                    "config.json: ociVersion: required field is missing");
        check_error(DOC("hostname" : 5),
                    "config.json: hostname: expected a string, got an integer 5");
        check_error(DOC("domainname"
                        : [1]),
                    "config.json: domainname: expected a string, got an array");
        check_error(DOC("root" : "x"), "config.json: root: expected an object, got a string \"x\"");
        check_error(DOC("root" : {}), "config.json: root.path: required field is missing");
        check_error(DOC("root" : { "path" : "" }), "config.json: root.path: must not be empty");
        check_error(DOC("root"
                        : { "path" : "r", "readonly" : "true" }),
                    "config.json: root.readonly: expected a boolean, got a string \"true\"");
        check_error(DOC("process" : []), "config.json: process: expected an object, got an array");
        check_error(DOC("annotations"
                        : { "a" : 1 }),
                    "config.json: annotations.a: expected a string, got an integer 1");
        check_error(DOC("annotations" : { "" : "x" }), "config.json: annotations: empty key");
        check_error(DOC("annotations" : []), "config.json: annotations: expected an object");
        check_error(DOC("linux" : []), "config.json: linux: expected an object, got an array");
}

static void test_errors_process(void **state)
{
        check_error(DOC("process"
                        : { "args" : ["sh"] }),
                    "config.json: process.cwd: required field is missing");
        check_error(DOC("process"
                        : { "cwd" : "/" }),
                    "config.json: process.args: required field is missing");
        check_error(DOC("process"
                        : { "cwd" : "/", "args" : [] }),
                    "config.json: process.args: must contain at least one entry");
        check_error(DOC("process"
                        : { "cwd" : "/", "args" : [1] }),
                    "config.json: process.args[0]: expected a string, got an integer 1");
        check_error(DOC("process"
                        : { "cwd" : "/", "args" : "sh" }),
                    "config.json: process.args: expected an array, got a string \"sh\"");
        check_error(DOC("process"
                        : { "cwd" : "home", "args" : ["sh"] }),
                    "config.json: process.cwd: must be an absolute path, got \"home\"");
        check_error(PROC("env"
                         : [ "A=1", "FOO" ]),
                    "config.json: process.env[1]: \"FOO\" is not of the form KEY=VALUE");
        check_error(PROC("env" : ["=x"]), "config.json: process.env[0]: \"=x\" is not of the form");
        check_error(PROC("terminal" : 1), "config.json: process.terminal: expected a boolean");
        check_error(PROC("noNewPrivileges"
                         : "yes"),
                    "config.json: process.noNewPrivileges: expected a boolean");
        check_error(PROC("consoleSize"
                         : { "height" : 1 }),
                    "config.json: process.consoleSize.width: required field is missing");
        check_error(PROC("consoleSize"
                         : { "height" : 1, "width" : -2 }),
                    "config.json: process.consoleSize.width: expected an unsigned 32-bit integer, "
                    "got -2 (negative)");
        check_error(PROC("user"
                         : { "uid" : "x" }),
                    "config.json: process.user.uid: expected an unsigned 32-bit integer, got a "
                    "string \"x\"");
        check_error(PROC("user"
                         : { "uid" : -1 }),
                    "config.json: process.user.uid: expected an unsigned 32-bit integer, got -1");
        check_error(PROC("user"
                         : { "uid" : 4294967296 }),
                    "config.json: process.user.uid: expected an unsigned 32-bit integer, got "
                    "4294967296 (out of range)");
        check_error(PROC("user"
                         : { "gid" : 1.0 }),
                    "config.json: process.user.gid: expected an unsigned 32-bit integer, got a "
                    "floating-point number");
        check_error(PROC("user" : { "gid" : 1e3 }), "config.json: process.user.gid: expected");
        check_error(PROC("user"
                         : { "gid" : true }),
                    "config.json: process.user.gid: expected an unsigned 32-bit integer, got a "
                    "boolean true");
        check_error(PROC("user"
                         : { "umask" : {} }),
                    "config.json: process.user.umask: expected an unsigned 32-bit integer, got "
                    "an object");
        check_error(PROC("user"
                         : { "additionalGids" : [ 1, "2" ] }),
                    "config.json: process.user.additionalGids[1]: expected an unsigned 32-bit "
                    "integer");
        check_error(PROC("user"
                         : { "username" : 0 }),
                    "config.json: process.user.username: expected a string");
        check_error(PROC("capabilities"
                         : { "bounding" : "CAP_KILL" }),
                    "config.json: process.capabilities.bounding: expected an array");
        check_error(PROC("capabilities"
                         : { "ambient" : [null] }),
                    "config.json: process.capabilities.ambient[0]: expected a string, got null");
        check_error(PROC("apparmorProfile"
                         : false),
                    "config.json: process.apparmorProfile: expected a string");
        check_error(PROC("selinuxLabel" : 1),
                    "config.json: process.selinuxLabel: expected a string");
        check_error(PROC("oomScoreAdj" : 1001),
                    "config.json: process.oomScoreAdj: must be between -1000 and 1000, got 1001");
        check_error(PROC("oomScoreAdj" : 2147483648),
                    "config.json: process.oomScoreAdj: expected a 32-bit integer");
        check_error(PROC("commandLine"
                         : []),
                    "config.json: process.commandLine: expected a string");
}

static void test_errors_process_parts(void **state)
{
        check_error(PROC("rlimits"
                         : [ { "type" : "RLIMIT_FOO", "soft" : 1, "hard" : 1 } ]),
                    "config.json: process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\"");
        check_error(PROC("rlimits"
                         : [ { "type" : "RLIMIT_NOFILE", "soft" : 1 } ]),
                    "config.json: process.rlimits[0].hard: required field is missing");
        check_error(PROC("rlimits"
                         : [ { "type" : "RLIMIT_NOFILE", "soft" : 2, "hard" : 1 } ]),
                    "config.json: process.rlimits[0].soft: RLIMIT_NOFILE soft limit 2 is above "
                    "the hard limit 1");
        check_error(PROC("rlimits"
                         :
                         [
                                 { "type" : "RLIMIT_NOFILE", "soft" : 1, "hard" : 1 },
                                 { "type" : "RLIMIT_NOFILE", "soft" : 1, "hard" : 1 }
                         ]),
                    "config.json: process.rlimits[1]: duplicate RLIMIT_NOFILE");
        check_error(PROC("rlimits"
                         : [ { "type" : "RLIMIT_AS", "soft" : -1, "hard" : 1 } ]),
                    "config.json: process.rlimits[0].soft: expected an unsigned 64-bit integer");
        check_error(PROC("rlimits"
                         : [1]),
                    "config.json: process.rlimits[0]: expected an object, got an integer 1");
        check_error(PROC("ioPriority"
                         : { "priority" : 1 }),
                    "config.json: process.ioPriority.class: required field is missing");
        check_error(PROC("ioPriority"
                         : { "class" : "IOPRIO_CLASS_NONE" }),
                    "config.json: process.ioPriority.class: unknown I/O priority class "
                    "\"IOPRIO_CLASS_NONE\"");
        check_error(PROC("ioPriority"
                         : { "class" : "IOPRIO_CLASS_RT", "priority" : 8 }),
                    "config.json: process.ioPriority.priority: must be between 0 and 7, got 8");
        check_error(PROC("scheduler"
                         : { "nice" : 1 }),
                    "config.json: process.scheduler.policy: required field is missing");
        check_error(PROC("scheduler"
                         : { "policy" : "SCHED_NOPE" }),
                    "config.json: process.scheduler.policy: unknown scheduler policy");
        check_error(PROC("scheduler"
                         : { "policy" : "SCHED_OTHER", "nice" : 20 }),
                    "config.json: process.scheduler.nice: must be between -20 and 19, got 20");
        check_error(PROC("scheduler"
                         : { "policy" : "SCHED_OTHER", "flags" : ["SCHED_FLAG_X"] }),
                    "config.json: process.scheduler.flags[0]: unknown scheduler flag "
                    "\"SCHED_FLAG_X\"");
        check_error(PROC("scheduler"
                         : { "policy" : "SCHED_RR", "runtime" : -1 }),
                    "config.json: process.scheduler.runtime: expected an unsigned 64-bit integer");
        check_error(PROC("execCPUAffinity"
                         : { "initial" : "all" }),
                    "config.json: process.execCPUAffinity.initial: invalid CPU list \"all\"");
        check_error(PROC("execCPUAffinity"
                         : { "final" : 3 }),
                    "config.json: process.execCPUAffinity.final: expected a string");
}

static void test_errors_mounts_hooks(void **state)
{
        check_error(DOC("mounts" : {}), "config.json: mounts: expected an array, got an object");
        check_error(DOC("mounts"
                        : [1]),
                    "config.json: mounts[0]: expected an object, got an integer");
        check_error(DOC("mounts"
                        : [ { "destination" : "/a" }, {} ]),
                    "config.json: mounts[1].destination: required field is missing");
        check_error(DOC("mounts"
                        : [ { "destination" : "" } ]),
                    "config.json: mounts[0].destination: must not be empty");
        check_error(DOC("mounts"
                        : [ { "destination" : "/a", "type" : 1 } ]),
                    "config.json: mounts[0].type: expected a string");
        check_error(DOC("mounts"
                        : [ { "destination" : "/a", "options" : [ "ro", "" ] } ]),
                    "config.json: mounts[0].options[1]: invalid mount option \"\"");
        check_error(DOC("mounts"
                        : [ { "destination" : "/a", "options" : [ "ro", 5 ] } ]),
                    "config.json: mounts[0].options[1]: expected a string, got an integer 5");
        check_error(DOC("mounts"
                        : [ {
                                "destination" : "/a",
                                "uidMappings" : [ { "containerID" : 0, "hostID" : 1 } ]
                        } ]),
                    "config.json: mounts[0].uidMappings[0].size: required field is missing");
        check_error(DOC("hooks" : []), "config.json: hooks: expected an object");
        check_error(DOC("hooks"
                        : { "prestart" : {} }),
                    "config.json: hooks.prestart: expected an array");
        check_error(DOC("hooks"
                        : { "prestart" : [ { "path" : "rel" } ] }),
                    "config.json: hooks.prestart[0].path: must be an absolute path, got \"rel\"");
        check_error(
                DOC("hooks"
                    : { "createRuntime" : [ { "path" : "/x", "timeout" : 0 } ] }),
                "config.json: hooks.createRuntime[0].timeout: must be greater than zero, got 0");
        check_error(DOC("hooks"
                        : { "createContainer" : [ { "path" : "/x", "timeout" : "5" } ] }),
                    "config.json: hooks.createContainer[0].timeout: expected a 32-bit integer");
        check_error(DOC("hooks"
                        : { "startContainer" : [ { "path" : "/x", "args" : [ "a", 1 ] } ] }),
                    "config.json: hooks.startContainer[0].args[1]: expected a string");
        check_error(DOC("hooks"
                        : { "poststart" : [ { "path" : "/x", "env" : "A=1" } ] }),
                    "config.json: hooks.poststart[0].env: expected an array");
        check_error(DOC("hooks"
                        : { "poststop" : [ { "path" : "/x" }, {} ] }),
                    "config.json: hooks.poststop[1].path: required field is missing");
}

static void test_errors_linux(void **state)
{
        check_error(LINUX("namespaces"
                          : [ { "type" : "foo" } ]),
                    "config.json: linux.namespaces[0].type: unknown namespace type \"foo\"");
        check_error(LINUX("namespaces"
                          : [ { "path" : "/x" } ]),
                    "config.json: linux.namespaces[0].type: required field is missing");
        check_error(LINUX("namespaces"
                          : [ { "type" : "pid" }, { "type" : "pid", "path" : "/p" } ]),
                    "config.json: linux.namespaces[1].type: duplicate namespace \"pid\"");
        check_error(LINUX("namespaces"
                          : [ { "type" : "network", "path" : "netns" } ]),
                    "config.json: linux.namespaces[0].path: must be an absolute path");
        check_error(LINUX("uidMappings"
                          : [ { "containerID" : "0", "hostID" : 1, "size" : 1 } ]),
                    "config.json: linux.uidMappings[0].containerID: expected an unsigned 32-bit "
                    "integer, got a string \"0\"");
        check_error(LINUX("gidMappings"
                          : [ { "containerID" : 0, "hostID" : 1 } ]),
                    "config.json: linux.gidMappings[0].size: required field is missing");
        check_error(LINUX("timeOffsets"
                          : { "realtime" : {} }),
                    "config.json: linux.timeOffsets: unknown clock \"realtime\"");
        check_error(LINUX("timeOffsets"
                          : { "monotonic" : 5 }),
                    "config.json: linux.timeOffsets.monotonic: expected an object");
        check_error(LINUX("timeOffsets"
                          : { "boottime" : { "nanosecs" : 1000000000 } }),
                    "config.json: linux.timeOffsets.boottime.nanosecs: must be below 1000000000");
        check_error(LINUX("timeOffsets"
                          : { "boottime" : { "secs" : "1" } }),
                    "config.json: linux.timeOffsets.boottime.secs: expected a 64-bit integer");
        check_error(LINUX("devices"
                          : [ { "path" : "/dev/x", "type" : "c", "minor" : 1 } ]),
                    "config.json: linux.devices[0].major: required field is missing");
        check_error(LINUX("devices"
                          : [ { "path" : "/dev/x", "type" : "x" } ]),
                    "config.json: linux.devices[0].type: expected one of \"c\", \"b\", \"u\", "
                    "\"p\", got \"x\"");
        check_error(LINUX("devices"
                          : [ { "path" : "/dev/x" } ]),
                    "config.json: linux.devices[0].type: required field is missing");
        check_error(LINUX("devices"
                          : [ { "type" : "p" } ]),
                    "config.json: linux.devices[0].path: required field is missing");
        check_error(LINUX("devices"
                          : [ { "path" : "dev/x", "type" : "p" } ]),
                    "config.json: linux.devices[0].path: must be an absolute path");
        check_error(LINUX("devices"
                          : [ { "path" : "/d", "type" : "p", "fileMode" : 4096 } ]),
                    "config.json: linux.devices[0].fileMode: expected permission bits");
        check_error(LINUX("devices"
                          : [ { "path" : "/d", "type" : "p", "uid" : -5 } ]),
                    "config.json: linux.devices[0].uid: expected an unsigned 32-bit integer");
        check_error(LINUX("cgroupsPath" : 1), "config.json: linux.cgroupsPath: expected a string");
        check_error(LINUX("rootfsPropagation"
                          : "bogus"),
                    "config.json: linux.rootfsPropagation: unknown propagation \"bogus\"");
        check_error(LINUX("sysctl"
                          : { "net.ipv4.ip_forward" : 1 }),
                    "config.json: linux.sysctl.net.ipv4.ip_forward: expected a string");
        check_error(LINUX("maskedPaths"
                          : "/proc"),
                    "config.json: linux.maskedPaths: expected an array");
        check_error(LINUX("readonlyPaths"
                          : [false]),
                    "config.json: linux.readonlyPaths[0]: expected a string");
        check_error(LINUX("mountLabel" : {}), "config.json: linux.mountLabel: expected a string");
        check_error(LINUX("personality"
                          : {}),
                    "config.json: linux.personality.domain: required field is missing");
        check_error(LINUX("personality"
                          : { "domain" : "LINUX64" }),
                    "config.json: linux.personality.domain: expected \"LINUX\" or \"LINUX32\"");
}

static void test_errors_resources(void **state)
{
        check_error(LINUX("resources" : 1), "config.json: linux.resources: expected an object");
        check_error(RES("devices"
                        : [ { "access" : "rwm" } ]),
                    "config.json: linux.resources.devices[0].allow: required field is missing");
        check_error(RES("devices"
                        : [ { "allow" : "yes" } ]),
                    "config.json: linux.resources.devices[0].allow: expected a boolean");
        check_error(RES("devices"
                        : [ { "allow" : true, "access" : "rwx" } ]),
                    "config.json: linux.resources.devices[0].access: expected a combination");
        check_error(RES("devices"
                        : [ { "allow" : true, "type" : "p" } ]),
                    "config.json: linux.resources.devices[0].type: expected one of");
        check_error(RES("devices"
                        : [ { "allow" : true, "major" : -2 } ]),
                    "config.json: linux.resources.devices[0].major: must be -1");
        check_error(RES("memory"
                        : { "limit" : "1G" }),
                    "config.json: linux.resources.memory.limit: expected a 64-bit integer, got a "
                    "string \"1G\"");
        check_error(RES("memory"
                        : { "limit" : 9223372036854775808 }),
                    "config.json: linux.resources.memory.limit: expected a 64-bit integer, got "
                    "9223372036854775808 (out of range)");
        check_error(RES("memory"
                        : { "disableOOMKiller" : 0 }),
                    "config.json: linux.resources.memory.disableOOMKiller: expected a boolean");
        check_error(RES("memory"
                        : { "swappiness" : -1 }),
                    "config.json: linux.resources.memory.swappiness: expected an unsigned 64-bit");
        check_error(RES("cpu"
                        : { "shares" : -1 }),
                    "config.json: linux.resources.cpu.shares: expected an unsigned 64-bit "
                    "integer, got -1 (negative)");
        check_error(RES("cpu" : { "cpus" : 3 }), "config.json: linux.resources.cpu.cpus: expected");
        check_error(RES("pids"
                        : { "limit" : true }),
                    "config.json: linux.resources.pids.limit: expected a 64-bit integer");
        check_error(RES("blockIO"
                        : { "weight" : 70000 }),
                    "config.json: linux.resources.blockIO.weight: expected an unsigned 16-bit "
                    "integer, got 70000 (out of range)");
        check_error(RES("blockIO"
                        : { "throttleReadBpsDevice" : [ { "major" : 8 } ] }),
                    "config.json: linux.resources.blockIO.throttleReadBpsDevice[0].minor: "
                    "required field is missing");
        check_error(RES("blockIO"
                        : { "weightDevice" : [ { "major" : 8, "minor" : 0, "leafWeight" : -1 } ] }),
                    "config.json: linux.resources.blockIO.weightDevice[0].leafWeight: expected");
        check_error(RES("hugepageLimits"
                        : [ { "limit" : 1 } ]),
                    "config.json: linux.resources.hugepageLimits[0].pageSize: required field is "
                    "missing");
        check_error(RES("network"
                        : { "classID" : -1 }),
                    "config.json: linux.resources.network.classID: expected an unsigned 32-bit");
        check_error(RES("network"
                        : { "priorities" : [ { "name" : "eth0" } ] }),
                    "config.json: linux.resources.network.priorities[0].priority: required field "
                    "is missing");
        check_error(RES("rdma"
                        : { "mlx" : { "hcaHandles" : -1 } }),
                    "config.json: linux.resources.rdma.mlx.hcaHandles: expected an unsigned "
                    "32-bit integer");
        check_error(RES("rdma"
                        : { "mlx" : 1 }),
                    "config.json: linux.resources.rdma.mlx: expected an object");
        check_error(RES("unified"
                        : { "memory.max" : 5 }),
                    "config.json: linux.resources.unified.memory.max: expected a string");
}

static void test_errors_seccomp(void **state)
{
        check_error(LINUX("seccomp"
                          : {}),
                    "config.json: linux.seccomp.defaultAction: required field is missing");
        check_error(SECCOMP("defaultAction"
                            : "SCMP_ACT_FOO"),
                    "config.json: linux.seccomp.defaultAction: unknown seccomp action "
                    "\"SCMP_ACT_FOO\"");
        check_error(SECCOMP("defaultAction"
                            : "SCMP_ACT_NOTIFY", "listenerPath"
                            : "/s"),
                    "config.json: linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the "
                    "default action");
        check_error(SECCOMP("defaultAction"
                            : "SCMP_ACT_ALLOW", "defaultErrnoRet"
                            : -1),
                    "config.json: linux.seccomp.defaultErrnoRet: expected an unsigned 32-bit");
        check_error(SECCOMP("defaultAction"
                            : "SCMP_ACT_ALLOW", "architectures"
                            : [1]),
                    "config.json: linux.seccomp.architectures[0]: expected a string");
        check_error(SECCOMP("defaultAction"
                            : "SCMP_ACT_ALLOW", "syscalls"
                            : [ { "names" : ["read"] } ]),
                    "config.json: linux.seccomp.syscalls[0].action: required field is missing");
        check_error(SECCOMP("defaultAction"
                            : "SCMP_ACT_ALLOW", "syscalls"
                            : [ { "action" : "SCMP_ACT_ALLOW" } ]),
                    "config.json: linux.seccomp.syscalls[0].names: required field is missing");
        check_error(
                SECCOMP("defaultAction"
                        : "SCMP_ACT_ALLOW", "syscalls"
                        : [ { "names" : ["read"], "action" : "SCMP_ACT_KILL", "errnoRet" : "1" } ]),
                "config.json: linux.seccomp.syscalls[0].errnoRet: expected an unsigned");
        check_error(SECCOMP("defaultAction"
                            : "SCMP_ACT_ALLOW", "syscalls"
                            : [ { "names" : ["read"], "action" : "SCMP_ACT_NOTIFY" } ]),
                    "config.json: linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY needs "
                    "linux.seccomp.listenerPath");
        check_error(SECCOMP("defaultAction"
                            : "SCMP_ACT_ALLOW", "syscalls"
                            : [ {
                                    "names" : ["read"],
                                    "action" : "SCMP_ACT_KILL",
                                    "args" : [ { "index" : 6, "value" : 1, "op" : "SCMP_CMP_EQ" } ]
                            } ]),
                    "config.json: linux.seccomp.syscalls[0].args[0].index: must be below 6, got 6");
        check_error(SECCOMP("defaultAction"
                            : "SCMP_ACT_ALLOW", "syscalls"
                            : [ {
                                    "names" : ["read"],
                                    "action" : "SCMP_ACT_KILL",
                                    "args" : [ { "index" : 0, "value" : 1, "op" : "EQ" } ]
                            } ]),
                    "config.json: linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator "
                    "\"EQ\"");
        check_error(SECCOMP("defaultAction"
                            : "SCMP_ACT_ALLOW", "syscalls"
                            : [ {
                                    "names" : ["read"],
                                    "action" : "SCMP_ACT_KILL",
                                    "args" : [ { "index" : 0, "op" : "SCMP_CMP_EQ" } ]
                            } ]),
                    "config.json: linux.seccomp.syscalls[0].args[0].value: required field is "
                    "missing");
}

/* Arrays over their bound are refused before anything is allocated for them. */
static void test_errors_bounds(void **state)
{
        _cleanup_free_ char *doc = NULL, *big = NULL;
        size_t len = 0, cap = 4097 * 20 + 100;
        berth_error err = BERTH_ERROR_INIT;
        struct berth_config *c = NULL;

        doc = malloc(cap);
        assert_non_null(doc);
        len = (size_t)snprintf(doc, cap, "{\"ociVersion\":\"1.2.0\",\"mounts\":[");
        for (int i = 0; i < 4097; i++)
                len += (size_t)snprintf(doc + len, cap - len, "%s{\"destination\":\"/\"}",
                                        i ? "," : "");
        len += (size_t)snprintf(doc + len, cap - len, "]}");
        assert_true(len < cap);
        check_error(doc, "config.json: mounts: more than 4096 entries");

        big = malloc(BERTH_CONFIG_MAX_SIZE + 2);
        assert_non_null(big);
        memset(big, ' ', BERTH_CONFIG_MAX_SIZE + 1);
        memcpy(big, "{\"ociVersion\":\"1\"}", 18);
        assert_int_equal(berth_config_parse(big, BERTH_CONFIG_MAX_SIZE + 1, &c, &err), -E2BIG);
        assert_null(c);
        assert_non_null(strstr(berth_error_msg(&err), "larger than"));
        berth_error_release(&err);
        /* Exactly at the bound is fine. */
        assert_int_equal(berth_config_parse(big, BERTH_CONFIG_MAX_SIZE, &c, &err), 0);
        berth_config_free(c);
}

static struct berth_mount apply(const char *const *opts)
{
        struct berth_mount m = { 0 };

        for (; *opts; opts++)
                assert_int_equal(berth_mount_option_apply(&m, *opts), 1);
        return m;
}

#define APPLY(...) apply((const char *const[]){ __VA_ARGS__, NULL })

static void test_mount_options_flags(void **state)
{
        static const struct {
                const char *set, *clear;
                unsigned long flag;
        } pairs[] = {
                { "ro", "rw", MS_RDONLY },
                { "nosuid", "suid", MS_NOSUID },
                { "nodev", "dev", MS_NODEV },
                { "noexec", "exec", MS_NOEXEC },
                { "sync", "async", MS_SYNCHRONOUS },
                { "mand", "nomand", MS_MANDLOCK },
                { "noatime", "atime", MS_NOATIME },
                { "nodiratime", "diratime", MS_NODIRATIME },
                { "relatime", "norelatime", MS_RELATIME },
                { "strictatime", "nostrictatime", MS_STRICTATIME },
                { "nosymfollow", "symfollow", MS_NOSYMFOLLOW },
                { "lazytime", "nolazytime", MS_LAZYTIME },
                { "iversion", "noiversion", MS_I_VERSION },
                { "silent", "loud", MS_SILENT },
        };
        struct berth_mount m;

        for (size_t i = 0; i < ARRAY_SIZE(pairs); i++) {
                m = APPLY(pairs[i].set);
                assert_int_equal(m.flags, pairs[i].flag);
                assert_int_equal(m.clear_flags, 0);
                m = APPLY(pairs[i].clear);
                assert_int_equal(m.flags, 0);
                assert_int_equal(m.clear_flags, pairs[i].flag);
                /* The last one wins. */
                m = APPLY(pairs[i].set, pairs[i].clear);
                assert_int_equal(m.flags, 0);
                assert_int_equal(m.clear_flags, pairs[i].flag);
                m = APPLY(pairs[i].clear, pairs[i].set);
                assert_int_equal(m.flags, pairs[i].flag);
                assert_int_equal(m.clear_flags, 0);
        }
        m = APPLY("dirsync", "remount", "defaults");
        assert_int_equal(m.flags, MS_DIRSYNC | MS_REMOUNT);
        m = APPLY("bind");
        assert_true(m.bind);
        assert_int_equal(m.flags, MS_BIND);
        m = APPLY("rbind", "ro");
        assert_true(m.bind);
        assert_int_equal(m.flags, MS_BIND | MS_REC | MS_RDONLY);
        assert_int_equal(m.propagation, 0);
}

static void test_mount_options_propagation(void **state)
{
        static const struct {
                const char *name;
                unsigned long flags;
        } props[] = {
                { "private", MS_PRIVATE },       { "rprivate", MS_PRIVATE | MS_REC },
                { "slave", MS_SLAVE },           { "rslave", MS_SLAVE | MS_REC },
                { "shared", MS_SHARED },         { "rshared", MS_SHARED | MS_REC },
                { "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
        };
        struct berth_mount m;

        for (size_t i = 0; i < ARRAY_SIZE(props); i++) {
                m = APPLY(props[i].name);
                assert_int_equal(m.propagation, props[i].flags);
                assert_int_equal(m.flags, 0);
        }
        m = APPLY("shared", "rslave");
        assert_int_equal(m.propagation, MS_SLAVE | MS_REC);
}

static void test_mount_options_recursive(void **state)
{
        static const struct {
                const char *set, *clear;
                unsigned long attr;
        } pairs[] = {
                { "rro", "rrw", MOUNT_ATTR_RDONLY },
                { "rnosuid", "rsuid", MOUNT_ATTR_NOSUID },
                { "rnodev", "rdev", MOUNT_ATTR_NODEV },
                { "rnoexec", "rexec", MOUNT_ATTR_NOEXEC },
                { "rnodiratime", "rdiratime", MOUNT_ATTR_NODIRATIME },
                { "rnosymfollow", "rsymfollow", MOUNT_ATTR_NOSYMFOLLOW },
        };
        struct berth_mount m;

        for (size_t i = 0; i < ARRAY_SIZE(pairs); i++) {
                m = APPLY(pairs[i].set);
                assert_int_equal(m.rec_set, pairs[i].attr);
                assert_int_equal(m.rec_clear, 0);
                assert_int_equal(m.flags, 0);
                m = APPLY(pairs[i].set, pairs[i].clear);
                assert_int_equal(m.rec_set, 0);
                assert_int_equal(m.rec_clear, pairs[i].attr);
        }
        m = APPLY("rro");
        assert_true(m.recursive_ro);
        m = APPLY("rro", "rrw");
        assert_false(m.recursive_ro);

        /* Access-time modes replace each other and always clear the whole field. */
        m = APPLY("rnoatime");
        assert_int_equal(m.rec_set, MOUNT_ATTR_NOATIME);
        assert_int_equal(m.rec_clear, MOUNT_ATTR__ATIME);
        m = APPLY("rnoatime", "rstrictatime");
        assert_int_equal(m.rec_set, MOUNT_ATTR_STRICTATIME);
        assert_int_equal(m.rec_clear, MOUNT_ATTR__ATIME);
        m = APPLY("rstrictatime", "rrelatime");
        assert_int_equal(m.rec_set, MOUNT_ATTR_RELATIME);
        assert_int_equal(m.rec_clear, MOUNT_ATTR__ATIME);
        m = APPLY("rnoatime", "ratime", "rnodev");
        assert_int_equal(m.rec_set, MOUNT_ATTR_NODEV);
        assert_int_equal(m.rec_clear, MOUNT_ATTR__ATIME);
        m = APPLY("rnostrictatime");
        assert_int_equal(m.rec_set, 0);
        assert_int_equal(m.rec_clear, MOUNT_ATTR__ATIME);
        m = APPLY("rnorelatime");
        assert_int_equal(m.rec_clear, MOUNT_ATTR__ATIME);
}

static void test_mount_options_other(void **state)
{
        struct berth_mount m = { 0 };

        m = APPLY("idmap");
        assert_true(m.idmap);
        assert_false(m.idmap_recursive);
        m = APPLY("ridmap");
        assert_true(m.idmap);
        assert_true(m.idmap_recursive);
        m = APPLY("tmpcopyup");
        assert_true(m.tmpcopyup);

        memset(&m, 0, sizeof(m));
        assert_int_equal(berth_mount_option_apply(&m, "mode=755"), 0);
        assert_int_equal(berth_mount_option_apply(&m, "size=65536k"), 0);
        assert_int_equal(berth_mount_option_apply(&m, "newinstance"), 0);
        assert_int_equal(berth_mount_option_apply(&m, "RO"), 0); /* case matters, as in mount(8) */
        assert_int_equal(berth_mount_option_apply(&m, ""), -EINVAL);
        assert_int_equal(berth_mount_option_apply(&m, NULL), -EINVAL);
        assert_int_equal(m.flags, 0);
        assert_null(m.data); /* the caller collects data */
}

static void test_mount_data_joined(void **state)
{
        static const char doc[] =
                DOC("mounts"
                    : [
                            {
                                    "destination" : "/a",
                                    "options" : [ "ro", "x=1", "nosuid", "y", "z=a:b" ]
                            },
                            { "destination" : "rel", "options" : [] },
                            { "destination" : "/c", "options" : ["rw"] }
                    ]);
        _cleanup_(berth_config_freep) struct berth_config *c = parse_ok(doc);

        assert_string_equal(c->mounts[0].data, "x=1,y,z=a:b");
        assert_int_equal(c->mounts[0].flags, MS_RDONLY | MS_NOSUID);
        assert_int_equal(c->mounts[0].n_options, 5);
        assert_string_equal(c->mounts[1].destination, "rel");
        assert_int_equal(c->mounts[1].n_options, 0);
        assert_non_null(c->mounts[1].options);
        assert_null(c->mounts[1].data);
        assert_int_equal(c->mounts[2].clear_flags, MS_RDONLY);
}

static void test_tables_enums(void **state)
{
        static const char *const proc_names[] = { "pid", "net",  "mnt",    "ipc",
                                                  "uts", "user", "cgroup", "time" };
        int flags = 0;

        for (int i = 0; i < _BERTH_NS_MAX; i++) {
                const char *s = berth_ns_type_to_string(i);
                int f = berth_ns_type_clone_flag(i);

                assert_non_null(s);
                assert_int_equal(berth_ns_type_from_string(s), i);
                assert_string_equal(berth_ns_type_proc_name(i), proc_names[i]);
                assert_true(f > 0);
                assert_int_equal(flags & f, 0);
                flags |= f;
        }
        assert_int_equal(berth_ns_type_clone_flag(BERTH_NS_MOUNT), CLONE_NEWNS);
        assert_int_equal(berth_ns_type_clone_flag(BERTH_NS_USER), CLONE_NEWUSER);
        assert_int_equal(berth_ns_type_from_string("network"), BERTH_NS_NETWORK);
        assert_int_equal(berth_ns_type_from_string("net"), -1);
        assert_null(berth_ns_type_to_string(_BERTH_NS_MAX));
        assert_null(berth_ns_type_proc_name(_BERTH_NS_MAX));
        assert_int_equal(berth_ns_type_clone_flag(_BERTH_NS_MAX), -1);
        assert_int_equal(berth_ns_type_from_string(NULL), -1);

        for (int i = 0; i < _BERTH_HOOK_MAX; i++)
                assert_int_equal(berth_hook_kind_from_string(berth_hook_kind_to_string(i)), i);
        assert_string_equal(berth_hook_kind_to_string(BERTH_HOOK_CREATE_RUNTIME), "createRuntime");
        assert_string_equal(berth_hook_kind_to_string(BERTH_HOOK_POSTSTOP), "poststop");
        assert_null(berth_hook_kind_to_string(_BERTH_HOOK_MAX));
        assert_int_equal(berth_hook_kind_from_string("PRESTART"), -1);

        for (int i = 0; i < _BERTH_SCMP_ACT_MAX; i++) {
                const char *s = berth_seccomp_action_to_string(i);
                assert_non_null(s);
                assert_memory_equal(s, "SCMP_ACT_", 9);
                assert_int_equal(berth_seccomp_action_from_string(s), i);
        }
        assert_null(berth_seccomp_action_to_string(_BERTH_SCMP_ACT_MAX));
        for (int i = 0; i < _BERTH_SCMP_CMP_MAX; i++) {
                const char *s = berth_seccomp_op_to_string(i);
                assert_non_null(s);
                assert_memory_equal(s, "SCMP_CMP_", 9);
                assert_int_equal(berth_seccomp_op_from_string(s), i);
        }
        assert_null(berth_seccomp_op_to_string(_BERTH_SCMP_CMP_MAX));
        for (int i = 0; i < _BERTH_SCHED_MAX; i++) {
                const char *s = berth_sched_policy_to_string(i);
                assert_non_null(s);
                assert_memory_equal(s, "SCHED_", 6);
                assert_int_equal(berth_sched_policy_from_string(s), i);
        }
        assert_null(berth_sched_policy_to_string(_BERTH_SCHED_MAX));
        assert_int_equal(berth_sched_policy_from_string("sched_other"), -1);
}

static void test_tables_rlimits(void **state)
{
        assert_int_equal(RLIMIT_NLIMITS, 16);
        for (int i = 0; i < RLIMIT_NLIMITS; i++) {
                const char *s = berth_rlimit_to_string(i);
                assert_non_null(s);
                assert_memory_equal(s, "RLIMIT_", 7);
                assert_int_equal(berth_rlimit_from_string(s), i);
        }
        assert_int_equal(berth_rlimit_from_string("RLIMIT_AS"), RLIMIT_AS);
        assert_int_equal(berth_rlimit_from_string("RLIMIT_RTTIME"), RLIMIT_RTTIME);
        assert_int_equal(berth_rlimit_from_string("rlimit_nofile"), -1);
        assert_int_equal(berth_rlimit_from_string(NULL), -1);
        assert_null(berth_rlimit_to_string(RLIMIT_NLIMITS));
        assert_null(berth_rlimit_to_string(-1));
}

static void test_tables_capabilities(void **state)
{
        int last = berth_capability_last();

        assert_int_equal(last, 40);
        assert_true(last < 64); /* the sets are 64-bit masks */
        for (int i = 0; i <= last; i++) {
                const char *s = berth_capability_to_string(i);
                char lower[64];
                size_t j;

                assert_non_null(s);
                assert_int_equal(berth_capability_from_string(s), i);
                for (j = 0; s[j] && j < sizeof(lower) - 1; j++)
                        lower[j] = (char)(s[j] >= 'A' && s[j] <= 'Z' ? s[j] - 'A' + 'a' : s[j]);
                lower[j] = '\0';
                assert_int_equal(berth_capability_from_string(lower), i);
                assert_int_equal(berth_capability_from_string(s + 4), i);
                /* Cross-check with libcap, as far as its headers go. */
                if (i <= CAP_LAST_CAP) {
                        char *name = cap_to_name(i);
                        assert_non_null(name);
                        assert_string_equal(name, lower);
                        cap_free(name);
                }
        }
        assert_string_equal(berth_capability_to_string(CAP_SYS_ADMIN), "CAP_SYS_ADMIN");
        assert_string_equal(berth_capability_to_string(40), "CAP_CHECKPOINT_RESTORE");
        assert_null(berth_capability_to_string(last + 1));
        assert_null(berth_capability_to_string(-1));
        assert_int_equal(berth_capability_from_string("CAP_"), -1);
        assert_int_equal(berth_capability_from_string("CAP_BOGUS"), -1);
        assert_int_equal(berth_capability_from_string(""), -1);
        assert_int_equal(berth_capability_from_string(NULL), -1);
}

static void test_process_parse(void **state)
{
        static const char doc[] = J({
                "args" : [ "ls", "-l" ],
                "cwd" : "/tmp",
                "env" : ["A=b"],
                "user" : { "uid" : 5 },
                "rlimits" : [ { "type" : "RLIMIT_NPROC", "soft" : 5, "hard" : 10 } ]
        });
        static const char bad[] = J({ "args" : ["ls"], "cwd" : "/", "user" : { "uid" : "x" } });
        _cleanup_(berth_process_freep) struct berth_process *p = NULL;
        berth_error err = BERTH_ERROR_INIT;

        assert_int_equal(berth_process_parse(doc, strlen(doc), &p, &err), 0);
        assert_int_equal(p->n_args, 2);
        assert_string_equal(p->cwd, "/tmp");
        assert_int_equal(p->user.uid, 5);
        assert_int_equal(p->rlimits[0].resource, RLIMIT_NPROC);

        berth_process_free(NULL);
        berth_process_free(TAKE_PTR(p));
        assert_true(berth_process_parse(bad, strlen(bad), &p, &err) < 0);
        assert_null(p);
        assert_string_equal(err.msg, "process.json: user.uid: expected an unsigned 32-bit "
                                     "integer, got a string \"x\"");
        berth_error_release(&err);
        assert_true(berth_process_parse("{}", 2, &p, &err) < 0);
        assert_string_equal(err.msg, "process.json: args: required field is missing");
        berth_error_release(&err);
        assert_true(berth_process_parse("[]", 2, &p, &err) < 0);
        berth_error_release(&err);
}

static void test_config_load(void **state)
{
        char path[] = "/tmp/test-config-XXXXXX";
        _cleanup_(berth_config_freep) struct berth_config *c = NULL;
        berth_error err = BERTH_ERROR_INIT;
        int fd = mkstemp(path);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, runc_spec, strlen(runc_spec)), (ssize_t)strlen(runc_spec));
        close(fd);
        assert_int_equal(berth_config_load(path, &c, &err), 0);
        assert_int_equal(c->n_mounts, 7);
        berth_config_free(TAKE_PTR(c));

        fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "{\"ociVersion\":2}", 16), 16);
        close(fd);
        assert_true(berth_config_load(path, &c, &err) < 0);
        assert_null(c);
        /* Messages from a file name the file. */
        assert_memory_equal(err.msg, path, strlen(path));
        assert_string_equal(err.msg + strlen(path), ": ociVersion: expected a string, got an "
                                                    "integer 2");
        berth_error_release(&err);
        unlink(path);
        assert_int_equal(berth_config_load(path, &c, &err), -ENOENT);
        assert_non_null(strstr(err.msg, path));
        berth_error_release(&err);
        berth_config_free(NULL);
}

static void test_json_helpers(void **state)
{
        static const char doc[] = J({
                "u64max" : 18446744073709551615,
                "i64min" : -9223372036854775808,
                "u16" : 65535,
                "neg" : -1,
                "big" : 4294967296,
                "s" : "x",
                "strv" : [ "a", "b" ],
                "n" : null
        });
        _cleanup_strv_ char **v = NULL;
        berth_error err = BERTH_ERROR_INIT;
        json_object *o = NULL;
        uint64_t u64 = 0;
        int64_t i64 = 0;
        uint32_t u32 = 7;
        uint16_t u16 = 0;
        int32_t i32 = 0;
        size_t n = 0;
        char buf[8];

        assert_int_equal(berth_json_parse_object(doc, strlen(doc), "t", &o, &err), 0);
        assert_int_equal(berth_json_get_uint64(o, "u64max", "", true, &u64, &err), 1);
        assert_true(u64 == UINT64_MAX);
        assert_true(berth_json_get_int64(o, "u64max", "", true, &i64, &err) < 0);
        assert_string_equal(err.msg, "u64max: expected a 64-bit integer, got "
                                     "18446744073709551615 (out of range)");
        assert_int_equal(berth_json_get_int64(o, "i64min", "", true, &i64, &err), 1);
        assert_true(i64 == INT64_MIN);
        assert_int_equal(berth_json_get_uint16(o, "u16", "", true, &u16, &err), 1);
        assert_int_equal(u16, 65535);
        assert_true(berth_json_get_uint64(o, "neg", "", true, &u64, &err) < 0);
        assert_int_equal(berth_json_get_int32(o, "neg", "", true, &i32, &err), 1);
        assert_int_equal(i32, -1);
        assert_true(berth_json_get_int32(o, "big", "p", true, &i32, &err) < 0);
        assert_string_equal(err.msg, "p.big: expected a 32-bit integer, got 4294967296 (out of "
                                     "range)");
        assert_int_equal(berth_json_get_uint32(o, "missing", "", false, &u32, &err), 0);
        assert_int_equal(berth_json_get_uint32(o, "n", "", false, &u32, &err), 0);
        assert_int_equal(u32, 7); /* untouched */
        assert_int_equal(berth_json_get_strv(o, "strv", "", true, 2, &v, &n, &err), 1);
        assert_int_equal(n, 2);
        assert_string_equal(v[1], "b");
        assert_null(v[2]);
        assert_int_equal(berth_json_get_strv(o, "strv", "", true, 1, &v, &n, &err), -E2BIG);
        assert_string_equal(err.msg, "strv: more than 1 entries");
        assert_int_equal(n, 2); /* untouched on failure */
        assert_true(berth_json_get_bool(o, "s", "", true, &(bool){ false }, &err) < 0);
        assert_string_equal(err.msg, "s: expected a boolean, got a string \"x\"");
        berth_error_release(&err);
        json_object_put(o);

        assert_string_equal(berth_json_path(buf, sizeof(buf), "", "key"), "key");
        assert_string_equal(berth_json_path(buf, sizeof(buf), "a", "b"), "a.b");
        assert_string_equal(berth_json_path(buf, sizeof(buf), "abcdef", "ghi"), "abcdef.");
        assert_string_equal(berth_json_path_index(buf, sizeof(buf), "m", 12), "m[12]");

        /* A top-level scalar is a complete document too. */
        assert_int_equal(berth_json_parse("12", 2, "t", &o, &err), 0);
        assert_int_equal(json_object_get_int(o), 12);
        json_object_put(o);
        assert_true(berth_json_parse("12 x", 4, "t", &o, &err) < 0);
        berth_error_release(&err);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_runc_spec),
                cmocka_unit_test(test_full_config),
                cmocka_unit_test(test_minimal_config),
                cmocka_unit_test(test_nulls_are_absent),
                cmocka_unit_test(test_errors_document),
                cmocka_unit_test(test_errors_process),
                cmocka_unit_test(test_errors_process_parts),
                cmocka_unit_test(test_errors_mounts_hooks),
                cmocka_unit_test(test_errors_linux),
                cmocka_unit_test(test_errors_resources),
                cmocka_unit_test(test_errors_seccomp),
                cmocka_unit_test(test_errors_bounds),
                cmocka_unit_test(test_mount_options_flags),
                cmocka_unit_test(test_mount_options_propagation),
                cmocka_unit_test(test_mount_options_recursive),
                cmocka_unit_test(test_mount_options_other),
                cmocka_unit_test(test_mount_data_joined),
                cmocka_unit_test(test_tables_enums),
                cmocka_unit_test(test_tables_rlimits),
                cmocka_unit_test(test_tables_capabilities),
                cmocka_unit_test(test_process_parse),
                cmocka_unit_test(test_config_load),
                cmocka_unit_test(test_json_helpers),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
