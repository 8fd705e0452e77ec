/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the cgroup drivers share: file reads and writes that name their
 * input, the cgroup mounts of this mount namespace, enabling v2
 * controllers, cpu lists, and crun's v1-to-v2 conversions.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "basic/log.h"
#include "runtime/cgroup.h"

#define CGROUP_FILE_MAX (1u << 20)

/* ---- file helpers ---- */

int cg_write(const char *dir, const char *file, const char *value, const char *field,
             berth_error *err)
{
        char path[PATH_MAX];
        _cleanup_close_ int fd = -1;
        size_t len = strlen(value);

        snprintf(path, sizeof(path), "%s/%s", dir, file);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || berth_write_all(fd, value, len) < 0) {
                int e = errno;
                if (field)
                        return berth_error_sys(err, e, "%s: write `%s` to `%s`", field, value,
                                               path);
                return berth_error_sys(err, e, "write `%s` to `%s`", value, path);
        }
        return 0;
}

int cg_writef(const char *dir, const char *file, const char *field, berth_error *err,
              const char *fmt, ...)
{
        char buf[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        return cg_write(dir, file, buf, field, err);
}

int cg_read(const char *dir, const char *file, char **ret)
{
        char path[PATH_MAX];
        _cleanup_close_ int fd = -1;
        size_t len;
        int r;

        snprintf(path, sizeof(path), "%s/%s", dir, file);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = berth_read_fd(fd, CGROUP_FILE_MAX, ret, &len);
        if (r < 0)
                return r;
        while (len > 0 && (*ret)[len - 1] == '\n')
                (*ret)[--len] = '\0';
        return 0;
}

int cg_read_u64(const char *dir, const char *file, uint64_t *ret)
{
        _cleanup_free_ char *s = NULL;
        int r = cg_read(dir, file, &s);

        if (r < 0)
                return r;
        if (strcmp(s, "max") == 0) {
                *ret = UINT64_MAX;
                return 0;
        }
        return berth_parse_u64(s, ret);
}

int cg_read_keyed(const char *dir, const char *file, const char *key, uint64_t *ret)
{
        _cleanup_free_ char *s = NULL;
        size_t klen = strlen(key);
        int r = cg_read(dir, file, &s);

        if (r < 0)
                return r;
        for (char *line = s, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
                        return berth_parse_u64(line + klen + 1, ret);
        }
        return -ENOENT;
}

int cg_read_raw(const char *dir, const char *file, struct berth_kv **ret, size_t *ret_n)
{
        _cleanup_free_ char *s = NULL;
        struct berth_kv *kv = NULL;
        size_t n = 0;
        int r = cg_read(dir, file, &s);

        *ret = NULL;
        *ret_n = 0;
        if (r < 0)
                return r;
        for (char *line = s, *next; line && *line; line = next) {
                char *sp;
                struct berth_kv *nkv;
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                sp = strchr(line, ' ');
                if (!sp)
                        continue;
                *sp = '\0';
                nkv = realloc(kv, (n + 1) * sizeof(*kv));
                if (!nkv)
                        break;
                kv = nkv;
                kv[n].key = strdup(line);
                kv[n].value = strdup(sp + 1);
                if (!kv[n].key || !kv[n].value) {
                        free(kv[n].key);
                        free(kv[n].value);
                        break;
                }
                n++;
        }
        *ret = kv;
        *ret_n = n;
        return 0;
}

bool cg_exists(const char *dir, const char *file)
{
        char path[PATH_MAX];

        snprintf(path, sizeof(path), "%s/%s", dir, file);
        return access(path, F_OK) == 0;
}

int cg_mkdir(const char *path, bool *ret_created, berth_error *err)
{
        *ret_created = false;
        if (mkdir(path, 0755) == 0) {
                *ret_created = true;
                return 0;
        }
        if (errno == EEXIST)
                return 0;
        return berth_error_sys(err, errno, "create cgroup `%s`", path);
}

int cg_add_dir(struct berth_cgroup *cg, const char *controllers, const char *path, bool created)
{
        struct cgroup_dir *nd = realloc(cg->dirs, (cg->n_dirs + 1) * sizeof(*nd));

        if (!nd)
                return -ENOMEM;
        cg->dirs = nd;
        nd[cg->n_dirs].controllers = strdup(controllers);
        nd[cg->n_dirs].path = strdup(path);
        nd[cg->n_dirs].created = created;
        if (!nd[cg->n_dirs].controllers || !nd[cg->n_dirs].path) {
                free(nd[cg->n_dirs].controllers);
                free(nd[cg->n_dirs].path);
                return -ENOMEM;
        }
        cg->n_dirs++;
        return 0;
}

/* Whether the comma list `list` holds `item`. */
static bool list_has(const char *list, const char *item)
{
        size_t len = strlen(item);

        for (const char *p = list; p && *p;) {
                const char *comma = strchr(p, ',');
                size_t l = comma ? (size_t)(comma - p) : strlen(p);
                if (l == len && strncmp(p, item, len) == 0)
                        return true;
                p = comma ? comma + 1 : NULL;
        }
        return false;
}

const char *cg_dir_of(const struct berth_cgroup *cg, const char *controller)
{
        for (size_t i = 0; i < cg->n_dirs; i++)
                if (list_has(cg->dirs[i].controllers, controller) ||
                    (!*controller && !*cg->dirs[i].controllers))
                        return cg->dirs[i].path;
        return NULL;
}

int cg_own_path(const char *controllers, char **ret)
{
        _cleanup_free_ char *s = NULL;
        size_t len;
        int r;

        {
                _cleanup_close_ int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                r = berth_read_fd(fd, CGROUP_FILE_MAX, &s, &len);
                if (r < 0)
                        return r;
        }
        for (char *line = s, *next; line && *line; line = next) {
                char *c1, *c2;
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                c1 = strchr(line, ':');
                c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2)
                        continue;
                *c2 = '\0';
                if (strcmp(c1 + 1, controllers) == 0) {
                        *ret = strdup(c2 + 1);
                        return *ret ? 0 : -ENOMEM;
                }
        }
        return -ENOENT;
}

