/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for basic/template.c and basic/tabwriter.c: the --format
 * language as docker users write it, the exact text Go would print for each
 * feature, the messages of syntax and execution errors, and table alignment
 * worked out by hand from Go's tabwriter algorithm with docker's settings
 * (minwidth 10, tabwidth 1, padding 3, padded with spaces).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "basic/cleanup.h"
#include "basic/tabwriter.h"
#include "basic/template.h"
#include "basic/utf8.h"

/* The data most tests render. */
static const char *const DATA =
        "{\"Name\":\"web\",\"Image\":\"nginx:1.25\",\"Id\":\"0123456789abcdef\","
        "\"Config\":{\"Env\":[\"PATH=/bin\",\"A=b\"],\"Labels\":{\"z\":\"last\",\"app\":\"web\"},"
        "\"User\":\"\"},"
        "\"State\":{\"Running\":true,\"Pid\":42,\"Health\":null},"
        "\"Ports\":[80,443],\"Size\":1234567,\"Ratio\":0.25,\"Names\":[\"web\",\"www\"],"
        "\"Empty\":[],\"NoLabels\":{},\"Zero\":0,\"False\":false,\"Null\":null}";

static json_object *parse_json(const char *text)
{
        json_object *j = json_tokener_parse(text);
        assert_non_null(j);
        return j;
}

/* Renders `tmpl` (parsed with `flags`) over `json` and returns the output; fails the test on error.
 */
static char *render_flags(const char *tmpl, unsigned flags, const char *json)
{
        berth_error err = BERTH_ERROR_INIT;
        _cleanup_(berth_template_freep) berth_template *t = NULL;
        json_object *data = json ? parse_json(json) : NULL;
        char *out = NULL;
        size_t len = 0;
        int r;

        r = berth_template_parse(tmpl, flags, &t, &err);
        if (r < 0)
                fail_msg("parse `%s`: %s", tmpl, berth_error_msg(&err));
        r = berth_template_render(t, data, &out, &len, &err);
        json_object_put(data);
        if (r < 0)
                fail_msg("render `%s`: %s", tmpl, berth_error_msg(&err));
        assert_int_equal(strlen(out), len);
        return out;
}

static void check(const char *tmpl, const char *json, const char *expected)
{
        _cleanup_free_ char *out = render_flags(tmpl, 0, json);
        if (strcmp(out, expected) != 0)
                fail_msg("`%s`\n got: [%s]\nwant: [%s]", tmpl, out, expected);
}

static void check_data(const char *tmpl, const char *expected)
{
        check(tmpl, DATA, expected);
}

/* Parsing must fail with exactly this message and errno. */
static void check_parse_error(const char *tmpl, int code, const char *expected)
{
        berth_error err = BERTH_ERROR_INIT;
        berth_template *t = NULL;
        int r = berth_template_parse(tmpl, 0, &t, &err);

        assert_int_equal(r, -code);
        assert_null(t);
        if (strcmp(berth_error_msg(&err), expected) != 0)
                fail_msg("`%s`\n got: %s\nwant: %s", tmpl, berth_error_msg(&err), expected);
        berth_error_release(&err);
}

/* Rendering must fail with exactly this message and errno, and return nothing. */
static void check_render_error(const char *tmpl, const char *json, int code, const char *expected)
{
        berth_error err = BERTH_ERROR_INIT;
        _cleanup_(berth_template_freep) berth_template *t = NULL;
        json_object *data = json ? parse_json(json) : NULL;
        char *out = NULL;
        int r;

        assert_int_equal(berth_template_parse(tmpl, 0, &t, &err), 0);
        r = berth_template_render(t, data, &out, NULL, &err);
        json_object_put(data);
        assert_int_equal(r, -code);
        assert_null(out);
        if (expected && strcmp(berth_error_msg(&err), expected) != 0)
                fail_msg("`%s`\n got: %s\nwant: %s", tmpl, berth_error_msg(&err), expected);
        berth_error_release(&err);
}

/* ---- values and fields ---- */

static void test_text_and_fields(void **state)
{
        check_data("no actions at all", "no actions at all");
        check_data("{{.Name}} runs {{.Image}}", "web runs nginx:1.25");
        check_data("{{.State.Pid}}/{{.Config.User}}/", "42//");
        check("{{.}}", "\"just a string\"", "just a string");
        check("{{.}}", "7", "7");
}

static void test_missing_key(void **state)
{
        /* A missing key of a map is Go's "no value", also further down the chain. */
        check_data("{{.Nope}}|{{.Nope.Deeper}}|{{.Config.Nope}}",
                   "<no value>|<no value>|<no value>");
}

