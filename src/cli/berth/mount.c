/* SPDX-License-Identifier: GPL-2.0-or-later */
/* berth image mount, berth image unmount (podman's commands; see image/snapshot.h). */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/cleanup.h"
#include "cli/berth/cli.h"
#include "image/snapshot.h"

struct mounted {
        char id[BERTH_DIGEST_STR_MAX];
        char **names; /* the image's, maybe none */
        char *path;
};

static void mounted_release(struct mounted *v, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                strv_free(v[i].names);
                free(v[i].path);
        }
        free(v);
}

/* The first column, as podman prints it: the image's first name, else its ID. */
static const char *mounted_label(const struct mounted *m)
{
        return m->names && m->names[0] ? m->names[0] : berth_digest_hex(m->id);
}

static void print_table(const struct mounted *v, size_t n)
{
        int width = 12;

        for (size_t i = 0; i < n; i++) {
                int w = (int)strlen(mounted_label(&v[i])) + 2;
                width = w > width ? w : width;
        }
        for (size_t i = 0; i < n; i++)
                printf("%-*s%s\n", width, mounted_label(&v[i]), v[i].path);
}

static int print_json(const struct mounted *v, size_t n)
{
        json_object *a = json_object_new_array();

        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *o = json_object_new_object(), *names = json_object_new_array();
                for (char **p = v[i].names; p && *p; p++)
                        json_object_array_add(names, json_object_new_string(*p));
                json_object_object_add(o, "id", json_object_new_string(berth_digest_hex(v[i].id)));
                json_object_object_add(o, "Names", json_object_get(names));
                json_object_object_add(o, "Repositories", names);
                json_object_object_add(o, "mountpoint", json_object_new_string(v[i].path));
                json_object_array_add(a, o);
        }
        printf("%s\n", json_object_to_json_string_ext(a, JSON_C_TO_STRING_PRETTY |
                                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(a);
        return 0;
}

static int push_mounted(struct mounted **v, size_t *n, const berth_image *img, char *path)
{
        struct mounted *nv = realloc(*v, (*n + 1) * sizeof(**v));
        char **names = NULL;
        size_t k = 0;

        if (!nv)
                return -ENOMEM;
        *v = nv;
        while (img->names && img->names[k])
                k++;
        names = calloc(k + 1, sizeof(char *));
        for (size_t i = 0; names && i < k; i++)
                if (!(names[i] = strdup(img->names[i]))) {
                        strv_free(names);
                        names = NULL;
                }
        if (!names)
                return -ENOMEM;
        snprintf(nv[*n].id, sizeof(nv[*n].id), "%s", img->id);
        nv[*n].names = names;
        nv[*n].path = path;
        (*n)++;
        return 0;
}

/* What is mounted now, with the images' names. */
static int list_mounted(berth_store *s, struct mounted **ret, size_t *ret_n, berth_error *err)
{
        berth_image_mount_info *info = NULL;
        struct mounted *v = NULL;
        size_t n = 0, ni = 0;
        int r = berth_image_mount_list(s, &info, &ni, err);

        for (size_t i = 0; r >= 0 && i < ni; i++) {
                berth_image img = { 0 };
                if (berth_store_image_get(s, info[i].image_id, &img, err) < 0) {
                        r = -1;
                        break;
                }
                r = push_mounted(&v, &n, &img, info[i].path);
                berth_image_release(&img);
                if (r < 0)
                        r = berth_error_set(err, ENOMEM, "out of memory");
                else
                        info[i].path = NULL;
        }
        berth_image_mounts_free(info, ni);
        if (r < 0) {
                mounted_release(v, n);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

static int mount_one(struct cli *c, berth_store *s, const char *ref, struct mounted **v, size_t *n,
                     berth_error *err)
{
        berth_image img = { 0 };
        char *path = NULL;
        int r = berth_store_image_find(s, ref, &img, err);

        if (r < 0)
                return r;
        r = berth_image_mount(s, &img, c->storage_driver, &path, err);
        if (r >= 0 && push_mounted(v, n, &img, path) < 0) {
                free(path);
                r = berth_error_set(err, ENOMEM, "out of memory");
        }
        berth_image_release(&img);
        return r;
}

int cmd_image_mount(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "all", no_argument, NULL, 'a' },
                { "format", required_argument, NULL, 'F' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        berth_error err = BERTH_ERROR_INIT;
        struct mounted *v = NULL;
        const char *format = NULL;
        bool all = false;
        size_t n = 0;
        berth_store *s;
        int o, r = 0;

        optind = 1;
        while ((o = getopt_long(argc, argv, "ah", opts, NULL)) != -1) {
                switch (o) {
                case 'a':
                        all = true;
                        break;
                case 'F':
                        format = optarg;
                        break;
                case 'h':
                        printf("Usage:  berth image mount [OPTIONS] [IMAGE...]\n\n"
                               "Mount an image's root filesystem (read-only) and print where.\n"
                               "Without IMAGE, list the mounted images.\n\nOptions:\n"
                               "  -a, --all         Mount all images\n"
                               "      --format json Print the mounted images as JSON\n");
                        return 0;
                default:
                        return cli_usage("image mount", "invalid option");
                }
        }
        if (format && strcmp(format, "json") != 0)
                return cli_usage("image mount", "unknown --format argument: \"%s\"", format);
        if (all && optind < argc)
                return cli_usage("image mount", "when using the --all switch, you may not pass "
                                                "any image names or IDs");
        if (cli_store(c, &s, &err) < 0)
                return cli_fail(&err);
        if (all) {
                berth_image *imgs = NULL;
                size_t ni = 0;
                if (berth_store_image_list(s, &imgs, &ni, &err) < 0)
                        return cli_fail(&err);
                for (size_t i = 0; r >= 0 && i < ni; i++)
                        r = mount_one(c, s, imgs[i].id, &v, &n, &err);
                berth_images_free(imgs, ni);
        } else if (optind == argc) {
                r = list_mounted(s, &v, &n, &err);
        } else {
                for (int i = optind; r >= 0 && i < argc; i++)
                        r = mount_one(c, s, argv[i], &v, &n, &err);
        }
        /* podman stops at the first failure; what was mounted before it stays mounted */
        if (r < 0) {
                mounted_release(v, n);
                return cli_fail(&err);
        }
        if (format)
                r = print_json(v, n);
        else if (argc - optind == 1 && !all)
                printf("%s\n", v[0].path);
        else
                print_table(v, n);
        mounted_release(v, n);
        return r < 0 ? 1 : 0;
}

int cmd_image_unmount(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "all", no_argument, NULL, 'a' },
                { "force", no_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        berth_error err = BERTH_ERROR_INIT;
        bool all = false;
        berth_store *s;
        int o, rc = 0;

        optind = 1;
        while ((o = getopt_long(argc, argv, "afh", opts, NULL)) != -1) {
                switch (o) {
                case 'a':
                        all = true;
                        break;
                case 'f':
                        break; /* no mount counts to override: one unmount always unmounts */
                case 'h':
                        printf("Usage:  berth image unmount [OPTIONS] IMAGE [IMAGE...]\n\n"
                               "Unmount an image's root filesystem\n\nAliases:\n"
                               "  unmount, umount\n\nOptions:\n"
                               "  -a, --all     Unmount all of the currently mounted images\n"
                               "  -f, --force   Accepted for podman's sake; unmounting is always "
                               "complete\n");
                        return 0;
                default:
                        return cli_usage("image unmount", "invalid option");
                }
        }
        if (!all && optind >= argc)
                return cli_usage("image unmount", "image name or ID must be specified");
        if (all && optind < argc)
                return cli_usage("image unmount", "when using the --all switch, you may not "
                                                  "pass any image names or IDs");
        if (cli_store(c, &s, &err) < 0)
                return cli_fail(&err);
        if (all) {
                berth_image_mount_info *info = NULL;
                size_t n = 0;
                if (berth_image_mount_list(s, &info, &n, &err) < 0)
                        return cli_fail(&err);
                for (size_t i = 0; i < n; i++) {
                        if (berth_image_unmount(s, info[i].image_id, &err) < 0) {
                                fprintf(stderr, "Error: %s\n", berth_error_msg(&err));
                                berth_error_release(&err);
                                rc = 1;
                        } else {
                                printf("%s\n", berth_digest_hex(info[i].image_id));
                        }
                }
                berth_image_mounts_free(info, n);
                return rc;
        }
        for (int i = optind; i < argc; i++) {
                berth_image img = { 0 };
                if (berth_store_image_find(s, argv[i], &img, &err) < 0 ||
                    berth_image_unmount(s, img.id, &err) < 0) {
                        fprintf(stderr, "Error: %s\n", berth_error_msg(&err));
                        berth_error_release(&err);
                        rc = 1;
                } else {
                        printf("%s\n", berth_digest_hex(img.id));
                }
                berth_image_release(&img);
        }
        return rc;
}
