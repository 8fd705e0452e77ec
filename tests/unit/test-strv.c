/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "basic/cleanup.h"
#include "basic/strv.h"

static void test_push_and_length(void **state)
{
        _cleanup_strv_ char **v = NULL;

        assert_int_equal(berth_strv_length(v), 0);
        assert_false(berth_strv_contains(v, "a"));
        assert_int_equal(berth_strv_push(&v, "a"), 0);
        assert_int_equal(berth_strv_push(&v, "b"), 0);
        assert_int_equal(berth_strv_push(&v, "a"), 0);
        assert_int_equal(berth_strv_length(v), 3);
        assert_string_equal(v[0], "a");
        assert_string_equal(v[2], "a");
        assert_null(v[3]);
        assert_true(berth_strv_contains(v, "b"));
}

static void test_push_unique(void **state)
{
        _cleanup_strv_ char **v = NULL;

        assert_int_equal(berth_strv_push_unique(&v, "x"), 0);
        assert_int_equal(berth_strv_push_unique(&v, "y"), 0);
        assert_int_equal(berth_strv_push_unique(&v, "x"), 0);
        assert_int_equal(berth_strv_length(v), 2);
        assert_string_equal(v[1], "y");
}

static void test_consume(void **state)
{
        _cleanup_strv_ char **v = NULL;

        assert_int_equal(berth_strv_consume(&v, strdup("owned")), 0);
        /* A failed allocation upstream (NULL) is reported, and the array is unchanged. */
        assert_int_equal(berth_strv_consume(&v, NULL), -ENOMEM);
        assert_int_equal(berth_strv_length(v), 1);
        assert_string_equal(v[0], "owned");
}

static void test_copy(void **state)
{
        _cleanup_strv_ char **v = NULL, **c = NULL, **none = (char **)1;

        assert_int_equal(berth_strv_copy(NULL, &none), 0);
        assert_null(none);
        assert_int_equal(berth_strv_push(&v, "one"), 0);
        assert_int_equal(berth_strv_push(&v, "two"), 0);
        assert_int_equal(berth_strv_copy(v, &c), 0);
        assert_int_equal(berth_strv_length(c), 2);
        assert_ptr_not_equal(c[0], v[0]);
        assert_string_equal(c[1], "two");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_push_and_length),
                cmocka_unit_test(test_push_unique),
                cmocka_unit_test(test_consume),
                cmocka_unit_test(test_copy),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
