/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CVE-2019-5736: a container whose entry point is "#!/proc/self/exe" would
 * run the runtime's own binary inside the container and could then reopen
 * it for writing through /proc/PID/exe. Before entering a container the
 * runtime re-executes itself from a sealed memfd copy, so what the container
 * can reach is a copy nobody can write.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "runtime/runtime.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

#define REQUIRED_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

extern char **environ;

static bool running_sealed(int exe)
{
        int seals = fcntl(exe, F_GET_SEALS);
        return seals >= 0 && (seals & REQUIRED_SEALS) == REQUIRED_SEALS;
}

static int sealed_copy(int exe, berth_error *err)
{
        _cleanup_close_ int mfd = -1;
        struct stat st;
        off_t off = 0;

        mfd = memfd_create(BERTH_RUNTIME_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
        if (mfd < 0 && errno == EINVAL)
                mfd = memfd_create(BERTH_RUNTIME_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (mfd < 0)
                return berth_error_sys(err, errno, "memfd_create");
        if (fstat(exe, &st) < 0)
                return berth_error_sys(err, errno, "stat /proc/self/exe");
        while (off < st.st_size) {
                ssize_t n = sendfile(mfd, exe, &off, (size_t)(st.st_size - off));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return berth_error_sys(err, n < 0 ? errno : EIO, "copy runtime binary");
        }
        if (fcntl(mfd, F_ADD_SEALS, REQUIRED_SEALS) < 0)
                return berth_error_sys(err, errno, "seal runtime binary copy");
        return TAKE_FD(mfd);
}

int berth_ensure_cloned_binary(char **argv, berth_error *err)
{
        _cleanup_close_ int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        _cleanup_close_ int mfd = -1;

        if (exe < 0)
                return berth_error_sys(err, errno, "open /proc/self/exe");
        if (running_sealed(exe))
                return 0;
        mfd = sealed_copy(exe, err);
        if (mfd < 0)
                return mfd;
        syscall(SYS_execveat, mfd, "", argv, environ, AT_EMPTY_PATH);
        return berth_error_sys(err, errno, "re-execute from sealed copy");
}
