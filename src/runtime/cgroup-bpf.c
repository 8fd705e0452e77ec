/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The cgroup v2 device filter: a BPF_PROG_TYPE_CGROUP_DEVICE program
 * assembled by hand from linux.resources.devices (semantics in
 * cgroup-bpf.h), loaded and attached with the raw bpf(2) syscall.
 *
 * The program walks the rules from the last to the first. r3 holds the
 * requested access bits that no rule has decided yet; a matching allow rule
 * clears the bits it names (and returns 1 when none are left), a matching
 * deny rule that names one of them returns 0. Falling off the end allows
 * what is left. The kernel never asks with no access bits, so r3 is not 0
 * when a block starts, and a rule naming all bits can return at once.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "runtime/cgroup-bpf.h"

#define ACC_ALL  (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)
#define LOG_SIZE (256 * 1024)

#define INSN(c, d, s, o, i)                                                                        \
        ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define LDX_W(dst, src, off)       INSN(BPF_LDX | BPF_W | BPF_MEM, dst, src, off, 0)
#define ALU32_IMM(op, dst, imm)    INSN(BPF_ALU | (op) | BPF_K, dst, 0, 0, imm)
#define ALU32_REG(op, dst, src)    INSN(BPF_ALU | (op) | BPF_X, dst, src, 0, 0)
#define MOV32_REG(dst, src)        INSN(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV64_IMM(dst, imm)        INSN(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define JMP_IMM(op, dst, imm, off) INSN(BPF_JMP | (op) | BPF_K, dst, 0, off, imm)
#define EXIT()                     INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* A rule checked and translated to the context's encoding. */
struct dev_rule {
        bool allow;
        int type; /* BPF_DEVCG_DEV_*, 0 for any */
        bool has_major, has_minor;
        uint32_t major, minor;
        uint32_t access; /* BPF_DEVCG_ACC_* */
};

static int sys_bpf(enum bpf_cmd cmd, union bpf_attr *attr)
{
        return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static uint64_t ptr_to_u64(const void *p)
{
        return (uint64_t)(uintptr_t)p;
}

static int rule_number(int64_t v, const char *field, size_t i, bool *ret_has, uint32_t *ret,
                       berth_error *err)
{
        if (v < -1 || v > UINT32_MAX)
                return berth_error_set(err, EINVAL,
                                       "linux.resources.devices[%zu].%s: %" PRId64
                                       " is out of range (0 to 4294967295, or -1 for any)",
                                       i, field, v);
        *ret_has = v >= 0;
        *ret = *ret_has ? (uint32_t)v : 0;
        return 0;
}

static int rule_parse(const struct berth_device_cgroup_rule *r, size_t i, struct dev_rule *ret,
                      berth_error *err)
{
        struct dev_rule d = { .allow = r->allow };
        int k;

        switch (r->type) {
        case 'a':
                d.type = 0;
                break;
        case 'b':
                d.type = BPF_DEVCG_DEV_BLOCK;
                break;
        case 'c':
                d.type = BPF_DEVCG_DEV_CHAR;
                break;
        default:
                return berth_error_set(err, EINVAL,
                                       "linux.resources.devices[%zu].type: expected 'a', 'b' or "
                                       "'c', got %#x",
                                       i, (unsigned char)r->type);
        }
        k = rule_number(r->has_major ? r->major : -1, "major", i, &d.has_major, &d.major, err);
        if (k < 0)
                return k;
        k = rule_number(r->has_minor ? r->minor : -1, "minor", i, &d.has_minor, &d.minor, err);
        if (k < 0)
                return k;
        for (const char *p = r->access ? r->access : ""; *p; p++) {
                if (*p == 'r')
                        d.access |= BPF_DEVCG_ACC_READ;
                else if (*p == 'w')
                        d.access |= BPF_DEVCG_ACC_WRITE;
                else if (*p == 'm')
                        d.access |= BPF_DEVCG_ACC_MKNOD;
                else
                        return berth_error_set(err, EINVAL,
                                               "linux.resources.devices[%zu].access: expected a "
                                               "combination of \"r\", \"w\", \"m\", got \"%s\"",
                                               i, r->access);
        }
        if (d.access == 0)
                d.access = ACC_ALL;
        *ret = d;
        return 0;
}

/* Matches every request and decides all of its bits. */
static bool rule_is_total(const struct dev_rule *d)
{
        return d->type == 0 && !d->has_major && !d->has_minor && d->access == ACC_ALL;
}

struct emitter {
        struct bpf_insn *insns;
        size_t max, count;
};

static void emit(struct emitter *e, struct bpf_insn insn)
{
        if (e->count < e->max)
                e->insns[e->count] = insn;
        e->count++;
}

static size_t block_len(const struct dev_rule *d)
{
        /* 2 for the first field compared, 3 for each further one, 1 for the jump */
        size_t fields = (d->type ? 1 : 0) + (d->has_major ? 1 : 0) + (d->has_minor ? 1 : 0);
        size_t len = 3 * fields;

        if (d->access == ACC_ALL)
                return len + 2;
        return len + (d->allow ? 4 : 5);
}

/* A jump from the next instruction slot to `target`, the start of the next block. */
static int16_t off_to(const struct emitter *e, size_t target)
{
        return (int16_t)(target - (e->count + 1));
}

/*
 * r0 = (r2 ^ type) | (r4 ^ major) | (r5 ^ minor), for the fields the rule
 * names, and one jump to the next rule when it is not 0. Comparing r2, r4,
 * r5 directly would be shorter, but the verifier would then learn "r4 == 1"
 * on the way on, carry it into every later rule and fail to merge paths
 * there; and each extra jump per rule leaves one more branch pending while
 * it walks the rest. Either makes a list of a thousand rules too complex to
 * verify; this way verification is linear. A 32-bit XOR compares all of a
 * u32, so numbers above INT32_MAX need nothing special.
 */
static void emit_match(struct emitter *e, const struct dev_rule *d, size_t next)
{
        const struct {
                bool has;
                int reg;
                uint32_t v;
        } fields[] = {
                { d->type != 0, BPF_REG_2, (uint32_t)d->type },
                { d->has_major, BPF_REG_4, d->major },
                { d->has_minor, BPF_REG_5, d->minor },
        };
        bool any = false;

        for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
                int dst = any ? BPF_REG_1 : BPF_REG_0;

                if (!fields[i].has)
                        continue;
                emit(e, MOV32_REG(dst, fields[i].reg));
                emit(e, ALU32_IMM(BPF_XOR, dst, (int32_t)fields[i].v));
                if (any)
                        emit(e, ALU32_REG(BPF_OR, BPF_REG_0, BPF_REG_1));
                any = true;
        }
        if (any)
                emit(e, JMP_IMM(BPF_JNE, BPF_REG_0, 0, off_to(e, next)));
}

