/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The cgroup v2 device filter: the assembled programs run in a small
 * interpreter against a reference model of the documented semantics, load in
 * the kernel, and (as root, with a cgroup2 mount at /sys/fs/cgroup/unified)
 * deny and allow real opens and mknods of a child moved into a test cgroup.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/magic.h>

#include "basic/cleanup.h"
#include "runtime/cgroup-bpf.h"

#define CGROUP2_ROOT "/sys/fs/cgroup/unified"

#define ABSENT INT64_MIN
#define RULE(al, t, maj, min, acc)                                                                 \
        {                                                                                          \
                .allow = (al), .type = (t), .has_major = (maj) != ABSENT,                          \
                .major = (maj) == ABSENT ? 0 : (maj), .has_minor = (min) != ABSENT,                \
                .minor = (min) == ABSENT ? 0 : (min), .access = (char *)(acc)                      \
        }

#define R BPF_DEVCG_ACC_READ
#define W BPF_DEVCG_ACC_WRITE
#define M BPF_DEVCG_ACC_MKNOD

/* The list runtimes write by default (runc's, podman's): deny all, then the usual nodes. */
static const struct berth_device_cgroup_rule oci_default[] = {
        RULE(false, 'a', ABSENT, ABSENT, "rwm"),
        RULE(true, 'c', 1, 3, "rwm"),
        RULE(true, 'c', 1, 5, NULL),
        RULE(true, 'c', 1, 7, ""),
        RULE(true, 'c', 5, 0, "rwm"),
        RULE(true, 'c', 5, 1, "rwm"),
        RULE(true, 'c', 5, 2, "rwm"),
        RULE(true, 'c', 1, 8, "rwm"),
        RULE(true, 'c', 1, 9, "mrw"),
        RULE(true, 'c', 136, -1, "rwm"),
        RULE(true, 'c', 10, 200, "rwm"),
};

static int sys_bpf(enum bpf_cmd cmd, union bpf_attr *attr)
{
        return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static struct bpf_prog_info prog_info(int prog_fd)
{
        struct bpf_prog_info info;
        union bpf_attr attr;

        memset(&info, 0, sizeof(info));
        memset(&attr, 0, sizeof(attr));
        attr.info.bpf_fd = (uint32_t)prog_fd;
        attr.info.info_len = sizeof(info);
        attr.info.info = (uint64_t)(uintptr_t)&info;
        assert_int_equal(sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr), 0);
        return info;
}

static uint32_t prog_id(int prog_fd)
{
        return prog_info(prog_fd).id;
}

/* --- an interpreter for the instructions the assembler uses ----------------------------- */

static int run_prog(const struct bpf_insn *insns, size_t count, char type, uint32_t access,
                    uint32_t major, uint32_t minor)
{
        struct bpf_cgroup_dev_ctx ctx = {
                .access_type =
                        access << 16 | (type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR),
                .major = major,
                .minor = minor,
        };
        bool init[MAX_BPF_REG] = { false };
        uint64_t reg[MAX_BPF_REG] = { 0 };

        init[BPF_REG_1] = true;
        for (size_t pc = 0;; pc++) {
                const struct bpf_insn *in;
                uint64_t src;
                uint32_t v;

                assert_true(pc < count);
                in = &insns[pc];
                assert_true(in->dst_reg < BPF_REG_10 && in->src_reg < BPF_REG_10);
                if (BPF_SRC(in->code) == BPF_X && BPF_CLASS(in->code) != BPF_LDX) {
                        assert_true(init[in->src_reg]);
                        src = reg[in->src_reg];
                } else {
                        src = (uint64_t)(int64_t)in->imm;
                }
                switch (BPF_CLASS(in->code)) {
                case BPF_LDX:
                        assert_int_equal(in->code, BPF_LDX | BPF_W | BPF_MEM);
                        assert_int_equal(in->src_reg, BPF_REG_1);
                        assert_true(init[BPF_REG_1]);
                        assert_true(in->off >= 0 && in->off % 4 == 0 &&
                                    (size_t)in->off + 4 <= sizeof(ctx));
                        memcpy(&v, (const char *)&ctx + in->off, sizeof(v));
                        reg[in->dst_reg] = v;
                        init[in->dst_reg] = true;
                        break;
                case BPF_ALU:
                        if (BPF_OP(in->code) != BPF_MOV)
                                assert_true(init[in->dst_reg]);
                        v = (uint32_t)reg[in->dst_reg];
                        if (BPF_OP(in->code) == BPF_MOV)
                                v = (uint32_t)src;
                        else if (BPF_OP(in->code) == BPF_AND)
                                v &= (uint32_t)src;
                        else if (BPF_OP(in->code) == BPF_OR)
                                v |= (uint32_t)src;
                        else if (BPF_OP(in->code) == BPF_XOR)
                                v ^= (uint32_t)src;
                        else if (BPF_OP(in->code) == BPF_RSH && src < 32)
                                v >>= src;
                        else
                                fail_msg("unexpected ALU instruction %#x", in->code);
                        reg[in->dst_reg] = v; /* 32-bit operations zero-extend */
                        init[in->dst_reg] = true;
                        break;
                case BPF_ALU64:
                        assert_int_equal(in->code, BPF_ALU64 | BPF_MOV | BPF_K);
                        reg[in->dst_reg] = src;
                        init[in->dst_reg] = true;
                        break;
                case BPF_JMP:
                        if (BPF_OP(in->code) == BPF_EXIT) {
                                assert_true(init[BPF_REG_0]);
                                assert_true(reg[BPF_REG_0] <= 1);
                                return (int)reg[BPF_REG_0];
                        }
                        assert_true(init[in->dst_reg]);
                        assert_true(in->off >= 0 && pc + 1 + (size_t)in->off < count);
                        if (BPF_OP(in->code) == BPF_JEQ) {
                                if (reg[in->dst_reg] == src)
                                        pc += (size_t)in->off;
                        } else if (BPF_OP(in->code) == BPF_JNE) {
                                if (reg[in->dst_reg] != src)
                                        pc += (size_t)in->off;
                        } else {
                                fail_msg("unexpected jump %#x", in->code);
                        }
                        break;
                default:
                        fail_msg("unexpected instruction class %#x", in->code);
                }
        }
}