/* Whether the space-separated `list` holds `word`. */
static bool has_word(const char *list, const char *word)
{
        size_t len = strlen(word);

        for (const char *p = list; p && *p;) {
                size_t l = strcspn(p, " \n");
                if (l == len && strncmp(p, word, len) == 0)
                        return true;
                p += l;
                p += strspn(p, " \n");
        }
        return false;
}

/* Enables `controller` (NULL: each one available there) in DIR/cgroup.subtree_control. */
static int enable_in(const char *dir, const char *controller, const char *field, berth_error *err)
{
        _cleanup_free_ char *avail = NULL, *on = NULL;
        char add[64];

        if (cg_read(dir, "cgroup.controllers", &avail) < 0 ||
            cg_read(dir, "cgroup.subtree_control", &on) < 0)
                return 0;
        if (controller) {
                if (has_word(on, controller))
                        return 0;
                snprintf(add, sizeof(add), "+%s", controller);
                return cg_write(dir, "cgroup.subtree_control", add, field, err);
        }
        for (char *save = NULL, *c = strtok_r(avail, " \n", &save); c;
             c = strtok_r(NULL, " \n", &save)) {
                berth_error e = BERTH_ERROR_INIT;
                if (has_word(on, c))
                        continue;
                snprintf(add, sizeof(add), "+%s", c);
                /* One refused controller (cpu beside realtime tasks) must not stop the rest. */
                if (cg_write(dir, "cgroup.subtree_control", add, field, &e) < 0)
                        log_debug("%s", berth_error_msg(&e));
                berth_error_release(&e);
        }
        return 0;
}

int cg_v2_enable(const char *root, const char *dir, const char *controller, const char *field,
                 berth_error *err)
{
        size_t rlen = strlen(root);
        char buf[PATH_MAX];

        while (rlen > 1 && root[rlen - 1] == '/')
                rlen--;
        if (strncmp(dir, root, rlen) != 0 || strlen(dir) >= sizeof(buf))
                return 0;
        snprintf(buf, sizeof(buf), "%s", dir);
        /* Each '/' after the root ends an ancestor of dir; dir itself is left alone. */
        for (char *p = buf + rlen; p && *p == '/';) {
                char *next = strchr(p + 1, '/');
                int r;
                *p = '\0';
                r = enable_in(buf[0] ? buf : "/", controller, field, err);
                *p = '/';
                if (r < 0)
                        return r;
                p = next;
        }
        return 0;
}

/* Super options of a v1 mount that are not controller names. */
static bool is_plain_option(const char *o)
{
        static const char *const plain[] = {
                "rw", "ro", "xattr", "noprefix", "clone_children", "cpuset_v2_mode", "favordynmods"
        };

        for (size_t i = 0; i < ARRAY_SIZE(plain); i++)
                if (strcmp(o, plain[i]) == 0)
                        return true;
        return strncmp(o, "release_agent=", 14) == 0;
}

