/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The decompressing thread of layer application (see decompress.h).
 *
 * The ring holds N_SLOTS blocks of SLOT_SIZE bytes. The thread fills the slot
 * at `tail` outside the lock (the consumer never looks at a slot until it is
 * published), the consumer holds the slot at `head` until its next call; so
 * the only shared state is the two counters and the flags, under one mutex.
 * Large slots keep the hand-offs rare: with 1 MiB blocks a 230 MB layer
 * takes a few hundred lock round trips, and libarchive returns file data as
 * pointers into the slot, so nothing is copied on the way.
 *
 * A cancelled thread may be blocked in read(2) on a pipe whose writer is
 * slow; it polls an eventfd next to the input so that cancelling wakes it.
 */
#include <errno.h>
#include <inttypes.h>
#include <isa-l/igzip_lib.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <zstd.h>

#include "basic/cleanup.h"
#include "image/decompress.h"

#define SLOT_SIZE (1u << 20)
#define N_SLOTS   4
#define IN_SIZE   (256u << 10)
/* zstd's own default; frames asking for a larger window (--long=31) are refused */
#define ZSTD_WINDOW_LOG_MAX 27

struct layer_stream {
        int fd;
        int cancel_fd; /* eventfd: readable once cancelled */
        uint64_t max_bytes;
        pthread_t thread;
        bool started;

        pthread_mutex_t lock;
        pthread_cond_t cond;
        unsigned char *slots[N_SLOTS];
        size_t slot_len[N_SLOTS];
        uint64_t head, tail; /* published slots are head..tail-1 */
        bool held;           /* the consumer holds slot head */
        bool done;           /* the thread has published its last slot */
        bool cancelled;
        bool discard; /* drain: the thread hashes without publishing */
        int ret;      /* the thread's result once done */
        berth_error err;

        /* owned by the thread until done */
        layer_compression compression;
        berth_hasher *hasher;
        uint64_t out_bytes, in_bytes;
        unsigned char *in;
        size_t in_pos, in_len;
        bool in_eof;
        struct inflate_state *gz;
        ZSTD_DCtx *zstd;
        size_t zstd_last; /* ZSTD_decompressStream's last hint: 0 at a frame's end */
        char diff_id[BERTH_DIGEST_STR_MAX];
};

/*
 * One read(2) of at most `len` bytes into buf: the byte count (0 at the end),
 * or a negative errno with s->err set. Waits in poll(2) so that a cancel
 * wakes it; non-blocking fds are fine too.
 */
static ssize_t read_some(layer_stream *s, void *buf, size_t len)
{
        struct pollfd p[2] = {
                { .fd = s->fd, .events = POLLIN },
                { .fd = s->cancel_fd, .events = POLLIN },
        };

        for (;;) {
                ssize_t n;

                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return berth_error_sys(&s->err, errno, "poll");
                }
                if (p[1].revents)
                        return berth_error_set(&s->err, ECANCELED, "cancelled");
                n = read(s->fd, buf, len);
                if (n < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        return berth_error_sys(&s->err, errno, "read");
                }
                s->in_bytes += (uint64_t)n;
                if (n == 0)
                        s->in_eof = true;
                return n;
        }
}

/* Refills s->in, which must have been used up. */
static int read_input(layer_stream *s)
{
        ssize_t n = read_some(s, s->in, IN_SIZE);

        if (n < 0)
                return (int)n;
        s->in_pos = 0;
        s->in_len = (size_t)n;
        return 0;
}

/* Reads until at least `want` bytes are buffered or the input ends. */
static int read_at_least(layer_stream *s, size_t want)
{
        while (!s->in_eof && s->in_len < want) {
                ssize_t n = read_some(s, s->in + s->in_len, IN_SIZE - s->in_len);

                if (n < 0)
                        return (int)n;
                s->in_len += (size_t)n;
        }
        return 0;
}

