/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The `berth run` flag-value parsers and the /etc/passwd + /etc/group reader
 * (an image's files: untrusted). The first byte picks the parser; the rest
 * is the flag's value, or for the user reader "passwd\0group\0user-spec".
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "engine/run-options.h"
#include "engine/spec.h"

static int rootfd = -1;

static void write_at(int dirfd, const char *name, const char *data, size_t len)
{
        int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        if (fd < 0)
                abort();
        if (write(fd, data, len) != (ssize_t)len)
                abort();
        close(fd);
}

static void fuzz_user(const char *s, size_t len)
{
        const char *group = memchr(s, '\0', len), *spec;
        berth_error err = BERTH_ERROR_INIT;
        berth_exec_user u;

        if (!group)
                return;
        group++;
        spec = memchr(group, '\0', len - (size_t)(group - s));
        if (!spec)
                return;
        spec++;
        if (rootfd < 0) {
                char dir[] = "/tmp/fuzz-run-options.XXXXXX";
                if (!mkdtemp(dir))
                        abort();
                rootfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
                mkdirat(rootfd, "etc", 0755);
        }
        {
                int etc = openat(rootfd, "etc", O_PATH | O_DIRECTORY | O_CLOEXEC);
                write_at(etc, "passwd", s, (size_t)(group - 1 - s));
                write_at(etc, "group", group, (size_t)(spec - 1 - group));
                close(etc);
        }
        if (berth_resolve_user(rootfd, spec, &u, &err) == 0)
                berth_exec_user_release(&u);
        berth_error_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *s = NULL;
        berth_error err = BERTH_ERROR_INIT;
        berth_run_options o;
        int64_t v;
        char *str = NULL;

        if (size < 1 || size > 4096)
                return 0;
        s = malloc(size);
        if (!s)
                return 0;
        memcpy(s, data + 1, size - 1);
        s[size - 1] = '\0';
        berth_run_options_init(&o);
        switch (data[0] % 16) {
        case 0:
                berth_parse_ram_bytes(s, &v, &err);
                break;
        case 1:
                berth_parse_memory(s, &v, &err);
                break;
        case 2:
                berth_parse_memory_swap(s, &v, &err);
                break;
        case 3:
                berth_parse_cpus(s, &v, &err);
                break;
        case 4:
                berth_parse_int64_flag("--pids-limit", s, &v, &err);
                break;
        case 5:
                berth_parse_cpuset("--cpuset-cpus", s, &str, &err);
                break;
        case 6:
                berth_parse_ulimit(&o, s, &err);
                break;
        case 7:
                berth_parse_sysctl(&o, s, &err);
                break;
        case 8:
                berth_parse_signal(s, &str, &err);
                break;
        case 9:
                berth_parse_volume(&o, s, &err);
                break;
        case 10:
                berth_parse_mount(&o, s, &err);
                break;
        case 11:
                berth_parse_tmpfs(&o, s, &err);
                break;
        case 12:
                berth_parse_env(&o, s, &err);
                break;
        case 13:
                berth_parse_env_data(&o, (const char *)data + 1, size - 1, "fuzz", &err);
                break;
        case 14:
                berth_parse_label(&o, s, &err);
                break;
        default:
                fuzz_user(s, size - 1);
                break; /* s is NUL-terminated after the payload */
        }
        free(str);
        berth_error_release(&err);
        berth_run_options_release(&o);
        return 0;
}
