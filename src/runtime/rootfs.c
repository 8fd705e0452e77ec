/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The container's root filesystem: propagation, the bind of the root onto
 * itself, config mounts, sysctls, masked and read-only paths, pivot_root.
 *
 * Every target is resolved inside the root (path.h) into an O_PATH fd and
 * mounted through "/proc/self/fd/N" of the host's procfs, so a symlink
 * swapped in between resolution and mount cannot redirect it
 * (CVE-2021-30465). After a mount the target is resolved again, so that
 * remounts and propagation changes act on the new mount, not the one below.
 */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "basic/path.h"
#include "runtime/cgroup.h"
#include "runtime/linux.h"

#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define PROPAGATION_FLAGS (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)
#define REMOUNT_FLAGS                                                                              \
        (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | \
         MS_STRICTATIME | MS_NOSYMFOLLOW)

struct mount_attr_compat {
        uint64_t attr_set;
        uint64_t attr_clr;
        uint64_t propagation;
        uint64_t userns_fd;
};

static bool has_mount_ns(const struct init_ctx *ctx)
{
        return ctx->mntns;
}

/* The MS_* flags a remount must keep because they are locked or already set. */
static unsigned long locked_flags(const char *path)
{
        struct statvfs sv;
        unsigned long f = 0;

        if (statvfs(path, &sv) < 0)
                return 0;
        if (sv.f_flag & ST_NOSUID)
                f |= MS_NOSUID;
        if (sv.f_flag & ST_NODEV)
                f |= MS_NODEV;
        if (sv.f_flag & ST_NOEXEC)
                f |= MS_NOEXEC;
        return f;
}

static int reopen(int rootfd, const char *dest, char *path, size_t size, berth_error *err)
{
        int fd = berth_open_in_root(rootfd, dest, O_PATH, 0, err);

        if (fd < 0)
                return fd;
        berth_fd_path(fd, path, size);
        return fd;
}

static int set_rec_attrs(int fd, const struct berth_mount *m, berth_error *err)
{
        struct mount_attr_compat attr = { .attr_set = m->rec_set, .attr_clr = m->rec_clear };

        if (m->recursive_ro)
                attr.attr_set |= MOUNT_ATTR_RDONLY;
        if (!attr.attr_set && !attr.attr_clr)
                return 0;
        if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) <
            0)
                return berth_error_sys(err, errno, "mount `%s`: set recursive attributes",
                                       m->destination);
        return 0;
}

/* After the mount itself: remount flags, propagation and recursive attributes. */
static int mount_finish(int rootfd, const struct berth_mount *m, bool bind, berth_error *err)
{
        _cleanup_close_ int fd = -1;
        char path[64];
        unsigned long flags = m->flags & REMOUNT_FLAGS;

        fd = reopen(rootfd, m->destination, path, sizeof(path), err);
        if (fd < 0)
                return fd;
        if (bind && flags) {
                flags |= locked_flags(path) & ~m->clear_flags;
                if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | flags, NULL) < 0)
                        return berth_error_sys(err, errno, "mount `%s`: remount bind",
                                               m->destination);
        }
        if (m->propagation && mount(NULL, path, NULL, m->propagation, NULL) < 0)
                return berth_error_sys(err, errno, "mount `%s`: set propagation", m->destination);
        return set_rec_attrs(fd, m, err);
}

static int bind_source(const struct init_ctx *ctx, const struct berth_mount *m, char *buf,
                       size_t size, berth_error *err)
{
        if (!m->source || !*m->source)
                return berth_error_set(err, EINVAL, "mount `%s`: bind needs a source",
                                       m->destination);
        if (m->source[0] == '/')
                snprintf(buf, size, "%s", m->source);
        else
                snprintf(buf, size, "%s/%s", ctx->bundle, m->source);
        return 0;
}