static void test_value_printing(void **state)
{
        /* As Go's fmt prints with %v: integers as such, floats shortest with %e from exponent 6. */
        check_data("{{.Size}} {{.Ratio}} {{.State.Running}} {{.False}} {{.Null}}",
                   "1234567 0.25 true false <nil>");
        check("{{.A}} {{.B}} {{.C}} {{.D}} {{.E}} {{.F}}",
              "{\"A\":3.0,\"B\":1234567.0,\"C\":100000.0,\"D\":0.0001,\"E\":0.00001,\"F\":-2.5}",
              "3 1.234567e+06 100000 0.0001 1e-05 -2.5");
        check_data("{{.Ports}} {{.Names}} {{.Empty}} {{.NoLabels}}", "[80 443] [web www] [] map[]");
        /* Maps print sorted by key, nested values with %v too. */
        check_data("{{.Config.Labels}}", "map[app:web z:last]");
        check("{{.}}", "{\"b\":[1,null,\"x\"],\"a\":{\"k\":true}}",
              "map[a:map[k:true] b:[1 <nil> x]]");
        check("{{.}}", "18446744073709551615", "18446744073709551615");
        check("{{.}}", NULL, "<nil>");
}

static void test_json(void **state)
{
        /* encoding/json without HTML escaping and without the encoder's newline; member order kept.
         */
        check_data("{{json .Config}}",
                   "{\"Env\":[\"PATH=/bin\",\"A=b\"],\"Labels\":{\"z\":\"last\",\"app\":\"web\"},"
                   "\"User\":\"\"}");
        check("{{json .}}", "\"<a&b> \\u2028 \\u0001\\t\\n\\\"\\\\ é\"",
              "\"<a&b> \\u2028 \\u0001\\t\\n\\\"\\\\ é\"");
        check("{{json .A}}|{{json .B}}|{{json .C}}|{{json .D}}|{{json .E}}",
              "{\"A\":1e21,\"B\":0.000001,\"C\":1e-7,\"D\":100.0,\"E\":null}",
              "1e+21|0.000001|1e-7|100|null");
        check_data("{{json .Nope}} {{json .Ports}} {{json .State.Running}}", "null [80,443] true");
}

static void test_index(void **state)
{
        check_data("{{index .Config.Labels \"app\"}} {{index .Ports 1}} {{index .Config.Env 0}}",
                   "web 443 PATH=/bin");
        check("{{index . 0 \"k\" 1}}", "[{\"k\":[\"a\",\"b\"]}]", "b");
        check_data("{{index .Config.Labels \"nope\"}}", "<no value>");
        check_data("{{index .Name 0}}", "119"); /* a string's element is a byte */
        check_render_error("{{index .Ports 2}}", DATA, EINVAL,
                           "template: :1:2: executing \"\" at <index .Ports 2>: error calling "
                           "index: index out of range: 2");
}

static void test_join_split(void **state)
{
        check_data("{{join .Names \", \"}}|{{join .Empty \",\"}}", "web, www|");
        check("{{split \"a,b,,c\" \",\"}} {{len (split \"abc\" \";\")}} {{split \"héj\" \"\"}}",
              NULL, "[a b  c] 1 [h é j]");
        check_data("{{range split .Image \":\"}}<{{.}}>{{end}}", "<nginx><1.25>");
        check_render_error("{{join .Ports \",\"}}", DATA, EINVAL, NULL);
}

static void test_case_functions(void **state)
{
        check("{{lower .}} {{upper .}} {{title .}}", "\"hÉllo wörld_x-y\"",
              "héllo wörld_x-y HÉLLO WÖRLD_X-Y HÉllo Wörld_x-Y");
        check_render_error("{{upper 3}}", NULL, EINVAL,
                           "template: :1:2: executing \"\" at <upper 3>: wrong type for value; "
                           "expected string; got int");
}

static void test_len(void **state)
{
        check_data("{{len .Name}} {{len .Ports}} {{len .Config.Labels}} {{len \"é\"}}", "3 2 2 2");
        check_render_error("{{len .Size}}", DATA, EINVAL,
                           "template: :1:2: executing \"\" at <len .Size>: error calling len: len "
                           "of type int");
}

static void test_print_println(void **state)
{
        /* Sprint spaces operands only when neither is a string; Sprintln always, plus "\n". */
        check("{{print \"a\" 1 2 \"b\" true}}|{{println \"a\" 1 .}}", NULL,
              "a1 2btrue|a 1 <nil>\n");
}

