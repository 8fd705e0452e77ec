/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The container's /dev: the default devices every container gets (null,
 * zero, full, random, urandom, tty), linux.devices, and the usual links.
 * Nodes are made with mknod; in a user namespace, where mknod is not
 * allowed, the host's node is bind-mounted instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "basic/path.h"
#include "runtime/linux.h"

static const struct berth_device default_devices[] = {
        { .path = (char *)"/dev/null", .type = 'c', .major = 1, .minor = 3 },
        { .path = (char *)"/dev/zero", .type = 'c', .major = 1, .minor = 5 },
        { .path = (char *)"/dev/full", .type = 'c', .major = 1, .minor = 7 },
        { .path = (char *)"/dev/random", .type = 'c', .major = 1, .minor = 8 },
        { .path = (char *)"/dev/urandom", .type = 'c', .major = 1, .minor = 9 },
        { .path = (char *)"/dev/tty", .type = 'c', .major = 5, .minor = 0 },
};

static const struct {
        const char *target;
        const char *name;
} dev_links[] = {
        { "/proc/self/fd", "fd" },       { "/proc/self/fd/0", "stdin" },
        { "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
        { "pts/ptmx", "ptmx" },
};

static mode_t device_type(char t)
{
        switch (t) {
        case 'b':
                return S_IFBLK;
        case 'p':
                return S_IFIFO;
        default:
                return S_IFCHR;
        }
}

static int split(const char *path, char *dir, char *base, size_t size)
{
        char tmp[PATH_MAX];

        if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
                return -ENAMETOOLONG;
        snprintf(dir, size, "%s", dirname(tmp));
        snprintf(tmp, sizeof(tmp), "%s", path);
        snprintf(base, size, "%s", basename(tmp));
        return 0;
}

static int bind_device(struct init_ctx *ctx, int rootfd, const struct berth_device *d,
                       berth_error *err)
{
        _cleanup_close_ int target = berth_touch_in_root(rootfd, d->path, 0000, err);
        char dst[64];

        if (target < 0)
                return berth_error_prefix(err, "device `%s`", d->path);
        berth_fd_path(target, dst, sizeof(dst));
        if (mount(d->path, dst, NULL, MS_BIND, NULL) < 0)
                return berth_error_sys(err, errno, "bind device `%s` from the host", d->path);
        return 0;
}

static int make_device(struct init_ctx *ctx, int rootfd, const struct berth_device *d, bool bind,
                       berth_error *err)
{
        char dir[PATH_MAX], base[NAME_MAX + 1];
        _cleanup_close_ int dirfd = -1;
        mode_t mode = (d->has_file_mode ? d->file_mode : 0666) & 07777;
        dev_t dev = makedev((unsigned)d->major, (unsigned)d->minor);

        if (!d->path || d->path[0] != '/')
                return berth_error_set(err, EINVAL, "linux.devices: path `%s` must be absolute",
                                       d->path ? d->path : "");
        if (bind)
                return bind_device(ctx, rootfd, d, err);
        if (split(d->path, dir, base, sizeof(base)) < 0)
                return berth_error_set(err, ENAMETOOLONG, "device `%s`: too long", d->path);
        dirfd = berth_mkdir_in_root(rootfd, dir, 0755, err);
        if (dirfd < 0)
                return berth_error_prefix(err, "device `%s`", d->path);
        if (mknodat(dirfd, base, mode | device_type(d->type), d->type == 'p' ? 0 : dev) < 0) {
                if (errno == EPERM)
                        return bind_device(ctx, rootfd, d, err);
                if (errno != EEXIST)
                        return berth_error_sys(err, errno, "mknod `%s`", d->path);
                /* Replace what the image had there, unless it is a directory. */
                if (unlinkat(dirfd, base, 0) < 0 ||
                    mknodat(dirfd, base, mode | device_type(d->type), dev) < 0)
                        return berth_error_sys(err, errno, "mknod `%s`", d->path);
        }
        if ((d->has_uid || d->has_gid) &&
            fchownat(dirfd, base, d->has_uid ? d->uid : (uid_t)-1, d->has_gid ? d->gid : (gid_t)-1,
                     AT_SYMLINK_NOFOLLOW) < 0)
                return berth_error_sys(err, errno, "chown device `%s`", d->path);
        return 0;
}

static bool listed(const struct berth_config *cfg, const char *path)
{
        for (size_t i = 0; i < cfg->linux.n_devices; i++)
                if (strcmp(cfg->linux.devices[i].path, path) == 0)
                        return true;
        return false;
}

static int make_links(int rootfd, berth_error *err)
{
        _cleanup_close_ int dev = berth_mkdir_in_root(rootfd, "/dev", 0755, err);
        struct stat st;

        if (dev < 0)
                return berth_error_prefix(err, "/dev");
        for (size_t i = 0; i < sizeof(dev_links) / sizeof(dev_links[0]); i++) {
                if (strcmp(dev_links[i].name, "ptmx") == 0)
                        unlinkat(dev, "ptmx", 0);
                if (symlinkat(dev_links[i].target, dev, dev_links[i].name) < 0 && errno != EEXIST)
                        return berth_error_sys(err, errno, "link /dev/%s", dev_links[i].name);
        }
        if (stat("/proc/kcore", &st) == 0 && symlinkat("/proc/kcore", dev, "core") < 0 &&
            errno != EEXIST)
                return berth_error_sys(err, errno, "link /dev/core");
        return 0;
}

int berth_devices_create(struct init_ctx *ctx, int rootfd, bool dev_from_host, berth_error *err)
{
        bool bind = ctx->userns;
        int r;

        if (dev_from_host)
                return 0;
        for (size_t i = 0; i < sizeof(default_devices) / sizeof(default_devices[0]); i++) {
                if (listed(ctx->cfg, default_devices[i].path))
                        continue;
                r = make_device(ctx, rootfd, &default_devices[i], bind, err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < ctx->cfg->linux.n_devices; i++) {
                r = make_device(ctx, rootfd, &ctx->cfg->linux.devices[i], bind, err);
                if (r < 0)
                        return r;
        }
        return make_links(rootfd, err);
}