static int mount_bind(struct init_ctx *ctx, int rootfd, const struct berth_mount *m,
                      berth_error *err)
{
        char src[PATH_MAX], dst[64];
        _cleanup_close_ int target = -1;
        struct stat st;
        size_t idx;
        int r;

        r = bind_source(ctx, m, src, sizeof(src), err);
        if (r < 0)
                return r;
        if (stat(src, &st) < 0)
                return berth_error_sys(err, errno, "mount `%s`: source `%s`", m->destination, src);
        if (S_ISDIR(st.st_mode))
                target = berth_mkdir_in_root(rootfd, m->destination, 0755, err);
        else
                target = berth_touch_in_root(rootfd, m->destination, 0644, err);
        if (target < 0)
                return berth_error_prefix(err, "mount `%s`", m->destination);
        berth_fd_path(target, dst, sizeof(dst));
        idx = (size_t)(m - ctx->cfg->mounts);
        if (ctx->idmap_fds && idx < ctx->cfg->n_mounts && ctx->idmap_fds[idx] >= 0) {
                if (berth_idmap_move(ctx->idmap_fds[idx], target, err) < 0)
                        return berth_error_prefix(err, "mount `%s`", m->destination);
        } else if (mount(src, dst, NULL, MS_BIND | (m->flags & MS_REC), NULL) < 0)
                return berth_error_sys(err, errno, "mount `%s` on `%s`", src, m->destination);
        return mount_finish(rootfd, m, true, err);
}

static int mount_at(int dirfd, const char *name, const char *src, const char *type,
                    unsigned long flags, const char *data, berth_error *err)
{
        _cleanup_close_ int fd = -1;
        char path[64];

        if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST)
                return berth_error_sys(err, errno, "mkdir `%s`", name);
        fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return berth_error_sys(err, errno, "open `%s`", name);
        berth_fd_path(fd, path, sizeof(path));
        if (mount(src, path, type, flags, data) < 0)
                return berth_error_sys(err, errno, "mount %s `%s`", type, name);
        return 0;
}

/*
 * Without a cgroup namespace of its own, a fresh cgroup mount would show
 * the hierarchy from its root. Instead the container's own cgroup is bound
 * from the host's mount of that hierarchy, as runc does, so that
 * /sys/fs/cgroup/pids/pids.max is the container's.
 */
static int bind_own_cgroup(int dirfd, const char *name, const char *controllers, const char *cgpath,
                           unsigned long flags, berth_error *err)
{
        _cleanup_free_ struct cg_mount *mounts = NULL;
        _cleanup_close_ int lower = -1, upper = -1;
        const struct cg_mount *m = NULL;
        char at[64], src[PATH_MAX];
        size_t n = 0;
        int r;

        r = cg_read_mounts(&mounts, &n);
        if (r < 0)
                return berth_error_sys(err, -r, "read /proc/self/mountinfo");
        for (size_t i = 0; i < n && !m; i++)
                if (strcmp(mounts[i].controllers, controllers) == 0)
                        m = &mounts[i];
        if (!m)
                return berth_error_set(err, ENOENT, "cgroup hierarchy `%s` is not mounted",
                                       controllers[0] ? controllers : "cgroup2");
        r = cg_dir_in(m, cgpath, src, sizeof(src));
        if (r < 0)
                return berth_error_sys(err, -r, "cgroup `%s`", cgpath);
        if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST)
                return berth_error_sys(err, errno, "mkdir `%s`", name);
        lower = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (lower < 0)
                return berth_error_sys(err, errno, "open `%s`", name);
        berth_fd_path(lower, at, sizeof(at));
        if (mount(src, at, NULL, MS_BIND, NULL) < 0)
                return berth_error_sys(err, errno, "bind cgroup `%s` on `%s`", src, name);
        flags &= MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
        if (!flags)
                return 0;
        /* Reopened: the old fd still names the directory under the new mount. */
        upper = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (upper < 0)
                return berth_error_sys(err, errno, "open `%s`", name);
        berth_fd_path(upper, at, sizeof(at));
        if (mount(NULL, at, NULL, MS_BIND | MS_REMOUNT | flags, NULL) < 0)
                return berth_error_sys(err, errno, "remount `%s`", name);
        return 0;
}

