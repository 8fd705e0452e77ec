/* SPDX-License-Identifier: GPL-2.0-or-later */
/* state, list, ps */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "cli/runtime/cli.h"

int cmd_state(struct cli *c, int argc, char **argv)
{
        _cleanup_(berth_state_freep) struct berth_state *s = NULL;
        _cleanup_free_ char *json = NULL;
        berth_error err = BERTH_ERROR_INIT;

        if (argc != 2 || argv[1][0] == '-') {
                if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                        printf("Usage: %s state <container-id>\n", BERTH_RUNTIME_NAME);
                        return 0;
                }
                return cli_usage("state", "expects exactly one container id");
        }
        if (berth_container_state(&c->rt, argv[1], &s, &err) < 0 ||
            berth_state_to_json(s, true, &json, &err) < 0)
                return cli_fail(&err);
        printf("%s\n", json);
        return 0;
}

/* The user name of `uid` from the host's /etc/passwd, or the number. */
static void owner_of(uid_t uid, char *buf, size_t size)
{
        _cleanup_free_ char *data = NULL;

        snprintf(buf, size, "#%u", (unsigned)uid);
        if (berth_read_file_at(AT_FDCWD, "/etc/passwd", 1 << 20, &data, NULL, NULL) < 0)
                return;
        for (char *line = data, *nl; line && *line; line = nl) {
                char *name = line, *f;
                uint32_t id;
                nl = strchr(line, '\n');
                if (nl)
                        *nl++ = '\0';
                f = strchr(line, ':');
                if (!f || !(f = strchr(f + 1, ':')))
                        continue;
                *strchr(line, ':') = '\0';
                f++;
                if (strchr(f, ':'))
                        *strchr(f, ':') = '\0';
                if (berth_parse_u32(f, &id) == 0 && id == uid) {
                        snprintf(buf, size, "%s", name);
                        return;
                }
        }
}

static void state_owner(const struct cli *c, const char *id, char *buf, size_t size)
{
        char path[4096];
        struct stat st;

        snprintf(path, sizeof(path), "%s/%s", berth_runtime_state_root(&c->rt), id);
        if (stat(path, &st) < 0) {
                snprintf(buf, size, "%s", "");
                return;
        }
        owner_of(st.st_uid, buf, size);
}

static int list_json(const struct cli *c, struct berth_state **list, size_t n)
{
        json_object *a = json_object_new_array();

        for (size_t i = 0; i < n; i++) {
                const struct berth_state *s = list[i];
                json_object *o = json_object_new_object(), *ann = json_object_new_object();
                char owner[256];

                state_owner(c, s->id, owner, sizeof(owner));
                json_object_object_add(o, "ociVersion", json_object_new_string("1.2.0"));
                json_object_object_add(o, "id", json_object_new_string(s->id));
                json_object_object_add(o, "pid", json_object_new_int(s->pid));
                json_object_object_add(o, "status",
                                       json_object_new_string(berth_status_to_string(s->status)));
                json_object_object_add(o, "bundle", json_object_new_string(s->bundle));
                json_object_object_add(o, "rootfs", json_object_new_string(s->rootfs));
                json_object_object_add(o, "created", json_object_new_string(s->created));
                for (size_t k = 0; k < s->n_annotations; k++)
                        json_object_object_add(ann, s->annotations[k].key,
                                               json_object_new_string(s->annotations[k].value));
                /* runc leaves the key out when there are none */
                if (s->n_annotations)
                        json_object_object_add(o, "annotations", ann);
                else
                        json_object_put(ann);
                json_object_object_add(o, "owner", json_object_new_string(owner));
                json_object_array_add(a, o);
        }
        printf("%s\n", json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN |
                                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(a);
        return 0;
}

int cmd_list(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "format", required_argument, NULL, 'f' },
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        struct berth_state **list = NULL;
        berth_error err = BERTH_ERROR_INIT;
        const char *format = "table";
        bool quiet = false;
        size_t n = 0;
        int opt;

        optind = 1;
        while ((opt = getopt_long_only(argc, argv, "+f:qh", opts, NULL)) != -1) {
                if (opt == 'f')
                        format = optarg;
                else if (opt == 'q')
                        quiet = true;
                else if (opt == 'h') {
                        printf("Usage: %s list [--format table|json] [-q]\n", BERTH_RUNTIME_NAME);
                        return 0;
                } else
                        return cli_usage("list", "invalid option");
        }
        if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
                return cli_usage("list", "--format: expected table or json");
        if (berth_container_list(&c->rt, &list, &n, &err) < 0)
                return cli_fail(&err);
        if (quiet) {
                for (size_t i = 0; i < n; i++)
                        printf("%s\n", list[i]->id);
        } else if (strcmp(format, "json") == 0) {
                list_json(c, list, n);
        } else {
                printf("%-12s %-10s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE",
                       "CREATED", "OWNER");
                for (size_t i = 0; i < n; i++) {
                        char owner[256];
                        state_owner(c, list[i]->id, owner, sizeof(owner));
                        printf("%-12s %-10d %-10s %-40s %-30s %s\n", list[i]->id, list[i]->pid,
                               berth_status_to_string(list[i]->status), list[i]->bundle,
                               list[i]->created, owner);
                }
        }
        berth_state_list_free(list, n);
        return 0;
}

