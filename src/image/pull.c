/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * berth pull: resolve a reference to one platform's manifest, then fetch
 * and unpack its layers in parallel. Each layer is downloaded, written to
 * the content store, decompressed and unpacked at the same time: the
 * download thread hands bytes to the blob writer and to a pipe that
 * berth_layer_apply() reads (which inflates in a thread of its own).
 * Nothing becomes visible before berth_store_image_add() at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "basic/log.h"
#include "image/image.h"
#include "image/layer.h"
#include "image/reference.h"

struct pull {
        berth_store *s;
        berth_registry *reg;
        const char *repo;
        const berth_progress *progress;
        pthread_mutex_t lock;
        atomic_size_t next;
        atomic_bool failed;
};

static void progress(struct pull *p, const char *id, berth_progress_state st, uint64_t cur,
                     uint64_t total, const char *text)
{
        if (!p->progress || !p->progress->update)
                return;
        pthread_mutex_lock(&p->lock);
        p->progress->update(p->progress->userdata, id, st, cur, total, text);
        pthread_mutex_unlock(&p->lock);
}

static void short_id(const char *digest, char buf[13])
{
        snprintf(buf, 13, "%s", berth_digest_hex(digest));
}

struct layer_job {
        struct pull *p;
        const berth_descriptor *desc;
        const char *diff_id;
        const char *chain_id;
        const char *parent;
        char id[13];
        berth_error err;
        int rc;
};

/* The download side of one layer: store writer plus (optionally) the unpacker's pipe. */
struct download {
        struct layer_job *job;
        berth_blob_writer *w;
        int pipefd;       /* write end, or -1 */
        bool unpack_gone; /* the unpacker stopped reading (it failed) */
        uint64_t reported;
        berth_error err;
        int rc;
};

static int download_sink(void *userdata, const void *buf, size_t len, uint64_t offset,
                         berth_error *err)
{
        struct download *d = userdata;
        struct layer_job *j = d->job;
        int r;

        r = berth_blob_writer_write(d->w, buf, len, err);
        if (r < 0)
                return r;
        if (d->pipefd >= 0 && berth_write_all(d->pipefd, buf, len) < 0) {
                if (errno == EPIPE) {
                        d->unpack_gone = true;
                        return berth_error_set(err, EPIPE, "unpacking stopped");
                }
                return berth_error_sys(err, errno, "feed layer to unpacker");
        }
        if (offset + len - d->reported >= (512u << 10) || offset + len == (uint64_t)j->desc->size) {
                d->reported = offset + len;
                progress(j->p, j->id, BERTH_PROGRESS_DOWNLOADING, offset + len,
                         (uint64_t)j->desc->size, NULL);
        }
        if (atomic_load(&j->p->failed))
                return berth_error_set(err, ECANCELED, "another layer failed");
        return 0;
}