/* --- the documented semantics, written the plain way ------------------------------------- */

static uint32_t ref_access(const struct berth_device_cgroup_rule *r)
{
        uint32_t a = 0;

        for (const char *p = r->access ? r->access : ""; *p; p++)
                a |= *p == 'r' ? R : *p == 'w' ? W : M;
        return a ? a : R | W | M;
}

static bool ref_matches(const struct berth_device_cgroup_rule *r, char type, uint32_t major,
                        uint32_t minor)
{
        return (r->type == 'a' || r->type == type) &&
               (!r->has_major || r->major == -1 || r->major == major) &&
               (!r->has_minor || r->minor == -1 || r->minor == minor);
}

/* Each requested bit: the last matching rule naming it decides, none: allowed. */
static int reference(const struct berth_device_cgroup_rule *rules, size_t n, char type,
                     uint32_t access, uint32_t major, uint32_t minor)
{
        static const uint32_t bits[] = { R, W, M };

        for (size_t b = 0; b < ARRAY_SIZE(bits); b++) {
                bool allow = true;

                if (!(access & bits[b]))
                        continue;
                for (size_t i = n; i-- > 0;)
                        if (ref_matches(&rules[i], type, major, minor) &&
                            (ref_access(&rules[i]) & bits[b])) {
                                allow = rules[i].allow;
                                break;
                        }
                if (!allow)
                        return 0;
        }
        return 1;
}

/* Assembles into a fresh buffer of exactly the documented bound; the caller frees it. */
static struct bpf_insn *assemble(const struct berth_device_cgroup_rule *rules, size_t n,
                                 size_t *ret_count)
{
        size_t max = BERTH_CGROUP_BPF_DEVICES_MAX_INSNS(n);
        struct bpf_insn *insns = calloc(max, sizeof(*insns));
        berth_error err = BERTH_ERROR_INIT;
        int r;

        assert_non_null(insns);
        r = berth_cgroup_bpf_devices_assemble(rules, n, insns, max, ret_count, &err);
        if (r < 0)
                fail_msg("assemble: %s", berth_error_msg(&err));
        assert_true(*ret_count <= max);
        return insns;
}

struct request {
        char type;
        uint32_t access, major, minor;
        int expect;
};

static void check_requests(const struct berth_device_cgroup_rule *rules, size_t n,
                           const struct request *reqs, size_t n_reqs)
{
        size_t count;
        _cleanup_free_ struct bpf_insn *insns = assemble(rules, n, &count);

        for (size_t i = 0; i < n_reqs; i++) {
                const struct request *q = &reqs[i];
                int got = run_prog(insns, count, q->type, q->access, q->major, q->minor);

                if (got != q->expect ||
                    reference(rules, n, q->type, q->access, q->major, q->minor) != q->expect)
                        fail_msg("request %zu (%c %u:%u access %#x): program %d, reference %d, "
                                 "expected %d",
                                 i, q->type, q->major, q->minor, q->access, got,
                                 reference(rules, n, q->type, q->access, q->major, q->minor),
                                 q->expect);
        }
}

/* --- assembling ---------------------------------------------------------------------------- */

static void test_assemble_empty(void **state)
{
        static const struct request reqs[] = {
                { 'c', R | W, 1, 3, 1 },
                { 'b', M, 8, 0, 1 },
                { 'c', R | W | M, 4000000000u, 7, 1 },
        };
        size_t count;
        _cleanup_free_ struct bpf_insn *insns = assemble(NULL, 0, &count);

        (void)state;
        assert_non_null(insns);
        /* mov r0, 1; exit */
        assert_int_equal(count, 2);
        check_requests(NULL, 0, reqs, ARRAY_SIZE(reqs));
}

