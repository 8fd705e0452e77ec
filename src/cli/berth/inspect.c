/* SPDX-License-Identifier: GPL-2.0-or-later */
/* berth image inspect (docker's ImageInspect shape) and berth history. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "basic/cleanup.h"
#include "basic/json.h"
#include "cli/berth/cli.h"
#include "cli/berth/format.h"
#include "image/image.h"
#include "image/reference.h"

static json_object *strv_json(char *const *v, bool familiar)
{
        json_object *a = json_object_new_array();
        for (char *const *p = v; p && *p; p++) {
                berth_reference ref = { 0 };
                berth_error e = BERTH_ERROR_INIT;
                _cleanup_free_ char *f = NULL;
                if (familiar && berth_reference_parse(*p, 0, &ref, &e) == 0)
                        f = berth_reference_familiar(&ref);
                berth_reference_release(&ref);
                berth_error_release(&e);
                json_object_array_add(a, json_object_new_string(f ? f : *p));
        }
        return a;
}

static json_object *raw_get(json_object *o, const char *key)
{
        json_object *v = NULL;
        if (!o || !json_object_object_get_ex(o, key, &v))
                return NULL;
        return v;
}

static json_object *raw_string(json_object *o, const char *key)
{
        json_object *v = raw_get(o, key);
        return json_object_new_string(
                v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "");
}

/* docker's Config: every standard key present, then whatever else the image's config has. */
static json_object *inspect_config(json_object *cfg)
{
        static const char *const strings[] = { "Hostname", "Domainname", "User" };
        static const char *const bools[] = { "AttachStdin", "AttachStdout", "AttachStderr",
                                             "Tty",         "OpenStdin",    "StdinOnce" };
        static const char *const tail[] = { "Env",        "Cmd",        "Image",   "Volumes",
                                            "WorkingDir", "Entrypoint", "OnBuild", "Labels" };
        json_object *out = json_object_new_object(), *v;

        for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
                json_object_object_add(out, strings[i], raw_string(cfg, strings[i]));
        for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
                v = raw_get(cfg, bools[i]);
                json_object_object_add(out, bools[i],
                                       json_object_new_boolean(v && json_object_get_boolean(v)));
        }
        if ((v = raw_get(cfg, "ExposedPorts")))
                json_object_object_add(out, "ExposedPorts", json_object_get(v));
        for (size_t i = 0; i < sizeof(tail) / sizeof(tail[0]); i++) {
                v = raw_get(cfg, tail[i]);
                if (strcmp(tail[i], "Image") == 0 || strcmp(tail[i], "WorkingDir") == 0)
                        json_object_object_add(out, tail[i], raw_string(cfg, tail[i]));
                else
                        json_object_object_add(out, tail[i], v ? json_object_get(v) : NULL);
        }
        json_object_object_foreach (cfg, key, val) {
                if (!json_object_object_get_ex(out, key, NULL))
                        json_object_object_add(out, key, val ? json_object_get(val) : NULL);
        }
        return out;
}

static json_object *inspect_image(berth_store *s, const berth_image *img,
                                  const berth_image_config *cfg)
{
        json_object *o = json_object_new_object(), *rootfs, *layers, *gd, *data;
        json_object *raw = cfg->raw;
        _cleanup_free_ char *lower = NULL, *upper = NULL;

        json_object_object_add(o, "Id", json_object_new_string(img->id));
        json_object_object_add(o, "RepoTags", strv_json(img->names, true));
        json_object_object_add(o, "RepoDigests", strv_json(img->repo_digests, true));
        json_object_object_add(o, "Parent", json_object_new_string(""));
        json_object_object_add(o, "Comment", raw_string(raw, "comment"));
        json_object_object_add(o, "Created", raw_string(raw, "created"));
        json_object_object_add(o, "DockerVersion", raw_string(raw, "docker_version"));
        json_object_object_add(o, "Author", raw_string(raw, "author"));
        json_object_object_add(o, "Config", inspect_config(raw_get(raw, "config")));
        json_object_object_add(o, "Architecture", raw_string(raw, "architecture"));
        if (cfg->variant)
                json_object_object_add(o, "Variant", json_object_new_string(cfg->variant));
        json_object_object_add(o, "Os", raw_string(raw, "os"));
        if (cfg->os_version)
                json_object_object_add(o, "OsVersion", json_object_new_string(cfg->os_version));
        json_object_object_add(o, "Size", json_object_new_int64((int64_t)img->size));
        json_object_object_add(o, "VirtualSize", json_object_new_int64((int64_t)img->size));

        /* Where the layers are, in overlay's terms: the top one "upper", the rest "lower". */
        for (size_t i = img->n_layers; i-- > 0;) {
                _cleanup_free_ char *p = berth_store_layer_path(s, img->layers[i].chain_id);
                if (!p)
                        continue;
                if (!upper) {
                        upper = TAKE_PTR(p);
                        continue;
                }
                char *n = NULL;
                if (asprintf(&n, "%s%s%s", lower ? lower : "", lower ? ":" : "", p) < 0)
                        break;
                free(lower);
                lower = n;
        }
        gd = json_object_new_object();
        data = json_object_new_object();
        if (lower)
                json_object_object_add(data, "LowerDir", json_object_new_string(lower));
        if (upper)
                json_object_object_add(data, "UpperDir", json_object_new_string(upper));
        json_object_object_add(gd, "Data", data);
        json_object_object_add(gd, "Name", json_object_new_string("overlay2"));
        json_object_object_add(o, "GraphDriver", gd);

        rootfs = json_object_new_object();
        layers = json_object_new_array();
        for (size_t i = 0; i < cfg->n_diff_ids; i++)
                json_object_array_add(layers, json_object_new_string(cfg->diff_ids[i]));
        json_object_object_add(rootfs, "Type", json_object_new_string("layers"));
        json_object_object_add(rootfs, "Layers", layers);
        json_object_object_add(o, "RootFS", rootfs);
        json_object *meta = json_object_new_object();
        json_object_object_add(meta, "LastTagTime", json_object_new_string("0001-01-01T00:00:00Z"));
        json_object_object_add(o, "Metadata", meta);
        return o;
}

