/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The documents `berth-runtime spec` and `berth-runtime features` print. */

#include <stdbool.h>

#include "basic/error.h"

/*
 * The default config.json (runc's layout: busybox-ready, read-only root,
 * three capabilities, no_new_privs). rootless: a user namespace mapping the
 * caller's uid/gid to root, no network namespace, /sys bound from the host.
 * Pretty-printed; the caller frees it.
 */
int berth_spec_default(bool rootless, char **ret, berth_error *err);

/* The runtime-spec features document for this build and host. */
int berth_features_json(char **ret, berth_error *err);