static void test_assemble_oci_default(void **state)
{
        static const struct request reqs[] = {
                { 'c', R | W, 1, 3, 1 },    { 'c', M, 1, 3, 1 },       { 'c', R, 1, 5, 1 },
                { 'c', W, 1, 7, 1 },        { 'c', R | W, 5, 0, 1 },   { 'c', R | W, 5, 2, 1 },
                { 'c', R, 1, 9, 1 },        { 'c', R | W, 136, 0, 1 }, { 'c', M, 136, 65535, 1 },
                { 'c', R | W, 10, 200, 1 }, { 'c', M, 1, 1, 0 },       { 'c', R, 1, 1, 0 },
                { 'c', R | W, 1, 4, 0 },    { 'c', R, 10, 201, 0 },    { 'c', R, 5, 3, 0 },
                { 'b', R | W, 1, 3, 0 },    { 'b', M, 8, 0, 0 },       { 'b', R, 136, 0, 0 },
                { 'c', R, 137, 0, 0 },
        };
        size_t count;
        _cleanup_free_ struct bpf_insn *insns =
                assemble(oci_default, ARRAY_SIZE(oci_default), &count);

        (void)state;
        assert_non_null(insns);
        /*
         * 6 to load the context; 11 for each of the nine rules with both
         * numbers (r0 = (r2 ^ 2) | (r4 ^ major) | (r5 ^ minor) in 8, a jump,
         * mov, exit); 8 for c 136:*; 2 for the deny-all rule, which needs no
         * checks and leaves no fall-through.
         */
        assert_int_equal(count, 6 + 9 * 11 + 8 + 2);
        check_requests(oci_default, ARRAY_SIZE(oci_default), reqs, ARRAY_SIZE(reqs));
}

static void test_assemble_wildcards(void **state)
{
        static const struct berth_device_cgroup_rule rules[] = {
                RULE(false, 'a', -1, -1, "rwm"),     /* explicit -1 is a wildcard too */
                RULE(true, 'b', 8, ABSENT, "rw"),    /* any minor of major 8 */
                RULE(true, 'c', ABSENT, 5, "rwm"),   /* minor 5 of any major */
                RULE(true, 'a', 254, -1, "m"),       /* both types */
                RULE(false, 'c', -1, ABSENT, "w"),   /* no char device is writable */
                RULE(true, 'c', 4000000000, 7, "r"), /* needs the register compare */
        };
        static const struct request reqs[] = {
                { 'b', R | W, 8, 0, 1 },
                { 'b', R | W, 8, 17, 1 },
                { 'b', M, 8, 0, 0 },
                { 'b', R, 9, 0, 0 },
                { 'c', R, 8, 0, 0 },
                { 'c', R, 1, 5, 1 },
                { 'c', R | W, 1, 5, 0 },
                { 'c', W, 7, 5, 0 },
                { 'c', M, 7, 5, 1 },
                { 'b', R, 7, 5, 0 },
                { 'b', M, 254, 0, 1 },
                { 'c', M, 254, 9, 1 },
                { 'c', R, 254, 9, 0 },
                { 'c', R, 4000000000u, 7, 1 },
                { 'c', R, 4000000000u, 8, 0 },
                { 'c', R, 2147483648u, 7, 0 },
                { 'c', R | W, 4000000000u, 7, 0 },
        };

        (void)state;
        check_requests(rules, ARRAY_SIZE(rules), reqs, ARRAY_SIZE(reqs));
}

