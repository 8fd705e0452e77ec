/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Capabilities through the raw syscalls (capset v3 and prctl): five masks,
 * no allocation. Caps above the running kernel's CAP_LAST_CAP are skipped,
 * as runc does, so a newer config runs on an older kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/fd.h"
#include "basic/log.h"
#include "runtime/linux.h"

static int kernel_last_cap(void)
{
        static int last = -1;
        char buf[32];
        int fd;
        ssize_t n;

        if (last >= 0)
                return last;
        last = berth_capability_last();
        fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                int v;
                n = read(fd, buf, sizeof(buf) - 1);
                close(fd);
                if (n > 0) {
                        buf[n] = '\0';
                        if (buf[n - 1] == '\n')
                                buf[n - 1] = '\0';
                        if (berth_parse_int(buf, &v) == 0 && v >= 0 && v < 64)
                                last = v;
                }
        }
        return last;
}

int berth_caps_drop_bounding(const struct berth_capabilities *c, berth_error *err)
{
        int last = kernel_last_cap();

        for (int cap = 0; cap <= last; cap++) {
                if (c->bounding & (UINT64_C(1) << cap))
                        continue;
                if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
                        return berth_error_sys(err, errno, "drop %s from the bounding set",
                                               berth_capability_to_string(cap));
        }
        return 0;
}

int berth_caps_apply(const struct berth_capabilities *c, berth_error *err)
{
        struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct data[2];
        uint64_t mask, eff, prm, inh;
        int last = kernel_last_cap();

        mask = last >= 63 ? UINT64_MAX : (UINT64_C(1) << (last + 1)) - 1;
        eff = c->effective & mask;
        prm = c->permitted & mask;
        inh = c->inheritable & mask;
        data[0].effective = (uint32_t)eff;
        data[1].effective = (uint32_t)(eff >> 32);
        data[0].permitted = (uint32_t)prm;
        data[1].permitted = (uint32_t)(prm >> 32);
        data[0].inheritable = (uint32_t)inh;
        data[1].inheritable = (uint32_t)(inh >> 32);
        if (syscall(SYS_capset, &hdr, data) < 0)
                return berth_error_sys(err, errno, "set process.capabilities");
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return berth_error_sys(err, errno, "clear ambient capabilities");
        for (int cap = 0; cap <= last; cap++) {
                if (!(c->ambient & mask & (UINT64_C(1) << cap)))
                        continue;
                /* Like runc: an ambient cap that is not also inheritable is skipped. */
                if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
                        log_debug("cannot raise ambient %s (not permitted and inheritable): %s",
                                  berth_capability_to_string(cap), strerror(errno));
        }
        return 0;
}