static int detect(layer_stream *s)
{
        static const unsigned char gzip_magic[] = { 0x1f, 0x8b };
        static const unsigned char zstd_magic[] = { 0x28, 0xb5, 0x2f, 0xfd };
        int r = read_at_least(s, sizeof(zstd_magic));

        if (r < 0)
                return r;
        if (s->in_len >= sizeof(gzip_magic) && memcmp(s->in, gzip_magic, 2) == 0) {
                s->compression = LAYER_GZIP;
                s->gz = malloc(sizeof(*s->gz));
                if (!s->gz)
                        return berth_error_set(&s->err, ENOMEM, "out of memory");
                isal_inflate_init(s->gz);
                s->gz->crc_flag = ISAL_GZIP;
        } else if (s->in_len >= sizeof(zstd_magic) && memcmp(s->in, zstd_magic, 4) == 0) {
                s->compression = LAYER_ZSTD;
                s->zstd = ZSTD_createDCtx();
                if (!s->zstd)
                        return berth_error_set(&s->err, ENOMEM, "out of memory");
                ZSTD_DCtx_setParameter(s->zstd, ZSTD_d_windowLogMax, ZSTD_WINDOW_LOG_MAX);
        } else {
                s->compression = LAYER_PLAIN;
        }
        return 0;
}

static const char *isal_strerror(int r)
{
        switch (r) {
        case ISAL_INVALID_BLOCK:
                return "invalid deflate block";
        case ISAL_INVALID_SYMBOL:
                return "invalid deflate symbol";
        case ISAL_INVALID_LOOKBACK:
                return "invalid deflate distance";
        case ISAL_INVALID_WRAPPER:
                return "invalid gzip header";
        case ISAL_UNSUPPORTED_METHOD:
                return "unsupported compression method";
        case ISAL_INCORRECT_CHECKSUM:
                return "checksum mismatch";
        default:
                return "corrupt data";
        }
}

/*
 * Plain tar: the input is the output. What detect() buffered goes first,
 * then reads go straight into the slot.
 */
static int fill_plain(layer_stream *s, unsigned char *out, size_t cap, size_t *len)
{
        while (*len < cap) {
                size_t n = s->in_len - s->in_pos;

                if (n == 0) {
                        ssize_t r;

                        if (s->in_eof)
                                return 1;
                        r = read_some(s, out + *len, cap - *len);
                        if (r < 0)
                                return (int)r;
                        *len += (size_t)r;
                        continue;
                }
                if (n > cap - *len)
                        n = cap - *len;
                memcpy(out + *len, s->in + s->in_pos, n);
                s->in_pos += n;
                *len += n;
        }
        return 0;
}

/*
 * gzip, member after member: a layer may be several gzip members one after
 * the other (pigz, appended layers), which gunzip reads as one stream. Data
 * after a member that is not another member is refused, as Go's gzip reader
 * (and so docker and containerd) refuses it.
 */
static int fill_gzip(layer_stream *s, unsigned char *out, size_t cap, size_t *len)
{
        struct inflate_state *gz = s->gz;

        while (*len < cap) {
                uint32_t avail_in, avail_out;
                int r;

                if (gz->block_state == ISAL_BLOCK_FINISH) {
                        if (s->in_pos == s->in_len) {
                                if (s->in_eof)
                                        return 1;
                                r = read_input(s);
                                if (r < 0)
                                        return r;
                                continue;
                        }
                        if (s->in[s->in_pos] != 0x1f)
                                return berth_error_set(&s->err, EINVAL,
                                                       "gzip: trailing data after the stream");
                        isal_inflate_reset(gz);
                        gz->crc_flag = ISAL_GZIP;
                }
                if (s->in_pos == s->in_len && !s->in_eof) {
                        r = read_input(s);
                        if (r < 0)
                                return r;
                }
                gz->next_in = s->in + s->in_pos;
                gz->avail_in = avail_in = (uint32_t)(s->in_len - s->in_pos);
                gz->next_out = out + *len;
                gz->avail_out = avail_out = (uint32_t)(cap - *len);
                r = isal_inflate(gz);
                if (r < 0)
                        return berth_error_set(&s->err, EINVAL, "gzip: %s", isal_strerror(r));
                s->in_pos += avail_in - gz->avail_in;
                *len += avail_out - gz->avail_out;
                if (gz->avail_in == avail_in && gz->avail_out == avail_out &&
                    gz->block_state != ISAL_BLOCK_FINISH) {
                        /* no progress: isal wants more input, and there is none */
                        if (s->in_eof)
                                return berth_error_set(&s->err, EINVAL,
                                                       "gzip: unexpected end of stream");
                        if (s->in_pos < s->in_len)
                                return berth_error_set(&s->err, EINVAL, "gzip: corrupt data");
                }
        }
        return 0;
}

