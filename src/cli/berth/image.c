/* SPDX-License-Identifier: GPL-2.0-or-later */
/* berth pull, images, rmi, tag, image inspect, history, image prune. */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/json.h"
#include "basic/strv.h"
#include "cli/berth/cli.h"
#include "cli/berth/format.h"
#include "cli/berth/progress.h"
#include "image/image.h"
#include "image/reference.h"

/* "sha256:abc..." -> "abc..." truncated to 12 unless no_trunc (then kept whole). */
static void short_image_id(const char *id, bool no_trunc, char *buf, size_t len)
{
        if (no_trunc)
                snprintf(buf, len, "%s", id);
        else
                snprintf(buf, len, "%.12s", berth_digest_hex(id));
}

/* Splits "docker.io/library/busybox:latest" into its familiar repository and tag. */
static int split_name(const char *name, char **ret_repo, char **ret_tag)
{
        berth_reference ref = { 0 };
        berth_error e = BERTH_ERROR_INIT;

        if (berth_reference_parse(name, 0, &ref, &e) < 0) {
                berth_error_release(&e);
                return -EINVAL;
        }
        *ret_repo = berth_reference_familiar_repository(&ref);
        *ret_tag = ref.tag ? strdup(ref.tag) : strdup("<none>");
        berth_reference_release(&ref);
        return *ret_repo && *ret_tag ? 0 : -ENOMEM;
}

static const char *opt_platform_env(void)
{
        const char *v = getenv("DOCKER_DEFAULT_PLATFORM");
        return v && *v ? v : NULL;
}

/* ---- pull ---- */

int cmd_pull(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "all-tags", no_argument, NULL, 'a' },
                { "quiet", no_argument, NULL, 'q' },
                { "platform", required_argument, NULL, 'p' },
                CLI_REGISTRY_OPTIONS,
                { "disable-content-trust", optional_argument, NULL, 'D' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        berth_pull_options po = { .platform = opt_platform_env() };
        berth_error err = BERTH_ERROR_INIT;
        struct cli_progress prog;
        char id[BERTH_DIGEST_STR_MAX];
        bool quiet = false, updated = false;
        berth_store *s;
        int o, r;

        optind = 1;
        while ((o = getopt_long(argc, argv, "aqh", opts, NULL)) != -1) {
                int f = cli_registry_flag("pull", o, optarg, &po.registry);
                if (f != 0) {
                        if (f > 1)
                                return f;
                        continue;
                }
                switch (o) {
                case 'a':
                        po.all_tags = true;
                        break;
                case 'q':
                        quiet = true;
                        break;
                case 'p':
                        po.platform = optarg;
                        break;
                case 'D':
                        break;
                case 'h':
                        printf("Usage:  berth pull [OPTIONS] NAME[:TAG|@DIGEST]\n\n"
                               "Download an image from a registry\n\n"
                               "Options:\n"
                               "  -a, --all-tags         Download all tagged images in the "
                               "repository\n"
                               "      --platform string  Set platform if server is "
                               "multi-platform capable\n"
                               "  -q, --quiet            Suppress verbose output\n");
                        return 0;
                default:
                        return cli_usage("pull", "invalid option");
                }
        }
        if (argc - optind != 1)
                return cli_usage("pull", "\"berth pull\" requires exactly 1 argument.");
        if (cli_store(c, &s, &err) < 0)
                return cli_fail(&err);
        cli_progress_init(&prog, stdout, quiet, false);
        po.progress = &prog.progress;
        r = berth_image_pull(s, argv[optind], &po, id, &updated, &err);
        cli_progress_release(&prog);
        if (r < 0)
                return cli_fail(&err);
        if (!po.all_tags) {
                berth_reference ref = { 0 };
                if (berth_reference_parse(argv[optind], BERTH_REFERENCE_DEFAULT_TAG_FLAG, &ref,
                                          &err) < 0)
                        return cli_fail(&err);
                _cleanup_free_ char *familiar = berth_reference_familiar(&ref);
                _cleanup_free_ char *full = berth_reference_string(&ref);
                berth_reference_release(&ref);
                if (!quiet)
                        printf("Status: %s for %s\n",
                               updated ? "Downloaded newer image" : "Image is up to date",
                               familiar ? familiar : argv[optind]);
                printf("%s\n", full ? full : argv[optind]);
        }
        return 0;
}