/* Each point cgroup-bpf.h documents, one list at a time. */
static void test_semantics(void **state)
{
        /* a partial deny stops O_RDWR, as in v1 (runc and crun let it through) */
        static const struct berth_device_cgroup_rule deny_w[] = { RULE(false, 'c', 1, 3, "w") };
        static const struct request deny_w_reqs[] = {
                { 'c', R, 1, 3, 1 }, { 'c', R | W, 1, 3, 0 }, { 'c', W, 1, 3, 0 },
                { 'c', M, 1, 3, 1 }, { 'c', R | W, 1, 4, 1 },
        };
        /* allow lists grant only the bits they name */
        static const struct berth_device_cgroup_rule allow_r[] = {
                RULE(false, 'a', ABSENT, ABSENT, NULL),
                RULE(true, 'c', 1, 3, "r"),
        };
        static const struct request allow_r_reqs[] = {
                { 'c', R, 1, 3, 1 },
                { 'c', R | W, 1, 3, 0 },
                { 'c', M, 1, 3, 0 },
        };
        /* bits granted by different rules add up */
        static const struct berth_device_cgroup_rule per_bit[] = {
                RULE(false, 'a', ABSENT, ABSENT, "rwm"),
                RULE(true, 'c', 1, ABSENT, "r"),
                RULE(true, 'c', 1, 3, "w"),
        };
        static const struct request per_bit_reqs[] = {
                { 'c', R | W, 1, 3, 1 },
                { 'c', R | W, 1, 4, 0 },
                { 'c', R, 1, 4, 1 },
                { 'c', R | W | M, 1, 3, 0 },
        };
        /* a later rule punches a hole in an earlier wildcard, and the other way round */
        static const struct berth_device_cgroup_rule holes[] = {
                RULE(false, 'c', ABSENT, ABSENT, "rwm"),
                RULE(true, 'c', 1, 3, "rwm"),
                RULE(false, 'b', 8, 0, "rwm"),
                RULE(true, 'b', ABSENT, ABSENT, "rwm"),
        };
        static const struct request holes_reqs[] = {
                { 'c', R | W, 1, 3, 1 },
                { 'c', R | W, 1, 5, 0 },
                { 'b', R | W, 8, 0, 1 },
        };
        /* "a" with numbers matches both types and only those numbers */
        static const struct berth_device_cgroup_rule a_nums[] = { RULE(false, 'a', 1, 3, "rw") };
        static const struct request a_nums_reqs[] = {
                { 'c', R, 1, 3, 0 },
                { 'b', W, 1, 3, 0 },
                { 'c', M, 1, 3, 1 },
                { 'c', R, 1, 4, 1 },
        };
        /* a later allow-all shadows everything before it */
        static const struct berth_device_cgroup_rule reset[] = {
                RULE(false, 'a', ABSENT, ABSENT, "rwm"),
                RULE(false, 'c', 1, 3, "rwm"),
                RULE(true, 'a', ABSENT, ABSENT, ""),
        };
        static const struct request reset_reqs[] = { { 'c', R | W | M, 1, 3, 1 },
                                                     { 'b', R, 8, 0, 1 } };
        size_t count;

        (void)state;
        check_requests(deny_w, ARRAY_SIZE(deny_w), deny_w_reqs, ARRAY_SIZE(deny_w_reqs));
        check_requests(allow_r, ARRAY_SIZE(allow_r), allow_r_reqs, ARRAY_SIZE(allow_r_reqs));
        check_requests(per_bit, ARRAY_SIZE(per_bit), per_bit_reqs, ARRAY_SIZE(per_bit_reqs));
        check_requests(holes, ARRAY_SIZE(holes), holes_reqs, ARRAY_SIZE(holes_reqs));
        check_requests(a_nums, ARRAY_SIZE(a_nums), a_nums_reqs, ARRAY_SIZE(a_nums_reqs));
        check_requests(reset, ARRAY_SIZE(reset), reset_reqs, ARRAY_SIZE(reset_reqs));
        free(assemble(reset, ARRAY_SIZE(reset), &count));
        assert_int_equal(count, 2);
}

static uint32_t xorshift(uint32_t *s)
{
        *s ^= *s << 13;
        *s ^= *s >> 17;
        *s ^= *s << 5;
        return *s;
}

/* Random lists over a small domain against the reference, every request in the domain. */
static void test_semantics_random(void **state)
{
        static const char types[] = { 'a', 'b', 'c' };
        static const int64_t numbers[] = { ABSENT, -1, 0, 1, 2147483647, 3000000000 };
        static const uint32_t dev_numbers[] = { 0, 1, 2, 2147483647, 3000000000u };
        static const char *const access[] = { NULL, "", "r", "w", "m", "rw", "wm", "mr", "rwm" };
        struct berth_device_cgroup_rule rules[8];
        uint32_t seed = 0x9e3779b9;

        (void)state;
        for (int iter = 0; iter < 3000; iter++) {
                size_t n = xorshift(&seed) % (ARRAY_SIZE(rules) + 1), count;
                _cleanup_free_ struct bpf_insn *insns = NULL;

                for (size_t i = 0; i < n; i++) {
                        int64_t maj = numbers[xorshift(&seed) % ARRAY_SIZE(numbers)];
                        int64_t min = numbers[xorshift(&seed) % ARRAY_SIZE(numbers)];
                        struct berth_device_cgroup_rule r = RULE(
                                xorshift(&seed) % 2, types[xorshift(&seed) % ARRAY_SIZE(types)],
                                maj, min, access[xorshift(&seed) % ARRAY_SIZE(access)]);
                        rules[i] = r;
                }
                insns = assemble(rules, n, &count);
                for (int t = 0; t < 2; t++)
                        for (uint32_t acc = 1; acc <= (R | W | M); acc++)
                                for (size_t a = 0; a < ARRAY_SIZE(dev_numbers); a++)
                                        for (size_t b = 0; b < ARRAY_SIZE(dev_numbers); b++) {
                                                char type = t ? 'c' : 'b';
                                                uint32_t ma = dev_numbers[a], mi = dev_numbers[b];
                                                int want = reference(rules, n, type, acc, ma, mi);

                                                if (run_prog(insns, count, type, acc, ma, mi) !=
                                                    want)
                                                        fail_msg("iteration %d, %c %u:%u "
                                                                 "access %#x: want %d",
                                                                 iter, type, ma, mi, acc, want);
                                        }
        }
}

