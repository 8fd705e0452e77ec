/* SPDX-License-Identifier: GPL-2.0-or-later */
/* berth push, login, logout. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "cli/berth/cli.h"
#include "cli/berth/progress.h"
#include "image/auth.h"
#include "image/image.h"
#include "image/reference.h"

int cli_registry_flag(const char *cmd, int o, const char *arg, berth_registry_options *ro)
{
        switch (o) {
        case 't':
                if (strcmp(arg, "true") == 0 || strcmp(arg, "1") == 0)
                        ro->tls_verify_off = false;
                else if (strcmp(arg, "false") == 0 || strcmp(arg, "0") == 0)
                        ro->tls_verify_off = true;
                else
                        return cli_usage(cmd,
                                         "invalid argument \"%s\" for \"--tls-verify\" flag: "
                                         "use true or false",
                                         arg);
                return 1;
        case 'A':
                ro->authfile = arg;
                return 1;
        }
        return 0;
}

int cmd_push(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "all-tags", no_argument, NULL, 'a' },
                { "quiet", no_argument, NULL, 'q' },
                CLI_REGISTRY_OPTIONS,
                { "disable-content-trust", optional_argument, NULL, 'D' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        berth_push_options po = { 0 };
        berth_error err = BERTH_ERROR_INIT;
        struct cli_progress prog;
        bool quiet = false;
        berth_store *s;
        int o, r;

        optind = 1;
        while ((o = getopt_long(argc, argv, "aqh", opts, NULL)) != -1) {
                int f = cli_registry_flag("push", o, optarg, &po.registry);
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
                case 'D':
                        break;
                case 'h':
                        printf("Usage:  berth push [OPTIONS] NAME[:TAG]\n\n"
                               "Upload an image to a registry\n\nOptions:\n"
                               "  -a, --all-tags   Push all tags of an image to the repository\n"
                               "  -q, --quiet      Suppress verbose output\n");
                        return 0;
                default:
                        return cli_usage("push", "invalid option");
                }
        }
        if (argc - optind != 1)
                return cli_usage("push", "\"berth push\" requires exactly 1 argument.");
        /* A tuning knob (and the tests' way to force chunked uploads). */
        if (getenv("BERTH_PUSH_CHUNK_SIZE") &&
            berth_parse_u64(getenv("BERTH_PUSH_CHUNK_SIZE"), &po.chunk_size) < 0)
                return cli_usage("push", "BERTH_PUSH_CHUNK_SIZE is not a number of bytes");
        if (cli_store(c, &s, &err) < 0)
                return cli_fail(&err);
        cli_progress_init(&prog, stdout, quiet, true);
        po.progress = &prog.progress;
        r = berth_image_push(s, argv[optind], &po, NULL, NULL, &err);
        cli_progress_release(&prog);
        if (r < 0)
                return cli_fail(&err);
        if (quiet)
                printf("%s\n", argv[optind]);
        return 0;
}

/* The key docker uses in config.json for a registry given on the command line. */
static char *login_host(const char *server)
{
        const char *p = server;

        if (!server || strcmp(server, "docker.io") == 0 || strcmp(server, "index.docker.io") == 0 ||
            strstr(server, "://index.docker.io") || strstr(server, "registry-1.docker.io"))
                return strdup("docker.io");
        if (strncmp(p, "https://", 8) == 0)
                p += 8;
        else if (strncmp(p, "http://", 7) == 0)
                p += 7;
        return strndup(p, strcspn(p, "/"));
}

static char *read_line(FILE *f, bool echo)
{
        struct termios old, quiet;
        bool tty = !echo && isatty(fileno(f)) && tcgetattr(fileno(f), &old) == 0;
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;

        if (tty) {
                quiet = old;
                quiet.c_lflag &= ~(tcflag_t)ECHO;
                tcsetattr(fileno(f), TCSAFLUSH, &quiet);
        }
        n = getline(&line, &cap, f);
        if (tty) {
                tcsetattr(fileno(f), TCSAFLUSH, &old);
                fputc('\n', stderr);
        }
        if (n < 0) {
                free(line);
                return NULL;
        }
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                line[--n] = '\0';
        return line;
}

