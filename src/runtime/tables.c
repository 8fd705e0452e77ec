/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * enum <-> string tables for the runtime config, one per enum, indexed by
 * the enum value. tests/unit/test-config.c checks that each is complete and
 * that every entry round-trips.
 */
#include <sched.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#include "basic/cleanup.h"
#include "runtime/config.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct {
        const char *name; /* as in config.json */
        const char *proc; /* /proc/self/ns/<proc> */
        int clone_flag;
} ns_table[_BERTH_NS_MAX] = {
        [BERTH_NS_PID] = { "pid", "pid", CLONE_NEWPID },
        [BERTH_NS_NETWORK] = { "network", "net", CLONE_NEWNET },
        [BERTH_NS_MOUNT] = { "mount", "mnt", CLONE_NEWNS },
        [BERTH_NS_IPC] = { "ipc", "ipc", CLONE_NEWIPC },
        [BERTH_NS_UTS] = { "uts", "uts", CLONE_NEWUTS },
        [BERTH_NS_USER] = { "user", "user", CLONE_NEWUSER },
        [BERTH_NS_CGROUP] = { "cgroup", "cgroup", CLONE_NEWCGROUP },
        [BERTH_NS_TIME] = { "time", "time", CLONE_NEWTIME },
};

static const char *const hook_kind_table[_BERTH_HOOK_MAX] = {
        [BERTH_HOOK_PRESTART] = "prestart",
        [BERTH_HOOK_CREATE_RUNTIME] = "createRuntime",
        [BERTH_HOOK_CREATE_CONTAINER] = "createContainer",
        [BERTH_HOOK_START_CONTAINER] = "startContainer",
        [BERTH_HOOK_POSTSTART] = "poststart",
        [BERTH_HOOK_POSTSTOP] = "poststop",
};

