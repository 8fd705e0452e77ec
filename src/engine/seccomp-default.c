/* SPDX-License-Identifier: GPL-2.0-or-later */
/* seccomp-default.json, compiled in so that berth works from the build directory. */
#include <stddef.h>

#include "engine/security.h"

const unsigned char berth_seccomp_default_profile[] = {
#include "seccomp-default.inc"
};

const size_t berth_seccomp_default_profile_len = sizeof(berth_seccomp_default_profile);