int cmd_image_inspect(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "format", required_argument, NULL, 'f' },
                { "type", required_argument, NULL, 't' },
                { "size", no_argument, NULL, 's' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_json_ json_object *out = json_object_new_array();
        berth_error err = BERTH_ERROR_INIT;
        const char *format = NULL;
        berth_store *s;
        int o, rc = 0, r;

        optind = 1;
        while ((o = getopt_long(argc, argv, "f:sh", opts, NULL)) != -1) {
                switch (o) {
                case 'f':
                        format = optarg;
                        break;
                case 't':
                        if (strcmp(optarg, "image") != 0)
                                return cli_usage("inspect", "only --type image is supported yet");
                        break;
                case 's':
                        break;
                case 'h':
                        printf("Usage:  berth image inspect [OPTIONS] IMAGE [IMAGE...]\n\n"
                               "Display detailed information on one or more images\n\n"
                               "Options:\n"
                               "  -f, --format string   Format output using a custom template\n");
                        return 0;
                default:
                        return cli_usage("inspect", "invalid option");
                }
        }
        if (optind >= argc)
                return cli_usage("inspect", "\"berth inspect\" requires at least 1 argument.");
        if (cli_store(c, &s, &err) < 0)
                return cli_fail(&err);
        for (int i = optind; i < argc; i++) {
                _cleanup_(berth_image_config_freep) berth_image_config *cfg = NULL;
                berth_image img = { 0 };

                if (berth_store_image_find(s, argv[i], &img, &err) < 0 ||
                    berth_image_config_load(s, &img, &cfg, &err) < 0) {
                        fprintf(stderr, "Error: %s\n", berth_error_msg(&err));
                        berth_error_release(&err);
                        berth_image_release(&img);
                        rc = 1;
                        continue;
                }
                json_object_array_add(out, inspect_image(s, &img, cfg));
                berth_image_release(&img);
        }
        r = format ? cli_print_template_each(format, out, &err) : cli_print_json_array(out, &err);
        if (r < 0)
                return cli_fail(&err);
        return rc;
}

/* ---- history ---- */

/* docker's Ellipsis: at most max characters (UTF-8 aware), the last one "…" when cut. */
static void ellipsis(const char *s, size_t max, char *buf, size_t len)
{
        size_t chars = 0, i = 0, cut = 0;

        for (i = 0; s[i]; i++)
                if (((unsigned char)s[i] & 0xc0) != 0x80) {
                        if (chars == max - 1)
                                cut = i;
                        chars++;
                }
        if (chars <= max) {
                snprintf(buf, len, "%s", s);
                return;
        }
        snprintf(buf, len, "%.*s…", (int)cut, s);
}

static json_object *history_headers(void)
{
        json_object *h = json_object_new_object();
        json_object_object_add(h, "ID", json_object_new_string("IMAGE"));
        json_object_object_add(h, "CreatedSince", json_object_new_string("CREATED"));
        json_object_object_add(h, "CreatedAt", json_object_new_string("CREATED AT"));
        json_object_object_add(h, "CreatedBy", json_object_new_string("CREATED BY"));
        json_object_object_add(h, "Size", json_object_new_string("SIZE"));
        json_object_object_add(h, "Comment", json_object_new_string("COMMENT"));
        return h;
}