/* zstd: ZSTD_decompressStream goes on across concatenated and skippable frames. */
static int fill_zstd(layer_stream *s, unsigned char *out, size_t cap, size_t *len)
{
        while (*len < cap) {
                ZSTD_outBuffer ob = { out, cap, *len };
                ZSTD_inBuffer ib;
                size_t r;

                if (s->in_pos == s->in_len && !s->in_eof) {
                        int rr = read_input(s);
                        if (rr < 0)
                                return rr;
                }
                /* the end of the input at the end of a frame is the end */
                if (s->in_pos == s->in_len && s->in_eof && s->zstd_last == 0)
                        return 1;
                ib = (ZSTD_inBuffer){ s->in, s->in_len, s->in_pos };
                r = ZSTD_decompressStream(s->zstd, &ob, &ib);
                if (ZSTD_isError(r))
                        return berth_error_set(&s->err, EINVAL, "zstd: %s", ZSTD_getErrorName(r));
                if (s->in_eof && ib.pos == s->in_pos && ob.pos == *len && r != 0)
                        return berth_error_set(&s->err, EINVAL, "zstd: unexpected end of stream");
                s->in_pos = ib.pos;
                *len = ob.pos;
                s->zstd_last = r;
        }
        return 0;
}

static int fill(layer_stream *s, unsigned char *out, size_t cap, size_t *len)
{
        *len = 0;
        switch (s->compression) {
        case LAYER_GZIP:
                return fill_gzip(s, out, cap, len);
        case LAYER_ZSTD:
                return fill_zstd(s, out, cap, len);
        default:
                return fill_plain(s, out, cap, len);
        }
}

/* Waits for a free slot; false when cancelled. */
static bool wait_for_slot(layer_stream *s)
{
        bool ok;

        pthread_mutex_lock(&s->lock);
        while (!s->cancelled && !s->discard && s->tail - s->head >= N_SLOTS)
                pthread_cond_wait(&s->cond, &s->lock);
        ok = !s->cancelled;
        pthread_mutex_unlock(&s->lock);
        return ok;
}

/*
 * Fills and publishes slots until the end. Past max_bytes, what is within
 * the limit is still handed on before the error, so that the tar parser can
 * name the entry that did not fit.
 */
static int produce(layer_stream *s)
{
        int r = detect(s);

        while (r >= 0) {
                /* one byte more than the limit allows tells that there is more */
                uint64_t room = s->max_bytes - s->out_bytes;
                size_t cap = room < SLOT_SIZE ? (size_t)room + 1 : SLOT_SIZE;
                unsigned char *slot;
                bool discard, over = false;
                size_t len;

                if (!wait_for_slot(s))
                        return berth_error_set(&s->err, ECANCELED, "cancelled");
                pthread_mutex_lock(&s->lock);
                discard = s->discard;
                /* draining: the consumer reads no slot any more, so any will do */
                slot = s->slots[s->tail % N_SLOTS];
                pthread_mutex_unlock(&s->lock);

                r = fill(s, slot, cap, &len);
                if (r < 0)
                        return r;
                if (s->out_bytes + len > s->max_bytes) {
                        len = (size_t)(s->max_bytes - s->out_bytes);
                        over = true;
                }
                berth_hasher_update(s->hasher, slot, len);
                s->out_bytes += len;
                if (len > 0 && !discard) {
                        pthread_mutex_lock(&s->lock);
                        s->slot_len[s->tail % N_SLOTS] = len;
                        s->tail++;
                        pthread_cond_broadcast(&s->cond);
                        pthread_mutex_unlock(&s->lock);
                }
                if (over)
                        return berth_error_set(&s->err, EFBIG,
                                               "more than %" PRIu64 " bytes uncompressed",
                                               s->max_bytes);
                if (r == 1) {
                        berth_hasher_final(s->hasher, s->diff_id);
                        return 0;
                }
        }
        return r;
}

static void *thread_main(void *arg)
{
        layer_stream *s = arg;
        int r = produce(s);

        pthread_mutex_lock(&s->lock);
        s->ret = r < 0 ? r : 0;
        s->done = true;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        return NULL;
}