static void test_printf(void **state)
{
        check_data("{{printf \"%s:%d %v %q %%\" .Name .State.Pid .Ports .Image}}",
                   "web:42 [80 443] \"nginx:1.25\" %");
        check("{{printf \"[%5s][%-5s][%05d][%x][%X][%.2f][%6.1f][%t][%c][%3v]\" \"ab\" \"ab\" 42 "
              "255 "
              "255 3.14159 2.25 true 233 1}}",
              NULL, "[   ab][ab   ][00042][ff][FF][3.14][   2.2][true][é][  1]");
        /* Go's messages for verbs that do not fit, missing and extra arguments. */
        check("{{printf \"%d|%s|%d\" \"x\" 1}}", NULL, "%!d(string=x)|%!s(int=1)|%!d(MISSING)");
        check("{{printf \"%s\" \"a\" 2 \"c\"}}", NULL, "a%!(EXTRA int=2, string=c)");
        check("{{printf \"%s %v %d\" .Nope .Nope nil}}", "{}", "%!s(<nil>) <nil> %!d(<nil>)");
        check("{{printf \"%q\" .}}", "\"tab\\there \\\"q\\\" é\"", "\"tab\\there \\\"q\\\" é\"");
}

/* ---- control structures ---- */

static void test_range(void **state)
{
        check_data("{{range .Ports}}<{{.}}>{{end}}", "<80><443>");
        check_data("{{range $i, $p := .Ports}}{{$i}}={{$p}};{{end}}", "0=80;1=443;");
        check_data("{{range $v := .Names}}{{$v}}{{.}} {{end}}", "webweb wwwwww ");
        /* Maps in key order, whatever the data's order. */
        check_data("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}},{{end}}", "app=web,z=last,");
        check_data("{{range .Empty}}x{{else}}none{{end}} {{range .Null}}x{{else}}nil{{end}} "
                   "{{range .Nope}}x{{else}}missing{{end}}",
                   "none nil missing");
        check("{{range .}}{{if eq . 3}}{{continue}}{{end}}{{if eq . "
              "5}}{{break}}{{end}}{{.}}{{end}}",
              "[1,2,3,4,5,6]", "124");
        check("{{range 3}}{{.}}{{end}}", NULL, "012");
        /* $ stays the root inside a range. */
        check_data("{{range .Ports}}{{$.Name}}:{{.}} {{end}}", "web:80 web:443 ");
        check_render_error("{{range .Name}}{{end}}", DATA, EINVAL,
                           "template: :1:8: executing \"\" at <{{range .Name}}{{end...>: range "
                           "can't iterate over web");
}

static void test_if_else(void **state)
{
        check_data("{{if .State.Running}}up{{else}}down{{end}}", "up");
        check_data("{{if .False}}a{{else if .Zero}}b{{else if .Name}}c{{else}}d{{end}}", "c");
        check_data("{{if not .Null}}no health{{end}}", "no health");
}

static void test_truthiness(void **state)
{
        /* Go's truth: false, 0, 0.0, "", nil, missing and empty slices and maps are false. */
        check("{{range .}}{{if .}}T{{else}}F{{end}}{{end}}",
              "[false,0,0.0,\"\",null,[],{},true,1,-1,0.5,\"0\",\"false\",[0],{\"a\":0}]",
              "FFFFFFFTTTTTTTT");
        check("{{if .Missing}}T{{else}}F{{end}}", "{}", "F");
}

static void test_with(void **state)
{
        check_data("{{with .Config}}{{.Env}}{{end}}", "[PATH=/bin A=b]");
        check_data("{{with .Config.User}}user {{.}}{{else}}root{{end}}", "root");
        check_data("{{with .Nope}}a{{else with .Names}}{{index . 1}}{{end}}", "www");
        check_data("{{with $c := .Config}}{{$c.User}}{{len $c.Env}}{{end}}", "2");
}

static void test_comparisons(void **state)
{
        check_data("{{eq .Name \"web\"}} {{eq .Name \"x\" \"y\" \"web\"}} {{ne .State.Pid 42}} "
                   "{{lt 1 2}} {{le 2 2}} {{gt \"b\" \"a\"}} {{ge 1.5 2}} {{eq .Nope \"x\"}} "
                   "{{eq .Null .Nope}}",
                   "true true false true true true false false true");
        check_render_error("{{eq .Name 1}}", DATA, EINVAL,
                           "template: :1:2: executing \"\" at <eq .Name 1>: error calling eq: "
                           "incompatible types for comparison");
        check_render_error("{{lt true false}}", NULL, EINVAL, NULL);
        check_render_error("{{eq .Ports .Ports}}", DATA, EINVAL, NULL);
}

static void test_and_or_not(void **state)
{
        /* and/or return an operand, not a bool, and stop at the first that decides. */
        check_data(
                "{{and 1 .Name}} {{and .Zero (index .Ports 99)}} {{or .Empty .Config.User .Name}} "
                "{{or 0 \"\"}} {{not .Names}}",
                "web 0 web  false");
}

static void test_pipelines(void **state)
{
        check_data(
                "{{.Name | upper}} {{.Name | printf \"%s!\"}} {{\"a\" | printf \"%s-%s\" \"b\"}} "
                "{{.Names | len | printf \"%03d\"}}",
                "WEB web! b-a 002");
        check_data("{{(index .Names 1) | upper}} {{(.Config).User | len}}", "WWW 0");
}