/* "rw,cpu,cpuacct" -> "cpu,cpuacct". */
static void controllers_of(const char *opts, char *buf, size_t size)
{
        _cleanup_free_ char *copy = strdup(opts);
        char *save = NULL;
        size_t used = 0;

        buf[0] = '\0';
        if (!copy)
                return;
        for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
                if (is_plain_option(o))
                        continue;
                used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? "," : "", o);
                if (used >= size)
                        return;
        }
}

/*
 * The cgroup mounts of this mount namespace, first mount of each
 * hierarchy only.
 */
int cg_read_mounts(struct cg_mount **ret, size_t *ret_n)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        _cleanup_free_ char *line = NULL;
        struct cg_mount *list = NULL;
        size_t cap = 0, n = 0;

        if (!f)
                return -errno;
        while (getline(&line, &cap, f) > 0) {
                char root[PATH_MAX], mnt[PATH_MAX], fstype[64], opts[512];
                const char *dash = strstr(line, " - ");
                struct cg_mount m = { 0 }, *nl;
                bool dup = false;

                if (!dash || sscanf(line, "%*d %*d %*s %4095s %4095s", root, mnt) != 2 ||
                    sscanf(dash + 3, "%63s %*s %511s", fstype, opts) != 2)
                        continue;
                if (strcmp(fstype, "cgroup") == 0)
                        controllers_of(opts, m.controllers, sizeof(m.controllers));
                else if (strcmp(fstype, "cgroup2") != 0)
                        continue;
                if (strcmp(fstype, "cgroup") == 0 && !m.controllers[0])
                        continue;
                snprintf(m.root, sizeof(m.root), "%s", root);
                snprintf(m.mountpoint, sizeof(m.mountpoint), "%s", mnt);
                for (size_t i = 0; i < n; i++)
                        dup |= strcmp(list[i].controllers, m.controllers) == 0;
                if (dup)
                        continue;
                nl = realloc(list, (n + 1) * sizeof(*nl));
                if (!nl) {
                        free(list);
                        return -ENOMEM;
                }
                list = nl;
                list[n++] = m;
        }
        *ret = list;
        *ret_n = n;
        return 0;
}

/* The directory of cgroup `path` in hierarchy `m`. */
int cg_dir_in(const struct cg_mount *m, const char *path, char *buf, size_t size)
{
        _cleanup_free_ char *own = NULL;
        const char *base = "";
        int r;

        if (path[0] != '/') {
                char *slash;
                r = cg_own_path(m->controllers, &own);
                if (r < 0)
                        return r;
                /*
                 * On v2, a systemd scope we run in (a login session's) holds
                 * processes, so no child of it can have controllers: go
                 * beside it, in its slice, as runc does.
                 */
                slash = strrchr(own, '/');
                if (!m->controllers[0] && slash && slash != own && strlen(slash) > 6 &&
                    strcmp(slash + strlen(slash) - 6, ".scope") == 0)
                        *slash = '\0';
                base = own;
        }
        /* A mount of a sub-tree (root != "/") shows paths below that root. */
        if (strcmp(m->root, "/") != 0 && strncmp(base, m->root, strlen(m->root)) == 0)
                base += strlen(m->root);
        /* No "//": base is "" or "/" for the root cgroup, or "/a/b". */
        if (strcmp(base, "/") == 0)
                base = "";
        r = snprintf(buf, size, "%s%s%s%s", m->mountpoint, base, path[0] == '/' ? "" : "/", path);
        return r < 0 || (size_t)r >= size ? -ENAMETOOLONG : 0;
}

int cg_parse_list(const char *s, uint32_t **ret, size_t *ret_n)
{
        uint32_t *list = NULL;
        size_t n = 0;

        *ret = NULL;
        *ret_n = 0;
        while (*s) {
                unsigned long a, b;
                char *end;
                a = b = strtoul(s, &end, 10);
                if (end == s)
                        break;
                if (*end == '-')
                        b = strtoul(end + 1, &end, 10);
                if (b < a || b - a > 65536) {
                        free(list);
                        return -EINVAL;
                }
                for (unsigned long v = a; v <= b; v++) {
                        uint32_t *nl = realloc(list, (n + 1) * sizeof(*nl));
                        if (!nl) {
                                free(list);
                                return -ENOMEM;
                        }
                        list = nl;
                        list[n++] = (uint32_t)v;
                }
                s = end;
                if (*s == ',')
                        s++;
                else
                        break;
        }
        *ret = list;
        *ret_n = n;
        return 0;
}