/* One line of /proc/self/cgroup: "ID:controllers:path". */
static int mount_v1_hierarchy(int dirfd, char *line, unsigned long flags, bool own_ns,
                              berth_error *err)
{
        char *ctrl = strchr(line, ':'), *end, *name;
        char opts[256];

        if (!ctrl)
                return 0;
        ctrl++;
        end = strchr(ctrl, ':');
        if (!end)
                return 0;
        *end = '\0';
        if (*ctrl == '\0')
                return 0; /* the hybrid layout's v2 tree: runc does not mount it either */
        if (strncmp(ctrl, "name=", 5) == 0) {
                snprintf(opts, sizeof(opts), "none,%s", ctrl);
                name = ctrl + 5;
        } else {
                snprintf(opts, sizeof(opts), "%s", ctrl);
                name = ctrl;
        }
        if (!own_ns)
                return bind_own_cgroup(dirfd, name, ctrl, end + 1, flags, err);
        return mount_at(dirfd, name, "cgroup", "cgroup", flags, opts, err);
}

/* Whether the process has a cgroup namespace of its own (made or joined). */
static bool own_cgroupns(const struct init_ctx *ctx)
{
        return (ctx->clone_flags & CLONE_NEWCGROUP) || ctx->unshare_cgroupns ||
               ctx->ns_fds[BERTH_NS_CGROUP] >= 0;
}

/* The v2 line of /proc/self/cgroup: its path. */
static int own_v2_path(char *buf, size_t size, berth_error *err)
{
        _cleanup_free_ char *data = NULL;
        int r = berth_read_file_at(AT_FDCWD, "/proc/self/cgroup", 65536, &data, NULL, err);

        if (r < 0)
                return r;
        for (char *line = data, *nl; line && *line; line = nl) {
                nl = strchr(line, '\n');
                if (nl)
                        *nl++ = '\0';
                if (strncmp(line, "0::", 3) == 0) {
                        snprintf(buf, size, "%s", line + 3);
                        return 0;
                }
        }
        buf[0] = '\0';
        return 0;
}

/*
 * cgroup mounts: cgroup2 where the host is pure v2; on v1 (and hybrid) a
 * tmpfs holding one mount per hierarchy the process belongs to, as runc
 * lays it out.
 */
static int mount_cgroup(struct init_ctx *ctx, int rootfd, const struct berth_mount *m,
                        berth_error *err)
{
        _cleanup_close_ int target = -1, dir = -1;
        _cleanup_free_ char *data = NULL;
        unsigned long flags = m->flags & ~PROPAGATION_FLAGS;
        struct statfs sfs;
        char path[64];
        int r;

        target = berth_mkdir_in_root(rootfd, m->destination, 0755, err);
        if (target < 0)
                return berth_error_prefix(err, "mount `%s`", m->destination);
        berth_fd_path(target, path, sizeof(path));
        if (statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC) {
                if (!own_cgroupns(ctx)) {
                        _cleanup_close_ int parent = -1;
                        _cleanup_free_ char *up = strdup(m->destination);
                        char *slash = up ? strrchr(up, '/') : NULL;
                        const char *name = slash ? slash + 1 : up;
                        char own[PATH_MAX];
                        if (!up)
                                return berth_error_set(err, ENOMEM, "out of memory");
                        if (slash)
                                *slash = '\0';
                        r = own_v2_path(own, sizeof(own), err);
                        if (r < 0)
                                return r;
                        parent = berth_open_in_root(rootfd, slash && up[0] ? up : "/",
                                                    O_PATH | O_DIRECTORY, 0, err);
                        if (parent < 0)
                                return parent;
                        r = bind_own_cgroup(parent, name, "", own, 0, err);
                        if (r < 0)
                                return r;
                        return mount_finish(rootfd, m, true, err);
                }
                if (mount("cgroup2", path, "cgroup2", flags, NULL) < 0)
                        return berth_error_sys(err, errno, "mount cgroup2 on `%s`", m->destination);
                return mount_finish(rootfd, m, false, err);
        }
        if (mount("tmpfs", path, "tmpfs", (flags & ~MS_RDONLY) | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  "mode=755") < 0)
                return berth_error_sys(err, errno, "mount tmpfs on `%s`", m->destination);
        dir = berth_open_in_root(rootfd, m->destination, O_PATH | O_DIRECTORY, 0, err);
        if (dir < 0)
                return dir;
        r = berth_read_file_at(AT_FDCWD, "/proc/self/cgroup", 65536, &data, NULL, err);
        if (r < 0)
                return r;
        for (char *line = data, *nl; line && *line; line = nl) {
                nl = strchr(line, '\n');
                if (nl)
                        *nl++ = '\0';
                r = mount_v1_hierarchy(dir, line, flags, own_cgroupns(ctx), err);
                if (r < 0)
                        return berth_error_prefix(err, "mount `%s`", m->destination);
        }
        return 0;
}