int cmd_login(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "username", required_argument, NULL, 'u' },
                { "password", required_argument, NULL, 'p' },
                { "password-stdin", no_argument, NULL, 'S' },
                CLI_REGISTRY_OPTIONS,
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_free_ char *user = NULL, *pass = NULL, *host = NULL;
        _cleanup_(berth_registry_freep) berth_registry *reg = NULL;
        berth_registry_options ro = { 0 };
        berth_credentials cred;
        berth_error err = BERTH_ERROR_INIT;
        bool from_stdin = false;
        int o;

        optind = 1;
        while ((o = getopt_long(argc, argv, "u:p:h", opts, NULL)) != -1) {
                int f = cli_registry_flag("login", o, optarg, &ro);
                if (f != 0) {
                        if (f > 1)
                                return f;
                        continue;
                }
                switch (o) {
                case 'u':
                        free(user);
                        user = strdup(optarg);
                        break;
                case 'p':
                        free(pass);
                        pass = strdup(optarg);
                        break;
                case 'S':
                        from_stdin = true;
                        break;
                case 'h':
                        printf("Usage:  berth login [OPTIONS] [SERVER]\n\n"
                               "Log in to a registry.\nIf no server is specified, the default is "
                               "docker.io.\n\nOptions:\n"
                               "  -p, --password string   Password\n"
                               "      --password-stdin    Take the password from stdin\n"
                               "  -u, --username string   Username\n");
                        return 0;
                default:
                        return cli_usage("login", "invalid option");
                }
        }
        if (argc - optind > 1)
                return cli_usage("login", "\"berth login\" requires at most 1 argument.");
        if (pass && from_stdin)
                return cli_usage("login", "--password and --password-stdin are mutually exclusive");
        if (from_stdin && !user)
                return cli_usage("login", "Must provide --username with --password-stdin");
        host = login_host(optind < argc ? argv[optind] : NULL);
        if (!host)
                return 1;
        if (!user) {
                fprintf(stderr, "Username: ");
                user = read_line(stdin, true);
        }
        if (pass)
                fprintf(stderr, "WARNING! Using --password via the CLI is insecure. Use "
                                "--password-stdin.\n");
        else if (from_stdin)
                pass = read_line(stdin, true);
        else {
                fprintf(stderr, "Password: ");
                pass = read_line(stdin, false);
        }
        if (!user || !*user || !pass || !*pass) {
                berth_error_set(&err, EINVAL, "Username and password required");
                return cli_fail(&err);
        }
        cred.username = user;
        cred.password = pass;
        ro.creds = &cred;
        if (berth_registry_new(host, &ro, &reg, &err) < 0 || berth_registry_ping(reg, &err) < 0)
                return cli_fail(&err);
        if (berth_auth_store(ro.authfile, host, &cred, &err) < 0)
                return cli_fail(&err);
        printf("Login Succeeded\n");
        (void)c;
        return 0;
}

int cmd_logout(struct cli *c, int argc, char **argv)
{
        _cleanup_free_ char *host = NULL;
        berth_error err = BERTH_ERROR_INIT;
        const char *authfile = NULL;
        int i = 1;

        if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                printf("Usage:  berth logout [SERVER]\n\nLog out from a registry.\n");
                return 0;
        }
        if (argc > 2 && strcmp(argv[1], "--authfile") == 0) {
                authfile = argv[2];
                i = 3;
        }
        if (argc - i > 1)
                return cli_usage("logout", "\"berth logout\" requires at most 1 argument.");
        host = login_host(i < argc ? argv[i] : NULL);
        if (!host)
                return 1;
        if (berth_auth_remove(authfile, host, &err) < 0) {
                if (err.code == ENOENT) {
                        berth_error_release(&err);
                        printf("Not logged in to %s\n", host);
                        return 0;
                }
                return cli_fail(&err);
        }
        printf("Removing login credentials for %s\n", host);
        (void)c;
        return 0;
}