static void test_assemble_errors(void **state)
{
        static const struct berth_device_cgroup_rule bad[][1] = {
                { RULE(true, 'x', 1, 3, "rwm") },  { RULE(true, 'c', 4294967296, 3, "rwm") },
                { RULE(true, 'c', 1, -2, "rwm") }, { RULE(true, 'c', 1, 3, "rwx") },
                { RULE(true, '\0', 1, 3, NULL) },
        };
        static const char *const needles[] = {
                "devices[1].type",   "devices[1].major", "devices[1].minor",
                "devices[1].access", "devices[1].type",
        };
        struct bpf_insn insns[BERTH_CGROUP_BPF_DEVICES_MAX_INSNS(2)];
        berth_error err = BERTH_ERROR_INIT;
        size_t count = 0;

        (void)state;
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                /* a good rule first, so the index in the message is checked too */
                struct berth_device_cgroup_rule rules[2] = {
                        RULE(true, 'c', 1, 3, "rwm"),
                        bad[i][0],
                };

                assert_int_equal(berth_cgroup_bpf_devices_assemble(rules, 2, insns,
                                                                   ARRAY_SIZE(insns), &count, &err),
                                 -EINVAL);
                assert_non_null(strstr(berth_error_msg(&err), needles[i]));
                berth_error_release(&err);
        }

        /* too small a buffer: ENOSPC, and the count says how much is needed */
        assert_int_equal(berth_cgroup_bpf_devices_assemble(oci_default, ARRAY_SIZE(oci_default),
                                                           insns, ARRAY_SIZE(insns), &count, &err),
                         -ENOSPC);
        assert_int_equal(count, 115);
        assert_non_null(strstr(berth_error_msg(&err), "115"));
        berth_error_release(&err);
        assert_int_equal(berth_cgroup_bpf_devices_assemble(oci_default, ARRAY_SIZE(oci_default),
                                                           NULL, 0, &count, NULL),
                         -ENOSPC);
        assert_int_equal(count, 115);
}

/* --- the kernel ------------------------------------------------------------------------------ */

/* Skips the test when this kernel or process cannot load BPF programs. */
static void require_bpf(void)
{
        berth_error err = BERTH_ERROR_INIT;
        int fd = -1, r;

        r = berth_cgroup_bpf_devices_load(NULL, 0, &fd, &err);
        if (r == -EPERM || r == -ENOSYS) {
                berth_error_release(&err);
                skip();
        }
        if (r < 0)
                fail_msg("%s", berth_error_msg(&err));
        close(fd);
}

static void test_load(void **state)
{
        static const struct berth_device_cgroup_rule wild[] = {
                RULE(true, 'b', ABSENT, 5, "r"),
                RULE(false, 'a', 4000000000, ABSENT, "w"),
                RULE(true, 'c', 3000000000, 4000000000, "rw"),
        };
        static const struct {
                const struct berth_device_cgroup_rule *rules;
                size_t n;
        } lists[] = {
                { NULL, 0 },
                { oci_default, ARRAY_SIZE(oci_default) },
                { oci_default + 1, ARRAY_SIZE(oci_default) - 1 },
                { wild, ARRAY_SIZE(wild) },
        };
        _cleanup_free_ struct berth_device_cgroup_rule *many = NULL;
        berth_error err = BERTH_ERROR_INIT;
        const size_t n_many = 4096;
        int fd;

        (void)state;
        require_bpf();
        for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
                fd = -1;
                if (berth_cgroup_bpf_devices_load(lists[i].rules, lists[i].n, &fd, &err) < 0)
                        fail_msg("list %zu: %s", i, berth_error_msg(&err));
                assert_true(fd >= 0);
                assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
                assert_int_equal(prog_info(fd).type, BPF_PROG_TYPE_CGROUP_DEVICE);
                assert_string_equal(prog_info(fd).name, BERTH_CGROUP_BPF_DEVICES_NAME);
                close(fd);
        }

        /* as many rules as config.json may hold, each of the longest kind */
        many = calloc(n_many, sizeof(*many));
        assert_non_null(many);
        for (size_t i = 0; i < n_many; i++) {
                struct berth_device_cgroup_rule r =
                        RULE(i % 2, i % 3 ? 'b' : 'c', 3000000000 + (int64_t)i, 4000000000, "w");
                many[i] = r;
        }
        fd = -1;
        if (berth_cgroup_bpf_devices_load(many, n_many, &fd, &err) < 0)
                fail_msg("%zu rules: %s", n_many, berth_error_msg(&err));
        close(fd);
}