static void test_trim_markers(void **state)
{
        check_data("a  {{- .Name -}}  \n b", "awebb");
        check_data("{{- \" x \" -}}", " x ");
        /* "{{-3}}" is the number -3: a trim marker needs a space after it. */
        check("{{-3}} {{- 3}}", NULL, "-33");
        check("x {{- /* a comment */ -}} y{{/* another */}}", NULL, "xy");
}

static void test_variables(void **state)
{
        check_data("{{$}}",
                   "map[Config:map[Env:[PATH=/bin A=b] Labels:map[app:web z:last] User:] "
                   "Empty:[] False:false Id:0123456789abcdef Image:nginx:1.25 Name:web Names:[web "
                   "www] NoLabels:map[] Null:<nil> Ports:[80 443] Ratio:0.25 Size:1234567 "
                   "State:map[Health:<nil> Pid:42 Running:true] Zero:0]");
        check_data("{{$x := .State}}{{$x.Pid}}{{$x = .Name}} {{$x}}", "42 web");
        check_data("{{$n := 0}}{{range .Ports}}{{$n = .}}{{end}}{{$n}}", "443");
        /* A variable declared in a block ends with it. */
        check_parse_error("{{if 1}}{{$x := 1}}{{end}}{{$x}}", EINVAL,
                          "template: :1:28: undefined variable \"$x\"");
}

static void test_literals(void **state)
{
        check("{{\"a\\tb\\u00e9\\x41\"}}|{{`raw\\n`}}|{{'a'}}|{{0x1F}} {{0o17}} {{1_000}} {{1e3}} "
              "{{-2.5}} {{true}} {{print nil}}",
              NULL, "a\tbéA|raw\\n|97|31 15 1000 1000 -2.5 true <nil>");
}

static void test_slice_pad_truncate(void **state)
{
        check_data("{{slice .Id 0 6}} {{slice .Names 1}} {{pad .Name 1 2}}| {{pad \"\" 3 3}}| "
                   "{{truncate .Id 4}} {{truncate .Name 10}}",
                   "012345 [www]  web  | | 0123 web");
}

static void test_reuse(void **state)
{
        berth_error err = BERTH_ERROR_INIT;
        _cleanup_(berth_template_freep) berth_template *t = NULL;
        const char *names[] = { "{\"N\":\"a\"}", "{\"N\":\"b\"}", "{}" };
        const char *want[] = { "a", "b", "<no value>" };

        assert_int_equal(berth_template_parse("{{.N}}", 0, &t, &err), 0);
        assert_false(berth_template_is_table(t));
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                json_object *d = parse_json(names[i]);
                _cleanup_free_ char *out = NULL;

                assert_int_equal(berth_template_render(t, d, &out, NULL, &err), 0);
                assert_string_equal(out, want[i]);
                json_object_put(d);
        }
}

static void test_label_method(void **state)
{
        /* docker's `.Label "key"` methods: an object member called with a key. */
        check_data(
                "{{.Config.Labels \"app\"}}|{{.Config.Labels \"nope\"}}|{{\"z\" | .Config.Labels}}",
                "web||last");
        check_render_error(
                "{{.Name \"x\"}}", DATA, EINVAL,
                "template: :1:2: executing \"\" at <.Name>: Name is not a method but has "
                "arguments");
        check_render_error("{{.Config.Labels \"a\" \"b\"}}", DATA, EINVAL,
                           "template: :1:2: executing \"\" at <.Config.Labels>: Labels is not a "
                           "method but has arguments");
}

/* ---- errors ---- */

static void test_syntax_errors(void **state)
{
        check_parse_error("{{.ID }", EINVAL, "template: :1:6: unexpected \"}\" in operand");
        check_parse_error("{{.ID}", EINVAL, "template: :1:5: bad character U+007D '}'");
        check_parse_error("{{.ID", EINVAL, "template: :1:0: unclosed action");
        check_parse_error("{{end}}", EINVAL, "template: :1:0: unexpected {{end}}");
        check_parse_error("a\n{{if .X}}b", EINVAL, "template: :2:10: unexpected EOF");
        check_parse_error("{{nosuch .X}}", EINVAL,
                          "template: :1:2: function \"nosuch\" not defined");
        check_parse_error("{{}}", EINVAL, "template: :1:2: missing value for command");
        check_parse_error("{{\"abc}}", EINVAL, "template: :1:2: unterminated quoted string");
        check_parse_error("{{.A | | .B}}", EINVAL, "template: :1:7: unexpected \"|\" in command");
        check_parse_error("{{.A | 3}}", EINVAL,
                          "template: :1:7: non executable command in pipeline stage 2");
        check_parse_error("{{(.A}}", EINVAL, "template: :1:5: unclosed left paren");
        check_parse_error("{{break}}", EINVAL, "template: :1:2: {{break}} outside {{range}}");
        check_parse_error("{{template \"x\"}}", EINVAL,
                          "template: :1:2: {{template}} is not supported");
        check_parse_error("{{range .X}}{{else}}{{else}}{{end}}", EINVAL,
                          "template: :1:20: expected end; found {{else}}");
        check_parse_error("{{\"a\".B}}", EINVAL,
                          "template: :1:5: unexpected . after term \"\\\"a\\\"\"");
}

