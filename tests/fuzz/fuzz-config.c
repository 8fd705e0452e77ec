/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the config.json parser. Besides crashes, leaks and
 * undefined behaviour it checks the parser's contract: on failure nothing is
 * returned and the error has a message; on success the string arrays are
 * NULL-terminated at their counts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "runtime/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_strv(char **v, size_t n)
{
        if (n && !v)
                abort();
        if (v && v[n])
                abort();
}

static void check_config(const struct berth_config *c)
{
        if (!c->oci_version)
                abort();
        for (size_t i = 0; i < c->n_mounts; i++)
                check_strv(c->mounts[i].options, c->mounts[i].n_options);
        if (c->process) {
                check_strv(c->process->args, c->process->n_args);
                check_strv(c->process->env, c->process->n_env);
                if (c->process->n_args == 0)
                        abort();
        }
        check_strv(c->linux.masked_paths, c->linux.n_masked_paths);
        check_strv(c->linux.readonly_paths, c->linux.n_readonly_paths);
        for (size_t i = 0; i < c->n_annotations; i++)
                if (berth_config_annotation(c, c->annotations[i].key) == NULL)
                        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        berth_error err = BERTH_ERROR_INIT;
        struct berth_config *c = NULL;
        struct berth_process *p = NULL;

        if (berth_config_parse((const char *)data, size, &c, &err) == 0)
                check_config(c);
        else if (c || !err.msg)
                abort();
        berth_config_free(c);
        berth_error_release(&err);

        /* The same bytes as an `exec --process` document. */
        if (berth_process_parse((const char *)data, size, &p, &err) < 0 && (p || !err.msg))
                abort();
        berth_process_free(p);
        berth_error_release(&err);
        return 0;
}
