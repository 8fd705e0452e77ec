/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * berth push: the image's own blobs and manifest bytes go to the registry
 * unchanged, so a pull there gets the same digests back. Layers go in
 * parallel; each is skipped when the registry has it, mounted when the
 * image came from another repository on the same registry, else uploaded.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "image/image.h"
#include "image/reference.h"

struct push {
        berth_store *s;
        berth_registry *reg;
        const char *repo;  /* destination path */
        char **mount_from; /* other repositories on this registry the image has digests in */
        const berth_push_options *opts;
        pthread_mutex_t lock;
        atomic_size_t next;
        size_t n_jobs;
        atomic_bool failed;
};

struct blob_job {
        struct push *p;
        const char *digest;
        int64_t size;
        bool is_layer;
        char id[13];
        berth_error err;
        int rc;
};

static void progress(struct push *p, const char *id, berth_progress_state st, uint64_t cur,
                     uint64_t total, const char *text)
{
        const berth_progress *pr = p->opts->progress;
        if (!pr || !pr->update)
                return;
        pthread_mutex_lock(&p->lock);
        pr->update(pr->userdata, id, st, cur, total, text);
        pthread_mutex_unlock(&p->lock);
}

static int push_blob(struct blob_job *j, berth_error *err)
{
        struct push *p = j->p;
        _cleanup_close_ int fd = -1;
        int r;

        r = berth_registry_blob_exists(p->reg, p->repo, j->digest, err);
        if (r < 0)
                return r;
        if (r == 1) {
                if (j->is_layer)
                        progress(p, j->id, BERTH_PROGRESS_SKIPPED, 0, 0, NULL);
                return 0;
        }
        for (char **from = p->mount_from; from && *from; from++) {
                r = berth_registry_mount_blob(p->reg, p->repo, *from, j->digest, err);
                if (r < 0)
                        return r;
                if (r == 1) {
                        if (j->is_layer)
                                progress(p, j->id, BERTH_PROGRESS_MOUNTED, 0, 0, *from);
                        return 0;
                }
        }
        fd = berth_store_blob_open(p->s, j->digest, err);
        if (fd < 0)
                return fd;
        if (j->is_layer)
                progress(p, j->id, BERTH_PROGRESS_PUSHING, 0, (uint64_t)j->size, NULL);
        r = berth_registry_put_blob(p->reg, p->repo, j->digest, j->size, fd, p->opts->chunk_size,
                                    err);
        if (r < 0)
                return r;
        if (j->is_layer)
                progress(p, j->id, BERTH_PROGRESS_COMPLETE, 0, 0, NULL);
        return 0;
}

static void *blob_worker(void *arg)
{
        struct blob_job *jobs = arg;
        struct push *p = jobs[0].p;

        for (;;) {
                size_t i = atomic_fetch_add(&p->next, 1);
                if (i >= p->n_jobs)
                        break;
                if (atomic_load(&p->failed)) {
                        jobs[i].rc = berth_error_set(&jobs[i].err, ECANCELED, "cancelled");
                        continue;
                }
                jobs[i].rc = push_blob(&jobs[i], &jobs[i].err);
                if (jobs[i].rc < 0)
                        atomic_store(&p->failed, true);
        }
        return NULL;
}

/* Runs n jobs on up to max threads; the first error that is not a cancellation wins. */
static int push_blobs(struct blob_job *jobs, size_t n, unsigned max, berth_error *err)
{
        pthread_t threads[16];
        size_t nt = max ? max : 5, started = 0;
        int r = 0;

        if (n == 0)
                return 0;
        atomic_store(&jobs[0].p->next, 0);
        jobs[0].p->n_jobs = n;

        if (nt > n)
                nt = n;
        if (nt > 16)
                nt = 16;
        for (size_t i = 0; i < nt; i++)
                if (pthread_create(&threads[started], NULL, blob_worker, jobs) == 0)
                        started++;
        if (started == 0)
                blob_worker(jobs);
        for (size_t i = 0; i < started; i++)
                pthread_join(threads[i], NULL);
        for (int pass = 0; pass < 2 && r == 0; pass++)
                for (size_t i = 0; i < n; i++)
                        if (jobs[i].rc < 0 && (pass == 1 || jobs[i].err.code != ECANCELED)) {
                                r = jobs[i].rc;
                                *err = jobs[i].err;
                                memset(&jobs[i].err, 0, sizeof(jobs[i].err));
                                break;
                        }
        for (size_t i = 0; i < n; i++)
                berth_error_release(&jobs[i].err);
        return r;
}

/* Repositories on domain other than path that the image has a digest in (for mounts). */
static char **mount_sources(const berth_image *img, const berth_reference *dest)
{
        char **v = calloc(1, sizeof(char *));
        size_t n = 0;

        for (char **d = img->repo_digests; v && d && *d; d++) {
                berth_reference r = { 0 };
                berth_error e = BERTH_ERROR_INIT;
                if (berth_reference_parse(*d, 0, &r, &e) == 0 &&
                    strcmp(r.domain, dest->domain) == 0 && strcmp(r.path, dest->path) != 0) {
                        char **nv = realloc(v, (n + 2) * sizeof(char *));
                        if (nv) {
                                v = nv;
                                v[n] = strdup(r.path);
                                if (v[n])
                                        v[++n] = NULL;
                        }
                }
                berth_reference_release(&r);
                berth_error_release(&e);
        }
        return v;
}