static void test_runtime_errors(void **state)
{
        check_render_error("x {{.Name.First}}", DATA, EINVAL,
                           "template: :1:4: executing \"\" at <.Name.First>: can't evaluate field "
                           "First in type string");
        check_render_error("{{.State.Health.Status}}", DATA, EINVAL,
                           "template: :1:2: executing \"\" at <.State.Health.Status>: nil pointer "
                           "evaluating interface {}.Status");
        check_render_error("{{index .Ports 1 2}}", DATA, EINVAL,
                           "template: :1:2: executing \"\" at <index .Ports 1 2>: error calling "
                           "index: can't index item of type int");
        check_render_error("{{join .Names}}", DATA, EINVAL,
                           "template: :1:2: executing \"\" at <join .Names>: wrong number of args "
                           "for join: want 2 got 1");
        check_render_error(
                "{{.Name 1}}", DATA, EINVAL,
                "template: :1:2: executing \"\" at <.Name>: Name is not a method but has "
                "arguments");
        check_render_error("line one\n  {{ 3 .Name }}", DATA, EINVAL,
                           "template: :2:5: executing \"\" at <3>: can't give argument to "
                           "non-function 3");
}

static void test_bounds(void **state)
{
        berth_error err = BERTH_ERROR_INIT;
        berth_template *t = NULL;
        _cleanup_free_ char *big = malloc(BERTH_TEMPLATE_MAX_TEXT + 2);
        char deep[2048] = "";

        assert_non_null(big);
        memset(big, 'x', BERTH_TEMPLATE_MAX_TEXT + 1);
        big[BERTH_TEMPLATE_MAX_TEXT + 1] = '\0';
        assert_int_equal(berth_template_parse(big, 0, &t, &err), -E2BIG);
        berth_error_release(&err);
        big[BERTH_TEMPLATE_MAX_TEXT] = '\0'; /* exactly the limit is fine */
        assert_int_equal(berth_template_parse(big, 0, &t, &err), 0);
        berth_template_free(t);
        t = NULL;

        /* 101 nested ifs are too many, 100 are not. */
        for (int i = 0; i < 101; i++)
                strcat(deep, "{{if 1}}");
        for (int i = 0; i < 101; i++)
                strcat(deep, "{{end}}");
        assert_int_equal(berth_template_parse(deep, 0, &t, &err), -E2BIG);
        berth_error_release(&err);
        deep[0] = '\0';
        for (int i = 0; i < 100; i++)
                strcat(deep, "{{if 1}}");
        for (int i = 0; i < 100; i++)
                strcat(deep, "{{end}}");
        check(deep, NULL, "");
        check_parse_error("{{((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((("
                          "((((((((((((((((((((((((((((((((1))))))))))))))))))))))))))))))))))))))"
                          ")))))))))))))))))))))))))))))))))))))))))))))))))))))))}}",
                          E2BIG, "template: :1:102: nested more than 100 deep");

        /* 70000 rows of 1000 bytes pass the 64 MiB output bound. */
        check_render_error("{{range 70000}}{{printf \"%1000d\" .}}{{end}}", NULL, E2BIG, NULL);
        /* 300 strings of 1 MB pass the bound on work, though none is printed. */
        check_render_error("{{range 300}}{{$x := printf \"%1000000d\" 1}}{{end}}", NULL, E2BIG,
                           "template: :1:21: executing \"\" at <printf \"%1000000d\" 1>: "
                           "functions produce more than 268435456 bytes");
        /* Four million turns of an empty loop pass the step bound. */
        check_render_error("{{range 2000}}{{range 2000}}{{end}}{{end}}", NULL, E2BIG, NULL);
}

/* ---- docker's list formats ---- */