static int mount_fs(struct init_ctx *ctx, int rootfd, const struct berth_mount *m, berth_error *err)
{
        _cleanup_close_ int target = -1;
        unsigned long flags = m->flags & ~(PROPAGATION_FLAGS | MS_REC);
        char path[64];

        target = berth_mkdir_in_root(rootfd, m->destination, 0755, err);
        if (target < 0)
                return berth_error_prefix(err, "mount `%s`", m->destination);
        berth_fd_path(target, path, sizeof(path));
        if (mount(m->source ? m->source : m->type, path, m->type, flags, m->data) < 0) {
                int e = errno;
                /* sysfs of a shared network namespace in a user namespace: bind the host's. */
                if (e == EPERM && strcmp(m->type, "sysfs") == 0 &&
                    mount("/sys", path, NULL, MS_BIND | MS_REC, NULL) == 0)
                        return mount_finish(rootfd, m, true, err);
                return berth_error_sys(err, e, "mount %s on `%s`", m->type, m->destination);
        }
        return mount_finish(rootfd, m, false, err);
}

static int mount_one(struct init_ctx *ctx, int rootfd, const struct berth_mount *m,
                     berth_error *err)
{
        /* A relative destination is relative to the root (runtime-spec 1.2). */
        if (!m->destination || !*m->destination)
                return berth_error_set(err, EINVAL, "mounts: destination must not be empty");
        if (m->bind || (m->type && strcmp(m->type, "bind") == 0))
                return mount_bind(ctx, rootfd, m, err);
        if (!m->type || !*m->type)
                return berth_error_set(err, EINVAL, "mount `%s`: type is required", m->destination);
        if (strcmp(m->type, "cgroup") == 0 || strcmp(m->type, "cgroup2") == 0)
                return mount_cgroup(ctx, rootfd, m, err);
        return mount_fs(ctx, rootfd, m, err);
}

static bool dev_bound_from_host(const struct berth_config *cfg)
{
        for (size_t i = 0; i < cfg->n_mounts; i++) {
                const struct berth_mount *m = &cfg->mounts[i];
                if (m->destination && strcmp(m->destination, "/dev") == 0)
                        return m->bind || (m->type && strcmp(m->type, "bind") == 0);
        }
        return false;
}

/*
 * The /dev/null masked paths are bound from: the container's own (as runc
 * does), else the host's as seen from our mount namespace (a bind source
 * from another namespace is refused); checked to be the null device.
 */
static int open_null(int rootfd, berth_error *err)
{
        _cleanup_close_ int fd =
                berth_open_in_root(rootfd, "/dev/null", O_PATH | O_NOFOLLOW, 0, NULL);
        struct stat st;

        if (fd < 0)
                fd = open("/dev/null", O_PATH | O_CLOEXEC);
        if (fd < 0)
                return berth_error_sys(err, errno, "open /dev/null");
        if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
                return berth_error_set(err, EINVAL, "/dev/null is not the null device");
        return TAKE_FD(fd);
}