static void emit_rule(struct emitter *e, const struct dev_rule *d)
{
        size_t next = e->count + block_len(d);

        emit_match(e, d, next);
        if (d->access != ACC_ALL && d->allow) {
                /* undecided &= ~access; all decided: allow, else on to earlier rules */
                emit(e, ALU32_IMM(BPF_AND, BPF_REG_3, (int32_t)~d->access));
                emit(e, JMP_IMM(BPF_JNE, BPF_REG_3, 0, off_to(e, next)));
        } else if (d->access != ACC_ALL) {
                /* deny when an undecided requested bit is one this rule names */
                emit(e, MOV32_REG(BPF_REG_0, BPF_REG_3));
                emit(e, ALU32_IMM(BPF_AND, BPF_REG_0, (int32_t)d->access));
                emit(e, JMP_IMM(BPF_JEQ, BPF_REG_0, 0, off_to(e, next)));
        }
        emit(e, MOV64_IMM(BPF_REG_0, d->allow ? 1 : 0));
        emit(e, EXIT());
}

int berth_cgroup_bpf_devices_assemble(const struct berth_device_cgroup_rule *rules, size_t n,
                                      struct bpf_insn *insns, size_t max, size_t *ret_count,
                                      berth_error *err)
{
        struct emitter e = { .insns = insns, .max = max };
        struct dev_rule d;
        size_t first = 0;
        bool total = false;
        int r;

        /* Check every rule; the last total rule shadows all rules before it. */
        for (size_t i = 0; i < n; i++) {
                r = rule_parse(&rules[i], i, &d, err);
                if (r < 0)
                        return r;
                if (rule_is_total(&d)) {
                        first = i;
                        total = true;
                }
        }

        /* Only rules that check something read the context. */
        if (n > first + (total ? 1 : 0)) {
                /* struct bpf_cgroup_dev_ctx: access_type is (access << 16) | type */
                const int16_t acc = offsetof(struct bpf_cgroup_dev_ctx, access_type);

                emit(&e, LDX_W(BPF_REG_2, BPF_REG_1, acc));
                emit(&e, ALU32_IMM(BPF_AND, BPF_REG_2, 0xffff));
                emit(&e, LDX_W(BPF_REG_3, BPF_REG_1, acc));
                emit(&e, ALU32_IMM(BPF_RSH, BPF_REG_3, 16));
                emit(&e, LDX_W(BPF_REG_4, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, major)));
                emit(&e, LDX_W(BPF_REG_5, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, minor)));
        }
        for (size_t i = n; i-- > first;) {
                (void)rule_parse(&rules[i], i, &d, NULL);
                emit_rule(&e, &d);
        }
        /* Nothing decided the remaining bits: allow. Unreachable after a total rule. */
        if (!total) {
                emit(&e, MOV64_IMM(BPF_REG_0, 1));
                emit(&e, EXIT());
        }

        *ret_count = e.count;
        if (e.count > max)
                return berth_error_set(err, ENOSPC,
                                       "device filter needs %zu BPF instructions, room for %zu",
                                       e.count, max);
        return 0;
}