static int push_one(berth_store *s, berth_registry *reg, const berth_reference *ref,
                    const berth_push_options *opts, char ret_digest[BERTH_DIGEST_STR_MAX],
                    uint64_t *ret_size, berth_error *err)
{
        _cleanup_free_ char *name = NULL, *manifest = NULL, *line = NULL;
        _cleanup_free_ struct blob_job *jobs = NULL;
        _cleanup_strv_ char **mounts = NULL;
        struct push p = { .s = s, .reg = reg, .repo = ref->path, .opts = opts };
        berth_image img = { 0 };
        size_t mlen = 0, n = 0;
        int r;

        if (asprintf(&name, "%s/%s:%s", ref->domain, ref->path, ref->tag) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        r = berth_store_image_find(s, name, &img, err);
        if (r < 0)
                return r;
        pthread_mutex_init(&p.lock, NULL);
        mounts = mount_sources(&img, ref);
        p.mount_from = mounts;
        if (asprintf(&line, "The push refers to repository [%s/%s]", ref->domain, ref->path) >= 0)
                progress(&p, NULL, BERTH_PROGRESS_MESSAGE, 0, 0, line);
        jobs = calloc(img.n_layers + 2, sizeof(*jobs));
        if (!jobs) {
                r = berth_error_set(err, ENOMEM, "out of memory");
                goto out;
        }
        /* Top layer first, as docker lists them. */
        for (size_t i = img.n_layers; i-- > 0;) {
                struct blob_job *j = &jobs[n++];
                j->p = &p;
                j->digest = img.layers[i].blob_digest;
                j->size = img.layers[i].blob_size;
                j->is_layer = true;
                snprintf(j->id, sizeof(j->id), "%s", berth_digest_hex(j->digest));
                progress(&p, j->id, BERTH_PROGRESS_WAITING, 0, 0, NULL);
        }
        r = push_blobs(jobs, n, opts->max_concurrent, err);
        if (r < 0)
                goto out;
        /* The config last among the blobs: the manifest refers to all of them. */
        memset(jobs, 0, 2 * sizeof(*jobs));
        jobs[0].p = &p;
        jobs[0].digest = img.id;
        {
                _cleanup_close_ int fd = berth_store_blob_open(s, img.id, err);
                off_t size;
                if (fd < 0) {
                        r = fd;
                        goto out;
                }
                size = lseek(fd, 0, SEEK_END);
                jobs[0].size = size;
        }
        r = push_blobs(jobs, 1, 1, err);
        if (r < 0)
                goto out;
        r = berth_store_blob_read(s, img.manifest_digest, BERTH_MANIFEST_MAX, &manifest, &mlen,
                                  err);
        if (r < 0)
                goto out;
        r = berth_registry_put_manifest(reg, ref->path, ref->tag, manifest, mlen,
                                        img.manifest_media_type, err);
        if (r < 0)
                goto out;
        free(line);
        line = NULL;
        if (asprintf(&line, "%s: digest: %s size: %zu", ref->tag, img.manifest_digest, mlen) >= 0)
                progress(&p, NULL, BERTH_PROGRESS_MESSAGE, 0, 0, line);
        if (ret_digest)
                snprintf(ret_digest, BERTH_DIGEST_STR_MAX, "%s", img.manifest_digest);
        if (ret_size)
                *ret_size = mlen;
out:
        pthread_mutex_destroy(&p.lock);
        berth_image_release(&img);
        return r;
}

int berth_image_push(berth_store *s, const char *ref_str, const berth_push_options *opts,
                     char ret_digest[BERTH_DIGEST_STR_MAX], uint64_t *ret_size, berth_error *err)
{
        _cleanup_(berth_registry_freep) berth_registry *reg = NULL;
        berth_reference ref = { 0 };
        int r;

        r = berth_reference_parse(ref_str,
                                  opts->all_tags ? BERTH_REFERENCE_NAME_ONLY
                                                 : BERTH_REFERENCE_DEFAULT_TAG_FLAG |
                                                           BERTH_REFERENCE_NO_DIGEST,
                                  &ref, err);
        if (r < 0)
                return r;
        r = berth_registry_new(ref.domain, &opts->registry, &reg, err);
        if (r < 0)
                goto out;
        if (opts->all_tags) {
                _cleanup_free_ char *repo = berth_reference_repository(&ref);
                berth_image *imgs = NULL;
                size_t n = 0, pushed = 0, len;

                r = berth_store_image_list(s, &imgs, &n, err);
                if (r < 0 || !repo)
                        goto out;
                len = strlen(repo);
                for (size_t i = 0; r >= 0 && i < n; i++)
                        for (char **nm = imgs[i].names; r >= 0 && *nm; nm++) {
                                if (strncmp(*nm, repo, len) != 0 || (*nm)[len] != ':')
                                        continue;
                                free(ref.tag);
                                ref.tag = strdup(*nm + len + 1);
                                r = ref.tag ? push_one(s, reg, &ref, opts, ret_digest, ret_size,
                                                       err)
                                            : berth_error_set(err, ENOMEM, "out of memory");
                                pushed++;
                        }
                berth_images_free(imgs, n);
                if (r >= 0 && pushed == 0)
                        r = berth_error_set(err, ENOENT,
                                            "An image does not exist locally with "
                                            "the tag: %s",
                                            repo);
        } else {
                r = push_one(s, reg, &ref, opts, ret_digest, ret_size, err);
        }
out:
        if (r < 0)
                berth_error_prefix(err, "push `%s`", ref_str);
        berth_reference_release(&ref);
        return r;
}
