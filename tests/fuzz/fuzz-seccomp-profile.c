/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the seccomp profile loader (berth's grouped format and
 * Docker's), the parser behind --security-opt seccomp=FILE. Besides crashes,
 * leaks and undefined behaviour it checks the contract: on failure nothing is
 * returned and the error has a message; on success the OCI object has a
 * defaultAction and a syscalls array.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "engine/security.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const uint8_t *data, size_t size, uint64_t caps, const berth_seccomp_host *h)
{
        berth_error err = BERTH_ERROR_INIT;
        json_object *oci = NULL, *v;
        int r = berth_seccomp_profile_to_oci((const char *)data, size, "fuzz", caps, h, &oci, &err);

        if (r < 0) {
                if (oci || !err.msg)
                        abort();
                berth_error_release(&err);
                return;
        }
        if (!oci || !json_object_object_get_ex(oci, "defaultAction", &v) ||
            !json_object_object_get_ex(oci, "syscalls", &v) ||
            !json_object_is_type(v, json_type_array))
                abort();
        json_object_put(oci);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const berth_seccomp_host x86 = { "x86_64", 6, 1 }, s390 = { "s390x", 4, 4 };

        one(data, size, UINT64_C(0xa80425fb), &x86);
        one(data, size, UINT64_MAX, &s390);
        return 0;
}