void cg_read_cpuset(const char *dir, bool v2, struct berth_stats *st)
{
        static const struct {
                const char *file;
                size_t off;
        } flags[] = {
                { "cpuset.cpu_exclusive", offsetof(struct berth_stats, cpuset.cpu_exclusive) },
                { "cpuset.mem_exclusive", offsetof(struct berth_stats, cpuset.mem_exclusive) },
                { "cpuset.mem_hardwall", offsetof(struct berth_stats, cpuset.mem_hardwall) },
                { "cpuset.memory_migrate", offsetof(struct berth_stats, cpuset.memory_migrate) },
                { "cpuset.memory_pressure", offsetof(struct berth_stats, cpuset.memory_pressure) },
                { "cpuset.memory_spread_page",
                  offsetof(struct berth_stats, cpuset.memory_spread_page) },
                { "cpuset.memory_spread_slab",
                  offsetof(struct berth_stats, cpuset.memory_spread_slab) },
                { "cpuset.sched_load_balance",
                  offsetof(struct berth_stats, cpuset.sched_load_balance) },
        };
        _cleanup_free_ char *cpus = NULL, *mems = NULL, *relax = NULL;

        if (cg_read(dir, v2 ? "cpuset.cpus.effective" : "cpuset.cpus", &cpus) < 0)
                return;
        st->cpuset.present = true;
        cg_parse_list(cpus, &st->cpuset.cpus, &st->cpuset.n_cpus);
        if (cg_read(dir, v2 ? "cpuset.mems.effective" : "cpuset.mems", &mems) == 0)
                cg_parse_list(mems, &st->cpuset.mems, &st->cpuset.n_mems);
        for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
                cg_read_u64(dir, flags[i].file, (uint64_t *)((char *)st + flags[i].off));
        if (cg_read(dir, "cpuset.sched_relax_domain_level", &relax) == 0)
                berth_parse_i64(relax, &st->cpuset.sched_relax_domain_level);
}

void cg_resources_summary(const struct berth_resources *res, char *buf, size_t size)
{
        const struct {
                bool set;
                const char *name;
        } parts[] = {
                { res->has_memory, "memory" },
                { res->has_cpu, "cpu" },
                { res->has_pids_limit, "pids" },
                { res->has_block_io, "blockIO" },
                { res->n_hugepage_limits > 0, "hugepageLimits" },
                { res->has_net_class_id || res->n_net_priorities > 0, "network" },
                { res->n_rdma > 0, "rdma" },
                { res->n_unified > 0, "unified" },
        };
        size_t used = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < ARRAY_SIZE(parts) && used < size; i++)
                if (parts[i].set)
                        used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? ", " : "",
                                                 parts[i].name);
}

int cg_write_rdma(const char *dir, const struct berth_resources *res, berth_error *err)
{
        for (size_t i = 0; i < res->n_rdma; i++) {
                const struct berth_rdma_limit *l = &res->rdma[i];
                char line[256];
                int len = snprintf(line, sizeof(line), "%s", l->device);
                if (l->has_hca_handles)
                        len += snprintf(line + len, sizeof(line) - (size_t)len, " hca_handle=%u",
                                        l->hca_handles);
                if (l->has_hca_objects)
                        snprintf(line + len, sizeof(line) - (size_t)len, " hca_object=%u",
                                 l->hca_objects);
                if (cg_write(dir, "rdma.max", line, "linux.resources.rdma", err) < 0)
                        return -1;
        }
        return 0;
}

int cg_check_unified_key(const char *key, berth_error *err)
{
        if (!*key || strchr(key, '/') || key[0] == '.' || strncmp(key, "cgroup.", 7) == 0)
                return berth_error_set(err, EINVAL,
                                       "linux.resources.unified: `%s` is not a controller's file",
                                       key);
        return 0;
}

/* ---- conversions (crun's, documented in crun(1)) ---- */

/*
 * cpu.shares [2, 262144] to cpu.weight [1, 10000] on a logarithmic curve
 * that maps the two defaults onto each other (1024 -> 100) and the ends
 * onto the ends: weight = 10^((log2(s)^2 + 125 log2(s)) / 612 - 7/34).
 */
uint64_t cg_cpu_shares_to_weight(uint64_t shares)
{
        double l, w;

        if (shares == 0)
                return 0;
        if (shares <= 2)
                return 1;
        if (shares >= 262144)
                return 10000;
        l = log2((double)shares);
        w = pow(10.0, (l * l + 125.0 * l) / 612.0 - 7.0 / 34.0);
        if (w < 1)
                return 1;
        if (w > 10000)
                return 10000;
        return (uint64_t)ceil(w);
}

/* blkio.weight [10, 1000] to io.weight [1, 10000], linearly. */
uint64_t cg_blkio_weight_to_io_weight(uint64_t weight)
{
        if (weight == 0)
                return 0;
        if (weight < 10)
                weight = 10;
        return 1 + (weight - 10) * 9999 / 990;
}
