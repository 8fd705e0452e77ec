/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config.json's linux object -> struct berth_linux: namespaces, id mappings,
 * time offsets, devices, resources, seccomp, sysctl, masked and read-only
 * paths, personality. The rest of the document is parsed in config.c, which
 * calls config_parse_linux() and config_linux_release(); the conventions
 * there (zeroed structs, half-filled trees freed as complete) hold here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/cleanup.h"
#include "basic/json.h"
#include "runtime/config.h"
#include "runtime/config-internal.h"

/* Bounds on arrays; the document as a whole is bounded by BERTH_CONFIG_MAX_SIZE. */
#define MAX_NAMESPACES    64
#define MAX_DEVICES       4096
#define MAX_CGROUP_LIST   4096 /* device rules, blkio devices, hugepage limits, ... */
#define MAX_SYSCALLS      16384
#define MAX_SYSCALL_NAMES 4096
#define MAX_SYSCALL_ARGS  64
#define MAX_SYSCALL_ARG   6 /* seccomp sees six syscall arguments */

/* ---- linux: namespaces, devices, time offsets ---- */

static void namespace_release(void *p)
{
        free(((struct berth_namespace *)p)->path);
}

static int parse_namespace(json_object *o, const char *path, void *ret, berth_error *err)
{
        struct berth_namespace *ns = ret;
        int r, type = 0;

        r = config_parse_enum(o, "type", path, true, berth_ns_type_from_string, "namespace type",
                              &type, err);
        if (r < 0)
                return r;
        ns->type = type;
        r = berth_json_get_string(o, "path", path, false, &ns->path, err);
        if (r < 0)
                return r;
        /* An empty path means "create one", as in runc. */
        if (ns->path && !*ns->path) {
                free(ns->path);
                ns->path = NULL;
        }
        return config_check_absolute(ns->path, path, "path", err);
}

static int parse_namespaces(json_object *lin, const char *path, struct berth_linux *l,
                            berth_error *err)
{
        unsigned seen = 0;
        void *v = NULL;
        int r;

        r = config_parse_object_array(lin, "namespaces", path, MAX_NAMESPACES,
                                      sizeof(struct berth_namespace), parse_namespace,
                                      namespace_release, &v, &l->n_namespaces, err);
        if (r <= 0)
                return r;
        l->namespaces = v;
        for (size_t i = 0; i < l->n_namespaces; i++) {
                unsigned bit = 1u << l->namespaces[i].type;

                if (seen & bit)
                        return berth_error_set(err, EINVAL,
                                               "%s.namespaces[%zu].type: duplicate namespace "
                                               "\"%s\"",
                                               path, i,
                                               berth_ns_type_to_string(l->namespaces[i].type));
                seen |= bit;
        }
        return 0;
}

static void device_release(void *p)
{
        free(((struct berth_device *)p)->path);
}

static int parse_device(json_object *o, const char *path, void *ret, berth_error *err)
{
        static const struct berth_json_field fields[] = {
                F_REQ("path", BERTH_JSON_STRING, struct berth_device, path),
                F_HAS("fileMode", BERTH_JSON_UINT32, struct berth_device, file_mode, has_file_mode),
                F_HAS("uid", BERTH_JSON_UINT32, struct berth_device, uid, has_uid),
                F_HAS("gid", BERTH_JSON_UINT32, struct berth_device, gid, has_gid),
                F_END,
        };
        struct berth_device *d = ret;
        _cleanup_free_ char *type = NULL;
        bool need_numbers;
        int r;

        r = berth_json_dispatch(o, path, fields, d, err);
        if (r < 0)
                return r;
        r = config_check_absolute(d->path, path, "path", err);
        if (r < 0)
                return r;
        r = berth_json_get_string(o, "type", path, true, &type, err);
        if (r < 0)
                return r;
        if (strlen(type) != 1 || !strchr("cbup", type[0]))
                return config_field_error(err, path, "type",
                                          "expected one of \"c\", \"b\", \"u\", \"p\", got \"%s\"",
                                          type);
        d->type = type[0];
        need_numbers = d->type != 'p';
        r = berth_json_get_int64(o, "major", path, need_numbers, &d->major, err);
        if (r < 0)
                return r;
        r = berth_json_get_int64(o, "minor", path, need_numbers, &d->minor, err);
        if (r < 0)
                return r;
        if (d->has_file_mode && d->file_mode > 07777)
                return config_field_error(err, path, "fileMode",
                                          "expected permission bits (at most 07777), got %#o",
                                          d->file_mode);
        return 0;
}

