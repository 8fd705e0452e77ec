/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Dockerfile instructions applied to an image's container config, as
 * `docker import --change` and `docker commit --change` do: CMD,
 * ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME and
 * WORKDIR (instruction names in any case). Arguments read as a Dockerfile
 * reads them:
 *   CMD ["sh"]           exec form (a JSON array of strings)
 *   CMD echo hi          shell form -> ["/bin/sh", "-c", "echo hi"]
 *   ENV A=1 B="two 2"    key=value pairs with quotes and backslashes
 *   ENV A some value     the legacy form: one key, the rest is its value
 *   EXPOSE 80 53/udp 8000-8002
 *   VOLUME ["/a"] or VOLUME /a /b
 *   WORKDIR rel          joined to the previous WORKDIR (or "/")
 * $VAR, ${VAR}, ${VAR:-word} and ${VAR:+word} in ENV, LABEL, EXPOSE,
 * VOLUME, WORKDIR, USER and STOPSIGNAL expand from the config's Env as
 * it stands (previous ENVs included); CMD, ENTRYPOINT and ONBUILD are
 * kept as written. An ENTRYPOINT resets Cmd unless a CMD came before it
 * in the same list, as in a Dockerfile.
 */

#include <stdbool.h>

#include "basic/error.h"
#include "image/manifest.h"

/*
 * Applies one instruction to c. *cmd_set tracks whether a CMD was given
 * in this list (start with false). Errors name the instruction:
 * "change `EXPOSE 99999`: invalid port 99999".
 */
int berth_config_apply_change(berth_container_config *c, const char *instruction, bool *cmd_set,
                              berth_error *err);

/* Applies a NULL-terminated list (NULL: none) in order. */
int berth_config_apply_changes(berth_container_config *c, char *const *changes, berth_error *err);