/* A program the verifier rejects: the message carries its reason. */
static void test_load_verifier_log(void **state)
{
        static const struct bpf_insn no_r0[] = {
                { .code = BPF_JMP | BPF_EXIT },
        };
        berth_error err = BERTH_ERROR_INIT;
        int fd = -1;

        (void)state;
        require_bpf();
        assert_int_equal(berth_cgroup_bpf_prog_load(no_r0, ARRAY_SIZE(no_r0), &fd, &err), -EACCES);
        assert_int_equal(fd, -1);
        assert_non_null(strstr(berth_error_msg(&err), "R0 !read_ok"));
        berth_error_release(&err);
}

/* --- a real cgroup ---------------------------------------------------------------------------- */

struct fixture {
        char path[PATH_MAX]; /* the cgroup, "" when none was made */
        int fd;              /* its directory, -1 when there is none */
        char tmp[PATH_MAX];  /* a directory for mknod, "" when none was made */
        const char *error;   /* what setup could not do: the test fails on it */
};

/* Never fails, so that teardown always runs; the test reports f->error. */
static int cgroup_setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        struct statfs sfs;

        if (!f)
                return -1;
        f->fd = -1;
        *state = f;
        if (geteuid() != 0 || statfs(CGROUP2_ROOT, &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC)
                return 0;
        snprintf(f->path, sizeof(f->path), CGROUP2_ROOT "/berth-bpf-test-%d", (int)getpid());
        /* one left by an earlier run that had this pid and was killed */
        (void)rmdir(f->path);
        if (mkdir(f->path, 0755) < 0) {
                f->path[0] = '\0';
                f->error = "mkdir " CGROUP2_ROOT "/berth-bpf-test-PID";
                return 0;
        }
        f->fd = open(f->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (f->fd < 0)
                f->error = "open the test cgroup";
        snprintf(f->tmp, sizeof(f->tmp), "/tmp/berth-bpf-test-XXXXXX");
        if (!mkdtemp(f->tmp)) {
                f->tmp[0] = '\0';
                f->error = "mkdtemp /tmp/berth-bpf-test-XXXXXX";
        }
        return 0;
}

/* The ids of the device programs attached to the cgroup itself. */
static size_t attached(int cgroup_fd, uint32_t *ids, size_t max)
{
        union bpf_attr attr;

        memset(&attr, 0, sizeof(attr));
        attr.query.target_fd = (uint32_t)cgroup_fd;
        attr.query.attach_type = BPF_CGROUP_DEVICE;
        attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
        attr.query.prog_cnt = (uint32_t)max;
        if (sys_bpf(BPF_PROG_QUERY, &attr) < 0)
                return SIZE_MAX;
        return attr.query.prog_cnt;
}

static int detach_all(int cgroup_fd)
{
        uint32_t ids[64];
        size_t n = attached(cgroup_fd, ids, ARRAY_SIZE(ids));
        int ret = 0;

        if (n == SIZE_MAX)
                return -errno;
        for (size_t i = 0; i < n && i < ARRAY_SIZE(ids); i++) {
                union bpf_attr attr;
                _cleanup_close_ int fd = -1;

                memset(&attr, 0, sizeof(attr));
                attr.prog_id = ids[i];
                fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
                if (fd < 0)
                        continue;
                memset(&attr, 0, sizeof(attr));
                attr.target_fd = (uint32_t)cgroup_fd;
                attr.attach_bpf_fd = (uint32_t)fd;
                attr.attach_type = BPF_CGROUP_DEVICE;
                if (sys_bpf(BPF_PROG_DETACH, &attr) < 0)
                        ret = -errno;
        }
        return ret;
}

static void remove_tree_entries(const char *dir)
{
        _cleanup_closedir_ DIR *d = opendir(dir);
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, ".."))
                        (void)unlinkat(dirfd(d), de->d_name, 0);
}

static int cgroup_teardown(void **state)
{
        struct fixture *f = *state;
        int ret = 0;

        if (f->fd >= 0) {
                if (detach_all(f->fd) < 0)
                        ret = -1;
                close(f->fd);
        }
        if (f->path[0]) {
                /* the last child was reaped, but its exit may still be settling */
                for (int i = 0; rmdir(f->path) < 0; i++) {
                        if (errno != EBUSY || i == 200) {
                                print_error("rmdir %s: %s\n", f->path, strerror(errno));
                                ret = -1;
                                break;
                        }
                        nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
                }
        }
        if (f->tmp[0]) {
                remove_tree_entries(f->tmp);
                if (rmdir(f->tmp) < 0)
                        ret = -1;
        }
        free(f);
        return ret;
}

enum probe_op { OPEN_RDONLY, OPEN_WRONLY, OPEN_RDWR, MKNOD };

#define JOIN_FAILED 250

/*
 * Forks a child that moves itself into the cgroup and tries `op`: 0 when
 * it worked, else its errno. The child does nothing cmocka could see.
 */