int layer_stream_start(int fd, uint64_t max_bytes, layer_stream **ret, berth_error *err)
{
        _cleanup_(layer_stream_freep) layer_stream *s = calloc(1, sizeof(*s));
        int r;

        if (!s)
                return berth_error_set(err, ENOMEM, "out of memory");
        s->fd = fd;
        s->max_bytes = max_bytes;
        s->cancel_fd = -1;
        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->cond, NULL);
        s->hasher = berth_hasher_new();
        s->in = malloc(IN_SIZE);
        if (!s->hasher || !s->in)
                return berth_error_set(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < N_SLOTS; i++) {
                s->slots[i] = malloc(SLOT_SIZE);
                if (!s->slots[i])
                        return berth_error_set(err, ENOMEM, "out of memory");
        }
        s->cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (s->cancel_fd < 0)
                return berth_error_sys(err, errno, "eventfd");
        r = pthread_create(&s->thread, NULL, thread_main, s);
        if (r != 0)
                return berth_error_sys(err, r, "start the decompressing thread");
        s->started = true;
        *ret = TAKE_PTR(s);
        return 0;
}

ssize_t layer_stream_next(layer_stream *s, const void **ret_buf)
{
        ssize_t n;

        pthread_mutex_lock(&s->lock);
        if (s->held) {
                s->head++;
                s->held = false;
                pthread_cond_broadcast(&s->cond);
        }
        while (s->head == s->tail && !s->done)
                pthread_cond_wait(&s->cond, &s->lock);
        if (s->head != s->tail) {
                s->held = true;
                *ret_buf = s->slots[s->head % N_SLOTS];
                n = (ssize_t)s->slot_len[s->head % N_SLOTS];
        } else {
                n = s->ret;
        }
        pthread_mutex_unlock(&s->lock);
        return n;
}

int layer_stream_drain(layer_stream *s)
{
        int r;

        pthread_mutex_lock(&s->lock);
        if (s->held) {
                s->head++;
                s->held = false;
        }
        s->head = s->tail; /* what is published is not wanted either */
        s->discard = true;
        pthread_cond_broadcast(&s->cond);
        while (!s->done)
                pthread_cond_wait(&s->cond, &s->lock);
        r = s->ret;
        pthread_mutex_unlock(&s->lock);
        return r;
}

void layer_stream_cancel(layer_stream *s)
{
        uint64_t one = 1;

        pthread_mutex_lock(&s->lock);
        s->cancelled = true;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        if (write(s->cancel_fd, &one, sizeof(one)) < 0) {
                /* the counter cannot overflow from one write; nothing to do */
        }
}

int layer_stream_finish(layer_stream *s, uint64_t *ret_bytes, uint64_t *ret_compressed,
                        char ret_diff_id[BERTH_DIGEST_STR_MAX], berth_error *err)
{
        if (s->started) {
                pthread_join(s->thread, NULL);
                s->started = false;
        }
        if (s->ret < 0) {
                if (s->err.msg)
                        return berth_error_set(err, s->err.code, "%s", s->err.msg);
                return berth_error_set(err, -s->ret, "decompress: failed");
        }
        if (ret_bytes)
                *ret_bytes = s->out_bytes;
        if (ret_compressed)
                *ret_compressed = s->in_bytes;
        if (ret_diff_id)
                memcpy(ret_diff_id, s->diff_id, BERTH_DIGEST_STR_MAX);
        return 0;
}

layer_compression layer_stream_compression(const layer_stream *s)
{
        return s->compression;
}

void layer_stream_free(layer_stream *s)
{
        if (!s)
                return;
        if (s->started) {
                layer_stream_cancel(s);
                pthread_join(s->thread, NULL);
        }
        for (size_t i = 0; i < N_SLOTS; i++)
                free(s->slots[i]);
        free(s->in);
        free(s->gz);
        ZSTD_freeDCtx(s->zstd);
        berth_hasher_free(s->hasher);
        berth_error_release(&s->err);
        if (s->cancel_fd >= 0)
                close(s->cancel_fd);
        pthread_cond_destroy(&s->cond);
        pthread_mutex_destroy(&s->lock);
        free(s);
}