static int parse_time_offset(json_object *v, const char *path, struct berth_time_offset *off,
                             berth_error *err)
{
        static const struct berth_json_field fields[] = {
                F("secs", BERTH_JSON_INT64, struct berth_time_offset, secs),
                F("nanosecs", BERTH_JSON_UINT32, struct berth_time_offset, nanosecs),
                F_END,
        };
        int r;

        if (!json_object_is_type(v, json_type_object))
                return berth_json_type_error(v, path, "an object", err);
        r = berth_json_dispatch(v, path, fields, off, err);
        if (r < 0)
                return r;
        if (off->nanosecs >= 1000000000u)
                return config_field_error(err, path, "nanosecs", "must be below 1000000000, got %u",
                                          off->nanosecs);
        off->set = true;
        return 0;
}

static int parse_time_offsets(json_object *lin, const char *path, struct berth_linux *l,
                              berth_error *err)
{
        char tpath[BERTH_JSON_PATH_MAX], cpath[BERTH_JSON_PATH_MAX];
        struct json_object_iterator it, end;
        json_object *o = NULL;
        int r;

        r = berth_json_get_object(lin, "timeOffsets", path, false, &o, err);
        if (r <= 0)
                return r;
        berth_json_path(tpath, sizeof(tpath), path, "timeOffsets");
        it = json_object_iter_begin(o);
        end = json_object_iter_end(o);
        for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
                const char *clock = json_object_iter_peek_name(&it);
                struct berth_time_offset *off;

                if (config_streq(clock, "monotonic"))
                        off = &l->time_monotonic;
                else if (config_streq(clock, "boottime"))
                        off = &l->time_boottime;
                else
                        return berth_error_set(err, EINVAL,
                                               "%s: unknown clock \"%s\" (expected monotonic or "
                                               "boottime)",
                                               tpath, clock);
                berth_json_path(cpath, sizeof(cpath), tpath, clock);
                r = parse_time_offset(json_object_iter_peek_value(&it), cpath, off, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- linux.resources ---- */

static void device_rule_release(void *p)
{
        free(((struct berth_device_cgroup_rule *)p)->access);
}

static int parse_device_rule(json_object *o, const char *path, void *ret, berth_error *err)
{
        static const struct berth_json_field fields[] = {
                F_REQ("allow", BERTH_JSON_BOOL, struct berth_device_cgroup_rule, allow),
                F_HAS("major", BERTH_JSON_INT64, struct berth_device_cgroup_rule, major, has_major),
                F_HAS("minor", BERTH_JSON_INT64, struct berth_device_cgroup_rule, minor, has_minor),
                F("access", BERTH_JSON_STRING, struct berth_device_cgroup_rule, access),
                F_END,
        };
        struct berth_device_cgroup_rule *d = ret;
        _cleanup_free_ char *type = NULL;
        int r;

        r = berth_json_dispatch(o, path, fields, d, err);
        if (r < 0)
                return r;
        r = berth_json_get_string(o, "type", path, false, &type, err);
        if (r < 0)
                return r;
        if (type && (strlen(type) != 1 || !strchr("acb", type[0])))
                return config_field_error(err, path, "type",
                                          "expected one of \"a\", \"c\", \"b\", got \"%s\"", type);
        d->type = type ? type[0] : 'a';
        if (d->has_major && d->major < -1)
                return config_field_error(err, path, "major",
                                          "must be -1 (any) or a device number");
        if (d->has_minor && d->minor < -1)
                return config_field_error(err, path, "minor",
                                          "must be -1 (any) or a device number");
        if (d->access && d->access[strspn(d->access, "rwm")])
                return config_field_error(
                        err, path, "access",
                        "expected a combination of \"r\", \"w\", \"m\", got \"%s\"", d->access);
        return 0;
}

static int parse_memory(json_object *res, const char *path, struct berth_resources *rs,
                        berth_error *err)
{
#define M(key, member)                                                                             \
        F_HAS(key, BERTH_JSON_INT64, struct berth_memory_resources, member, has_##member)
        static const struct berth_json_field fields[] = {
                M("limit", limit),
                M("reservation", reservation),
                M("swap", swap),
                M("kernel", kernel),
                M("kernelTCP", kernel_tcp),
                F_HAS("swappiness", BERTH_JSON_UINT64, struct berth_memory_resources, swappiness,
                      has_swappiness),
                F_HAS("disableOOMKiller", BERTH_JSON_BOOL, struct berth_memory_resources,
                      disable_oom_killer, has_disable_oom_killer),
                F_HAS("useHierarchy", BERTH_JSON_BOOL, struct berth_memory_resources, use_hierarchy,
                      has_use_hierarchy),
                F_HAS("checkBeforeUpdate", BERTH_JSON_BOOL, struct berth_memory_resources,
                      check_before_update, has_check_before_update),
                F_END,
        };
#undef M
        char mpath[BERTH_JSON_PATH_MAX];
        json_object *o = NULL;
        int r;

        r = berth_json_get_object(res, "memory", path, false, &o, err);
        if (r <= 0)
                return r;
        rs->has_memory = true;
        return berth_json_dispatch(o, berth_json_path(mpath, sizeof(mpath), path, "memory"), fields,
                                   &rs->memory, err);
}

static int parse_cpu(json_object *res, const char *path, struct berth_resources *rs,
                     berth_error *err)
{
#define C(key, kind, member) F_HAS(key, kind, struct berth_cpu_resources, member, has_##member)
        static const struct berth_json_field fields[] = {
                C("shares", BERTH_JSON_UINT64, shares),
                C("quota", BERTH_JSON_INT64, quota),
                C("burst", BERTH_JSON_UINT64, burst),
                C("period", BERTH_JSON_UINT64, period),
                C("realtimeRuntime", BERTH_JSON_INT64, realtime_runtime),
                C("realtimePeriod", BERTH_JSON_UINT64, realtime_period),
                F("cpus", BERTH_JSON_STRING, struct berth_cpu_resources, cpus),
                F("mems", BERTH_JSON_STRING, struct berth_cpu_resources, mems),
                C("idle", BERTH_JSON_INT64, idle),
                F_END,
        };
#undef C
        char cpath[BERTH_JSON_PATH_MAX];
        json_object *o = NULL;
        int r;

        r = berth_json_get_object(res, "cpu", path, false, &o, err);
        if (r <= 0)
                return r;
        rs->has_cpu = true;
        return berth_json_dispatch(o, berth_json_path(cpath, sizeof(cpath), path, "cpu"), fields,
                                   &rs->cpu, err);
}

static int parse_pids(json_object *res, const char *path, struct berth_resources *rs,
                      berth_error *err)
{
        static const struct berth_json_field fields[] = {
                F_HAS("limit", BERTH_JSON_INT64, struct berth_resources, pids_limit,
                      has_pids_limit),
                F_END,
        };
        char ppath[BERTH_JSON_PATH_MAX];
        json_object *o = NULL;
        int r;

        r = berth_json_get_object(res, "pids", path, false, &o, err);
        if (r <= 0)
                return r;
        return berth_json_dispatch(o, berth_json_path(ppath, sizeof(ppath), path, "pids"), fields,
                                   rs, err);
}

static int parse_blkio_weight_device(json_object *o, const char *path, void *ret, berth_error *err)
{
        static const struct berth_json_field fields[] = {
                F_REQ("major", BERTH_JSON_INT64, struct berth_block_io_device, major),
                F_REQ("minor", BERTH_JSON_INT64, struct berth_block_io_device, minor),
                F_HAS("weight", BERTH_JSON_UINT16, struct berth_block_io_device, weight,
                      has_weight),
                F_HAS("leafWeight", BERTH_JSON_UINT16, struct berth_block_io_device, leaf_weight,
                      has_leaf_weight),
                F_END,
        };
        return berth_json_dispatch(o, path, fields, ret, err);
}

static int parse_blkio_throttle_device(json_object *o, const char *path, void *ret,
                                       berth_error *err)
{
        static const struct berth_json_field fields[] = {
                F_REQ("major", BERTH_JSON_INT64, struct berth_block_io_device, major),
                F_REQ("minor", BERTH_JSON_INT64, struct berth_block_io_device, minor),
                F("rate", BERTH_JSON_UINT64, struct berth_block_io_device, rate),
                F_END,
        };
        return berth_json_dispatch(o, path, fields, ret, err);
}

static int parse_block_io(json_object *res, const char *path, struct berth_resources *rs,
                          berth_error *err)
{
        static const struct berth_json_field fields[] = {
                F_HAS("weight", BERTH_JSON_UINT16, struct berth_block_io_resources, weight,
                      has_weight),
                F_HAS("leafWeight", BERTH_JSON_UINT16, struct berth_block_io_resources, leaf_weight,
                      has_leaf_weight),
                F_END,
        };
        struct berth_block_io_resources *b = &rs->block_io;
        struct {
                const char *key;
                struct berth_block_io_device **list;
                size_t *n;
        } lists[] = {
                { "weightDevice", &b->weight_device, &b->n_weight_device },
                { "throttleReadBpsDevice", &b->throttle_read_bps, &b->n_throttle_read_bps },
                { "throttleWriteBpsDevice", &b->throttle_write_bps, &b->n_throttle_write_bps },
                { "throttleReadIOPSDevice", &b->throttle_read_iops, &b->n_throttle_read_iops },
                { "throttleWriteIOPSDevice", &b->throttle_write_iops, &b->n_throttle_write_iops },
        };
        char bpath[BERTH_JSON_PATH_MAX];
        json_object *o = NULL;
        int r;

        r = berth_json_get_object(res, "blockIO", path, false, &o, err);
        if (r <= 0)
                return r;
        rs->has_block_io = true;
        berth_json_path(bpath, sizeof(bpath), path, "blockIO");
        r = berth_json_dispatch(o, bpath, fields, b, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
                void *v = NULL;

                r = config_parse_object_array(o, lists[i].key, bpath, MAX_CGROUP_LIST,
                                              sizeof(struct berth_block_io_device),
                                              i == 0 ? parse_blkio_weight_device
                                                     : parse_blkio_throttle_device,
                                              NULL, &v, lists[i].n, err);
                if (r < 0)
                        return r;
                *lists[i].list = v;
        }
        return 0;
}

static void hugepage_release(void *p)
{
        free(((struct berth_hugepage_limit *)p)->page_size);
}

static int parse_hugepage_limit(json_object *o, const char *path, void *ret, berth_error *err)
{
        static const struct berth_json_field fields[] = {
                F_REQ("pageSize", BERTH_JSON_STRING, struct berth_hugepage_limit, page_size),
                F_REQ("limit", BERTH_JSON_UINT64, struct berth_hugepage_limit, limit),
                F_END,
        };
        return berth_json_dispatch(o, path, fields, ret, err);
}

static void net_priority_release(void *p)
{
        free(((struct berth_net_priority *)p)->name);
}

static int parse_net_priority(json_object *o, const char *path, void *ret, berth_error *err)
{
        static const struct berth_json_field fields[] = {
                F_REQ("name", BERTH_JSON_STRING, struct berth_net_priority, name),
                F_REQ("priority", BERTH_JSON_UINT32, struct berth_net_priority, priority),
                F_END,
        };
        return berth_json_dispatch(o, path, fields, ret, err);
}

static int parse_network(json_object *res, const char *path, struct berth_resources *rs,
                         berth_error *err)
{
        static const struct berth_json_field fields[] = {
                F_HAS("classID", BERTH_JSON_UINT32, struct berth_resources, net_class_id,
                      has_net_class_id),
                F_END,
        };
        char npath[BERTH_JSON_PATH_MAX];
        json_object *o = NULL;
        void *v = NULL;
        int r;

        r = berth_json_get_object(res, "network", path, false, &o, err);
        if (r <= 0)
                return r;
        berth_json_path(npath, sizeof(npath), path, "network");
        r = berth_json_dispatch(o, npath, fields, rs, err);
        if (r < 0)
                return r;
        r = config_parse_object_array(o, "priorities", npath, MAX_CGROUP_LIST,
                                      sizeof(struct berth_net_priority), parse_net_priority,
                                      net_priority_release, &v, &rs->n_net_priorities, err);
        if (r > 0)
                rs->net_priorities = v;
        return r;
}

static void rdma_release(void *p)
{
        free(((struct berth_rdma_limit *)p)->device);
}

static int parse_rdma(json_object *res, const char *path, struct berth_resources *rs,
                      berth_error *err)
{
        static const struct berth_json_field fields[] = {
                F_HAS("hcaHandles", BERTH_JSON_UINT32, struct berth_rdma_limit, hca_handles,
                      has_hca_handles),
                F_HAS("hcaObjects", BERTH_JSON_UINT32, struct berth_rdma_limit, hca_objects,
                      has_hca_objects),
                F_END,
        };
        char rpath[BERTH_JSON_PATH_MAX], dpath[BERTH_JSON_PATH_MAX];
        struct json_object_iterator it, end;
        json_object *o = NULL;
        size_t n;
        int r;

        r = berth_json_get_object(res, "rdma", path, false, &o, err);
        if (r <= 0)
                return r;
        berth_json_path(rpath, sizeof(rpath), path, "rdma");
        n = (size_t)json_object_object_length(o);
        if (n > MAX_MAP)
                return berth_error_set(err, E2BIG, "%s: more than %d entries", rpath, MAX_MAP);
        rs->rdma = calloc(n ? n : 1, sizeof(*rs->rdma));
        if (!rs->rdma)
                return config_oom(err, rpath);
        it = json_object_iter_begin(o);
        end = json_object_iter_end(o);
        for (; !json_object_iter_equal(&it, &end) && rs->n_rdma < n; json_object_iter_next(&it)) {
                struct berth_rdma_limit *l = &rs->rdma[rs->n_rdma++];
                json_object *v = json_object_iter_peek_value(&it);

                l->device = strdup(json_object_iter_peek_name(&it));
                if (!l->device)
                        return config_oom(err, rpath);
                berth_json_path(dpath, sizeof(dpath), rpath, l->device);
                if (!json_object_is_type(v, json_type_object))
                        return berth_json_type_error(v, dpath, "an object", err);
                r = berth_json_dispatch(v, dpath, fields, l, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_resource_lists(json_object *o, const char *path, struct berth_resources *rs,
                                berth_error *err)
{
        void *v = NULL;
        int r;

        r = config_parse_object_array(o, "devices", path, MAX_CGROUP_LIST,
                                      sizeof(struct berth_device_cgroup_rule), parse_device_rule,
                                      device_rule_release, &v, &rs->n_devices, err);
        if (r < 0)
                return r;
        rs->devices = v;
        v = NULL;
        r = config_parse_object_array(o, "hugepageLimits", path, MAX_CGROUP_LIST,
                                      sizeof(struct berth_hugepage_limit), parse_hugepage_limit,
                                      hugepage_release, &v, &rs->n_hugepage_limits, err);
        if (r < 0)
                return r;
        rs->hugepage_limits = v;
        return config_parse_kv_map(o, "unified", path, &rs->unified, &rs->n_unified, err);
}

static int parse_resources_object(json_object *o, const char *path, struct berth_resources *rs,
                                  berth_error *err)
{
        static int (*const parts[])(json_object *, const char *, struct berth_resources *,
                                    berth_error *) = {
                parse_resource_lists, parse_memory,  parse_cpu,  parse_pids,
                parse_block_io,       parse_network, parse_rdma,
        };

        for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
                int r = parts[i](o, path, rs, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_resources(json_object *lin, const char *path, struct berth_linux *l,
                           berth_error *err)
{
        char rpath[BERTH_JSON_PATH_MAX];
        json_object *o = NULL;
        int r;

        r = berth_json_get_object(lin, "resources", path, false, &o, err);
        if (r <= 0)
                return r;
        l->has_resources = true;
        berth_json_path(rpath, sizeof(rpath), path, "resources");
        return parse_resources_object(o, rpath, &l->resources, err);
}

void berth_resources_release(struct berth_resources *rs)
{
        struct berth_block_io_resources *b = &rs->block_io;

        config_array_free(rs->devices, rs->n_devices, sizeof(*rs->devices), device_rule_release);
        free(rs->cpu.cpus);
        free(rs->cpu.mems);
        free(b->weight_device);
        free(b->throttle_read_bps);
        free(b->throttle_write_bps);
        free(b->throttle_read_iops);
        free(b->throttle_write_iops);
        config_array_free(rs->hugepage_limits, rs->n_hugepage_limits, sizeof(*rs->hugepage_limits),
                          hugepage_release);
        config_array_free(rs->net_priorities, rs->n_net_priorities, sizeof(*rs->net_priorities),
                          net_priority_release);
        config_array_free(rs->rdma, rs->n_rdma, sizeof(*rs->rdma), rdma_release);
        config_kv_free(rs->unified, rs->n_unified);
}

/* ---- linux.seccomp ---- */

static int parse_seccomp_arg(json_object *o, const char *path, void *ret, berth_error *err)
{
        static const struct berth_json_field fields[] = {
                F_REQ("index", BERTH_JSON_UINT32, struct berth_seccomp_arg, index),
                F_REQ("value", BERTH_JSON_UINT64, struct berth_seccomp_arg, value),
                F("valueTwo", BERTH_JSON_UINT64, struct berth_seccomp_arg, value_two),
                F_END,
        };
        struct berth_seccomp_arg *a = ret;
        int r, op = 0;

        r = berth_json_dispatch(o, path, fields, a, err);
        if (r < 0)
                return r;
        if (a->index >= MAX_SYSCALL_ARG)
                return config_field_error(err, path, "index", "must be below %d, got %u",
                                          MAX_SYSCALL_ARG, a->index);
        r = config_parse_enum(o, "op", path, true, berth_seccomp_op_from_string, "seccomp operator",
                              &op, err);
        a->op = op;
        return r < 0 ? r : 0;
}

static void syscall_release(void *p)
{
        struct berth_seccomp_syscall *s = p;

        strv_free(s->names);
        free(s->args);
}

static int parse_syscall(json_object *o, const char *path, void *ret, berth_error *err)
{
        struct berth_seccomp_syscall *s = ret;
        int r, action = 0;
        void *v = NULL;

        r = berth_json_get_strv(o, "names", path, true, MAX_SYSCALL_NAMES, &s->names, &s->n_names,
                                err);
        if (r < 0)
                return r;
        r = config_parse_enum(o, "action", path, true, berth_seccomp_action_from_string,
                              "seccomp action", &action, err);
        if (r < 0)
                return r;
        s->action = action;
        r = berth_json_get_uint32(o, "errnoRet", path, false, &s->errno_ret, err);
        if (r < 0)
                return r;
        s->has_errno_ret = r > 0;
        r = config_parse_object_array(o, "args", path, MAX_SYSCALL_ARGS,
                                      sizeof(struct berth_seccomp_arg), parse_seccomp_arg, NULL, &v,
                                      &s->n_args, err);
        if (r > 0)
                s->args = v;
        return r < 0 ? r : 0;
}

/* runc's rules: notify needs a listener, and cannot be the default. */
static int check_seccomp(const struct berth_seccomp *s, const char *path, berth_error *err)
{
        if (s->default_action == BERTH_SCMP_ACT_NOTIFY)
                return config_field_error(err, path, "defaultAction",
                                          "SCMP_ACT_NOTIFY cannot be the default action");
        for (size_t i = 0; i < s->n_syscalls; i++)
                if (s->syscalls[i].action == BERTH_SCMP_ACT_NOTIFY && !s->listener_path)
                        return berth_error_set(err, EINVAL,
                                               "%s.syscalls[%zu].action: SCMP_ACT_NOTIFY needs "
                                               "%s.listenerPath",
                                               path, i, path);
        return 0;
}

static int parse_seccomp(json_object *lin, const char *path, struct berth_linux *l,
                         berth_error *err)
{
        static const struct berth_json_field fields[] = {
                F_HAS("defaultErrnoRet", BERTH_JSON_UINT32, struct berth_seccomp, default_errno_ret,
                      has_default_errno_ret),
                F_STRV("architectures", struct berth_seccomp, architectures, n_architectures),
                F_STRV("flags", struct berth_seccomp, flags, n_flags),
                F("listenerPath", BERTH_JSON_STRING, struct berth_seccomp, listener_path),
                F("listenerMetadata", BERTH_JSON_STRING, struct berth_seccomp, listener_metadata),
                F_END,
        };
        struct berth_seccomp *s = &l->seccomp;
        char spath[BERTH_JSON_PATH_MAX];
        json_object *o = NULL;
        int r, action = 0;
        void *v = NULL;

        r = berth_json_get_object(lin, "seccomp", path, false, &o, err);
        if (r <= 0)
                return r;
        l->has_seccomp = true;
        berth_json_path(spath, sizeof(spath), path, "seccomp");
        r = config_parse_enum(o, "defaultAction", spath, true, berth_seccomp_action_from_string,
                              "seccomp action", &action, err);
        if (r < 0)
                return r;
        s->default_action = action;
        r = berth_json_dispatch(o, spath, fields, s, err);
        if (r < 0)
                return r;
        if (s->listener_path && !*s->listener_path) {
                free(s->listener_path);
                s->listener_path = NULL;
        }
        r = config_parse_object_array(o, "syscalls", spath, MAX_SYSCALLS,
                                      sizeof(struct berth_seccomp_syscall), parse_syscall,
                                      syscall_release, &v, &s->n_syscalls, err);
        if (r < 0)
                return r;
        s->syscalls = v;
        return check_seccomp(s, spath, err);
}

/* ---- linux ---- */

static int parse_personality(json_object *lin, const char *path, struct berth_linux *l,
                             berth_error *err)
{
        static const struct berth_json_field fields[] = {
                F_REQ("domain", BERTH_JSON_STRING, struct berth_personality, domain),
                F_STRV("flags", struct berth_personality, flags, n_flags),
                F_END,
        };
        char ppath[BERTH_JSON_PATH_MAX];
        json_object *o = NULL;
        int r;

        r = berth_json_get_object(lin, "personality", path, false, &o, err);
        if (r <= 0)
                return r;
        l->has_personality = true;
        berth_json_path(ppath, sizeof(ppath), path, "personality");
        r = berth_json_dispatch(o, ppath, fields, &l->personality, err);
        if (r < 0)
                return r;
        if (!config_streq(l->personality.domain, "LINUX") &&
            !config_streq(l->personality.domain, "LINUX32"))
                return config_field_error(err, ppath, "domain",
                                          "expected \"LINUX\" or \"LINUX32\", got \"%s\"",
                                          l->personality.domain);
        return 0;
}

static int parse_linux_lists(json_object *lin, const char *path, struct berth_linux *l,
                             berth_error *err)
{
        void *v = NULL;
        int r;

        r = config_parse_id_mappings(lin, "uidMappings", path, &l->uid_mappings, &l->n_uid_mappings,
                                     err);
        if (r < 0)
                return r;
        r = config_parse_id_mappings(lin, "gidMappings", path, &l->gid_mappings, &l->n_gid_mappings,
                                     err);
        if (r < 0)
                return r;
        r = config_parse_object_array(lin, "devices", path, MAX_DEVICES,
                                      sizeof(struct berth_device), parse_device, device_release, &v,
                                      &l->n_devices, err);
        if (r < 0)
                return r;
        l->devices = v;
        return config_parse_kv_map(lin, "sysctl", path, &l->sysctl, &l->n_sysctl, err);
}

static int parse_linux_scalars(json_object *lin, const char *path, struct berth_linux *l,
                               berth_error *err)
{
        static const struct berth_json_field fields[] = {
                F("cgroupsPath", BERTH_JSON_STRING, struct berth_linux, cgroups_path),
                F("rootfsPropagation", BERTH_JSON_STRING, struct berth_linux, rootfs_propagation),
                F("mountLabel", BERTH_JSON_STRING, struct berth_linux, mount_label),
                F_STRV("maskedPaths", struct berth_linux, masked_paths, n_masked_paths),
                F_STRV("readonlyPaths", struct berth_linux, readonly_paths, n_readonly_paths),
                F_END,
        };
        const struct flag_opt *o;
        int r;

        r = berth_json_dispatch(lin, path, fields, l, err);
        if (r < 0 || !l->rootfs_propagation)
                return r;
        o = config_find_opt(config_propagation_opts, config_n_propagation_opts,
                            l->rootfs_propagation);
        if (!o)
                return config_field_error(err, path, "rootfsPropagation",
                                          "unknown propagation \"%s\"", l->rootfs_propagation);
        l->rootfs_propagation_flags = o->flag;
        return 0;
}

int config_parse_linux(json_object *root, const char *path, struct berth_config *c,
                       berth_error *err)
{
        static int (*const parts[])(json_object *, const char *, struct berth_linux *,
                                    berth_error *) = {
                parse_linux_scalars, parse_namespaces, parse_linux_lists, parse_time_offsets,
                parse_resources,     parse_seccomp,    parse_personality,
        };
        char lpath[BERTH_JSON_PATH_MAX];
        json_object *o = NULL;
        int r;

        r = berth_json_get_object(root, "linux", path, false, &o, err);
        if (r <= 0)
                return r;
        c->has_linux = true;
        berth_json_path(lpath, sizeof(lpath), path, "linux");
        for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
                r = parts[i](o, lpath, &c->linux, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

void config_linux_release(struct berth_linux *l)
{
        struct berth_seccomp *s = &l->seccomp;

        config_array_free(l->namespaces, l->n_namespaces, sizeof(*l->namespaces),
                          namespace_release);
        free(l->uid_mappings);
        free(l->gid_mappings);
        config_array_free(l->devices, l->n_devices, sizeof(*l->devices), device_release);
        free(l->cgroups_path);
        berth_resources_release(&l->resources);
        free(l->rootfs_propagation);
        strv_free(s->architectures);
        strv_free(s->flags);
        free(s->listener_path);
        free(s->listener_metadata);
        config_array_free(s->syscalls, s->n_syscalls, sizeof(*s->syscalls), syscall_release);
        config_kv_free(l->sysctl, l->n_sysctl);
        strv_free(l->masked_paths);
        strv_free(l->readonly_paths);
        free(l->mount_label);
        free(l->personality.domain);
        strv_free(l->personality.flags);
}

static int parse_resources_document(json_object *o, void *ret, berth_error *err)
{
        return parse_resources_object(o, "", ret, err);
}

int berth_resources_parse(const char *data, size_t len, const char *what,
                          struct berth_resources *ret, berth_error *err)
{
        struct berth_resources rs = { 0 };
        int r = config_parse_document(data, len, what, parse_resources_document, &rs, err);

        if (r < 0) {
                berth_resources_release(&rs);
                return r;
        }
        *ret = rs;
        return 0;
}
