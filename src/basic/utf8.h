/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * UTF-8 decoding and terminal display width, for aligning table output.
 *
 * Decoding follows Go's unicode/utf8, because the output berth aligns must
 * match docker's byte for byte: a byte that does not start a valid sequence
 * (overlong forms, surrogates and values past U+10FFFF included) decodes as
 * U+FFFD and consumes exactly one byte.
 */

#include <stddef.h>
#include <stdint.h>

#define BERTH_UTF8_REPLACEMENT 0xFFFDu

/*
 * Decodes the character at the start of s[0..len) into *ret_cp and returns the
 * number of bytes it takes (1 to 4). For an invalid sequence *ret_cp is
 * U+FFFD and the return value is 1. `len` must be at least 1.
 */
size_t berth_utf8_decode(const char *s, size_t len, uint32_t *ret_cp);

/*
 * Writes the UTF-8 encoding of cp into out (room for 4 bytes) and returns its
 * length; surrogates and values past U+10FFFF are written as U+FFFD.
 */
size_t berth_utf8_encode(uint32_t cp, char out[4]);

/* Number of characters (runes) in s[0..len), invalid bytes counting one each. */
size_t berth_utf8_count(const char *s, size_t len);

/*
 * Columns a terminal takes to show one character, as the go-runewidth package
 * that docker's table writer uses counts them outside CJK locales: 0 for
 * control characters, combining marks and zero-width formatting characters,
 * 2 for East Asian wide and fullwidth characters (CJK, Hangul, most emoji),
 * 1 for everything else.
 */
int berth_char_width(uint32_t cp);

/*
 * Columns that s[0..len) takes. Like go-runewidth, each grapheme cluster
 * counts with the width of its first character of non-zero width, so a
 * letter with combining accents, an emoji with a skin-tone modifier, a ZWJ
 * sequence or a pair of regional indicators counts once. Clusters are found
 * by a simplified rule (marks, ZWJ and what follows it, variation selectors,
 * emoji modifiers and a regional-indicator pair extend a cluster), which
 * agrees with Unicode's segmentation for the text tables hold.
 */
size_t berth_text_width(const char *s, size_t len);