/* ---- images ---- */

struct image_filters {
        int dangling; /* -1 any, 0 only named, 1 only dangling */
        char **references;
        char **labels;
        int64_t before, since; /* added times; 0 unset */
        bool have_before, have_since;
};

static void image_filters_release(struct image_filters *f)
{
        strv_free(f->references);
        strv_free(f->labels);
}

static int parse_image_filter(struct cli *c, const char *arg, struct image_filters *f,
                              berth_error *err)
{
        const char *eq = strchr(arg, '=');
        _cleanup_free_ char *key = NULL;
        const char *val;

        if (!eq)
                return berth_error_set(err, EINVAL, "bad format of filter (expected name=value)");
        key = strndup(arg, eq - arg);
        val = eq + 1;
        if (!key)
                return berth_error_set(err, ENOMEM, "out of memory");
        if (strcmp(key, "dangling") == 0) {
                if (strcmp(val, "true") == 0 || strcmp(val, "1") == 0)
                        f->dangling = 1;
                else if (strcmp(val, "false") == 0 || strcmp(val, "0") == 0)
                        f->dangling = 0;
                else
                        return berth_error_set(err, EINVAL,
                                               "invalid filter 'dangling=%s': use true or false",
                                               val);
                return 0;
        }
        if (strcmp(key, "reference") == 0)
                return berth_strv_push(&f->references, val) < 0
                               ? berth_error_set(err, ENOMEM, "out of memory")
                               : 0;
        if (strcmp(key, "label") == 0)
                return berth_strv_push(&f->labels, val) < 0
                               ? berth_error_set(err, ENOMEM, "out of memory")
                               : 0;
        if (strcmp(key, "before") == 0 || strcmp(key, "since") == 0) {
                berth_image img = { 0 };
                berth_store *s;
                int r = cli_store(c, &s, err);
                if (r < 0)
                        return r;
                r = berth_store_image_find(s, val, &img, err);
                if (r < 0)
                        return berth_error_prefix(err, "invalid filter '%s'", arg);
                if (key[0] == 'b') {
                        f->before = img.created;
                        f->have_before = true;
                } else {
                        f->since = img.created;
                        f->have_since = true;
                }
                berth_image_release(&img);
                return 0;
        }
        return berth_error_set(err, EINVAL, "invalid filter '%s'", key);
}

/* docker's reference filter: a glob on the familiar "repo" and "repo:tag" forms. */
static bool reference_matches(char *const *patterns, const char *repo, const char *tag)
{
        if (!patterns)
                return true;
        for (char *const *p = patterns; *p; p++) {
                _cleanup_free_ char *full = NULL;
                if (fnmatch(*p, repo, FNM_PATHNAME) == 0)
                        return true;
                if (asprintf(&full, "%s:%s", repo, tag) >= 0 &&
                    fnmatch(*p, full, FNM_PATHNAME) == 0)
                        return true;
        }
        return false;
}

static bool labels_match(char *const *wanted, json_object *labels)
{
        for (char *const *w = wanted; w && *w; w++) {
                const char *eq = strchr(*w, '=');
                _cleanup_free_ char *key = eq ? strndup(*w, eq - *w) : strdup(*w);
                json_object *v;

                if (!key || !labels || !json_object_object_get_ex(labels, key, &v))
                        return false;
                if (eq && strcmp(json_object_get_string(v), eq + 1) != 0)
                        return false;
        }
        return true;
}

struct images_opts {
        bool all, quiet, digests, no_trunc;
        const char *format;
        struct image_filters filters;
};