static json_object *history_row(const char *id, const char *created, const char *created_by,
                                uint64_t size, const char *comment, bool human, bool no_trunc)
{
        json_object *row = json_object_new_object();
        char since[64] = "N/A", at[64] = "N/A", sz[32], by[256];
        int64_t t;

        if (created && berth_parse_rfc3339(created, &t) == 0 && t > 0) {
                if (human) {
                        cli_human_duration(time(NULL) - t, since, sizeof(since));
                        strncat(since, " ago", sizeof(since) - strlen(since) - 1);
                        cli_time_string(t, at, sizeof(at));
                } else {
                        snprintf(since, sizeof(since), "%s", created);
                        snprintf(at, sizeof(at), "%s", created);
                }
        }
        if (human)
                cli_human_size(size, sz, sizeof(sz));
        else
                snprintf(sz, sizeof(sz), "%llu", (unsigned long long)size);
        _cleanup_free_ char *flat = strdup(created_by ? created_by : "");
        for (char *p = flat; p && *p; p++)
                if (*p == '\t' || *p == '\n')
                        *p = ' ';
        if (no_trunc)
                json_object_object_add(row, "CreatedBy", json_object_new_string(flat ? flat : ""));
        else {
                ellipsis(flat ? flat : "", 45, by, sizeof(by));
                json_object_object_add(row, "CreatedBy", json_object_new_string(by));
        }
        json_object_object_add(row, "ID", json_object_new_string(id));
        json_object_object_add(row, "CreatedSince", json_object_new_string(since));
        json_object_object_add(row, "CreatedAt", json_object_new_string(at));
        json_object_object_add(row, "Size", json_object_new_string(sz));
        json_object_object_add(row, "Comment", json_object_new_string(comment ? comment : ""));
        return row;
}

int cmd_history(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "human", required_argument, NULL, 'H' },
                { "no-trunc", no_argument, NULL, 'n' },
                { "quiet", no_argument, NULL, 'q' },
                { "format", required_argument, NULL, 'F' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_(berth_image_config_freep) berth_image_config *cfg = NULL;
        _cleanup_(cli_format_freep) struct cli_format *fmt = NULL;
        _cleanup_json_ json_object *headers = history_headers();
        berth_error err = BERTH_ERROR_INIT;
        berth_image img = { 0 };
        bool human = true, no_trunc = false, quiet = false;
        const char *format = NULL;
        char id[80];
        berth_store *s;
        size_t layer;
        int o, r = 0;

        optind = 1;
        while ((o = getopt_long(argc, argv, "H:qh", opts, NULL)) != -1) {
                switch (o) {
                case 'H':
                        /* pflag's short form "-H=false" reaches getopt as "=false". */
                        human = strcmp(optarg[0] == '=' ? optarg + 1 : optarg, "false") != 0;
                        break;
                case 'n':
                        no_trunc = true;
                        break;
                case 'q':
                        quiet = true;
                        break;
                case 'F':
                        format = optarg;
                        break;
                case 'h':
                        printf("Usage:  berth history [OPTIONS] IMAGE\n\n"
                               "Show the history of an image\n\nOptions:\n"
                               "      --format string   Format output using a custom template\n"
                               "  -H, --human           Print sizes and dates in human readable "
                               "format (default true)\n"
                               "      --no-trunc        Don't truncate output\n"
                               "  -q, --quiet           Only show image IDs\n");
                        return 0;
                default:
                        return cli_usage("history", "invalid option");
                }
        }
        if (argc - optind != 1)
                return cli_usage("history", "\"berth history\" requires exactly 1 argument.");
        if (cli_store(c, &s, &err) < 0 || berth_store_image_find(s, argv[optind], &img, &err) < 0 ||
            berth_image_config_load(s, &img, &cfg, &err) < 0) {
                berth_image_release(&img);
                return cli_fail(&err);
        }
        if (no_trunc)
                snprintf(id, sizeof(id), "%s", img.id);
        else
                snprintf(id, sizeof(id), "%.12s", berth_digest_hex(img.id));
        r = cli_format_new(quiet ? "{{.ID}}" : format,
                           "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{."
                           "Comment}}",
                           headers, &fmt, &err);
        /* Entries that made a layer take the layers' sizes in order; newest printed first. */
        layer = img.n_layers;
        if (cfg->n_history == 0)
                for (size_t i = img.n_layers; r >= 0 && i-- > 0;) {
                        _cleanup_json_ json_object *row =
                                history_row(i + 1 == img.n_layers ? id : "<missing>", cfg->created,
                                            "", img.layers[i].size, "", human, no_trunc);
                        r = cli_format_row(fmt, row, &err);
                }
        for (size_t i = cfg->n_history; r >= 0 && i-- > 0;) {
                const berth_history *h = &cfg->history[i];
                uint64_t size = 0;
                if (!h->empty_layer && layer > 0)
                        size = img.layers[--layer].size;
                _cleanup_json_ json_object *row =
                        history_row(i + 1 == cfg->n_history ? id : "<missing>", h->created,
                                    h->created_by, size, h->comment, human, no_trunc);
                r = cli_format_row(fmt, row, &err);
        }
        if (r >= 0)
                r = cli_format_end(fmt, &err);
        berth_image_release(&img);
        return r < 0 ? cli_fail(&err) : 0;
}