static const char *const seccomp_action_table[_BERTH_SCMP_ACT_MAX] = {
        [BERTH_SCMP_ACT_KILL] = "SCMP_ACT_KILL",
        [BERTH_SCMP_ACT_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS",
        [BERTH_SCMP_ACT_KILL_THREAD] = "SCMP_ACT_KILL_THREAD",
        [BERTH_SCMP_ACT_TRAP] = "SCMP_ACT_TRAP",
        [BERTH_SCMP_ACT_ERRNO] = "SCMP_ACT_ERRNO",
        [BERTH_SCMP_ACT_TRACE] = "SCMP_ACT_TRACE",
        [BERTH_SCMP_ACT_ALLOW] = "SCMP_ACT_ALLOW",
        [BERTH_SCMP_ACT_LOG] = "SCMP_ACT_LOG",
        [BERTH_SCMP_ACT_NOTIFY] = "SCMP_ACT_NOTIFY",
};

static const char *const seccomp_op_table[_BERTH_SCMP_CMP_MAX] = {
        [BERTH_SCMP_CMP_NE] = "SCMP_CMP_NE",
        [BERTH_SCMP_CMP_LT] = "SCMP_CMP_LT",
        [BERTH_SCMP_CMP_LE] = "SCMP_CMP_LE",
        [BERTH_SCMP_CMP_EQ] = "SCMP_CMP_EQ",
        [BERTH_SCMP_CMP_GE] = "SCMP_CMP_GE",
        [BERTH_SCMP_CMP_GT] = "SCMP_CMP_GT",
        [BERTH_SCMP_CMP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

static const char *const sched_policy_table[_BERTH_SCHED_MAX] = {
        [BERTH_SCHED_OTHER] = "SCHED_OTHER",
        [BERTH_SCHED_FIFO] = "SCHED_FIFO",
        [BERTH_SCHED_RR] = "SCHED_RR",
        [BERTH_SCHED_BATCH] = "SCHED_BATCH",
        [BERTH_SCHED_ISO] = "SCHED_ISO",
        [BERTH_SCHED_IDLE] = "SCHED_IDLE",
        [BERTH_SCHED_DEADLINE] = "SCHED_DEADLINE",
};

/* Indexed by the kernel's RLIMIT_* numbers (the same on every Linux architecture's glibc). */
static const char *const rlimit_table[] = {
        [RLIMIT_CPU] = "RLIMIT_CPU",           [RLIMIT_FSIZE] = "RLIMIT_FSIZE",
        [RLIMIT_DATA] = "RLIMIT_DATA",         [RLIMIT_STACK] = "RLIMIT_STACK",
        [RLIMIT_CORE] = "RLIMIT_CORE",         [RLIMIT_RSS] = "RLIMIT_RSS",
        [RLIMIT_NPROC] = "RLIMIT_NPROC",       [RLIMIT_NOFILE] = "RLIMIT_NOFILE",
        [RLIMIT_MEMLOCK] = "RLIMIT_MEMLOCK",   [RLIMIT_AS] = "RLIMIT_AS",
        [RLIMIT_LOCKS] = "RLIMIT_LOCKS",       [RLIMIT_SIGPENDING] = "RLIMIT_SIGPENDING",
        [RLIMIT_MSGQUEUE] = "RLIMIT_MSGQUEUE", [RLIMIT_NICE] = "RLIMIT_NICE",
        [RLIMIT_RTPRIO] = "RLIMIT_RTPRIO",     [RLIMIT_RTTIME] = "RLIMIT_RTTIME",
};

/*
 * Capability numbers from linux/capability.h, written out so that the names
 * this build accepts do not depend on the libcap or kernel headers it was
 * built against.
 */
static const char *const capability_table[] = {
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_DAC_READ_SEARCH",
        "CAP_FOWNER",
        "CAP_FSETID",
        "CAP_KILL",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETPCAP",
        "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST",
        "CAP_NET_ADMIN",
        "CAP_NET_RAW",
        "CAP_IPC_LOCK",
        "CAP_IPC_OWNER",
        "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO",
        "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT",
        "CAP_SYS_ADMIN",
        "CAP_SYS_BOOT",
        "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG",
        "CAP_MKNOD",
        "CAP_LEASE",
        "CAP_AUDIT_WRITE",
        "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN",
        "CAP_SYSLOG",
        "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND",
        "CAP_AUDIT_READ",
        "CAP_PERFMON",
        "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE",
};

static const char *to_string(const char *const *table, size_t n, int i)
{
        if (i < 0 || (size_t)i >= n)
                return NULL;
        return table[i];
}

static int from_string(const char *const *table, size_t n, const char *s)
{
        if (!s)
                return -1;
        for (size_t i = 0; i < n; i++)
                if (table[i] && strcmp(table[i], s) == 0)
                        return (int)i;
        return -1;
}

const char *berth_ns_type_to_string(enum berth_ns_type t)
{
        return (unsigned)t < _BERTH_NS_MAX ? ns_table[t].name : NULL;
}

int berth_ns_type_from_string(const char *s)
{
        if (!s)
                return -1;
        for (size_t i = 0; i < _BERTH_NS_MAX; i++)
                if (strcmp(ns_table[i].name, s) == 0)
                        return (int)i;
        return -1;
}

int berth_ns_type_clone_flag(enum berth_ns_type t)
{
        return (unsigned)t < _BERTH_NS_MAX ? ns_table[t].clone_flag : -1;
}

const char *berth_ns_type_proc_name(enum berth_ns_type t)
{
        return (unsigned)t < _BERTH_NS_MAX ? ns_table[t].proc : NULL;
}

const char *berth_hook_kind_to_string(enum berth_hook_kind k)
{
        return to_string(hook_kind_table, ARRAY_SIZE(hook_kind_table), (int)k);
}

int berth_hook_kind_from_string(const char *s)
{
        return from_string(hook_kind_table, ARRAY_SIZE(hook_kind_table), s);
}

const char *berth_seccomp_action_to_string(enum berth_seccomp_action a)
{
        return to_string(seccomp_action_table, ARRAY_SIZE(seccomp_action_table), (int)a);
}

int berth_seccomp_action_from_string(const char *s)
{
        return from_string(seccomp_action_table, ARRAY_SIZE(seccomp_action_table), s);
}

const char *berth_seccomp_op_to_string(enum berth_seccomp_op o)
{
        return to_string(seccomp_op_table, ARRAY_SIZE(seccomp_op_table), (int)o);
}

int berth_seccomp_op_from_string(const char *s)
{
        return from_string(seccomp_op_table, ARRAY_SIZE(seccomp_op_table), s);
}

const char *berth_sched_policy_to_string(enum berth_sched_policy p)
{
        return to_string(sched_policy_table, ARRAY_SIZE(sched_policy_table), (int)p);
}

int berth_sched_policy_from_string(const char *s)
{
        return from_string(sched_policy_table, ARRAY_SIZE(sched_policy_table), s);
}

int berth_rlimit_from_string(const char *s)
{
        return from_string(rlimit_table, ARRAY_SIZE(rlimit_table), s);
}

const char *berth_rlimit_to_string(int resource)
{
        return to_string(rlimit_table, ARRAY_SIZE(rlimit_table), resource);
}

int berth_capability_from_string(const char *s)
{
        if (!s)
                return -1;
        if (strncasecmp(s, "CAP_", 4) == 0)
                s += 4;
        for (size_t i = 0; i < ARRAY_SIZE(capability_table); i++)
                if (strcasecmp(capability_table[i] + 4, s) == 0)
                        return (int)i;
        return -1;
}

const char *berth_capability_to_string(int cap)
{
        return to_string(capability_table, ARRAY_SIZE(capability_table), cap);
}

int berth_capability_last(void)
{
        return (int)ARRAY_SIZE(capability_table) - 1;
}