static json_object *image_row(const berth_image *img, const char *repo, const char *tag,
                              const char *digest, const struct images_opts *o)
{
        json_object *row = json_object_new_object();
        char id[80], size[32], since[64], at[64];
        int64_t now = time(NULL);

        short_image_id(img->id, o->no_trunc, id, sizeof(id));
        cli_human_size(img->size, size, sizeof(size));
        if (img->created > 0) {
                cli_human_duration(now - img->created, since, sizeof(since));
                strncat(since, " ago", sizeof(since) - strlen(since) - 1);
                cli_time_string(img->created, at, sizeof(at));
        } else {
                snprintf(since, sizeof(since), "N/A");
                snprintf(at, sizeof(at), "N/A");
        }
        json_object_object_add(row, "ID", json_object_new_string(id));
        json_object_object_add(row, "Repository", json_object_new_string(repo));
        json_object_object_add(row, "Tag", json_object_new_string(tag));
        json_object_object_add(row, "Digest", json_object_new_string(digest));
        json_object_object_add(row, "CreatedSince", json_object_new_string(since));
        json_object_object_add(row, "CreatedAt", json_object_new_string(at));
        json_object_object_add(row, "Size", json_object_new_string(size));
        json_object_object_add(row, "VirtualSize", json_object_new_string(size));
        json_object_object_add(row, "SharedSize", json_object_new_string("N/A"));
        json_object_object_add(row, "UniqueSize", json_object_new_string("N/A"));
        json_object_object_add(row, "Containers", json_object_new_string("N/A"));
        return row;
}

/* The digest of a "repo@digest" entry in img whose familiar repo is repo, or "<none>". */
static const char *digest_for_repo(const berth_image *img, const char *repo)
{
        for (char **d = img->repo_digests; d && *d; d++) {
                const char *at = strrchr(*d, '@');
                _cleanup_free_ char *r = NULL, *t = NULL;
                if (!at || split_name(*d, &r, &t) < 0)
                        continue;
                if (strcmp(r, repo) == 0)
                        return at + 1;
        }
        return "<none>";
}