static int probe(const struct fixture *f, enum probe_op op, const char *path, mode_t type,
                 unsigned major, unsigned minor)
{
        int status;
        pid_t pid;

        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                static const int flags[] = { O_RDONLY, O_WRONLY, O_RDWR };
                char buf[32];
                int fd, len;

                len = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
                fd = openat(f->fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
                if (fd < 0 || write(fd, buf, (size_t)len) != len)
                        _exit(JOIN_FAILED);
                close(fd);
                if (op == MKNOD) {
                        if (mknod(path, type | 0600, makedev(major, minor)) < 0)
                                _exit(errno);
                        (void)unlink(path);
                        _exit(0);
                }
                fd = open(path, flags[op] | O_CLOEXEC | O_NOCTTY);
                _exit(fd < 0 ? errno : 0);
        }
        while (waitpid(pid, &status, 0) < 0)
                assert_int_equal(errno, EINTR);
        assert_true(WIFEXITED(status));
        assert_int_not_equal(WEXITSTATUS(status), JOIN_FAILED);
        return WEXITSTATUS(status);
}

static int load(const struct berth_device_cgroup_rule *rules, size_t n)
{
        berth_error err = BERTH_ERROR_INIT;
        int fd = -1;

        if (berth_cgroup_bpf_devices_load(rules, n, &fd, &err) < 0)
                fail_msg("%s", berth_error_msg(&err));
        return fd;
}

static void attach(const struct fixture *f, int prog_fd)
{
        berth_error err = BERTH_ERROR_INIT;

        if (berth_cgroup_bpf_devices_attach(f->fd, prog_fd, &err) < 0)
                fail_msg("%s", berth_error_msg(&err));
}

static void require_cgroup(const struct fixture *f)
{
        if (f->error)
                fail_msg("setup: %s", f->error);
        if (f->fd < 0)
                skip();
        require_bpf();
}

/* An allow-all device program under another name, as systemd would attach one. */
static int load_foreign(void)
{
        static const struct bpf_insn allow_all[] = {
                { .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 1 },
                { .code = BPF_JMP | BPF_EXIT },
        };
        union bpf_attr attr;
        int fd;

        memset(&attr, 0, sizeof(attr));
        attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        attr.insns = (uint64_t)(uintptr_t)allow_all;
        attr.insn_cnt = ARRAY_SIZE(allow_all);
        attr.license = (uint64_t)(uintptr_t) "GPL";
        memcpy(attr.prog_name, "someone_else", sizeof("someone_else"));
        fd = sys_bpf(BPF_PROG_LOAD, &attr);
        assert_true(fd >= 0);
        return fd;
}

/* A program attached to a cgroup of the hybrid layout's v2 hierarchy applies to its members. */
static void test_cgroup_attach_replace(void **state)
{
        static const struct berth_device_cgroup_rule deny_null[] = {
                RULE(false, 'c', 1, 3, "rwm"),
        };
        const struct fixture *f = *state;
        _cleanup_close_ int deny = -1, allow = -1, foreign = -1, deny_again = -1, outside = -1;
        uint32_t ids[8];
        union bpf_attr attr;

        require_cgroup(f);
        assert_int_equal(probe(f, OPEN_RDONLY, "/dev/null", 0, 0, 0), 0);

        deny = load(deny_null, ARRAY_SIZE(deny_null));
        attach(f, deny);
        assert_int_equal(attached(f->fd, ids, ARRAY_SIZE(ids)), 1);
        assert_int_equal(ids[0], prog_id(deny));
        assert_int_equal(probe(f, OPEN_RDONLY, "/dev/null", 0, 0, 0), EPERM);
        assert_int_equal(probe(f, OPEN_RDWR, "/dev/null", 0, 0, 0), EPERM);
        assert_int_equal(probe(f, OPEN_RDONLY, "/dev/zero", 0, 0, 0), 0);
        /* outside the cgroup nothing changed */
        outside = open("/dev/null", O_RDONLY | O_CLOEXEC);
        assert_true(outside >= 0);

        /* update: the allow-all program replaces the deny one */
        allow = load(NULL, 0);
        attach(f, allow);
        assert_int_equal(attached(f->fd, ids, ARRAY_SIZE(ids)), 1);
        assert_int_equal(ids[0], prog_id(allow));
        assert_int_equal(probe(f, OPEN_RDWR, "/dev/null", 0, 0, 0), 0);

        /* attaching the same program again changes nothing */
        attach(f, allow);
        assert_int_equal(attached(f->fd, ids, ARRAY_SIZE(ids)), 1);

        /* a program someone else attached survives our updates */
        foreign = load_foreign();
        memset(&attr, 0, sizeof(attr));
        attr.target_fd = (uint32_t)f->fd;
        attr.attach_bpf_fd = (uint32_t)foreign;
        attr.attach_type = BPF_CGROUP_DEVICE;
        attr.attach_flags = BPF_F_ALLOW_MULTI;
        assert_int_equal(sys_bpf(BPF_PROG_ATTACH, &attr), 0);
        assert_int_equal(attached(f->fd, ids, ARRAY_SIZE(ids)), 2);

        deny_again = load(deny_null, ARRAY_SIZE(deny_null));
        attach(f, deny_again);
        assert_int_equal(attached(f->fd, ids, ARRAY_SIZE(ids)), 2);
        assert_true(ids[0] == prog_id(foreign) || ids[1] == prog_id(foreign));
        assert_true(ids[0] == prog_id(deny_again) || ids[1] == prog_id(deny_again));
        assert_int_equal(probe(f, OPEN_RDONLY, "/dev/null", 0, 0, 0), EPERM);

        assert_int_equal(detach_all(f->fd), 0);
        assert_int_equal(attached(f->fd, ids, ARRAY_SIZE(ids)), 0);
        assert_int_equal(probe(f, OPEN_RDONLY, "/dev/null", 0, 0, 0), 0);
}

