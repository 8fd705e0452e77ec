/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * idmapped bind mounts ("idmap"/"ridmap" in a mount's options): files of
 * the source show, through the mount, with their owners shifted by the
 * mount's uidMappings/gidMappings (or the container's, when the mount has
 * none), so a root-owned host directory is owned by root inside a user
 * namespace instead of by nobody.
 *
 * The runtime makes the idmapped mount before the clone, where it holds
 * every privilege over the host's mounts: a detached clone of the source
 * (open_tree OPEN_TREE_CLONE), marked with a user namespace that carries
 * the mapping (mount_setattr MOUNT_ATTR_IDMAP). The container's init then
 * only moves it into place (move_mount).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "runtime/linux.h"

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif

static int write_map(pid_t pid, const char *file, const struct berth_id_mapping *m, size_t n,
                     berth_error *err)
{
        char path[64], buf[4096];
        size_t len = 0;

        for (size_t i = 0; i < n && len < sizeof(buf); i++)
                len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%u %u %u\n",
                                        m[i].container_id, m[i].host_id, m[i].size);
        if (len >= sizeof(buf))
                return berth_error_set(err, E2BIG, "%s: too many id mappings", file);
        snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
        return berth_write_file_at(AT_FDCWD, path, buf, len, err);
}

/*
 * A user namespace holding the mapping, as an fd: a child unshares one and
 * waits while we write its maps and open it, then goes away.
 */
static int userns_with(const struct berth_id_mapping *u, size_t nu,
                       const struct berth_id_mapping *g, size_t ng, berth_error *err)
{
        int ready[2], hold[2], fd = -1, r = 0;
        char path[64], byte;
        pid_t pid;

        if (pipe2(ready, O_CLOEXEC) < 0)
                return berth_error_sys(err, errno, "pipe");
        if (pipe2(hold, O_CLOEXEC) < 0) {
                close(ready[0]);
                close(ready[1]);
                return berth_error_sys(err, errno, "pipe");
        }
        pid = fork();
        if (pid < 0) {
                r = berth_error_sys(err, errno, "fork");
                goto out;
        }
        if (pid == 0) {
                close(ready[0]);
                close(hold[1]);
                byte = unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
                if (write(ready[1], &byte, 1) != 1)
                        _exit(1);
                /* Until the parent closes its end: it has the namespace by then. */
                while (read(hold[0], &byte, 1) < 0 && errno == EINTR)
                        ;
                _exit(0);
        }
        close(ready[1]);
        ready[1] = -1;
        close(hold[0]);
        hold[0] = -1;
        if (read(ready[0], &byte, 1) != 1 || byte != 'y') {
                r = berth_error_set(err, EPERM, "create a user namespace for an idmapped mount");
                goto out;
        }
        r = write_map(pid, "uid_map", u, nu, err);
        if (r >= 0)
                r = write_map(pid, "gid_map", g, ng, err);
        if (r >= 0) {
                snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        r = berth_error_sys(err, errno, "open `%s`", path);
        }
out:
        if (hold[1] >= 0)
                close(hold[1]);
        if (hold[0] >= 0)
                close(hold[0]);
        if (ready[0] >= 0)
                close(ready[0]);
        if (ready[1] >= 0)
                close(ready[1]);
        if (pid > 0)
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
        return r < 0 ? r : fd;
}

/* The detached, idmapped clone of mount i's source. */
static int idmapped_tree(const struct berth_config *cfg, size_t i, const char *bundle,
                         berth_error *err)
{
        const struct berth_mount *m = &cfg->mounts[i];
        const struct berth_id_mapping *u = m->uid_mappings, *g = m->gid_mappings;
        size_t nu = m->n_uid_mappings, ng = m->n_gid_mappings;
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP };
        _cleanup_close_ int userns = -1, tree = -1;
        char src[PATH_MAX];

        if (!nu && !ng) {
                u = cfg->linux.uid_mappings;
                nu = cfg->linux.n_uid_mappings;
                g = cfg->linux.gid_mappings;
                ng = cfg->linux.n_gid_mappings;
        }
        if (!nu || !ng)
                return berth_error_set(err, EINVAL,
                                       "mounts[%zu] `%s`: idmap needs uidMappings and gidMappings, "
                                       "on the mount or in linux",
                                       i, m->destination);
        if (!m->bind)
                return berth_error_set(err, EINVAL,
                                       "mounts[%zu] `%s`: idmap applies to bind mounts only", i,
                                       m->destination);
        if (!m->source || !*m->source)
                return berth_error_set(err, EINVAL, "mounts[%zu] `%s`: bind needs a source", i,
                                       m->destination);
        if (m->source[0] == '/')
                snprintf(src, sizeof(src), "%s", m->source);
        else
                snprintf(src, sizeof(src), "%s/%s", bundle, m->source);
        userns = userns_with(u, nu, g, ng, err);
        if (userns < 0)
                return berth_error_prefix(err, "mounts[%zu] `%s`", i, m->destination);
        tree = (int)syscall(SYS_open_tree, AT_FDCWD, src,
                            OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
                                    ((m->flags & MS_REC) ? AT_RECURSIVE : 0));
        if (tree < 0)
                return berth_error_sys(err, errno, "mounts[%zu] `%s`: clone `%s`", i,
                                       m->destination, src);
        attr.userns_fd = (uint64_t)userns;
        if (syscall(SYS_mount_setattr, tree, "",
                    AT_EMPTY_PATH | (m->idmap_recursive ? AT_RECURSIVE : 0), &attr,
                    sizeof(attr)) < 0) {
                int e = errno;
                return berth_error_sys(err, e, "mounts[%zu] `%s`: idmap `%s`%s", i, m->destination,
                                       src,
                                       e == EINVAL ? " (its filesystem cannot be idmapped, or a "
                                                     "mount below it cannot: try idmap without "
                                                     "rbind)"
                                                   : "");
        }
        return TAKE_FD(tree);
}

int berth_idmap_prepare(const struct berth_config *cfg, const char *bundle, int **ret_fds,
                        berth_error *err)
{
        int *fds = NULL;
        bool any = false;

        *ret_fds = NULL;
        for (size_t i = 0; i < cfg->n_mounts; i++)
                any |= cfg->mounts[i].idmap;
        if (!any)
                return 0;
        fds = malloc(cfg->n_mounts * sizeof(*fds));
        if (!fds)
                return berth_error_set(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < cfg->n_mounts; i++)
                fds[i] = -1;
        for (size_t i = 0; i < cfg->n_mounts; i++) {
                if (!cfg->mounts[i].idmap)
                        continue;
                fds[i] = idmapped_tree(cfg, i, bundle, err);
                if (fds[i] < 0) {
                        fds[i] = -1;
                        berth_idmap_release(fds, cfg->n_mounts);
                        return -1;
                }
        }
        *ret_fds = fds;
        return 0;
}

void berth_idmap_release(int *fds, size_t n)
{
        if (!fds)
                return;
        for (size_t i = 0; i < n; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        free(fds);
}

/*
 * To the target's fd itself: a /proc/self/fd/N path as the destination
 * fails with EINVAL where the same directory by name works.
 */
int berth_idmap_move(int tree, int target, berth_error *err)
{
        if (syscall(SYS_move_mount, tree, "", target, "",
                    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return berth_error_sys(err, errno, "move the idmapped mount into place");
        return 0;
}