static void test_list_format_preprocessing(void **state)
{
        _cleanup_free_ char *a =
                render_flags("  {{.Name}}\\t{{.Image}}\\n  ", BERTH_TEMPLATE_LIST, DATA);
        _cleanup_free_ char *b = render_flags("{{.Name}}\\t", 0, DATA);
        _cleanup_free_ char *c = render_flags("json", BERTH_TEMPLATE_LIST, "{\"a\":[1,\"<\"]}");
        _cleanup_free_ char *d = render_flags("json", 0, "{}");
        berth_error err = BERTH_ERROR_INIT;
        _cleanup_(berth_template_freep) berth_template *t = NULL;
        _cleanup_(berth_template_freep) berth_template *u = NULL;

        /* Spaces trimmed and `\t`/`\n` replaced only for list formats, as docker's formatter does.
         */
        assert_string_equal(a, "web\tnginx:1.25\n");
        assert_string_equal(b, "web\\t");
        assert_string_equal(c, "{\"a\":[1,\"<\"]}");
        assert_string_equal(d, "json");

        assert_int_equal(berth_template_parse("table {{.Name}}", BERTH_TEMPLATE_LIST, &t, &err), 0);
        assert_true(berth_template_is_table(t));
        assert_int_equal(berth_template_parse("table {{.Name}}", 0, &u, &err), 0);
        assert_false(berth_template_is_table(u));
}

static void test_header(void **state)
{
        berth_error err = BERTH_ERROR_INIT;
        _cleanup_(berth_template_freep) berth_template *t = NULL;
        _cleanup_free_ char *out = NULL;
        json_object *hdr = parse_json("{\"Repository\":\"REPOSITORY\",\"ID\":\"IMAGE ID\","
                                      "\"Labels\":\"LABELS\",\"Names\":\"NAMES\"}");

        assert_int_equal(berth_template_parse("table {{.Repository}}\\t{{upper .ID}}\\t{{json "
                                              ".Labels}}\\t{{join .Names \",\"}}\\t{{.Size}}",
                                              BERTH_TEMPLATE_LIST, &t, &err),
                         0);
        /* Header functions hand the title through; a field without a title has no value. */
        assert_int_equal(berth_template_render_header(t, hdr, &out, NULL, &err), 0);
        assert_string_equal(out, "REPOSITORY\tIMAGE ID\tLABELS\tNAMES\t<no value>");
        json_object_put(hdr);
}

/* Runs berth_template_format_list() and returns what it printed. */
static char *format_list(const char *tmpl, const char *rows, const char *headers, int *ret)
{
        berth_error err = BERTH_ERROR_INIT;
        _cleanup_(berth_template_freep) berth_template *t = NULL;
        json_object *r = parse_json(rows), *h = headers ? parse_json(headers) : NULL;
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_non_null(f);
        assert_int_equal(berth_template_parse(tmpl, BERTH_TEMPLATE_LIST, &t, &err), 0);
        *ret = berth_template_format_list(t, r, h, f, &err);
        assert_int_equal(fclose(f), 0);
        json_object_put(r);
        json_object_put(h);
        berth_error_release(&err);
        return buf;
}

static void test_format_list_table(void **state)
{
        const char *rows =
                "[{\"Repository\":\"busybox\",\"Tag\":\"latest\",\"ID\":\"a416a98b71e2\","
                "\"Size\":\"4.26MB\"},"
                "{\"Repository\":\"registry.example.com/team/app\",\"Tag\":\"1.0\","
                "\"ID\":\"0f1e2d3c4b5a\",\"Size\":\"1.2GB\"}]";
        const char *hdr = "{\"Repository\":\"REPOSITORY\",\"Tag\":\"TAG\",\"ID\":\"IMAGE ID\","
                          "\"Size\":\"SIZE\"}";
        int r;
        _cleanup_free_ char *out = format_list(
                "table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}\\t{{.Size}}", rows, hdr, &r);
        _cleanup_free_ char *empty = format_list("table {{.Repository}}\\t{{.Tag}}", "[]", hdr, &r);

        /* Column widths: max(10, widest + 3); the last column is not padded. */
        assert_int_equal(r, 0);
        assert_string_equal(out,
                            "REPOSITORY                      TAG       IMAGE ID       SIZE\n"
                            "busybox                         latest    a416a98b71e2   4.26MB\n"
                            "registry.example.com/team/app   1.0       0f1e2d3c4b5a   1.2GB\n");
        /* The header is printed for an empty list too. */
        assert_string_equal(empty, "REPOSITORY   TAG\n");
}

static void test_format_list_plain_and_errors(void **state)
{
        int r;
        _cleanup_free_ char *out = format_list(
                "{{.N}}:{{.T}}", "[{\"N\":\"a\",\"T\":1},{\"N\":\"b\",\"T\":2}]", NULL, &r);
        _cleanup_free_ char *bad = format_list("{{.N.X}}", "[{\"N\":{}},{\"N\":\"b\"}]", NULL, &r);

        assert_string_equal(out, "a:1\nb:2\n");
        /* One row failing fails the list, and nothing is printed, as with docker. */
        assert_int_equal(r, -EINVAL);
        assert_string_equal(bad, "");
}

