/* SPDX-License-Identifier: GPL-2.0-or-later */
/* berth save, load, import. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "cli/berth/cli.h"
#include "image/image-archive.h"
#include "image/reference.h"

/* ---- save ---- */

/*
 * Saves into a temporary file next to path and renames it into place only
 * once the archive is complete, as docker's CLI does: a failed save leaves
 * no partial archive under the name asked for.
 */
static int save_to_file(berth_store *s, char **refs, size_t n, berth_archive_format format,
                        const char *path, berth_error *err)
{
        _cleanup_free_ char *copy = strdup(path), *tmp = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        if (!copy || asprintf(&tmp, "%s/.berth-save-XXXXXX", dirname(copy)) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return berth_error_sys(err, errno, "failed to save image: create `%s`", tmp);
        r = berth_image_save(s, refs, n, format, fd, err);
        if (r >= 0 && fchmod(fd, 0644) < 0)
                r = berth_error_sys(err, errno, "chmod `%s`", tmp);
        if (r >= 0 && rename(tmp, path) < 0)
                r = berth_error_sys(err, errno, "failed to save image: rename to `%s`", path);
        if (r < 0)
                unlink(tmp);
        return r;
}

int cmd_save(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "output", required_argument, NULL, 'o' },
                { "format", required_argument, NULL, 'F' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        berth_archive_format format = BERTH_ARCHIVE_DOCKER;
        berth_error err = BERTH_ERROR_INIT;
        const char *output = NULL;
        berth_store *s;
        int o, r;

        optind = 1;
        while ((o = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
                switch (o) {
                case 'o':
                        output = optarg;
                        break;
                case 'F':
                        if (berth_archive_format_from_string(optarg, &format, &err) < 0)
                                return cli_fail(&err);
                        break;
                case 'h':
                        printf("Usage:  berth save [OPTIONS] IMAGE [IMAGE...]\n\n"
                               "Save one or more images to a tar archive (streamed to STDOUT by "
                               "default)\n\n"
                               "Options:\n"
                               "      --format string   docker-archive (default) or "
                               "oci-archive\n"
                               "  -o, --output string   Write to a file, instead of STDOUT\n");
                        return 0;
                default:
                        return cli_usage("save", "invalid option");
                }
        }
        if (optind >= argc)
                return cli_usage("save", "\"berth save\" requires at least 1 argument.");
        if (!output && isatty(STDOUT_FILENO)) {
                fprintf(stderr, "Error: cowardly refusing to save to a terminal. Use the -o flag "
                                "or redirect\n");
                return 1;
        }
        if (cli_store(c, &s, &err) < 0)
                return cli_fail(&err);
        if (output && strcmp(output, "-") != 0)
                r = save_to_file(s, argv + optind, (size_t)(argc - optind), format, output, &err);
        else
                r = berth_image_save(s, argv + optind, (size_t)(argc - optind), format,
                                     STDOUT_FILENO, &err);
        if (r < 0)
                return cli_fail(&err);
        return 0;
}

/* ---- load ---- */

int cmd_load(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "input", required_argument, NULL, 'i' },
                { "quiet", no_argument, NULL, 'q' },
                { "platform", required_argument, NULL, 'p' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        berth_load_options lo = { 0 };
        berth_load_result res = { 0 };
        berth_error err = BERTH_ERROR_INIT;
        const char *input = NULL;
        berth_store *s;
        struct stat st;
        int o, r;

        optind = 1;
        while ((o = getopt_long(argc, argv, "i:qh", opts, NULL)) != -1) {
                switch (o) {
                case 'i':
                        input = optarg;
                        break;
                case 'q':
                        /* There is no progress output to suppress; the result lines stay, as
                         * docker's. */
                        break;
                case 'p':
                        lo.platform = optarg;
                        break;
                case 'h':
                        printf("Usage:  berth load [OPTIONS]\n\n"
                               "Load an image from a tar archive or STDIN\n\n"
                               "Options:\n"
                               "  -i, --input string      Read from tar archive file (or an OCI "
                               "layout directory), instead of STDIN\n"
                               "      --platform string   Load only the given platform of a "
                               "multi-platform image\n"
                               "  -q, --quiet             Suppress the load output\n");
                        return 0;
                default:
                        return cli_usage("load", "invalid option");
                }
        }
        if (optind != argc)
                return cli_usage("load", "\"berth load\" accepts no arguments.");
        if (!input && isatty(STDIN_FILENO)) {
                fprintf(stderr, "Error: requested load from stdin, but stdin is empty\n");
                return 1;
        }
        if (cli_store(c, &s, &err) < 0)
                return cli_fail(&err);
        if (input && stat(input, &st) == 0 && S_ISDIR(st.st_mode)) {
                r = berth_image_load_dir(s, input, &lo, &res, &err);
        } else if (input) {
                _cleanup_close_ int fd = open(input, O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                        berth_error_sys(&err, errno, "open `%s`", input);
                        return cli_fail(&err);
                }
                r = berth_image_load(s, fd, &lo, &res, &err);
        } else {
                r = berth_image_load(s, STDIN_FILENO, &lo, &res, &err);
        }
        if (r < 0)
                return cli_fail(&err);
        for (size_t i = 0; i < res.n_images; i++) {
                if (!res.images[i].names[0]) {
                        printf("Loaded image ID: %s\n", res.images[i].id);
                        continue;
                }
                for (char **n = res.images[i].names; *n; n++) {
                        berth_reference ref = { 0 };
                        _cleanup_free_ char *familiar = NULL;
                        if (berth_reference_parse(*n, 0, &ref, &err) >= 0)
                                familiar = berth_reference_familiar(&ref);
                        berth_error_release(&err);
                        berth_reference_release(&ref);
                        printf("Loaded image: %s\n", familiar ? familiar : *n);
                }
        }
        berth_load_result_release(&res);
        return 0;
}

/* ---- import ---- */

static int strv_push(char ***v, size_t *n, const char *s)
{
        char **nv = realloc(*v, (*n + 2) * sizeof(char *));

        if (!nv)
                return -ENOMEM;
        *v = nv;
        nv[*n] = strdup(s);
        nv[*n + 1] = NULL;
        if (!nv[*n])
                return -ENOMEM;
        (*n)++;
        return 0;
}

/* SOURCE_DATE_EPOCH, the reproducible-builds convention, for the image's created time. */
static int source_date_epoch(berth_import_options *io, berth_error *err)
{
        const char *v = getenv("SOURCE_DATE_EPOCH");
        int64_t t;

        if (!v || !*v)
                return 0;
        if (berth_parse_i64(v, &t) < 0 || t < 0)
                return berth_error_set(err, EINVAL,
                                       "SOURCE_DATE_EPOCH=%s is not a number of "
                                       "seconds",
                                       v);
        io->have_created = true;
        io->created = t;
        return 0;
}

int cmd_import(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "change", required_argument, NULL, 'c' },
                { "message", required_argument, NULL, 'm' },
                { "platform", required_argument, NULL, 'p' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_strv_ char **changes = NULL;
        berth_import_options io = { 0 };
        berth_error err = BERTH_ERROR_INIT;
        _cleanup_close_ int fd = -1;
        char id[BERTH_DIGEST_STR_MAX];
        const char *source;
        size_t n_changes = 0;
        berth_store *s;
        int o;

        optind = 1;
        while ((o = getopt_long(argc, argv, "c:m:h", opts, NULL)) != -1) {
                switch (o) {
                case 'c':
                        if (strv_push(&changes, &n_changes, optarg) < 0) {
                                berth_error_set(&err, ENOMEM, "out of memory");
                                return cli_fail(&err);
                        }
                        break;
                case 'm':
                        io.message = optarg;
                        break;
                case 'p':
                        io.platform = optarg;
                        break;
                case 'h':
                        printf("Usage:  berth import [OPTIONS] file|- [REPOSITORY[:TAG]]\n\n"
                               "Import the contents from a tarball to create a filesystem "
                               "image\n\n"
                               "Options:\n"
                               "  -c, --change list         Apply Dockerfile instruction to the "
                               "created image\n"
                               "  -m, --message string      Set commit message for imported "
                               "image\n"
                               "      --platform string     Set platform if server is "
                               "multi-platform capable\n");
                        return 0;
                default:
                        return cli_usage("import", "invalid option");
                }
        }
        if (argc - optind < 1 || argc - optind > 2)
                return cli_usage("import", "\"berth import\" requires at least 1 and at most 2 "
                                           "arguments.");
        source = argv[optind];
        io.reference = argc - optind == 2 ? argv[optind + 1] : NULL;
        io.changes = changes;
        if (strstr(source, "://")) {
                berth_error_set(&err, ENOTSUP, "importing from a URL (%s) is not supported",
                                source);
                return cli_fail(&err);
        }
        if (source_date_epoch(&io, &err) < 0)
                return cli_fail(&err);
        if (strcmp(source, "-") == 0) {
                fd = dup(STDIN_FILENO);
        } else {
                fd = open(source, O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                        berth_error_sys(&err, errno, "open `%s`", source);
                        return cli_fail(&err);
                }
        }
        if (fd < 0) {
                berth_error_sys(&err, errno, "stdin");
                return cli_fail(&err);
        }
        if (cli_store(c, &s, &err) < 0 || berth_image_import(s, fd, &io, id, &err) < 0)
                return cli_fail(&err);
        printf("%s\n", id);
        return 0;
}
