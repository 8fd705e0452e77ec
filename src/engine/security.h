/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * A container's security defaults, applied to its OCI runtime config.
 *
 * The engine builds config.json (spec.c) and then calls
 * berth_security_apply() with what the user asked for on the command line
 * (--cap-add, --cap-drop, --privileged, --security-opt). The call owns these
 * members of the config and overwrites whatever they held:
 *
 *   process.capabilities    bounding = effective = permitted = the set below;
 *                           inheritable and ambient empty (as Docker since
 *                           20.10.14: nothing survives an execve of a
 *                           non-root user's binary unless it has file caps)
 *   process.noNewPrivileges the no-new-privileges option
 *   process.apparmorProfile a profile the user named, else absent
 *   linux.seccomp           the profile, absent when unconfined/privileged
 *   linux.maskedPaths       Docker's list, empty when privileged
 *   linux.readonlyPaths     Docker's list, empty when privileged
 *
 * Capabilities. Docker's default set (moby oci/caps/defaults.go): CHOWN,
 * DAC_OVERRIDE, FSETID, FOWNER, MKNOD, NET_RAW, SETGID, SETUID, SETFCAP,
 * SETPCAP, NET_BIND_SERVICE, SYS_CHROOT, KILL, AUDIT_WRITE. Names are taken
 * with or without "CAP_", in any case; "ALL" means every capability this
 * kernel knows (/proc/sys/kernel/cap_last_cap) and berth's bounding set
 * holds (see berth_security_all_caps()). As in Docker: --cap-add ALL
 * gives all but the dropped ones; --cap-drop ALL keeps only the added ones;
 * otherwise the drops apply to the defaults and the adds come after (a name
 * in both lists is kept).
 *
 * --privileged: every capability ("ALL") (adds and drops are checked
 * but not applied, as Docker ignores them), no seccomp filter, no masked or
 * read-only paths, no AppArmor profile unless one is named. Giving the
 * container the host's devices and a read-write /sys is the spec builder's
 * concern (berth_security_options.privileged says so to it too).
 *
 * AppArmor. Docker loads its own "docker-default" profile; berth ships no
 * AppArmor profile, so by default no profile is set (the process runs
 * unconfined, as under podman without containers-common's profile). A named
 * profile (already loaded by the administrator) is set as
 * process.apparmorProfile when AppArmor is enabled on the host
 * (/sys/module/apparmor/parameters/enabled is "Y"); naming one on a host
 * without AppArmor is an error rather than a silent no-op. "unconfined"
 * sets none.
 *
 * Seccomp. The default profile is data: src/engine/seccomp-default.json,
 * compiled into the binary. Its format (berth's own, organised as Docker's
 * profile is, by groups):
 *
 *   { "defaultAction": "errno", "defaultErrno": "EPERM",
 *     "architectures": { "<uname -m>": ["SCMP_ARCH_...", ...], ... },
 *     "groups": [ { "name": "...", "why": "...",
 *                   "action": "allow" | "errno", "errno": "ENOSYS",
 *                   "syscalls": ["name", ...],
 *                   "ifCaps": ["CAP_X", ...],     all must be effective
 *                   "unlessCaps": ["CAP_X", ...], none may be effective
 *                   "arches": ["x86_64", ...],    only on these hosts
 *                   "notArches": ["s390x", ...],  not on these hosts
 *                   "minKernel": "4.8",           only on this kernel or newer
 *                   "args": [ { "index": 0, "op": "eq" | "ne" | "lt" | "le" |
 *                               "gt" | "ge" | "masked_eq",
 *                               "value": N | "anyOf": [N, ...],
 *                               "mask": N } ] }, ... ] }
 *
 * A group applies when all its conditions hold; its args are ANDed, and one
 * argument may list "anyOf" values, which becomes one OCI rule per value
 * (rules OR). Errno names are the few a profile needs (EPERM, ENOSYS, EINVAL,
 * EACCES). Unknown members are errors, so a typo cannot silently widen or
 * narrow the filter.
 *
 * --security-opt seccomp=FILE takes either that format or Docker's profile
 * format (defaultAction, archMap, syscalls with includes/excludes: the format
 * docker, podman and containers-common use); Docker's conditions are
 * evaluated the same way here, against the effective capabilities, the host
 * architecture and kernel.
 */

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"

typedef struct berth_security_options {
        char **cap_add;  /* NULL-terminated names, may be NULL */
        char **cap_drop; /* NULL-terminated names, may be NULL */
        /* All capabilities, no seccomp, no masked paths. The spec builder
         * reads the same flag to add the host's devices and mount /sys rw. */
        bool privileged;
        const char *seccomp_profile; /* a file, "unconfined", or NULL for the default */
        bool no_new_privileges;
        const char *apparmor; /* a loaded profile's name, "unconfined", or NULL */
        /* The engine runs in a user namespace: capabilities are relative to
         * it and everything else applies unchanged, but a named AppArmor
         * profile is an error (it cannot be entered from there). */
        bool rootless;
} berth_security_options;

/*
 * Applies `o` to `oci_config` (a JSON object; "process" and "linux" are
 * created when missing). On error the config may be partly changed and
 * *err names the bad input: "--cap-add CAP_FOO: unknown capability",
 * "--security-opt seccomp=/x.json: syscalls[3].action: ...".
 */
int berth_security_apply(json_object *oci_config, const berth_security_options *o,
                         berth_error *err);

/*
 * The effective capability set `o` gives on this kernel, as a bit mask
 * (bit n = capability n). Errors as berth_security_apply().
 */
int berth_security_caps(const berth_security_options *o, uint64_t *ret, berth_error *err);

/*
 * What "ALL" and --privileged mean: the capabilities up to cap_last_cap that
 * are in the calling process's bounding set (all of them for root on the
 * host; fewer when berth itself runs in a restricted container).
 */
uint64_t berth_security_all_caps(void);

/* Highest capability number this kernel knows (cap_last_cap). */
int berth_security_last_cap(void);

/* Docker's default capability set as a mask (0xa80425fb). */
uint64_t berth_security_default_caps(void);

/* Docker's lists; NULL-terminated, static. */
extern const char *const berth_security_masked_paths[];
extern const char *const berth_security_readonly_paths[];

/* The built-in profile (seccomp-default.json), not NUL-terminated. */
extern const unsigned char berth_seccomp_default_profile[];
extern const size_t berth_seccomp_default_profile_len;

/* The host a profile is evaluated for: `uname -m` and the kernel version. */
typedef struct berth_seccomp_host {
        const char *machine; /* "x86_64" */
        unsigned kernel_major, kernel_minor;
} berth_seccomp_host;

/* This host (uname(2)); machine points into static storage. */
int berth_seccomp_host_current(berth_seccomp_host *ret, berth_error *err);

/*
 * Turns a profile (`data`, `len` bytes, either format above; `what` names
 * it in messages) into the OCI linux.seccomp object for a process with the
 * effective capabilities `caps` on `host`. *ret is a new reference.
 */
int berth_seccomp_profile_to_oci(const char *data, size_t len, const char *what, uint64_t caps,
                                 const berth_seccomp_host *host, json_object **ret,
                                 berth_error *err);