static int bind_root(struct init_ctx *ctx, int *ret_rootfd, berth_error *err)
{
        unsigned long prop = MS_SLAVE | MS_REC;
        int fd;

        /* Nothing the container mounts may propagate back to the host. */
        if (ctx->cfg->linux.rootfs_propagation_flags & MS_PRIVATE)
                prop = MS_PRIVATE | MS_REC;
        if (mount(NULL, "/", NULL, prop, NULL) < 0)
                return berth_error_sys(err, errno, "make / %s",
                                       prop & MS_PRIVATE ? "private" : "slave");
        if (mount(ctx->rootfs, ctx->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
                return berth_error_sys(err, errno, "bind root `%s`", ctx->rootfs);
        fd = open(ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return berth_error_sys(err, errno, "open root `%s`", ctx->rootfs);
        *ret_rootfd = fd;
        return 0;
}

int berth_rootfs_prepare(struct init_ctx *ctx, int *ret_rootfd, berth_error *err)
{
        _cleanup_close_ int rootfd = -1;
        int r;

        if (!has_mount_ns(ctx)) {
                rootfd = open(ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (rootfd < 0)
                        return berth_error_sys(err, errno, "open root `%s`", ctx->rootfs);
                *ret_rootfd = TAKE_FD(rootfd);
                return 0;
        }
        r = bind_root(ctx, &rootfd, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ctx->cfg->n_mounts; i++) {
                r = mount_one(ctx, rootfd, &ctx->cfg->mounts[i], err);
                if (r < 0)
                        return r;
        }
        r = berth_devices_create(ctx, rootfd, dev_bound_from_host(ctx->cfg), err);
        if (r < 0)
                return r;
        ctx->null_fd = open_null(rootfd, err);
        if (ctx->null_fd < 0)
                return ctx->null_fd;
        if (ctx->proc->cwd && *ctx->proc->cwd) {
                int fd = berth_mkdir_in_root(rootfd, ctx->proc->cwd, 0755, err);
                if (fd < 0)
                        return berth_error_prefix(err, "process.cwd");
                close(fd);
        }
        *ret_rootfd = TAKE_FD(rootfd);
        return 0;
}

static int write_sysctl(int rootfd, const struct berth_kv *kv, berth_error *err)
{
        char path[PATH_MAX];
        _cleanup_close_ int fd = -1;
        struct statfs sfs;
        int n;

        n = snprintf(path, sizeof(path), "/proc/sys/%s", kv->key);
        if (n < 0 || (size_t)n >= sizeof(path))
                return berth_error_set(err, ENAMETOOLONG, "linux.sysctl `%s`: too long", kv->key);
        for (char *p = path + 10; *p; p++)
                if (*p == '.')
                        *p = '/';
        fd = berth_open_in_root(rootfd, path, O_WRONLY, 0, err);
        if (fd < 0)
                return berth_error_prefix(err, "linux.sysctl `%s`", kv->key);
        if (fstatfs(fd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
                return berth_error_set(err, EINVAL, "linux.sysctl `%s`: %s is not on procfs",
                                       kv->key, path);
        if (berth_write_all(fd, kv->value, strlen(kv->value)) < 0)
                return berth_error_sys(err, errno, "linux.sysctl `%s` = `%s`", kv->key, kv->value);
        return 0;
}

static int mask_path(struct init_ctx *ctx, int rootfd, const char *p, berth_error *err)
{
        _cleanup_close_ int fd = berth_open_in_root(rootfd, p, O_PATH | O_NOFOLLOW, 0, NULL);
        char dst[64], src[64];
        struct stat st;

        if (fd < 0)
                return 0; /* nothing to mask */
        if (fstat(fd, &st) < 0)
                return berth_error_sys(err, errno, "linux.maskedPaths `%s`", p);
        berth_fd_path(fd, dst, sizeof(dst));
        if (S_ISDIR(st.st_mode)) {
                if (mount("tmpfs", dst, "tmpfs", MS_RDONLY, NULL) < 0)
                        return berth_error_sys(err, errno, "linux.maskedPaths `%s`", p);
                return 0;
        }
        berth_fd_path(ctx->null_fd, src, sizeof(src));
        if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
                return berth_error_sys(err, errno, "linux.maskedPaths `%s`", p);
        return 0;
}

static int readonly_path(int rootfd, const char *p, berth_error *err)
{
        _cleanup_close_ int fd = berth_open_in_root(rootfd, p, O_PATH | O_NOFOLLOW, 0, NULL);
        _cleanup_close_ int fd2 = -1;
        char path[64];

        if (fd < 0)
                return 0;
        berth_fd_path(fd, path, sizeof(path));
        if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
                return berth_error_sys(err, errno, "linux.readonlyPaths `%s`", p);
        fd2 = reopen(rootfd, p, path, sizeof(path), err);
        if (fd2 < 0)
                return fd2;
        if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags(path), NULL) <
            0)
                return berth_error_sys(err, errno, "linux.readonlyPaths `%s`: remount", p);
        return 0;
}

int berth_rootfs_finish_paths(struct init_ctx *ctx, int rootfd, berth_error *err)
{
        const struct berth_linux *l = &ctx->cfg->linux;
        int r;

        for (size_t i = 0; i < l->n_sysctl; i++) {
                r = write_sysctl(rootfd, &l->sysctl[i], err);
                if (r < 0)
                        return r;
        }
        if (!has_mount_ns(ctx))
                return 0;
        for (size_t i = 0; i < l->n_readonly_paths; i++) {
                r = readonly_path(rootfd, l->readonly_paths[i], err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < l->n_masked_paths; i++) {
                r = mask_path(ctx, rootfd, l->masked_paths[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int berth_rootfs_pivot(struct init_ctx *ctx, int rootfd, berth_error *err)
{
        if (fchdir(rootfd) < 0)
                return berth_error_sys(err, errno, "enter root `%s`", ctx->rootfs);
        if (!has_mount_ns(ctx)) {
                if (chroot(".") < 0)
                        return berth_error_sys(err, errno, "chroot `%s`", ctx->rootfs);
        } else if (ctx->no_pivot) {
                if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
                        return berth_error_sys(err, errno, "move root `%s` to /", ctx->rootfs);
                if (chroot(".") < 0)
                        return berth_error_sys(err, errno, "chroot `%s`", ctx->rootfs);
        } else {
                _cleanup_close_ int oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (oldroot < 0)
                        return berth_error_sys(err, errno, "open /");
                if (syscall(SYS_pivot_root, ".", ".") < 0)
                        return berth_error_sys(err, errno, "pivot_root `%s`", ctx->rootfs);
                /*
                 * The old root now sits on top of the new one. Step onto it
                 * (not the new root below: that would make the container's
                 * own mounts slaves) and detach it without touching the host.
                 */
                if (fchdir(oldroot) < 0)
                        return berth_error_sys(err, errno, "enter old root");
                if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
                        return berth_error_sys(err, errno, "make old root slave");
                if (umount2(".", MNT_DETACH) < 0)
                        return berth_error_sys(err, errno, "detach old root");
        }
        if (chdir("/") < 0)
                return berth_error_sys(err, errno, "chdir /");
        return 0;
}

int berth_rootfs_readonly(struct init_ctx *ctx, berth_error *err)
{
        unsigned long prop = ctx->cfg->linux.rootfs_propagation_flags;

        if (!has_mount_ns(ctx))
                return 0;
        if (ctx->cfg->root_readonly &&
            mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags("/"), NULL) < 0)
                return berth_error_sys(err, errno, "make root read-only");
        if (prop && mount(NULL, "/", NULL, prop, NULL) < 0)
                return berth_error_sys(err, errno, "linux.rootfsPropagation `%s`",
                                       ctx->cfg->linux.rootfs_propagation);
        return 0;
}
