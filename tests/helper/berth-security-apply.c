/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test helper: applies berth's security defaults to a bundle's config.json,
 * as the engine will before starting a container.
 *
 *   berth-security-apply CONFIG [--cap-add CAP]... [--cap-drop CAP]...
 *       [--privileged] [--seccomp FILE|unconfined] [--no-new-privileges]
 *       [--apparmor NAME]
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "basic/json.h"
#include "basic/strv.h"
#include "engine/security.h"

int main(int argc, char **argv)
{
        _cleanup_strv_ char **add = NULL, **drop = NULL;
        _cleanup_json_ json_object *config = NULL;
        berth_security_options o = { 0 };
        berth_error err = BERTH_ERROR_INIT;
        const char *out;

        if (argc < 2) {
                fprintf(stderr, "usage: %s CONFIG [options]\n", argv[0]);
                return 2;
        }
        for (int i = 2; i < argc; i++) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
                bool takes = strcmp(a, "--cap-add") == 0 || strcmp(a, "--cap-drop") == 0 ||
                             strcmp(a, "--seccomp") == 0 || strcmp(a, "--apparmor") == 0;

                if (takes && !v) {
                        fprintf(stderr, "%s needs a value\n", a);
                        return 2;
                }
                if (strcmp(a, "--cap-add") == 0    ? berth_strv_push(&add, v) < 0
                    : strcmp(a, "--cap-drop") == 0 ? berth_strv_push(&drop, v) < 0
                                                   : false)
                        return 1;
                if (strcmp(a, "--seccomp") == 0)
                        o.seccomp_profile = v;
                else if (strcmp(a, "--apparmor") == 0)
                        o.apparmor = v;
                else if (strcmp(a, "--privileged") == 0)
                        o.privileged = true;
                else if (strcmp(a, "--no-new-privileges") == 0)
                        o.no_new_privileges = true;
                else if (!takes) {
                        fprintf(stderr, "unknown option %s\n", a);
                        return 2;
                }
                if (takes)
                        i++;
        }
        o.cap_add = add;
        o.cap_drop = drop;

        if (berth_json_parse_file(argv[1], 16u << 20, &config, &err) < 0 ||
            berth_security_apply(config, &o, &err) < 0) {
                fprintf(stderr, "Error: %s\n", err.msg);
                berth_error_release(&err);
                return 125;
        }
        out = json_object_to_json_string_ext(config, JSON_C_TO_STRING_PRETTY |
                                                             JSON_C_TO_STRING_NOSLASHESCAPE);
        if (berth_write_file_atomic(argv[1], out, strlen(out), 0644, &err) < 0) {
                fprintf(stderr, "Error: %s\n", err.msg);
                berth_error_release(&err);
                return 125;
        }
        return 0;
}