/* "deny c 1:3 w": reading /dev/null works, O_RDWR and O_WRONLY do not. */
static void test_cgroup_partial_access(void **state)
{
        static const struct berth_device_cgroup_rule deny_w[] = { RULE(false, 'c', 1, 3, "w") };
        const struct fixture *f = *state;
        _cleanup_close_ int prog = -1;

        require_cgroup(f);
        prog = load(deny_w, ARRAY_SIZE(deny_w));
        attach(f, prog);
        assert_int_equal(probe(f, OPEN_RDONLY, "/dev/null", 0, 0, 0), 0);
        assert_int_equal(probe(f, OPEN_WRONLY, "/dev/null", 0, 0, 0), EPERM);
        assert_int_equal(probe(f, OPEN_RDWR, "/dev/null", 0, 0, 0), EPERM);
        assert_int_equal(probe(f, OPEN_RDWR, "/dev/zero", 0, 0, 0), 0);
}

/* The runtimes' default list: the usual nodes work, mem and block devices do not. */
static void test_cgroup_oci_default(void **state)
{
        const struct fixture *f = *state;
        _cleanup_close_ int prog = -1;
        char node[PATH_MAX + 16];
        bool can_mknod;

        require_cgroup(f);
        snprintf(node, sizeof(node), "%s/node", f->tmp);
        /* mknod must work here at all for its EPERM to mean anything */
        can_mknod = mknod(node, S_IFCHR | 0600, makedev(1, 1)) == 0;
        (void)unlink(node);

        prog = load(oci_default, ARRAY_SIZE(oci_default));
        attach(f, prog);
        assert_int_equal(probe(f, OPEN_RDWR, "/dev/null", 0, 0, 0), 0);
        assert_int_equal(probe(f, OPEN_RDONLY, "/dev/zero", 0, 0, 0), 0);
        assert_int_equal(probe(f, OPEN_RDWR, "/dev/full", 0, 0, 0), 0);
        assert_int_equal(probe(f, OPEN_RDONLY, "/dev/urandom", 0, 0, 0), 0);
        if (access("/dev/mem", F_OK) == 0)
                assert_int_equal(probe(f, OPEN_RDONLY, "/dev/mem", 0, 0, 0), EPERM);
        if (access("/dev/kmsg", F_OK) == 0)
                assert_int_equal(probe(f, OPEN_RDONLY, "/dev/kmsg", 0, 0, 0), EPERM);
        if (!can_mknod) {
                print_message("mknod does not work in %s; skipping its checks\n", f->tmp);
                return;
        }
        assert_int_equal(probe(f, MKNOD, node, S_IFCHR, 1, 1), EPERM);
        assert_int_equal(probe(f, MKNOD, node, S_IFBLK, 7, 0), EPERM);
        assert_int_equal(probe(f, MKNOD, node, S_IFCHR, 10, 201), EPERM);
        assert_int_equal(probe(f, MKNOD, node, S_IFCHR, 1, 3), 0);
        assert_int_equal(probe(f, MKNOD, node, S_IFCHR, 136, 42), 0);
        assert_int_equal(probe(f, MKNOD, node, S_IFCHR, 10, 200), 0);
        /* a FIFO is no device: the filter is not asked */
        assert_int_equal(probe(f, MKNOD, node, S_IFIFO, 0, 0), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_assemble_empty),
                cmocka_unit_test(test_assemble_oci_default),
                cmocka_unit_test(test_assemble_wildcards),
                cmocka_unit_test(test_semantics),
                cmocka_unit_test(test_semantics_random),
                cmocka_unit_test(test_assemble_errors),
                cmocka_unit_test(test_load),
                cmocka_unit_test(test_load_verifier_log),
                cmocka_unit_test_setup_teardown(test_cgroup_attach_replace, cgroup_setup,
                                                cgroup_teardown),
                cmocka_unit_test_setup_teardown(test_cgroup_partial_access, cgroup_setup,
                                                cgroup_teardown),
                cmocka_unit_test_setup_teardown(test_cgroup_oci_default, cgroup_setup,
                                                cgroup_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
