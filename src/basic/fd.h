/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * File-descriptor, file and number helpers shared by every layer.
 * Functions returning int return >= 0 on success and -errno on failure;
 * the ones taking `berth_error *err` also fill it with a message naming
 * the file.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* write(2)/read(2) until done, retrying EINTR. read_full stops at EOF. */
ssize_t berth_write_all(int fd, const void *buf, size_t len);
ssize_t berth_read_full(int fd, void *buf, size_t len);

/*
 * Reads all of fd (at most `max` bytes; more is E2BIG) into a NUL-terminated
 * buffer the caller frees.
 */
int berth_read_fd(int fd, size_t max, char **ret, size_t *ret_len);
int berth_read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len,
                       berth_error *err);

/* Writes `data` to an existing file (O_WRONLY|O_TRUNC unless append). */
int berth_write_file_at(int dirfd, const char *path, const char *data, size_t len,
                        berth_error *err);

/*
 * Writes `data` to `path` atomically: a temporary file in the same
 * directory, fsync skipped (state lives on tmpfs), then rename(2).
 */
int berth_write_file_atomic(const char *path, const char *data, size_t len, mode_t mode,
                            berth_error *err);

/*
 * Marks every fd >= `from` close-on-exec (close_range(2) with
 * CLOSE_RANGE_CLOEXEC, or a /proc/self/fd walk on older kernels).
 */
int berth_cloexec_from(int from);

/* Sends/receives one fd over a unix socket with SCM_RIGHTS and a short payload. */
int berth_send_fd(int sock, int fd, const void *data, size_t len);
int berth_recv_fd(int sock, int *ret_fd, void *data, size_t len);

/* Checked decimal parsers: whole string, no sign for unsigned, range-checked. */
int berth_parse_u64(const char *s, uint64_t *ret);
int berth_parse_i64(const char *s, int64_t *ret);
int berth_parse_int(const char *s, int *ret);
int berth_parse_u32(const char *s, uint32_t *ret);

/*
 * "/proc/self/fd/N": the path that mount(2) and friends follow to exactly
 * the object an O_PATH fd holds. Callers use it where /proc is a procfs they
 * have checked. 0, or -ENAMETOOLONG when `size` is too small.
 */
int berth_fd_path(int fd, char *buf, size_t size);

/* pidfd_open(2); -errno when unavailable. */
int berth_pidfd_open(pid_t pid);

/* Process start time (field 22 of /proc/PID/stat) and state letter. */
int berth_proc_stat(pid_t pid, uint64_t *ret_start_time, char *ret_state);