static void test_header_failure_cuts_row(void **state)
{
        int r;
        _cleanup_free_ char *out = format_list("table {{.A}}\\t{{index .B 1}}\\t{{.C}}",
                                               "[{\"A\":\"x\",\"B\":[\"p\",\"q\"],\"C\":\"z\"}]",
                                               "{\"A\":\"A\",\"B\":\"B\",\"C\":\"C\"}", &r);

        /*
         * docker ignores the error of `index "B" 1` in the header and keeps
         * "A\t": that line then has no cell in column 1, which aligns alone.
         */
        assert_int_equal(r, 0);
        assert_string_equal(out, "A         \n"
                                 "x         q         z\n");
}

static void test_range_assign(void **state)
{
        check("{{$i := 0}}{{$e := 0}}{{range $i, $e = .}}{{end}}{{$i}}{{$e}}", "[\"a\",\"b\"]",
              "1b");
}

static void test_float_verbs(void **state)
{
        check("{{printf \"%e|%g|%.3g|%v|%f|%+d|% d\" 123456.789 0.000012 1234.5678 1e100 -0.5 5 "
              "5}}",
              NULL, "1.234568e+05|1.2e-05|1.23e+03|1e+100|-0.500000|+5| 5");
}

static void test_utf8_helpers(void **state)
{
        uint32_t cp;
        char enc[4];

        assert_int_equal(berth_utf8_decode("\xc3\xa9", 2, &cp), 2);
        assert_int_equal(cp, 0xE9);
        /* Overlong forms, surrogates and truncated sequences are one invalid byte each. */
        assert_int_equal(berth_utf8_decode("\xc0\xaf", 2, &cp), 1);
        assert_int_equal(cp, BERTH_UTF8_REPLACEMENT);
        assert_int_equal(berth_utf8_decode("\xed\xa0\x80", 3, &cp), 1);
        assert_int_equal(berth_utf8_decode("\xe6\x97", 2, &cp), 1);
        assert_int_equal(berth_utf8_encode(0x1F44D, enc), 4);
        assert_memory_equal(enc, "\xf0\x9f\x91\x8d", 4);
        assert_int_equal(berth_utf8_encode(0xD800, enc), 3); /* written as U+FFFD */
        assert_int_equal(berth_utf8_count("a\xc3\xa9\xff", 4), 3);
}

/* ---- the tab writer ---- */

static char *tabwrite(unsigned minwidth, unsigned tabwidth, unsigned padding, char padchar,
                      unsigned flags, const char *text)
{
        berth_error err = BERTH_ERROR_INIT;
        _cleanup_(berth_tabwriter_freep) berth_tabwriter *tw =
                berth_tabwriter_new(minwidth, tabwidth, padding, padchar, flags);
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_non_null(tw);
        assert_non_null(f);
        /* Written in two pieces: the result must not depend on how the text arrives. */
        assert_int_equal(berth_tabwriter_write(tw, text, strlen(text) / 2, &err), 0);
        assert_int_equal(berth_tabwriter_write(tw, text + strlen(text) / 2,
                                               strlen(text) - strlen(text) / 2, &err),
                         0);
        assert_int_equal(berth_tabwriter_flush(tw, f, &err), 0);
        assert_int_equal(fclose(f), 0);
        return buf;
}

static void check_docker_table(const char *text, const char *expected)
{
        _cleanup_free_ char *out = tabwrite(10, 1, 3, ' ', 0, text);
        if (strcmp(out, expected) != 0)
                fail_msg("got:\n[%s]\nwant:\n[%s]", out, expected);
}

static void test_tabwriter_minwidth_and_padding(void **state)
{
        /* Short cells get the minimum width 10; the last cell of a line stays unpadded. */
        check_docker_table("a\tb\tc\naa\tbbb\tcccc\n", "a         b         c\n"
                                                       "aa        bbb       cccc\n");
        /* A cell wider than minwidth makes the column its width plus the padding of 3. */
        check_docker_table("REPOSITORY\tTAG\nregistry.example.com/x\t1.0\n",
                           "REPOSITORY               TAG\n"
                           "registry.example.com/x   1.0\n");
        /* A trailing tab makes the last cell part of a column: it is padded. */
        check_docker_table("a\tb\t\n", "a         b         \n");
        /* An empty cell is padded to the column. */
        check_docker_table("\tb\na\tc\n", "          b\na         c\n");
        /* No final newline: the open line is written as it is. */
        check_docker_table("a\tb", "a         b");
}