static int emit_image_rows(struct cli *c, const berth_image *img, const struct images_opts *o,
                           const char *repo_arg, struct cli_format *fmt, json_object *labels,
                           berth_error *err)
{
        bool dangling = !img->names[0] && !img->repo_digests[0];
        const struct image_filters *f = &o->filters;
        int r;

        if (f->dangling == 1 && img->names[0])
                return 0;
        if (f->dangling == 0 && !img->names[0])
                return 0;
        if (f->have_before && img->created >= f->before)
                return 0;
        if (f->have_since && img->created <= f->since)
                return 0;
        if (f->labels && !labels_match(f->labels, labels))
                return 0;
        if (dangling) {
                if (f->references || repo_arg)
                        return 0;
                _cleanup_json_ json_object *row = image_row(img, "<none>", "<none>", "<none>", o);
                return cli_format_row(fmt, row, err);
        }
        for (char **n = img->names; *n; n++) {
                _cleanup_free_ char *repo = NULL, *tag = NULL;
                if (split_name(*n, &repo, &tag) < 0)
                        continue;
                if (!reference_matches(f->references, repo, tag))
                        continue;
                if (repo_arg && !reference_matches((char *[]){ (char *)repo_arg, NULL }, repo, tag))
                        continue;
                _cleanup_json_ json_object *row =
                        image_row(img, repo, tag, digest_for_repo(img, repo), o);
                r = cli_format_row(fmt, row, err);
                if (r < 0)
                        return r;
        }
        /* Repositories the image has a digest in but no tag: "busybox <none>". */
        for (char **d = img->repo_digests; *d; d++) {
                _cleanup_free_ char *repo = NULL, *tag = NULL;
                bool tagged = false;
                if (split_name(*d, &repo, &tag) < 0)
                        continue;
                for (char **n = img->names; *n; n++) {
                        _cleanup_free_ char *r2 = NULL, *t2 = NULL;
                        if (split_name(*n, &r2, &t2) == 0 && strcmp(r2, repo) == 0)
                                tagged = true;
                }
                if (tagged || !reference_matches(f->references, repo, "<none>") ||
                    (repo_arg &&
                     !reference_matches((char *[]){ (char *)repo_arg, NULL }, repo, "")))
                        continue;
                _cleanup_json_ json_object *row =
                        image_row(img, repo, "<none>", strrchr(*d, '@') + 1, o);
                r = cli_format_row(fmt, row, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static json_object *images_headers(void)
{
        json_object *h = json_object_new_object();
        static const char *const kv[][2] = {
                { "ID", "IMAGE ID" },
                { "Repository", "REPOSITORY" },
                { "Tag", "TAG" },
                { "Digest", "DIGEST" },
                { "CreatedSince", "CREATED" },
                { "CreatedAt", "CREATED AT" },
                { "Size", "SIZE" },
                { "VirtualSize", "VIRTUAL SIZE" },
                { "SharedSize", "SHARED SIZE" },
                { "UniqueSize", "UNIQUE SIZE" },
                { "Containers", "CONTAINERS" },
        };
        for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
                json_object_object_add(h, kv[i][0], json_object_new_string(kv[i][1]));
        return h;
}

int cmd_images(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "all", no_argument, NULL, 'a' },
                { "quiet", no_argument, NULL, 'q' },
                { "digests", no_argument, NULL, 'd' },
                { "no-trunc", no_argument, NULL, 'n' },
                { "filter", required_argument, NULL, 'f' },
                { "format", required_argument, NULL, 'F' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct images_opts o = { .filters.dangling = -1 };
        _cleanup_(cli_format_freep) struct cli_format *fmt = NULL;
        _cleanup_json_ json_object *headers = images_headers();
        berth_error err = BERTH_ERROR_INIT;
        berth_image *imgs = NULL;
        size_t n = 0;
        const char *repo_arg = NULL;
        berth_store *s;
        int opt, r = 0;

        optind = 1;
        while ((opt = getopt_long(argc, argv, "aqf:h", opts, NULL)) != -1) {
                switch (opt) {
                case 'a':
                        o.all = true;
                        break;
                case 'q':
                        o.quiet = true;
                        break;
                case 'd':
                        o.digests = true;
                        break;
                case 'n':
                        o.no_trunc = true;
                        break;
                case 'f':
                        if (parse_image_filter(c, optarg, &o.filters, &err) < 0) {
                                image_filters_release(&o.filters);
                                return cli_fail(&err);
                        }
                        break;
                case 'F':
                        o.format = optarg;
                        break;
                case 'h':
                        printf("Usage:  berth images [OPTIONS] [REPOSITORY[:TAG]]\n\n"
                               "List images\n\nOptions:\n"
                               "  -a, --all             Show all images\n"
                               "      --digests         Show digests\n"
                               "  -f, --filter filter   Filter output based on conditions "
                               "provided\n"
                               "      --format string   Format output using a custom template\n"
                               "      --no-trunc        Don't truncate output\n"
                               "  -q, --quiet           Only show image IDs\n");
                        image_filters_release(&o.filters);
                        return 0;
                default:
                        image_filters_release(&o.filters);
                        return cli_usage("images", "invalid option");
                }
        }
        if (argc - optind > 1) {
                image_filters_release(&o.filters);
                return cli_usage("images", "\"berth images\" requires at most 1 argument.");
        }
        if (optind < argc)
                repo_arg = argv[optind];
        if (cli_store(c, &s, &err) < 0 || berth_store_image_list(s, &imgs, &n, &err) < 0) {
                image_filters_release(&o.filters);
                return cli_fail(&err);
        }
        /* Newest first by creation time, as docker sorts. */
        for (size_t i = 1; i < n; i++)
                for (size_t j = i; j > 0 && imgs[j].created > imgs[j - 1].created; j--) {
                        berth_image t = imgs[j];
                        imgs[j] = imgs[j - 1];
                        imgs[j - 1] = t;
                }
        r = cli_format_new(o.quiet ? "{{.ID}}" : o.format,
                           o.digests ? "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{."
                                       "CreatedSince}}\t{{.Size}}"
                                     : "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}"
                                       "\t{{.Size}}",
                           headers, &fmt, &err);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_(berth_image_config_freep) berth_image_config *cfg = NULL;
                if (o.filters.labels && berth_image_config_load(s, &imgs[i], &cfg, &err) < 0) {
                        r = -1;
                        break;
                }
                if (o.quiet) {
                        /* One ID per image, whatever its names. */
                        struct images_opts q = o;
                        bool seen = false;
                        for (size_t k = 0; k < i; k++)
                                seen = seen || strcmp(imgs[k].id, imgs[i].id) == 0;
                        if (seen)
                                continue;
                        if ((q.filters.dangling == 1 && imgs[i].names[0]) ||
                            (q.filters.dangling == 0 && !imgs[i].names[0]))
                                continue;
                        if (repo_arg || q.filters.references) {
                                /* Only when one of its names matches. */
                                bool any = false;
                                for (char **nm = imgs[i].names; *nm && !any; nm++) {
                                        _cleanup_free_ char *rp = NULL, *tg = NULL;
                                        if (split_name(*nm, &rp, &tg) < 0)
                                                continue;
                                        any = reference_matches(q.filters.references, rp, tg) &&
                                              (!repo_arg ||
                                               reference_matches(
                                                       (char *[]){ (char *)repo_arg, NULL }, rp,
                                                       tg));
                                }
                                if (!any)
                                        continue;
                        }
                        if (q.filters.labels &&
                            !labels_match(q.filters.labels, cfg ? cfg->config.labels : NULL))
                                continue;
                        if ((q.filters.have_before && imgs[i].created >= q.filters.before) ||
                            (q.filters.have_since && imgs[i].created <= q.filters.since))
                                continue;
                        _cleanup_json_ json_object *row = image_row(&imgs[i], "", "", "", &o);
                        r = cli_format_row(fmt, row, &err);
                        continue;
                }
                r = emit_image_rows(c, &imgs[i], &o, repo_arg, fmt, cfg ? cfg->config.labels : NULL,
                                    &err);
        }
        if (r >= 0)
                r = cli_format_end(fmt, &err);
        berth_images_free(imgs, n);
        image_filters_release(&o.filters);
        return r < 0 ? cli_fail(&err) : 0;
}

/* ---- tag ---- */

int cmd_tag(struct cli *c, int argc, char **argv)
{
        berth_error err = BERTH_ERROR_INIT;
        berth_reference ref = { 0 };
        berth_image img = { 0 };
        _cleanup_free_ char *name = NULL;
        berth_store *s;
        int r;

        if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                printf("Usage:  berth tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]\n\n"
                       "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE\n");
                return 0;
        }
        if (argc != 3)
                return cli_usage("tag", "\"berth tag\" requires exactly 2 arguments.");
        if (berth_reference_parse(argv[2],
                                  BERTH_REFERENCE_DEFAULT_TAG_FLAG | BERTH_REFERENCE_NO_DIGEST,
                                  &ref, &err) < 0)
                return cli_fail(&err);
        r = asprintf(&name, "%s/%s:%s", ref.domain, ref.path, ref.tag);
        berth_reference_release(&ref);
        if (r < 0)
                return 1;
        if (cli_store(c, &s, &err) < 0 || berth_store_image_find(s, argv[1], &img, &err) < 0)
                return cli_fail(&err);
        r = berth_store_image_tag(s, img.id, name, &err);
        berth_image_release(&img);
        return r < 0 ? cli_fail(&err) : 0;
}

/* ---- rmi ---- */

struct deleted {
        FILE *out;
};

static void print_deleted(void *userdata, const char *kind, const char *digest)
{
        struct deleted *d = userdata;
        if (strcmp(kind, "layer") == 0)
                fprintf(d->out, "Deleted: %s\n", digest);
}

static void print_untagged(const char *name)
{
        berth_reference ref = { 0 };
        berth_error e = BERTH_ERROR_INIT;
        if (berth_reference_parse(name, 0, &ref, &e) == 0) {
                _cleanup_free_ char *f = berth_reference_familiar(&ref);
                printf("Untagged: %s\n", f ? f : name);
                berth_reference_release(&ref);
        } else {
                berth_error_release(&e);
                printf("Untagged: %s\n", name);
        }
}

/* Whether the image's names span more than one repository. */
static bool several_repos(const berth_image *img)
{
        _cleanup_free_ char *first = NULL;
        for (char **n = img->names; *n; n++) {
                _cleanup_free_ char *repo = NULL, *tag = NULL;
                if (split_name(*n, &repo, &tag) < 0)
                        continue;
                if (!first)
                        first = TAKE_PTR(repo);
                else if (strcmp(first, repo) != 0)
                        return true;
        }
        return false;
}

static int remove_image(berth_store *s, const char *arg, bool force, berth_error *err)
{
        berth_image img = { 0 };
        berth_reference ref = { 0 };
        berth_error perr = BERTH_ERROR_INIT;
        _cleanup_free_ char *name = NULL;
        bool by_name = false;
        char sid[16];
        int r;

        r = berth_store_image_find(s, arg, &img, err);
        if (r < 0)
                return r;
        /* Named by a tag (not by ID or digest): untag that name first. */
        if (berth_reference_parse(arg, BERTH_REFERENCE_DEFAULT_TAG_FLAG, &ref, &perr) == 0 &&
            !ref.digest && !(berth_reference_looks_like_id(arg) && !strchr(arg, ':'))) {
                if (asprintf(&name, "%s/%s:%s", ref.domain, ref.path, ref.tag) >= 0)
                        for (char **n = img.names; *n; n++)
                                by_name = by_name || strcmp(*n, name) == 0;
        }
        berth_reference_release(&ref);
        berth_error_release(&perr);
        short_image_id(img.id, false, sid, sizeof(sid));
        if (by_name && img.names[1]) {
                r = berth_store_image_untag(s, name, err);
                if (r >= 0)
                        print_untagged(name);
                berth_image_release(&img);
                return r;
        }
        if (!by_name && several_repos(&img) && !force) {
                berth_image_release(&img);
                return berth_error_set(err, EBUSY,
                                       "conflict: unable to delete %s (must be forced) - image is "
                                       "referenced in multiple repositories",
                                       sid);
        }
        /* Deleted first: the store refuses an image in use (mounted), which untags nothing. */
        r = berth_store_image_delete(s, img.id, err);
        if (r >= 0) {
                for (char **n = img.names; *n; n++)
                        print_untagged(*n);
                for (char **d = img.repo_digests; *d; d++)
                        print_untagged(*d);
                printf("Deleted: %s\n", img.id);
        }
        berth_image_release(&img);
        return r;
}

int cmd_rmi(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "force", no_argument, NULL, 'f' },
                { "no-prune", no_argument, NULL, 'n' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        berth_error err = BERTH_ERROR_INIT;
        struct deleted d = { .out = stdout };
        bool force = false, prune = true;
        int o, rc = 0;
        berth_store *s;

        optind = 1;
        while ((o = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
                switch (o) {
                case 'f':
                        force = true;
                        break;
                case 'n':
                        prune = false;
                        break;
                case 'h':
                        printf("Usage:  berth rmi [OPTIONS] IMAGE [IMAGE...]\n\n"
                               "Remove one or more images\n\nOptions:\n"
                               "  -f, --force      Force removal of the image\n"
                               "      --no-prune   Do not delete untagged parents\n");
                        return 0;
                default:
                        return cli_usage("rmi", "invalid option");
                }
        }
        if (optind >= argc)
                return cli_usage("rmi", "\"berth rmi\" requires at least 1 argument.");
        if (cli_store(c, &s, &err) < 0)
                return cli_fail(&err);
        for (int i = optind; i < argc; i++) {
                if (remove_image(s, argv[i], force, &err) < 0) {
                        fprintf(stderr, "Error: %s\n", berth_error_msg(&err));
                        berth_error_release(&err);
                        rc = 1;
                }
        }
        (void)prune;
        if (berth_store_gc(s, print_deleted, &d, NULL, &err) < 0)
                return cli_fail(&err);
        return rc;
}

/* ---- image prune ---- */

int cmd_image_prune(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "all", no_argument, NULL, 'a' },
                { "force", no_argument, NULL, 'f' },
                { "filter", required_argument, NULL, 'F' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct image_filters filters = { .dangling = -1 };
        berth_error err = BERTH_ERROR_INIT;
        bool all = false, force = false, any = false;
        berth_image *imgs = NULL;
        size_t n = 0;
        uint64_t freed = 0;
        char size[32];
        berth_store *s;
        int o, r = 0;

        optind = 1;
        while ((o = getopt_long(argc, argv, "afh", opts, NULL)) != -1) {
                switch (o) {
                case 'a':
                        all = true;
                        break;
                case 'f':
                        force = true;
                        break;
                case 'F':
                        if (parse_image_filter(c, optarg, &filters, &err) < 0)
                                return cli_fail(&err);
                        break;
                case 'h':
                        printf("Usage:  berth image prune [OPTIONS]\n\nRemove unused images\n\n"
                               "Options:\n"
                               "  -a, --all      Remove all unused images, not just dangling "
                               "ones\n"
                               "      --filter   Provide filter values (e.g. "
                               "\"label=<key>=<value>\")\n"
                               "  -f, --force    Do not prompt for confirmation\n");
                        image_filters_release(&filters);
                        return 0;
                default:
                        image_filters_release(&filters);
                        return cli_usage("image prune", "invalid option");
                }
        }
        if (!force) {
                char answer[16] = "";
                fprintf(stderr,
                        "WARNING! This will remove all %s.\nAre you sure you want to "
                        "continue? [y/N] ",
                        all ? "images without at least one container associated to them"
                            : "dangling images");
                if (!fgets(answer, sizeof(answer), stdin) ||
                    (answer[0] != 'y' && answer[0] != 'Y')) {
                        image_filters_release(&filters);
                        return 0;
                }
        }
        if (cli_store(c, &s, &err) < 0 || berth_store_image_list(s, &imgs, &n, &err) < 0) {
                image_filters_release(&filters);
                return cli_fail(&err);
        }
        for (size_t i = 0; r >= 0 && i < n; i++) {
                berth_image *img = &imgs[i];
                if (!all && img->names[0])
                        continue;
                if (filters.labels) {
                        _cleanup_(berth_image_config_freep) berth_image_config *cfg = NULL;
                        if (berth_image_config_load(s, img, &cfg, &err) < 0) {
                                r = -1;
                                break;
                        }
                        if (!labels_match(filters.labels, cfg->config.labels))
                                continue;
                }
                r = berth_store_image_delete(s, img->id, &err);
                if (r == -EBUSY) {
                        /* in use (mounted): not unused, so prune leaves it, as docker does */
                        berth_error_release(&err);
                        r = 0;
                        continue;
                }
                if (r < 0)
                        break;
                if (!any)
                        printf("Deleted Images:\n");
                any = true;
                for (char **nm = img->names; *nm; nm++)
                        printf("untagged: %s\n", *nm);
                for (char **d = img->repo_digests; *d; d++)
                        printf("untagged: %s\n", *d);
                printf("deleted: %s\n", img->id);
        }
        berth_images_free(imgs, n);
        image_filters_release(&filters);
        if (r < 0)
                return cli_fail(&err);
        if (berth_store_gc(s, NULL, NULL, &freed, &err) < 0)
                return cli_fail(&err);
        cli_human_size(freed, size, sizeof(size));
        printf("%sTotal reclaimed space: %s\n", any ? "\n" : "", size);
        return 0;
}
