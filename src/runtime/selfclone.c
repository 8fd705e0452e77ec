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
#include <time.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "runtime/runtime.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

#define BASE_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW)

extern char **environ;

static bool running_sealed(int exe)
{
        int seals = fcntl(exe, F_GET_SEALS);
        return seals >= 0 && (seals & BASE_SEALS) == BASE_SEALS &&
               (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE));
}

/*
 * F_SEAL_FUTURE_WRITE (Linux 5.1) forbids every later write without
 * waiting for page references to drain; F_SEAL_WRITE does wait, and
 * fails with EBUSY while the pages the copy just wrote are still held
 * (LRU batches on a busy machine), so it gets a few tries.
 */
static int seal(int mfd)
{
        if (fcntl(mfd, F_ADD_SEALS, BASE_SEALS | F_SEAL_FUTURE_WRITE) == 0)
                return 0;
        if (errno != EINVAL)
                return -errno;
        for (int i = 0; i < 50; i++) {
                struct timespec ts = { 0, 1000 * 1000 };
                if (fcntl(mfd, F_ADD_SEALS, BASE_SEALS | F_SEAL_WRITE) == 0)
                        return 0;
                if (errno != EBUSY)
                        return -errno;
                nanosleep(&ts, NULL);
        }
        return -EBUSY;
}

static int sealed_copy(int exe, berth_error *err)
{
        _cleanup_close_ int mfd = -1;
        struct stat st;
        off_t off = 0;
        int r;

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
        r = seal(mfd);
        if (r < 0)
                return berth_error_sys(err, -r, "seal runtime binary copy");
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