static void test_tabwriter_blocks(void **state)
{
        /* A line with a single cell ends every column: the blocks align apart. */
        check_docker_table("a\tb\nx\nccccccccccccc\td\n", "a         b\n"
                                                          "x\n"
                                                          "ccccccccccccc   d\n");
        /*
         * Column 0 spans the three lines; column 1 ends at line 2, where its
         * cell is the last one of the line, so line 3's column 1 is a block of
         * its own and does not widen line 1's.
         */
        check_docker_table("a\tb\tc\naaaa\tb\na\tbbbbbbbbbbbbbbb\tc\n",
                           "a         b         c\n"
                           "aaaa      b\n"
                           "a         bbbbbbbbbbbbbbb   c\n");
        /* '\f' ends the columns too, and is written as a newline. */
        check_docker_table("a\tb\faaaaaaaaaaaaaa\tc\n", "a         b\n"
                                                        "aaaaaaaaaaaaaa   c\n");
}

static void test_tabwriter_unicode_width(void **state)
{
        /* é is 2 bytes but 1 column; 日 is 3 bytes and 2 columns. */
        check_docker_table("ééééééééééé\tx\na\ty\n", "ééééééééééé   x\n"
                                                     "a             y\n");
        check_docker_table("日本語日本語\tx\na\ty\n", "日本語日本語   x\n"
                                                      "a              y\n");
        /* A combining accent and a skin-tone modifier take no column of their own. */
        check_docker_table("e\xcc\x81\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd\tx\naaaaaaaaaaa\ty\n",
                           "e\xcc\x81\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd           x\n"
                           "aaaaaaaaaaa   y\n");
        assert_int_equal(berth_text_width("abc", 3), 3);
        assert_int_equal(berth_text_width("\xff", 1), 1); /* invalid byte: U+FFFD */
        assert_int_equal(berth_char_width(0x4E00), 2);
        assert_int_equal(berth_char_width(0x0301), 0);
        assert_int_equal(berth_char_width('\t'), 0);
}

static void test_tabwriter_escape_and_flags(void **state)
{
        _cleanup_free_ char *right =
                tabwrite(0, 0, 1, '.', BERTH_TABWRITER_ALIGN_RIGHT, "a\tbb\t\nccc\td\t\n");
        _cleanup_free_ char *debug = tabwrite(0, 0, 1, '.', BERTH_TABWRITER_DEBUG, "a\tbb\tc\n");
        _cleanup_free_ char *tabs = tabwrite(0, 4, 1, '\t', 0, "a\tb\naaaaa\tc\n");

        /* Text between 0xFF bytes is not split at its tab; the 0xFF bytes count no width. */
        check_docker_table("\xff"
                           "a\tb\xff\tc\ndd\te\n",
                           "\xff"
                           "a\tb\xff        c\n"
                           "dd        e\n");
        assert_string_equal(right, "...a.bb\n.ccc..d\n");
        assert_string_equal(debug, "a.|bb.|c\n");
        /* Tab padding: cell width 6 rounded up to 8, in tabs of 4. */
        assert_string_equal(tabs, "a\t\tb\naaaaa\tc\n");
        assert_null(berth_tabwriter_new(1, 1, 1, ' ', 1)); /* FilterHTML: not supported */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_text_and_fields),
                cmocka_unit_test(test_missing_key),
                cmocka_unit_test(test_value_printing),
                cmocka_unit_test(test_json),
                cmocka_unit_test(test_index),
                cmocka_unit_test(test_join_split),
                cmocka_unit_test(test_case_functions),
                cmocka_unit_test(test_len),
                cmocka_unit_test(test_print_println),
                cmocka_unit_test(test_printf),
                cmocka_unit_test(test_range),
                cmocka_unit_test(test_if_else),
                cmocka_unit_test(test_truthiness),
                cmocka_unit_test(test_with),
                cmocka_unit_test(test_comparisons),
                cmocka_unit_test(test_and_or_not),
                cmocka_unit_test(test_pipelines),
                cmocka_unit_test(test_trim_markers),
                cmocka_unit_test(test_variables),
                cmocka_unit_test(test_literals),
                cmocka_unit_test(test_slice_pad_truncate),
                cmocka_unit_test(test_reuse),
                cmocka_unit_test(test_label_method),
                cmocka_unit_test(test_syntax_errors),
                cmocka_unit_test(test_runtime_errors),
                cmocka_unit_test(test_bounds),
                cmocka_unit_test(test_list_format_preprocessing),
                cmocka_unit_test(test_header),
                cmocka_unit_test(test_format_list_table),
                cmocka_unit_test(test_format_list_plain_and_errors),
                cmocka_unit_test(test_header_failure_cuts_row),
                cmocka_unit_test(test_range_assign),
                cmocka_unit_test(test_float_verbs),
                cmocka_unit_test(test_utf8_helpers),
                cmocka_unit_test(test_tabwriter_minwidth_and_padding),
                cmocka_unit_test(test_tabwriter_blocks),
                cmocka_unit_test(test_tabwriter_unicode_width),
                cmocka_unit_test(test_tabwriter_escape_and_flags),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