/* The last line of a verifier log that is not its closing statistics. */
static const char *log_last_line(char *log)
{
        static const char *const stats[] = { "processed ", "verification time", "stack depth" };
        size_t len = strnlen(log, LOG_SIZE - 1);

        log[len] = '\0';
        while (len > 0) {
                char *line;
                bool skip = false;

                while (len > 0 && (log[len - 1] == '\n' || log[len - 1] == ' '))
                        log[--len] = '\0';
                if (len == 0)
                        break;
                line = memrchr(log, '\n', len);
                line = line ? line + 1 : log;
                for (size_t i = 0; i < ARRAY_SIZE(stats); i++)
                        skip = skip || strncmp(line, stats[i], strlen(stats[i])) == 0;
                if (!skip)
                        return line;
                len = (size_t)(line - log);
        }
        return NULL;
}

int berth_cgroup_bpf_prog_load(const struct bpf_insn *insns, size_t count, int *ret_prog_fd,
                               berth_error *err)
{
        _cleanup_free_ char *log = NULL;
        union bpf_attr attr;
        const char *line;
        int fd, saved;

        memset(&attr, 0, sizeof(attr));
        attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        attr.insns = ptr_to_u64(insns);
        attr.insn_cnt = (uint32_t)count;
        attr.license = ptr_to_u64("GPL");
        memcpy(attr.prog_name, BERTH_CGROUP_BPF_DEVICES_NAME,
               sizeof(BERTH_CGROUP_BPF_DEVICES_NAME));
        fd = sys_bpf(BPF_PROG_LOAD, &attr);
        if (fd >= 0) {
                *ret_prog_fd = fd;
                return 0;
        }
        saved = errno;

        /*
         * Only now ask for the verifier log: a big valid program can overflow
         * any buffer, and a truncated log fails the load with ENOSPC.
         * Kernels since 6.4 keep the end of the log, where the reason is.
         */
        log = calloc(1, LOG_SIZE);
        if (log) {
                attr.log_level = 1;
                attr.log_buf = ptr_to_u64(log);
                attr.log_size = LOG_SIZE;
                fd = sys_bpf(BPF_PROG_LOAD, &attr);
                if (fd >= 0) {
                        *ret_prog_fd = fd;
                        return 0;
                }
        }
        line = log ? log_last_line(log) : NULL;
        if (line)
                return berth_error_set(err, saved,
                                       "load device cgroup BPF program (%zu instructions): %s: "
                                       "verifier: %s",
                                       count, strerror(saved), line);
        return berth_error_sys(err, saved, "load device cgroup BPF program (%zu instructions)",
                               count);
}

int berth_cgroup_bpf_devices_load(const struct berth_device_cgroup_rule *rules, size_t n,
                                  int *ret_prog_fd, berth_error *err)
{
        size_t max = BERTH_CGROUP_BPF_DEVICES_MAX_INSNS(n), count;
        _cleanup_free_ struct bpf_insn *insns = NULL;
        int r;

        insns = calloc(max, sizeof(*insns));
        if (!insns)
                return berth_error_sys(err, ENOMEM, "device filter for %zu rules", n);
        r = berth_cgroup_bpf_devices_assemble(rules, n, insns, max, &count, err);
        if (r < 0)
                return r;
        return berth_cgroup_bpf_prog_load(insns, count, ret_prog_fd, err);
}