static bool pid_listed(const pid_t *pids, size_t n, const char *field)
{
        int pid;

        if (berth_parse_int(field, &pid) < 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (pids[i] == pid)
                        return true;
        return false;
}

/* The 0-based column of "PID" in a ps header line. */
static int pid_column(char *header)
{
        int col = 0;

        for (char *tok = header; *tok;) {
                size_t len;
                while (*tok == ' ')
                        tok++;
                len = strcspn(tok, " \n");
                if (len == 3 && strncmp(tok, "PID", 3) == 0)
                        return col;
                tok += len;
                if (len)
                        col++;
        }
        return -1;
}

static const char *nth_field(const char *line, int n, char *buf, size_t size)
{
        for (int i = 0; *line; i++) {
                size_t len;
                while (*line == ' ')
                        line++;
                len = strcspn(line, " \n");
                if (i == n) {
                        snprintf(buf, size, "%.*s", (int)len, line);
                        return buf;
                }
                line += len;
        }
        return NULL;
}

/* Runs ps(1) with the user's arguments and keeps the container's lines. */
static int ps_table(const pid_t *pids, size_t n, int argc, char **argv)
{
        _cleanup_free_ char *out = NULL;
        int pipefd[2], st, col;
        char *args[64] = { (char *)"ps" };
        int na = 1;
        pid_t child;

        if (argc == 0)
                args[na++] = (char *)"-ef";
        for (int i = 0; i < argc && na < 63; i++)
                args[na++] = argv[i];
        args[na] = NULL;
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        child = fork();
        if (child == 0) {
                dup2(pipefd[1], STDOUT_FILENO);
                execvp("ps", args);
                _exit(127);
        }
        close(pipefd[1]);
        berth_read_fd(pipefd[0], 16 << 20, &out, NULL);
        close(pipefd[0]);
        waitpid(child, &st, 0);
        if (!out || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
                return -EIO;
        {
                char *nl = strchr(out, '\n'), *line;
                if (!nl)
                        return -EIO;
                *nl = '\0';
                printf("%s\n", out);
                col = pid_column(out);
                if (col < 0)
                        return -EINVAL;
                for (line = nl + 1; *line; line = nl + 1) {
                        char f[32];
                        nl = strchr(line, '\n');
                        if (!nl)
                                break;
                        *nl = '\0';
                        if (nth_field(line, col, f, sizeof(f)) && pid_listed(pids, n, f))
                                printf("%s\n", line);
                }
        }
        return 0;
}

int cmd_ps(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "format", required_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        _cleanup_free_ pid_t *pids = NULL;
        berth_error err = BERTH_ERROR_INIT;
        const char *format = "table";
        size_t n = 0;
        int opt, r;

        optind = 1;
        while ((opt = getopt_long_only(argc, argv, "+f:h", opts, NULL)) != -1) {
                if (opt == 'f')
                        format = optarg;
                else if (opt == 'h') {
                        printf("Usage: %s ps [--format table|json] <container-id> [ps options]\n",
                               BERTH_RUNTIME_NAME);
                        return 0;
                } else
                        return cli_usage("ps", "invalid option");
        }
        if (optind >= argc)
                return cli_usage("ps", "expects a container id");
        if (strcmp(format, "json") != 0 && strcmp(format, "table") != 0)
                return cli_usage("ps", "--format: expected table or json");
        if (berth_container_pids(&c->rt, argv[optind], &pids, &n, &err) < 0)
                return cli_fail(&err);
        if (strcmp(format, "json") == 0) {
                printf("[");
                for (size_t i = 0; i < n; i++)
                        printf("%s%d", i ? "," : "", (int)pids[i]);
                printf("]\n");
                return 0;
        }
        r = ps_table(pids, n, argc - optind - 1, argv + optind + 1);
        if (r < 0) {
                berth_error_sys(&err, -r, "ps");
                return cli_fail(&err);
        }
        return 0;
}
