/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * linux.resources.devices on cgroup v2. The unified hierarchy has no
 * devices.allow/devices.deny files; the kernel instead runs every
 * BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup (and to its
 * ancestors, with BPF_F_ALLOW_MULTI) on each open(2) and mknod(2) of a device
 * node, and grants access only when all of them return 1. berth assembles that
 * program itself with the raw bpf(2) syscall (no libbpf), as crun does.
 *
 * Semantics. The kernel asks about one device (type b or c, major, minor) and
 * a set of access bits: open(2) asks for r and/or w (O_RDWR asks for both at
 * once), mknod(2) asks for m. Each requested bit is decided on its own:
 *
 *   - the last rule in the list that matches the device and names that bit
 *     decides it (allow or deny); a bit no rule names is allowed;
 *   - the request is granted only when every requested bit is allowed.
 *
 * A rule matches a device when its type is 'a' or equal to the device's, and
 * its major and minor are absent, -1 or equal. access NULL or "" means "rwm";
 * "rwm" stands for every access the kernel can ask for, including bits newer
 * kernels might add.
 *
 * For the lists runtimes write ("deny a", then allow entries each granting
 * a device's bits in one entry; or "allow a") this is what the v1 devices
 * controller does after the rules are written in order to
 * devices.deny/devices.allow of a cgroup that starts by allowing everything:
 * the last matching rule decides, nothing matching allows. Where v1 behaves
 * differently we follow the order of the list, as the OCI spec asks ("apply
 * entries in the listed order"):
 *
 *   - v1 cannot punch a hole in a wildcard of the opposite verdict: after
 *     "deny c *:*", "allow c 1:3" changes nothing there (runc rejects such a
 *     list); here the later rule wins and /dev/null is allowed;
 *   - v1 needs a single allow entry covering all requested bits: "allow
 *     c 1:* r" plus "allow c 1:3 w" does not grant O_RDWR on 1:3 there; here
 *     it does, each bit having been allowed;
 *   - v1 (and runc) treat any rule of type 'a' as "a *:* rwm", whatever its
 *     numbers and access; here "allow a 1:3 r" allows reading 1:3 of both
 *     types and nothing more.
 *
 * A partial deny stops any request that includes a denied bit: after "deny
 * c 1:3 w", open(O_RDWR) of /dev/null fails with EPERM, as in v1. (runc's and
 * crun's programs only match a rule when it names every requested bit, so
 * that open succeeds there with write access.)
 */

#include <linux/bpf.h>
#include <stddef.h>

#include "basic/error.h"
#include "runtime/config.h"

/*
 * Assembles the program for `rules` (see above) and loads it; *ret_prog_fd
 * is an O_CLOEXEC program fd the caller closes (the program lives on while
 * it is attached). No rules: a program that allows everything. Invalid
 * rules (type, access letters, numbers above 2^32-1) fail with EINVAL and a
 * message naming the rule's index; when the verifier rejects the program the
 * message ends with the last line of its log.
 */
int berth_cgroup_bpf_devices_load(const struct berth_device_cgroup_rule *rules, size_t n,
                                  int *ret_prog_fd, berth_error *err);

/*
 * Attaches prog_fd to the cgroup directory `cgroup_fd` (BPF_CGROUP_DEVICE,
 * BPF_F_ALLOW_MULTI), then detaches the device programs berth attached there
 * before (found with BPF_PROG_QUERY and recognised by their name), so the
 * cgroup is never without a filter during `update`; for a moment both apply,
 * which only denies more. Programs others attached (systemd's, for one) are
 * left alone: the kernel requires all of them to allow an access anyway.
 * Attaching a program that is already attached only detaches the others.
 * When detaching an old program fails, the new one stays attached and the
 * error says which old program is left.
 */
int berth_cgroup_bpf_devices_attach(int cgroup_fd, int prog_fd, berth_error *err);

/* The name berth's device programs carry (bpf_prog_info.name). */
#define BERTH_CGROUP_BPF_DEVICES_NAME "berth_devices"

/* Internal, exposed for the unit tests. */

/* An upper bound on the instructions berth_cgroup_bpf_devices_assemble() writes for n rules. */
#define BERTH_CGROUP_BPF_DEVICES_MAX_INSNS(n) (8 + 14 * (size_t)(n))

/*
 * Writes the program for `rules` to insns (room for `max` instructions) and
 * its length to *ret_count. Fails with EINVAL for an invalid rule and with
 * ENOSPC (and the needed length in *ret_count) when `max` is too small.
 * Registers: r2 the device type, r3 the requested access bits not decided
 * yet, r4 the major, r5 the minor (loaded once from r1, the context); r0 and
 * r1 scratch.
 */
int berth_cgroup_bpf_devices_assemble(const struct berth_device_cgroup_rule *rules, size_t n,
                                      struct bpf_insn *insns, size_t max, size_t *ret_count,
                                      berth_error *err);

/*
 * BPF_PROG_LOAD of a BPF_PROG_TYPE_CGROUP_DEVICE program named
 * BERTH_CGROUP_BPF_DEVICES_NAME, license "GPL". On failure it loads again
 * with a verifier log and appends the log's last line to the message.
 */
int berth_cgroup_bpf_prog_load(const struct bpf_insn *insns, size_t count, int *ret_prog_fd,
                               berth_error *err);