static int prog_info(int fd, struct bpf_prog_info *info)
{
        union bpf_attr attr;

        memset(info, 0, sizeof(*info));
        memset(&attr, 0, sizeof(attr));
        attr.info.bpf_fd = (uint32_t)fd;
        attr.info.info_len = sizeof(*info);
        attr.info.info = ptr_to_u64(info);
        return sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr) < 0 ? -errno : 0;
}

/* The ids of the device programs attached to the cgroup itself (not its ancestors). */
static int query_attached(int cgroup_fd, uint32_t **ret_ids, size_t *ret_n, berth_error *err)
{
        _cleanup_free_ uint32_t *ids = NULL;
        uint32_t cap = 8;
        union bpf_attr attr;

        for (;;) {
                free(ids);
                ids = calloc(cap, sizeof(*ids));
                if (!ids)
                        return berth_error_sys(err, ENOMEM, "query device cgroup BPF programs");
                memset(&attr, 0, sizeof(attr));
                attr.query.target_fd = (uint32_t)cgroup_fd;
                attr.query.attach_type = BPF_CGROUP_DEVICE;
                attr.query.prog_ids = ptr_to_u64(ids);
                attr.query.prog_cnt = cap;
                if (sys_bpf(BPF_PROG_QUERY, &attr) == 0)
                        break;
                /* ENOSPC: prog_cnt now says how many there are (the list may still grow) */
                if (errno != ENOSPC || cap >= (1u << 20))
                        return berth_error_sys(err, errno, "query device cgroup BPF programs");
                cap = attr.query.prog_cnt > cap ? attr.query.prog_cnt + 8 : cap * 2;
        }
        *ret_n = attr.query.prog_cnt;
        *ret_ids = TAKE_PTR(ids);
        return 0;
}

/* Detaches program `id` when berth loaded it; 0 when it is someone else's or already gone. */
static int detach_if_ours(int cgroup_fd, uint32_t id, berth_error *err)
{
        _cleanup_close_ int fd = -1;
        struct bpf_prog_info info;
        union bpf_attr attr;
        int r;

        memset(&attr, 0, sizeof(attr));
        attr.prog_id = id;
        fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
        if (fd < 0 && errno == ENOENT)
                return 0;
        if (fd < 0)
                return berth_error_sys(err, errno, "open device cgroup BPF program %" PRIu32, id);
        r = prog_info(fd, &info);
        if (r < 0)
                return berth_error_sys(err, -r, "inspect device cgroup BPF program %" PRIu32, id);
        if (strncmp(info.name, BERTH_CGROUP_BPF_DEVICES_NAME, sizeof(info.name)) != 0)
                return 0;

        memset(&attr, 0, sizeof(attr));
        attr.target_fd = (uint32_t)cgroup_fd;
        attr.attach_bpf_fd = (uint32_t)fd;
        attr.attach_type = BPF_CGROUP_DEVICE;
        if (sys_bpf(BPF_PROG_DETACH, &attr) < 0 && errno != ENOENT)
                return berth_error_sys(err, errno, "detach old device cgroup BPF program %" PRIu32,
                                       id);
        return 0;
}

int berth_cgroup_bpf_devices_attach(int cgroup_fd, int prog_fd, berth_error *err)
{
        _cleanup_free_ uint32_t *ids = NULL;
        struct bpf_prog_info info;
        bool attached = false;
        union bpf_attr attr;
        size_t n = 0;
        int r, ret = 0;

        r = prog_info(prog_fd, &info);
        if (r < 0)
                return berth_error_sys(err, -r, "inspect device cgroup BPF program fd %d", prog_fd);
        r = query_attached(cgroup_fd, &ids, &n, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                attached = attached || ids[i] == info.id;

        if (!attached) {
                memset(&attr, 0, sizeof(attr));
                attr.target_fd = (uint32_t)cgroup_fd;
                attr.attach_bpf_fd = (uint32_t)prog_fd;
                attr.attach_type = BPF_CGROUP_DEVICE;
                attr.attach_flags = BPF_F_ALLOW_MULTI;
                if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0)
                        return berth_error_sys(err, errno, "attach device cgroup BPF program");
        }

        /* Only now that the new filter applies may the old ones go. */
        for (size_t i = 0; i < n; i++) {
                if (ids[i] == info.id)
                        continue;
                r = detach_if_ours(cgroup_fd, ids[i], ret < 0 ? NULL : err);
                if (r < 0 && ret == 0)
                        ret = r;
        }
        return ret;
}