static void *download_thread(void *arg)
{
        struct download *d = arg;
        struct layer_job *j = d->job;
        sigset_t set;

        /* A failed unpacker closes its end: see EPIPE rather than die of SIGPIPE. */
        sigemptyset(&set);
        sigaddset(&set, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        d->rc = berth_registry_get_blob(j->p->reg, j->p->repo, j->desc->digest, j->desc->size,
                                        j->desc->urls, download_sink, d, &d->err);
        closep(&d->pipefd);
        return NULL;
}

/* Downloads a blob into the store without unpacking it (the layer exists already). */
static int fetch_blob_only(struct layer_job *j, berth_error *err)
{
        _cleanup_(berth_blob_writer_freep) berth_blob_writer *w = NULL;
        struct download d = { .job = j, .pipefd = -1 };
        int r;

        r = berth_blob_writer_begin(j->p->s, j->desc->digest, j->desc->size, &w, err);
        if (r != 0)
                return r < 0 ? r : 0;
        d.w = w;
        r = berth_registry_get_blob(j->p->reg, j->p->repo, j->desc->digest, j->desc->size,
                                    j->desc->urls, download_sink, &d, err);
        if (r < 0)
                return r;
        return berth_blob_writer_commit(w, NULL, err);
}

static int unpack_layer(struct layer_job *j, berth_layer_tx *tx, berth_layer_stats *stats,
                        berth_error *err)
{
        _cleanup_(berth_blob_writer_freep) berth_blob_writer *w = NULL;
        _cleanup_free_ char *what = NULL;
        berth_layer_options lo = { .keep_ownership = geteuid() == 0 };
        struct download d = { .job = j, .pipefd = -1 };
        pthread_t thread;
        int pipefd[2], r, ar;

        if (asprintf(&what, "layer %s", j->desc->digest) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        lo.what = what;
        r = berth_blob_writer_begin(j->p->s, j->desc->digest, j->desc->size, &w, err);
        if (r < 0)
                return r;
        if (r == 1) {
                /* The compressed blob is here (another image, or a pull killed after it). */
                _cleanup_close_ int fd = berth_store_blob_open(j->p->s, j->desc->digest, err);
                if (fd < 0)
                        return fd;
                progress(j->p, j->id, BERTH_PROGRESS_EXTRACTING, 0, (uint64_t)j->desc->size, NULL);
                return berth_layer_apply(berth_layer_tx_dirfd(tx), fd, &lo, stats, err);
        }
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return berth_error_sys(err, errno, "pipe");
        /* A bigger pipe lets the download run ahead of the unpacker a little. */
        (void)fcntl(pipefd[1], F_SETPIPE_SZ, 1 << 20);
        d.w = w;
        d.pipefd = pipefd[1];
        r = pthread_create(&thread, NULL, download_thread, &d);
        if (r != 0) {
                close(pipefd[0]);
                close(pipefd[1]);
                return berth_error_sys(err, r, "start download thread");
        }
        progress(j->p, j->id, BERTH_PROGRESS_DOWNLOADING, 0, (uint64_t)j->desc->size, NULL);
        ar = berth_layer_apply(berth_layer_tx_dirfd(tx), pipefd[0], &lo, stats, err);
        close(pipefd[0]);
        pthread_join(thread, NULL);
        if (d.rc < 0 && !d.unpack_gone) {
                /* The download's error explains a truncated stream better than the unpacker's. */
                berth_error_release(err);
                *err = d.err;
                return d.rc;
        }
        berth_error_release(&d.err);
        if (ar < 0)
                return ar;
        return berth_blob_writer_commit(w, NULL, err);
}

static int pull_layer(struct layer_job *j, berth_error *err)
{
        _cleanup_(berth_layer_tx_freep) berth_layer_tx *tx = NULL;
        berth_layer_stats stats = { 0 };
        berth_compression comp;
        int r;

        r = berth_layer_media_type(j->desc->media_type, &comp, err);
        if (r < 0)
                return r;
        r = berth_store_layer_begin(j->p->s, j->chain_id, &tx, err);
        if (r < 0)
                return r;
        if (r == 1) {
                progress(j->p, j->id, BERTH_PROGRESS_EXISTS, 0, 0, NULL);
                /* Kept for push and save, which need the compressed form. */
                return fetch_blob_only(j, err);
        }
        r = unpack_layer(j, tx, &stats, err);
        if (r < 0)
                return r;
        if (strcmp(stats.diff_id, j->diff_id) != 0)
                return berth_error_set(err, EBADMSG,
                                       "layer %s: uncompressed content has digest %s, the image "
                                       "config says %s",
                                       j->desc->digest, stats.diff_id, j->diff_id);
        r = berth_layer_tx_commit(tx, j->diff_id, j->parent, stats.tar_bytes, err);
        if (r < 0)
                return r;
        progress(j->p, j->id, BERTH_PROGRESS_COMPLETE, 0, 0, NULL);
        return 0;
}

struct worker {
        struct layer_job *jobs;
        size_t n;
};

static void *layer_worker(void *arg)
{
        struct worker *w = arg;

        for (;;) {
                size_t i = atomic_fetch_add(&w->jobs[0].p->next, 1);
                if (i >= w->n)
                        break;
                struct layer_job *j = &w->jobs[i];
                if (atomic_load(&j->p->failed)) {
                        j->rc = berth_error_set(&j->err, ECANCELED, "cancelled");
                        continue;
                }
                j->rc = pull_layer(j, &j->err);
                if (j->rc < 0)
                        atomic_store(&j->p->failed, true);
        }
        return NULL;
}

static int pull_layers(struct layer_job *jobs, size_t n, unsigned max, berth_error *err)
{
        struct worker w = { .jobs = jobs, .n = n };
        pthread_t threads[16];
        size_t nt = max ? max : 3, started = 0;

        if (n == 0)
                return 0;
        if (nt > n)
                nt = n;
        if (nt > ARRAY_SIZE(threads))
                nt = ARRAY_SIZE(threads);
        for (size_t i = nt; i < n; i++)
                progress(jobs[0].p, jobs[i].id, BERTH_PROGRESS_WAITING, 0, 0, NULL);
        for (size_t i = 0; i < nt; i++) {
                if (pthread_create(&threads[i], NULL, layer_worker, &w) != 0)
                        break;
                started++;
        }
        if (started == 0)
                layer_worker(&w);
        for (size_t i = 0; i < started; i++)
                pthread_join(threads[i], NULL);
        /* Report the first real failure, not the cancellations it caused. */
        for (size_t i = 0; i < n; i++)
                if (jobs[i].rc < 0 && jobs[i].err.code != ECANCELED) {
                        int r = jobs[i].rc;
                        *err = jobs[i].err;
                        memset(&jobs[i].err, 0, sizeof(jobs[i].err));
                        return r;
                }
        for (size_t i = 0; i < n; i++)
                if (jobs[i].rc < 0) {
                        int r = jobs[i].rc;
                        *err = jobs[i].err;
                        memset(&jobs[i].err, 0, sizeof(jobs[i].err));
                        return r;
                }
        return 0;
}

struct buffer_sink {
        char *data;
        size_t len, max;
};

static int buffer_sink(void *userdata, const void *buf, size_t len, uint64_t offset,
                       berth_error *err)
{
        struct buffer_sink *b = userdata;
        char *n;

        if (b->len + len > b->max)
                return berth_error_set(err, EFBIG, "larger than %zu bytes", b->max);
        n = realloc(b->data, b->len + len + 1);
        if (!n)
                return berth_error_set(err, ENOMEM, "out of memory");
        b->data = n;
        memcpy(b->data + b->len, buf, len);
        b->len += len;
        b->data[b->len] = '\0';
        return 0;
}

static int fetch_config(struct pull *p, const berth_descriptor *d, char **ret, size_t *ret_len,
                        berth_error *err)
{
        struct buffer_sink b = { .max = BERTH_CONFIG_MAX };
        int r;

        if (d->size < 0 || (uint64_t)d->size > BERTH_CONFIG_MAX)
                return berth_error_set(err, EFBIG, "config %s: size %lld is out of bounds",
                                       d->digest, (long long)d->size);
        if (berth_store_has_blob(p->s, d->digest))
                return berth_store_blob_read(p->s, d->digest, BERTH_CONFIG_MAX, ret, ret_len, err);
        r = berth_registry_get_blob(p->reg, p->repo, d->digest, d->size, NULL, buffer_sink, &b,
                                    err);
        if (r < 0) {
                free(b.data);
                return berth_error_prefix(err, "config %s", d->digest);
        }
        if (!b.data)
                b.data = strdup("");
        r = berth_store_blob_put(p->s, b.data, b.len, d->digest, NULL, err);
        if (r < 0) {
                free(b.data);
                return r;
        }
        *ret = b.data;
        *ret_len = b.len;
        return 0;
}

/* Resolves ref's manifest, through an index when there is one, for platform want. */
static int resolve_manifest(struct pull *p, const char *refname, const berth_platform *want,
                            bool platform_given, berth_registry_manifest *ret,
                            char top_digest[BERTH_DIGEST_STR_MAX], berth_error *err)
{
        berth_manifest_kind kind;
        int r;

        r = berth_registry_get_manifest(p->reg, p->repo, refname, ret, err);
        if (r < 0)
                return r;
        memcpy(top_digest, ret->digest, BERTH_DIGEST_STR_MAX);
        r = berth_manifest_kind_of(ret->media_type, ret->data, ret->len, &kind, err);
        if (r < 0)
                return r;
        if (kind == BERTH_MANIFEST_KIND_INDEX) {
                _cleanup_(berth_index_freep) berth_index *idx = NULL;
                const berth_descriptor *d;
                char what[128];

                snprintf(what, sizeof(what), "index %s", top_digest);
                r = berth_index_parse(ret->data, ret->len, what, &idx, err);
                if (r < 0)
                        return r;
                r = berth_index_select(idx, want, &d, err);
                if (r < 0)
                        return r;
                _cleanup_free_ char *digest = strdup(d->digest);
                if (!digest)
                        return berth_error_set(err, ENOMEM, "out of memory");
                berth_registry_manifest_release(ret);
                r = berth_registry_get_manifest(p->reg, p->repo, digest, ret, err);
                if (r < 0)
                        return r;
                r = berth_manifest_kind_of(ret->media_type, ret->data, ret->len, &kind, err);
                if (r < 0)
                        return r;
                if (kind != BERTH_MANIFEST_KIND_IMAGE)
                        return berth_error_set(err, EINVAL,
                                               "manifest %s: an index inside an index is not "
                                               "supported",
                                               digest);
        }
        (void)platform_given;
        return 0;
}

/* The image config's platform against the one asked for. */
static int check_platform(const berth_image_config *c, const berth_platform *want,
                          bool platform_given, const char *refname, berth_error *err)
{
        berth_platform have = { .os = c->os,
                                .architecture = c->architecture,
                                .variant = c->variant };
        _cleanup_free_ char *h = NULL, *w = NULL;

        if (!c->os || !c->architecture || berth_platform_match(want, &have))
                return 0;
        h = berth_platform_string(&have);
        w = berth_platform_string(want);
        if (platform_given)
                return berth_error_set(err, ENOENT,
                                       "image with reference %s was found but does not match the "
                                       "specified platform: wanted %s, actual: %s",
                                       refname, w ? w : "?", h ? h : "?");
        log_warn("The requested image's platform (%s) does not match the detected host platform "
                 "(%s)",
                 h ? h : "?", w ? w : "?");
        return 0;
}

static int pull_one(berth_store *s, berth_registry *reg, const berth_reference *ref,
                    const berth_pull_options *opts, const berth_platform *want, bool platform_given,
                    char ret_id[BERTH_DIGEST_STR_MAX], bool *ret_updated, berth_error *err)
{
        _cleanup_(berth_manifest_freep) berth_manifest *m = NULL;
        _cleanup_(berth_image_config_freep) berth_image_config *cfg = NULL;
        _cleanup_free_ char *repo = berth_reference_repository(ref), *name = NULL,
                            *repo_digest = NULL, *cfg_data = NULL, *line = NULL;
        _cleanup_free_ struct layer_job *jobs = NULL;
        _cleanup_free_ berth_image_layer *layers = NULL;
        _cleanup_free_ char(*chains)[BERTH_DIGEST_STR_MAX] = NULL;
        _cleanup_close_ int lease = -1;
        berth_registry_manifest rm = { 0 };
        struct pull p = { .s = s, .reg = reg, .repo = ref->path, .progress = opts->progress };
        char top[BERTH_DIGEST_STR_MAX], before[BERTH_DIGEST_STR_MAX] = "";
        const char *refname = ref->digest ? ref->digest : ref->tag;
        size_t cfg_len = 0;
        char what[128];
        int r;

        if (!repo)
                return berth_error_set(err, ENOMEM, "out of memory");
        pthread_mutex_init(&p.lock, NULL);
        if (ref->tag && asprintf(&name, "%s:%s", repo, ref->tag) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        if (name) {
                berth_image old = { 0 };
                berth_error e = BERTH_ERROR_INIT;
                if (berth_store_image_find(s, name, &old, &e) >= 0)
                        memcpy(before, old.id, sizeof(before));
                berth_image_release(&old);
                berth_error_release(&e);
        }
        if (asprintf(&line, "%s: Pulling from %s", refname, ref->path) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        progress(&p, NULL, BERTH_PROGRESS_RESOLVED, 0, 0, line);

        lease = berth_store_lease(s, err);
        if (lease < 0)
                return lease;
        r = resolve_manifest(&p, refname, want, platform_given, &rm, top, err);
        if (r < 0)
                goto out;
        snprintf(what, sizeof(what), "manifest %s", rm.digest);
        r = berth_manifest_parse(rm.data, rm.len, what, &m, err);
        if (r < 0)
                goto out;
        r = fetch_config(&p, &m->config, &cfg_data, &cfg_len, err);
        if (r < 0)
                goto out;
        snprintf(what, sizeof(what), "config %s", m->config.digest);
        r = berth_image_config_parse(cfg_data, cfg_len, what, &cfg, err);
        if (r < 0)
                goto out;
        r = check_platform(cfg, want, platform_given, refname, err);
        if (r < 0)
                goto out;
        if (cfg->n_diff_ids != m->n_layers) {
                r = berth_error_set(err, EBADMSG,
                                    "manifest %s has %zu layers but its config lists %zu diff_ids",
                                    rm.digest, m->n_layers, cfg->n_diff_ids);
                goto out;
        }

        jobs = calloc(m->n_layers + 1, sizeof(*jobs));
        layers = calloc(m->n_layers + 1, sizeof(*layers));
        chains = calloc(m->n_layers + 1, sizeof(*chains));
        if (!jobs || !layers || !chains) {
                r = berth_error_set(err, ENOMEM, "out of memory");
                goto out;
        }
        berth_chain_ids(cfg->diff_ids, cfg->n_diff_ids, chains);
        for (size_t i = 0; i < m->n_layers; i++) {
                struct layer_job *j = &jobs[i];
                j->p = &p;
                j->desc = &m->layers[i];
                j->diff_id = cfg->diff_ids[i];
                j->chain_id = chains[i];
                j->parent = i > 0 ? chains[i - 1] : NULL;
                short_id(j->desc->digest, j->id);
        }
        r = pull_layers(jobs, m->n_layers, opts->max_concurrent, err);
        for (size_t i = 0; i < m->n_layers; i++)
                berth_error_release(&jobs[i].err);
        if (r < 0)
                goto out;

        r = berth_store_blob_put(s, rm.data, rm.len, rm.digest, NULL, err);
        if (r < 0)
                goto out;
        for (size_t i = 0; i < m->n_layers; i++) {
                berth_image_layer *l = &layers[i];
                snprintf(l->chain_id, sizeof(l->chain_id), "%s", chains[i]);
                snprintf(l->diff_id, sizeof(l->diff_id), "%s", cfg->diff_ids[i]);
                snprintf(l->blob_digest, sizeof(l->blob_digest), "%s", m->layers[i].digest);
                l->blob_media_type = m->layers[i].media_type;
                l->blob_size = m->layers[i].size;
        }
        if (asprintf(&repo_digest, "%s@%s", repo, top) < 0) {
                r = berth_error_set(err, ENOMEM, "out of memory");
                goto out;
        }
        {
                char *names[] = { name, NULL };
                int64_t created = 0;
                berth_image_add a = {
                        .config_digest = m->config.digest,
                        .manifest_digest = rm.digest,
                        .manifest_media_type = m->media_type,
                        .layers = layers,
                        .n_layers = m->n_layers,
                        .names = name ? names : NULL,
                        .repo_digest = repo_digest,
                };
                if (cfg->created && berth_parse_rfc3339(cfg->created, &created) == 0)
                        a.created = created;
                r = berth_store_image_add(s, &a, err);
                if (r < 0)
                        goto out;
        }
        free(line);
        line = NULL;
        if (asprintf(&line, "Digest: %s", top) >= 0)
                progress(&p, NULL, BERTH_PROGRESS_MESSAGE, 0, 0, line);
        if (ret_id)
                snprintf(ret_id, BERTH_DIGEST_STR_MAX, "%s", m->config.digest);
        if (ret_updated)
                *ret_updated = strcmp(before, m->config.digest) != 0;
        r = 0;
out:
        berth_registry_manifest_release(&rm);
        pthread_mutex_destroy(&p.lock);
        return r;
}

int berth_image_pull(berth_store *s, const char *ref_str, const berth_pull_options *opts,
                     char ret_id[BERTH_DIGEST_STR_MAX], bool *ret_updated, berth_error *err)
{
        _cleanup_(berth_registry_freep) berth_registry *reg = NULL;
        berth_reference ref = { 0 };
        berth_platform want = { 0 };
        int r;

        r = berth_reference_parse(ref_str,
                                  opts->all_tags ? BERTH_REFERENCE_NAME_ONLY
                                                 : BERTH_REFERENCE_DEFAULT_TAG_FLAG,
                                  &ref, err);
        if (r < 0)
                return r;
        r = opts->platform ? berth_platform_parse(opts->platform, &want, err)
                           : berth_platform_host(&want, err);
        if (r < 0)
                goto out;
        r = berth_registry_new(ref.domain, &opts->registry, &reg, err);
        if (r < 0)
                goto out;
        if (opts->all_tags) {
                _cleanup_strv_ char **tags = NULL;
                r = berth_registry_list_tags(reg, ref.path, &tags, err);
                if (r < 0)
                        goto out;
                for (char **t = tags; t && *t; t++) {
                        free(ref.tag);
                        ref.tag = strdup(*t);
                        if (!ref.tag) {
                                r = berth_error_set(err, ENOMEM, "out of memory");
                                goto out;
                        }
                        r = pull_one(s, reg, &ref, opts, &want, opts->platform != NULL, ret_id,
                                     ret_updated, err);
                        if (r < 0)
                                goto out;
                }
        } else {
                r = pull_one(s, reg, &ref, opts, &want, opts->platform != NULL, ret_id, ret_updated,
                             err);
        }
out:
        if (r < 0)
                berth_error_prefix(err, "pull `%s`", ref_str);
        berth_platform_release(&want);
        berth_reference_release(&ref);
        return r;
}
