/* test_expr.c - user score/mask expressions: canonical text round trips and hashes, every documented
 * parse error once with its column and caret, evaluation of the usual modifications (T5 bias, ALiBi,
 * sliding window, document mask, softcap, ...) against values computed here, and an NVRTC compile for
 * sm_80 of emitted functions covering every operator, function and tensor element type. NVRTC missing
 * fails the compile part unless EFFGEN_ALLOW_NO_NVRTC is set. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "rt.h"
#include "t.h"

static const eg_expr_decl decls[] = {
    {"bias", EG_EXPR_F32, 3},  {"slopes", EG_EXPR_F32, 1}, {"doc", EG_EXPR_I32, 1},    {"t5", EG_EXPR_F32, 2},
    {"hb", EG_EXPR_F16, 2},    {"bb", EG_EXPR_BF16, 4},    {"w", EG_EXPR_U8, 1},       {"keep", EG_EXPR_BOOL, 2},
};
#define N_DECLS ((int)(sizeof decls / sizeof decls[0]))

/* ---- canonical text ---- */

typedef struct rt_case {
    eg_expr_kind kind;
    const char *in, *canon;
} rt_case;

static const rt_case round_trips[] = {
    {EG_EXPR_SCORE, "score", "score"},
    {EG_EXPR_SCORE, "  score+bias[ h,q ,k ]", "score + bias[h, q, k]; bias: f32[3]"},
    {EG_EXPR_SCORE, "((score)) - (slopes[h] * (q - k))", "score - slopes[h] * (q - k); slopes: f32[1]"},
    {EG_EXPR_SCORE, "30*tanh(score/30)", "30 * tanh(score / 30)"},
    {EG_EXPR_SCORE, "1e-3 + .5 + 2. + 1E3 + 0.1 + 1e20 + 2.5e-7 + 1.5e10", "0.001 + 0.5 + 2.0 + 1000.0 + 0.1 + 1e+20 + 2.5e-07 + 15000000000.0"},
    {EG_EXPR_SCORE, "q - (k - h) - b + (nq + nk)", "q - (k - h) - b + (nq + nk)"},
    {EG_EXPR_SCORE, "(q - k) - h", "q - k - h"},
    {EG_EXPR_SCORE, "q * (k + 1) % 3 / (2 * h)", "q * (k + 1) % 3 / (2 * h)"},
    {EG_EXPR_SCORE, "-(-score)", "-(-score)"},
    {EG_EXPR_SCORE, "- - score", "-(-score)"},
    {EG_EXPR_SCORE, "-score * -q", "-score * -q"},
    {EG_EXPR_SCORE, "-(score * q)", "-(score * q)"},
    {EG_EXPR_MASK, "!(q < k) && !!true", "!(q < k) && !(!true)"},
    {EG_EXPR_MASK, "(q >= k || k < 4) && doc[q] == doc[k]", "(q >= k || k < 4) && doc[q] == doc[k]; doc: i32[1]"},
    {EG_EXPR_MASK, "q >= k || (k < 4 && q < 8)", "q >= k || k < 4 && q < 8"},
    {EG_EXPR_MASK, "(q < k) == (h < 2)", "q < k == h < 2"}, /* C precedence: no parentheses needed */
    {EG_EXPR_SCORE, "where(q >= k, score, score - 1e4)", "q >= k ? score : score - 10000.0"},
    {EG_EXPR_SCORE, "q > 0 ? (k > 0 ? 1 : 2) : (k > 1 ? 3 : 4)", "q > 0 ? k > 0 ? 1 : 2 : k > 1 ? 3 : 4"},
    {EG_EXPR_SCORE, "(q > 0 ? true : false) ? 3 : 4", "(q > 0 ? true : false) ? 3 : 4"},
    {EG_EXPR_SCORE, "min(max(q-k,-8),8)+abs(q)", "min(max(q - k, -8), 8) + abs(q)"},
    {EG_EXPR_MASK, "keep[b, k] && w[k] != 0; keep: bool[2], w: u8[1]", "keep[b, k] && w[k] != 0; keep: bool[2], w: u8[1]"},
    /* the tensors follow in name order; the expression stays as written */
    {EG_EXPR_SCORE, "score + hb[h, k] + bb[b, h, q, k]", "score + hb[h, k] + bb[b, h, q, k]; bb: bf16[4], hb: f16[2]"},
};
#define N_ROUND_TRIPS ((int)(sizeof round_trips / sizeof round_trips[0]))

static void canonical_text(void) {
    int n = 0;
    for (int i = 0; i < N_ROUND_TRIPS; i++) {
        const rt_case *c = &round_trips[i];
        eg_expr *e = NULL, *again = NULL;
        if (!CHECK_OK(eg_expr_parse(c->in, c->kind, decls, N_DECLS, &e))) continue;
        const char *text = eg_expr_text(e);
        CHECK_STR(text, c->canon);
        /* parse(print(x)) prints the same, with and without the declarations at hand */
        if (CHECK_OK(eg_expr_parse(text, c->kind, NULL, 0, &again))) {
            CHECK_STR(eg_expr_text(again), text);
            CHECK(eg_expr_hash(again) == eg_expr_hash(e));
            eg_expr_free(again);
        }
        if (CHECK_OK(eg_expr_parse(text, c->kind, decls, N_DECLS, &again))) {
            CHECK_STR(eg_expr_text(again), text);
            eg_expr_free(again);
        }
        char buf[8];
        int len = eg_expr_print(e, buf, sizeof buf);
        CHECK_INT(len, strlen(text));
        CHECK_INT(strlen(buf), len < 7 ? len : 7);
        CHECK(!strncmp(buf, text, strlen(buf)));
        CHECK(eg_expr_kind_of(e) == c->kind);
        eg_expr_free(e);
        n++;
    }
    fprintf(stderr, "canonical text: %d round trips\n", n);

    /* the hash: FNV-1a 64 of the canonical text; whitespace and redundant parentheses do not move it */
    eg_expr *a = NULL, *b = NULL, *c = NULL;
    if (CHECK_OK(eg_expr_parse("score - slopes[h] * (q - k)", EG_EXPR_SCORE, decls, N_DECLS, &a)) &&
        CHECK_OK(eg_expr_parse("(score)-((slopes[ h ])*(q-k)); slopes: f32[1]", EG_EXPR_SCORE, NULL, 0, &b)) &&
        CHECK_OK(eg_expr_parse("score - slopes[h] * (k - q)", EG_EXPR_SCORE, decls, N_DECLS, &c))) {
        CHECK(eg_expr_hash(a) == eg_expr_hash(b));
        CHECK(eg_expr_hash(a) != eg_expr_hash(c));
        char hex[17], want[17];
        uint64_t h = 1469598103934665603ULL;
        for (const char *s = eg_expr_text(a); *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
        snprintf(want, sizeof want, "%016llx", (unsigned long long)h);
        eg_expr_hash_hex(a, hex);
        CHECK_STR(hex, want);
        CHECK_INT(strlen(hex), 16);
    }
    eg_expr_free(a);
    eg_expr_free(b);
    eg_expr_free(c);

    /* the tensors read, in name order, whatever the declaration order; unread declarations are dropped */
    eg_expr *e = NULL;
    if (CHECK_OK(eg_expr_parse("slopes[h] + bias[b, q, k] + doc[k]", EG_EXPR_SCORE, decls, N_DECLS, &e))) {
        CHECK_INT(eg_expr_tensor_count(e), 3);
        eg_expr_decl d;
        const char *names[] = {"bias", "doc", "slopes"};
        for (int i = 0; i < 3; i++)
            if (CHECK_OK(eg_expr_tensor(e, i, &d))) CHECK_STR(d.name, names[i]);
        if (CHECK_OK(eg_expr_tensor(e, 1, &d))) {
            CHECK_INT(d.dtype, EG_EXPR_I32);
            CHECK_INT(d.rank, 1);
        }
        CHECK_STATUS(eg_expr_tensor(e, 3, &d), EFFGEN_INVALID_ARGUMENT);
        eg_expr_free(e);
    }
    /* a literal prints in its shortest round-trip form, so its value survives the text */
    if (CHECK_OK(eg_expr_parse("score * 0.1234567890123456789 + 3.4028234e38", EG_EXPR_SCORE, NULL, 0, &e))) {
        CHECK_STR(eg_expr_text(e), "score * 0.12345678901234568 + 3.4028234e+38");
        eg_expr_free(e);
    }
    CHECK_STR(eg_expr_text(NULL), "");
    CHECK_INT(eg_expr_tensor_count(NULL), 0);
    CHECK_INT(eg_expr_print(NULL, NULL, 0), 0);
    for (int i = 0; i < 6; i++) CHECK(eg_expr_dtype_name((eg_expr_dtype)i) != NULL);
    CHECK(eg_expr_dtype_name((eg_expr_dtype)6) == NULL);
}

/* ---- errors ---- */

typedef struct err_case {
    eg_expr_kind kind;
    const char *text;
    int col;
    const char *says;
} err_case;

static const err_case errors[] = {
    /* names */
    {EG_EXPR_SCORE, "score + bais[h]", 9, "unknown name \"bais\" (known: score, b, h, q, k, nq, nk, and tensors bias, slopes, doc, t5, hb, bb, w, keep)"},
    {EG_EXPR_SCORE, "score + foo", 9, "unknown name \"foo\""},
    {EG_EXPR_SCORE, "score + tan(score)", 9, "unknown function \"tan\" (known: abs, min, max, exp, exp2, log, log2, sqrt, tanh, floor, ceil, where)"},
    {EG_EXPR_SCORE, "q(1)", 1, "\"q\" is a variable, not a function"},
    {EG_EXPR_SCORE, "score + bias", 9, "tensor \"bias\" must be indexed with 3 indexes"},
    {EG_EXPR_SCORE, "exp + 1", 1, "function \"exp\" must be called"},
    /* arguments */
    {EG_EXPR_SCORE, "min(q, k, h)", 1, "function \"min\" takes 2 arguments, got 3"},
    {EG_EXPR_SCORE, "exp()", 1, "function \"exp\" takes 1 argument, got 0"},
    {EG_EXPR_SCORE, "where(q < k, 1)", 1, "function \"where\" takes 3 arguments, got 2"},
    /* types */
    {EG_EXPR_MASK, "q - k", 1, "a mask expression must be boolean, this one gives int"},
    {EG_EXPR_SCORE, "q < k", 1, "a score expression must be a number, this one gives bool"},
    {EG_EXPR_MASK, "score > 0", 1, "\"score\" is not available in a mask expression"},
    {EG_EXPR_SCORE, "score % 2", 7, "operator \"%\" needs ints, got float on the left (modulo of floats is not supported)"},
    {EG_EXPR_SCORE, "q % 2.0", 3, "operator \"%\" needs ints, got float on the right"},
    {EG_EXPR_SCORE, "q[0]", 1, "\"q\" is a variable, not a tensor, and cannot be indexed"},
    {EG_EXPR_SCORE, "exp[0]", 1, "\"exp\" is a function, not a tensor"},
    {EG_EXPR_SCORE, "bias[h, q]", 1, "tensor \"bias\" is declared f32[3] and takes 3 indexes, got 2"},
    {EG_EXPR_SCORE, "slopes[score]", 8, "index 1 of tensor \"slopes\" must be an int, got float"},
    {EG_EXPR_SCORE, "score + (q < k)", 7, "operator \"+\" needs numbers, got bool on the right"},
    {EG_EXPR_MASK, "q && k", 3, "operator \"&&\" needs booleans, got int on the left"},
    {EG_EXPR_MASK, "!q", 1, "operator \"!\" needs a boolean, got int"},
    {EG_EXPR_SCORE, "-(q < k) ? 1 : 2", 1, "operator \"-\" needs a number, got bool"},
    {EG_EXPR_MASK, "(q < k) == 1", 9, "operator \"==\" compares bool with int"},
    {EG_EXPR_SCORE, "((q > 0) ? 1 : 2) ? 3 : 4", 19, "the condition of ?: must be boolean, got int"},
    {EG_EXPR_SCORE, "q > 0 ? 1 : true", 7, "the branches of ?: must both be numbers or both booleans, got int and bool"},
    {EG_EXPR_SCORE, "exp(q < k)", 5, "function \"exp\" needs numbers, got bool as argument 1"},
    /* structure */
    {EG_EXPR_SCORE, "(score + 1", 11, "missing \")\" to close the \"(\" at column 1"},
    {EG_EXPR_SCORE, "(score + 1 q", 12, "expected \")\" to close the \"(\" at column 1, found \"q\""},
    {EG_EXPR_SCORE, "score + 1)", 10, "unbalanced \")\": nothing open to close"},
    {EG_EXPR_SCORE, "()", 2, "unbalanced \")\": expected an expression before it"},
    {EG_EXPR_SCORE, "min(q, k", 9, "missing \")\" to close the \"(\" of the call at column 4"},
    {EG_EXPR_SCORE, "bias[h, q, k", 13, "missing \"]\" to close the \"[\" of the index at column 5"},
    {EG_EXPR_SCORE, "score score", 7, "unexpected \"score\" after the end of the expression"},
    {EG_EXPR_SCORE, "score +", 8, "expected an expression, found end of input"},
    {EG_EXPR_SCORE, "q > 0 ? 1 2", 11, "expected \":\" of the \"?\" at column 7, found \"2\""},
    {EG_EXPR_SCORE, "", 1, "empty expression"},
    {EG_EXPR_SCORE, "   \t ", 6, "empty expression"},
    /* lexical */
    {EG_EXPR_SCORE, "score @ 2", 7, "unexpected character \"@\""},
    {EG_EXPR_MASK, "q = k", 3, "unexpected \"=\" (equality is \"==\")"},
    {EG_EXPR_MASK, "q < k & true", 7, "unexpected \"&\" (logical and is \"&&\")"},
    {EG_EXPR_SCORE, "score + 1e", 9, "malformed number \"1e\""},
    {EG_EXPR_SCORE, "score + 1.2.3", 9, "malformed number \"1.2.3\""},
    {EG_EXPR_SCORE, "score + 2147483648", 9, "integer literal \"2147483648\" out of range"},
    {EG_EXPR_SCORE, "score + 1e39", 9, "float literal \"1e39\" out of range for fp32"},
    /* declarations in the text */
    {EG_EXPR_SCORE, "x[q]; x: f64[1]", 10, "unknown element type \"f64\""},
    {EG_EXPR_SCORE, "x[q]; x: f32", 13, "expected the rank in brackets after the element type"},
    {EG_EXPR_SCORE, "x[q]; x: f32[5]", 7, "rank 5: must be 1 to 4"},
    {EG_EXPR_SCORE, "bias[q]; bias: f32[1]", 10, "tensor \"bias\" declared twice, as f32[3] and f32[1]"},
    {EG_EXPR_SCORE, "k[q]; k: f32[1]", 7, "\"k\" is a name of the language"},
    {EG_EXPR_SCORE, "score;", 7, "expected a tensor declaration like \"bias: f32[3]\" after \";\""},
    {EG_EXPR_SCORE, "score; x f32[1]", 10, "expected \":\" after the tensor name \"x\""},
    {EG_EXPR_SCORE, "score; x: f32[1] y: f32[1]", 18, "expected \",\" or the end after a tensor declaration"},
};
#define N_ERRORS ((int)(sizeof errors / sizeof errors[0]))

/* The text has the form 'expression "TEXT": column C: MESSAGE\n  LINE\n  CARET' with the caret under
 * column C of LINE. */
static void check_error_text(const char *text, int col, const char *says) {
    const char *err = effgen_last_error();
    char head[64];
    snprintf(head, sizeof head, "column %d: ", col);
    CHECK_HAS(err, head);
    CHECK_HAS(err, says);
    if (!CHECK(!strncmp(err, "expression \"", 12))) return;
    const char *l1 = strchr(err, '\n');
    const char *l2 = l1 ? strchr(l1 + 1, '\n') : NULL;
    if (!CHECK(l1 && l2)) return;
    const char *caret = strchr(l2 + 1, '^');
    if (!CHECK(caret != NULL)) return;
    int at = (int)(caret - (l2 + 1)) - 2; /* 0-based column under the two-space indent */
    if (strlen(text) <= 80) {
        if (!CHECK_INT(at, col - 1)) fprintf(stderr, "  %s\n", err);
        CHECK(!strncmp(l1 + 3, text, strlen(text)) || strpbrk(text, "\t\n"));
    }
}

static void parse_errors(void) {
    for (int i = 0; i < N_ERRORS; i++) {
        const err_case *c = &errors[i];
        eg_expr *e = (eg_expr *)1;
        if (!CHECK_STATUS(eg_expr_parse(c->text, c->kind, decls, N_DECLS, &e), EFFGEN_PARSE)) {
            fprintf(stderr, "  accepted: %s\n", c->text);
            continue;
        }
        CHECK(e == NULL);
        check_error_text(c->text, c->col, c->says);
    }
    /* the example of the documentation, whole */
    eg_expr *e = NULL;
    const eg_expr_decl two[] = {{"bias", EG_EXPR_F32, 3}, {"slopes", EG_EXPR_F32, 1}};
    CHECK_STATUS(eg_expr_parse("score + bais[h]", EG_EXPR_SCORE, two, 2, &e), EFFGEN_PARSE);
    CHECK_STR(effgen_last_error(),
              "expression \"score + bais[h]\": column 9: unknown name \"bais\" (known: score, b, h, q, k, nq, nk, and "
              "tensors bias, slopes)\n  score + bais[h]\n          ^");
    CHECK_STATUS(eg_expr_parse("bais[k]", EG_EXPR_MASK, NULL, 0, &e), EFFGEN_PARSE);
    CHECK_HAS(effgen_last_error(), "(known: b, h, q, k, nq, nk; no tensors declared)");

    /* limits: nothing here may exhaust the stack */
    size_t big = 100000;
    char *s = malloc(big + 8);
    if (!CHECK(s != NULL)) return;
    memset(s, '(', big);
    s[big] = 0;
    CHECK_STATUS(eg_expr_parse(s, EG_EXPR_SCORE, NULL, 0, &e), EFFGEN_PARSE);
    CHECK_HAS(effgen_last_error(), "longer than 4096 characters");
    CHECK_HAS(effgen_last_error(), "column 4097: ");
    memset(s, '(', 4000);
    s[4000] = 'q';
    s[4001] = 0;
    CHECK_STATUS(eg_expr_parse(s, EG_EXPR_SCORE, NULL, 0, &e), EFFGEN_PARSE);
    CHECK_HAS(effgen_last_error(), "column 257: parentheses and operators nested more than 256 deep");
    memset(s, '-', 4000);
    CHECK_STATUS(eg_expr_parse(s, EG_EXPR_SCORE, NULL, 0, &e), EFFGEN_PARSE);
    CHECK_HAS(effgen_last_error(), "nested more than");
    /* a flat chain is as deep as it is long */
    size_t n = 0;
    for (int i = 0; i < 1000; i++) n += (size_t)sprintf(s + n, "q+");
    sprintf(s + n, "q");
    CHECK_STATUS(eg_expr_parse(s, EG_EXPR_SCORE, NULL, 0, &e), EFFGEN_PARSE);
    CHECK_HAS(effgen_last_error(), "column 256: expression nested more than 128 levels deep");
    /* 127 additions are fine, and so is their canonical text */
    n = 0;
    for (int i = 0; i < 127; i++) n += (size_t)sprintf(s + n, "q+");
    sprintf(s + n, "q");
    if (CHECK_OK(eg_expr_parse(s, EG_EXPR_SCORE, NULL, 0, &e))) eg_expr_free(e);
    /* an input under the limit whose canonical form is over it: "1+1" gains two spaces per '+'; 14
     * groups of 100 additions stay 115 levels deep */
    n = 0;
    for (int g = 0; g < 14; g++) {
        n += (size_t)sprintf(s + n, "%s(1", g ? "*" : "");
        for (int i = 0; i < 100; i++) n += (size_t)sprintf(s + n, "+1");
        n += (size_t)sprintf(s + n, ")");
    }
    CHECK(n <= EG_EXPR_TEXT_MAX);
    CHECK_STATUS(eg_expr_parse(s, EG_EXPR_SCORE, NULL, 0, &e), EFFGEN_PARSE);
    CHECK_HAS(effgen_last_error(), "column 1: the canonical form of this expression has 5681 characters, more than 4096");
    free(s);

    /* bad arguments */
    CHECK_STATUS(eg_expr_parse(NULL, EG_EXPR_SCORE, NULL, 0, &e), EFFGEN_INVALID_ARGUMENT);
    CHECK_STATUS(eg_expr_parse("q", EG_EXPR_SCORE, NULL, 0, NULL), EFFGEN_INVALID_ARGUMENT);
    CHECK_STATUS(eg_expr_parse("q", (eg_expr_kind)7, NULL, 0, &e), EFFGEN_INVALID_ARGUMENT);
    CHECK_STATUS(eg_expr_parse("q", EG_EXPR_SCORE, NULL, 2, &e), EFFGEN_INVALID_ARGUMENT);
    const eg_expr_decl bad[][1] = {{{NULL, EG_EXPR_F32, 1}}, {{"2x", EG_EXPR_F32, 1}}, {{"nq", EG_EXPR_F32, 1}},
                                   {{"x", (eg_expr_dtype)9, 1}}, {{"x", EG_EXPR_F32, 0}}};
    const char *why[] = {"the name is NULL", "identifiers", "name of the language", "element type 9", "rank 0"};
    for (int i = 0; i < 5; i++) {
        CHECK_STATUS(eg_expr_parse("q", EG_EXPR_SCORE, bad[i], 1, &e), EFFGEN_INVALID_ARGUMENT);
        CHECK_HAS(effgen_last_error(), why[i]);
    }
    /* nine tensors: one more than an expression may read */
    eg_expr_decl nine[9];
    char names[9][4];
    char text[256];
    n = 0;
    for (int i = 0; i < 9; i++) {
        snprintf(names[i], sizeof names[i], "x%d", i);
        nine[i] = (eg_expr_decl){names[i], EG_EXPR_F32, 1};
        n += (size_t)snprintf(text + n, sizeof text - n, "%sx%d[q]", i ? " + " : "", i);
    }
    CHECK_STATUS(eg_expr_parse(text, EG_EXPR_SCORE, nine, 9, &e), EFFGEN_PARSE);
    CHECK_HAS(effgen_last_error(), "tensor \"x8\" is one more than the 8 tensors");
    /* non-printable input is shown as '?' and the caret still lines up */
    CHECK_STATUS(eg_expr_parse("score +\x01 1", EG_EXPR_SCORE, NULL, 0, &e), EFFGEN_PARSE);
    CHECK_HAS(effgen_last_error(), "column 8: unexpected character 0x01");
    CHECK_HAS(effgen_last_error(), "\n  score +? 1\n         ^");
    fprintf(stderr, "parse errors: %d cases\n", N_ERRORS);
}

/* ---- evaluation ---- */

static double bf16_round(double x, unsigned short *bits) {
    float f = (float)x;
    uint32_t u;
    memcpy(&u, &f, 4);
    *bits = (unsigned short)(u >> 16); /* truncation: the value is then exact in bf16 */
    u = (uint32_t)*bits << 16;
    memcpy(&f, &u, 4);
    return f;
}

/* fp16 bits of a value that fp16 holds exactly (normal or subnormal) */
static unsigned short half_bits(double v) {
    double a = fabs(v);
    unsigned bits = 0;
    if (a != 0) {
        int e = (int)floor(log2(a));
        if (e >= -14)
            bits = (unsigned)((e + 15) << 10) | (unsigned)(a / ldexp(1, e) * 1024 - 1024);
        else
            bits = (unsigned)(a / ldexp(1, -24));
    }
    return (unsigned short)(bits | (v < 0 ? 0x8000u : 0));
}

enum { NB = 2, NH = 3, NQ = 24, NK = 20 };

static float bias[NH][NQ][NK], slopes[NH], t5[NH][17];
static int doc[32];
static unsigned short hb[NH][NK], bb[NB][NH][NQ][NK];
static double hbv[NH][NK], bbv[NB][NH][NQ][NK];
static unsigned char wv[NK], keepv[NB][NK];

static eg_expr_host_tensor host(const void *data, int rank, const int64_t *size) {
    eg_expr_host_tensor t;
    memset(&t, 0, sizeof t);
    t.data = data;
    int64_t st = 1;
    for (int i = rank - 1; i >= 0; i--) {
        t.size[i] = size[i];
        t.stride[i] = st;
        st *= size[i];
    }
    return t;
}

static void fill(void) {
    unsigned x = 12345;
#define RND() ((x = x * 1103515245u + 12345u), (double)((x >> 8) & 0xffff) / 65536.0 - 0.5)
    for (int h = 0; h < NH; h++) {
        slopes[h] = (float)pow(2.0, -8.0 * (h + 1) / NH);
        for (int i = 0; i < 17; i++) t5[h][i] = (float)RND();
        for (int q = 0; q < NQ; q++)
            for (int k = 0; k < NK; k++) bias[h][q][k] = (float)RND();
        for (int k = 0; k < NK; k++) {
            hbv[h][k] = floor(RND() * 1024) / 1024; /* exact in fp16 */
            hb[h][k] = half_bits(hbv[h][k]);
        }
    }
    for (int b = 0; b < NB; b++)
        for (int h = 0; h < NH; h++)
            for (int q = 0; q < NQ; q++)
                for (int k = 0; k < NK; k++) bbv[b][h][q][k] = bf16_round(RND(), &bb[b][h][q][k]);
    for (int i = 0; i < 32; i++) doc[i] = i / 7;
    for (int k = 0; k < NK; k++) wv[k] = (unsigned char)(k * 13 % 256);
    for (int b = 0; b < NB; b++)
        for (int k = 0; k < NK; k++) keepv[b][k] = (unsigned char)((b + k) % 3 ? 0 : 2 + k);
#undef RND
}

/* Expected values, written out in C. */
static double want_score(int i, double s, int b, int h, int q, int k) {
    switch (i) {
    case 0: return s + t5[h][(q - k < -8 ? -8 : q - k > 8 ? 8 : q - k) + 8];
    case 1: return s - (double)slopes[h] * (q - k);
    case 2: return 30 * tanh(s / 30);
    case 3: return s + bias[h][q][k];
    case 4: return s + hbv[h][k] + bbv[b][h][q][k];
    case 5: return s * (wv[k] + 1);
    case 6: return q >= k ? s : s - 1e4;
    case 7: return s + 0; /* q / (k - k): integer division by zero is 0 */
    case 8: return s + log2(1 + abs(q - k)) - floor(sqrt(q + 0.5)) + ceil(exp(0.1)) * exp2(-1) + log(2);
    case 9: return (double)(q == 1 ? -2147483647 - 1 : 0) + s;
    case 10: return fmin(s, 0.25) + fmax(-s, (double)(q % 5)) + (double)(-7 / 2) + (double)(-7 % 3) + fabs(-s);
    default: return 0;
    }
}

static const char *const score_exprs[] = {
    "score + t5[h, min(max(q - k, -8), 8) + 8]",
    "score - slopes[h] * (q - k)",
    "30 * tanh(score / 30)",
    "score + bias[h, q, k]",
    "score + hb[h, k] + bb[b, h, q, k]",
    "score * (w[k] + 1)",
    "where(q >= k, score, score - 1e4)",
    "score + q / (k - k)",
    "score + log2(1 + abs(q - k)) - floor(sqrt(q + 0.5)) + ceil(exp(0.1)) * exp2(-1) + log(2)",
    "(q == 1 ? 2147483647 + q : 0) + score",
    "min(score, 0.25) + max(-score, q % 5) + -7 / 2 + -7 % 3 + abs(-score)",
};
#define N_SCORE ((int)(sizeof score_exprs / sizeof score_exprs[0]))

static int want_mask(int i, int b, int h, int q, int k) {
    (void)h;
    switch (i) {
    case 0: return q - k < 256 && q >= k;
    case 1: return doc[q] == doc[k];
    case 2: return q / 8 == k / 8;
    case 3: return k < 4 || k <= q;
    case 4: return keepv[b][k] != 0 && wv[k] != 0;
    case 5: return k < 4 ? doc[k + 28] == 4 : q != k; /* doc[k + 28] is only read for k < 4 */
    case 6: return !(q < k) && (q - k) % 3 != 1;
    case 7: return q >= 2 && (doc[q - 2] != 0 || k == 0);
    default: return 0;
    }
}

static const char *const mask_exprs[] = {
    "q - k < 256 && q >= k",
    "doc[q] == doc[k]",
    "q / 8 == k / 8",
    "k < 4 || k <= q",
    "keep[b, k] && w[k] != 0",
    "k < 4 ? doc[k + 28] == 4 : q != k",
    "!(q < k) && (q - k) % 3 != 1",
    "q >= 2 && (doc[q - 2] != 0 || k == 0)",
};
#define N_MASK ((int)(sizeof mask_exprs / sizeof mask_exprs[0]))

/* Host tensors in the expression's slot order, found by name. */
static int tensors_for(const eg_expr *e, eg_expr_host_tensor *t) {
    static const int64_t s_bias[] = {NH, NQ, NK}, s_slopes[] = {NH}, s_doc[] = {32}, s_t5[] = {NH, 17},
                         s_hb[] = {NH, NK}, s_bb[] = {NB, NH, NQ, NK}, s_w[] = {NK}, s_keep[] = {NB, NK};
    int n = eg_expr_tensor_count(e);
    for (int i = 0; i < n; i++) {
        eg_expr_decl d;
        eg_expr_tensor(e, i, &d);
        const char *nm = d.name;
        t[i] = !strcmp(nm, "bias")     ? host(bias, 3, s_bias)
               : !strcmp(nm, "slopes") ? host(slopes, 1, s_slopes)
               : !strcmp(nm, "doc")    ? host(doc, 1, s_doc)
               : !strcmp(nm, "t5")     ? host(t5, 2, s_t5)
               : !strcmp(nm, "hb")     ? host(hb, 2, s_hb)
               : !strcmp(nm, "bb")     ? host(bb, 4, s_bb)
               : !strcmp(nm, "w")      ? host(wv, 1, s_w)
                                       : host(keepv, 2, s_keep);
    }
    return n;
}

static void evaluation(void) {
    fill();
    for (int i = 0; i < N_SCORE; i++) {
        eg_expr *e = NULL;
        if (!CHECK_OK(eg_expr_parse(score_exprs[i], EG_EXPR_SCORE, decls, N_DECLS, &e))) continue;
        eg_expr_host_tensor t[EG_EXPR_TENSORS_MAX];
        int nt = tensors_for(e, t);
        int bad = 0;
        for (int b = 0; b < NB; b++)
            for (int h = 0; h < NH; h++)
                for (int q = 0; q < NQ; q++)
                    for (int k = 0; k < NK; k++) {
                        double s = 0.37 * (q - k) + 0.11 * h - 0.05 * b, got = NAN;
                        effgen_status st = eg_expr_eval_score(e, s, b, h, q, k, NQ, NK, t, nt, &got);
                        double want = want_score(i, s, b, h, q, k);
                        if (st || !(fabs(got - want) <= 1e-12 * (1 + fabs(want)))) {
                            if (!bad++)
                                CHECK_STATUS(st, EFFGEN_OK), CHECK(0 && "score value"),
                                    fprintf(stderr, "  %s at b=%d h=%d q=%d k=%d: %.17g, expected %.17g\n",
                                            score_exprs[i], b, h, q, k, got, want);
                        }
                    }
        CHECK_INT(bad, 0);
        eg_expr_free(e);
    }
    for (int i = 0; i < N_MASK; i++) {
        eg_expr *e = NULL;
        if (!CHECK_OK(eg_expr_parse(mask_exprs[i], EG_EXPR_MASK, decls, N_DECLS, &e))) continue;
        eg_expr_host_tensor t[EG_EXPR_TENSORS_MAX];
        int nt = tensors_for(e, t);
        int bad = 0, seen = 0;
        for (int b = 0; b < NB; b++)
            for (int h = 0; h < NH; h++)
                for (int q = 0; q < NQ; q++)
                    for (int k = 0; k < NK; k++) {
                        int got = -1;
                        effgen_status st = eg_expr_eval_mask(e, b, h, q, k, NQ, NK, t, nt, &got);
                        if (st || got != want_mask(i, b, h, q, k)) {
                            if (!bad++)
                                fprintf(stderr, "  %s at b=%d h=%d q=%d k=%d: %d (%s)\n", mask_exprs[i], b, h, q, k,
                                        got, effgen_last_error());
                        }
                        seen += got == 1;
                    }
        CHECK_INT(bad, 0);
        CHECK(seen > 0 && seen < NB * NH * NQ * NK); /* each mask both shows and hides */
        eg_expr_free(e);
    }
    fprintf(stderr, "evaluation: %d score and %d mask expressions\n", N_SCORE, N_MASK);

    /* refusals of the evaluator */
    eg_expr *e = NULL;
    double d;
    int m;
    if (CHECK_OK(eg_expr_parse("score + doc[k + 30]", EG_EXPR_SCORE, decls, N_DECLS, &e))) {
        eg_expr_host_tensor t[1];
        tensors_for(e, t);
        CHECK_OK(eg_expr_eval_score(e, 1.0, 0, 0, 0, 1, 4, 4, t, 1, &d));
        CHECK(d == 5.0);
        CHECK_STATUS(eg_expr_eval_score(e, 1.0, 0, 0, 0, 2, 4, 4, t, 1, &d), EFFGEN_INVALID_ARGUMENT);
        CHECK_HAS(effgen_last_error(), "tensor \"doc\": index 1 = 32 out of range [0, 32)");
        CHECK_STATUS(eg_expr_eval_score(e, 1.0, 0, 0, 0, 1, 4, 4, t, 0, &d), EFFGEN_INVALID_ARGUMENT);
        CHECK_STATUS(eg_expr_eval_score(e, 1.0, 0, 0, 0, 1, 4, 4, NULL, 1, &d), EFFGEN_INVALID_ARGUMENT);
        CHECK_STATUS(eg_expr_eval_mask(e, 0, 0, 0, 1, 4, 4, t, 1, &m), EFFGEN_INVALID_ARGUMENT);
        CHECK_HAS(effgen_last_error(), "is a score expression, evaluated as a mask");
        t[0].data = NULL;
        CHECK_STATUS(eg_expr_eval_score(e, 1.0, 0, 0, 0, 1, 4, 4, t, 1, &d), EFFGEN_INVALID_ARGUMENT);
        CHECK_STATUS(eg_expr_eval_score(e, 1.0, 0, 0, 0, 1, 4, 4, t, 1, NULL), EFFGEN_INVALID_ARGUMENT);
        eg_expr_free(e);
    }
    /* float semantics: IEEE in double */
    if (CHECK_OK(eg_expr_parse("score / 0 + log(0.0 * score)", EG_EXPR_SCORE, NULL, 0, &e))) {
        CHECK_OK(eg_expr_eval_score(e, 1.0, 0, 0, 0, 0, 1, 1, NULL, 0, &d));
        CHECK(isnan(d)); /* inf + -inf */
        eg_expr_free(e);
    }
    /* int semantics: 32-bit wrap, x / 0 = x % 0 = 0, INT_MIN / -1 = INT_MIN */
    if (CHECK_OK(eg_expr_parse("(q * 65536 * 65536 == 0 && k / 0 == 0 && k % 0 == 0 && (-2147483647 - q) / -1 == "
                               "-2147483647 - q && (-2147483647 - q) % -1 == 0 && abs(-2147483647 - q) < 0)",
                               EG_EXPR_MASK, NULL, 0, &e))) {
        CHECK_OK(eg_expr_eval_mask(e, 0, 0, 1, 5, 1, 1, NULL, 0, &m));
        CHECK_INT(m, 1);
        eg_expr_free(e);
    }
    eg_expr_free(NULL);
}

/* ---- CUDA emission and NVRTC ---- */

/* Covers every operator, every function, every element type, a lazy branch of each kind and both
 * default names. */
static const struct {
    eg_expr_kind kind;
    const char *text;
} emitted[] = {
    {EG_EXPR_SCORE, "score - slopes[h] * (q - k) + bias[h, q, k] + t5[h, min(max(q - k, -8), 8) + 8]"},
    {EG_EXPR_MASK, "q - k < 256 && q >= k || doc[q] == doc[k] && !(q != k) && q <= nq && k > -1 && nk >= 0"},
    {EG_EXPR_SCORE, "30 * tanh(score / 30) + abs(score) + abs(q) + min(score, 1) + max(q, 2.5) + exp(score) + "
                    "exp2(q) + log(1 + score * score) + log2(nq) + sqrt(nk) + floor(score) + ceil(0.5) + q % 7 + q / 3"},
    {EG_EXPR_SCORE, "score + hb[h, k] + bb[b, h, q, k] + w[k] * 2 + (keep[b, k] ? 1.0 : -1e30) + -score + -q"},
    {EG_EXPR_MASK, "k < 4 ? doc[k] == 1 : keep[b, k]"},
    {EG_EXPR_MASK, "q < 2 || keep[b, q] == true && w[k] % 2 == 0"},
    {EG_EXPR_SCORE, "where(q >= k, score, score - 1e4) + (true ? 1 : 2) + (q > 1 ? 0.5 : 1)"},
};
#define N_EMITTED ((int)(sizeof emitted / sizeof emitted[0]))

static void emission(void) {
    eg_expr *ex[N_EMITTED] = {0};
    eg_emit em;
    eg_emit_init(&em);
    eg_emit_line(&em, "#include \"eg_prelude.cuh\"");
    eg_expr_emit_prelude(&em);
    int ok = 1;
    for (int i = 0; i < N_EMITTED; i++) {
        if (!CHECK_OK(eg_expr_parse(emitted[i].text, emitted[i].kind, decls, N_DECLS, &ex[i]))) {
            ok = 0;
            continue;
        }
        char name[16];
        snprintf(name, sizeof name, "fn%d", i);
        /* the first score and the first mask keep the default names; the rest share slots from 0 */
        CHECK_OK(eg_expr_emit(ex[i], &em, i < 2 ? NULL : name, 0));
    }
    if (!ok) {
        for (int i = 0; i < N_EMITTED; i++) eg_expr_free(ex[i]);
        free(em.buf);
        return;
    }
    /* a kernel calling each of them once per (q, k) */
    eg_emit_open(&em, "extern \"C\" __global__ void expr_test(const eg::ExprTensors t, float *out, int nq, int nk)");
    eg_emit_line(&em, "const int q = blockIdx.x, k = threadIdx.x, b = blockIdx.y, h = blockIdx.z;");
    eg_emit_line(&em, "const float s = (float)(q - k) * 0.125f;");
    eg_emit_line(&em, "float acc = 0.f;");
    for (int i = 0; i < N_EMITTED; i++) {
        char name[16];
        snprintf(name, sizeof name, "fn%d", i);
        const char *fn = i == 0 ? "score_mod" : i == 1 ? "mask_mod" : name;
        if (emitted[i].kind == EG_EXPR_SCORE)
            eg_emit_line(&em, "acc += eg::%s(s, b, h, q, k, nq, nk, t);", fn);
        else
            eg_emit_line(&em, "acc += eg::%s(b, h, q, k, nq, nk, t) ? 1.f : 0.f;", fn);
    }
    eg_emit_line(&em, "out[(((long long)b * gridDim.z + h) * nq + q) * nk + k] = acc;");
    eg_emit_close(&em, "");
    char *src = NULL;
    if (!CHECK_OK(eg_emit_finish(&em, &src))) goto done;

    CHECK_HAS(src, "__device__ __forceinline__ float score_mod(float score, int b, int h, int q, int k, int nq, int nk, "
                   "const ExprTensors &t)");
    CHECK_HAS(src, "__device__ __forceinline__ bool mask_mod(int b, int h, int q, int k, int nq, int nk, "
                   "const ExprTensors &t)");
    CHECK_HAS(src, "expr_ld_f16(");
    CHECK_HAS(src, "expr_ld_bf16(");
    CHECK_HAS(src, "expr_ld_u8(");
    CHECK_HAS(src, "expr_ld_bool(");
    CHECK_HAS(src, "expr_ld_i32(");
    CHECK_HAS(src, "} else {"); /* the lazy ?: of fn4 */
    CHECK_HAS(src, "if (!v");    /* the lazy || of mask_mod */
    /* bad emission arguments */
    eg_emit e2;
    eg_emit_init(&e2);
    CHECK_STATUS(eg_expr_emit(ex[0], &e2, NULL, 6), EFFGEN_INVALID_ARGUMENT); /* 3 tensors from slot 6 */
    CHECK_STATUS(eg_expr_emit(ex[0], &e2, "2x", 0), EFFGEN_INVALID_ARGUMENT);
    CHECK_STATUS(eg_expr_emit(NULL, &e2, NULL, 0), EFFGEN_INVALID_ARGUMENT);
    CHECK_OK(eg_expr_emit(ex[0], &e2, NULL, 5));
    CHECK_HAS(e2.buf, "t.ptr[7]");
    free(e2.buf);
    /* the host mirror of the table has the device layout: 8 pointers, then 8 x 4 int64 strides */
    CHECK_INT(sizeof(eg_expr_tensors), 8 * 8 + 8 * 4 * 8);

    const eg_rt_nvrtc *nv = NULL;
    effgen_status st = eg_rt_nvrtc_load(&nv);
    if (st != EFFGEN_OK) {
        fprintf(stderr, "NVRTC unavailable: %s\n", effgen_last_error());
        if (getenv("EFFGEN_ALLOW_NO_NVRTC"))
            fprintf(stderr, "EFFGEN_ALLOW_NO_NVRTC is set: skipping the NVRTC compile of the emitted functions\n");
        else
            CHECK_OK(st);
        goto done;
    }
    const char **hdr = malloc(sizeof *hdr * (size_t)eg_template_count);
    const char **inc = malloc(sizeof *inc * (size_t)eg_template_count);
    void *prog = NULL;
    if (CHECK(hdr && inc)) {
        for (int i = 0; i < eg_template_count; i++) hdr[i] = eg_templates[i].text, inc[i] = eg_templates[i].name;
        if (CHECK_INT(nv->nvrtcCreateProgram(&prog, src, "expr_test.cu", eg_template_count, hdr, inc), 0)) {
            const char *opts[] = {"--gpu-architecture=sm_80", "-std=c++17"};
            int cr = nv->nvrtcCompileProgram(prog, 2, opts);
            size_t log_size = 0;
            char *log = NULL;
            if (nv->nvrtcGetProgramLogSize(prog, &log_size) == 0 && log_size > 1 && (log = malloc(log_size + 1))) {
                nv->nvrtcGetProgramLog(prog, log);
                log[log_size] = 0;
            }
            if (!CHECK_INT(cr, 0)) fprintf(stderr, "NVRTC log:\n%s\nsource:\n%s\n", log ? log : "", src);
            size_t size = 0;
            if (cr == 0 && CHECK_INT(nv->nvrtcGetCUBINSize(prog, &size), 0)) CHECK(size > 0);
            fprintf(stderr, "NVRTC sm_80: %d expression functions compiled, cubin %zu bytes\n", N_EMITTED, size);
            free(log);
            nv->nvrtcDestroyProgram(&prog);
        }
    }
    free(hdr);
    free(inc);
done:
    if (getenv("EFFGEN_EXPR_SHOW") && src) fputs(src, stdout);
    free(src);
    for (int i = 0; i < N_EMITTED; i++) eg_expr_free(ex[i]);
}

/* score + E, E + score and score - E (E free of the score) are additive; the term is emitted alone, negated
 * for score - E; anything else is not, and its term is refused. */
static void additive(void) {
    static const struct {
        const char *text;
        eg_expr_kind kind;
        int additive;
        const char *has;
    } cases[] = {
        {"score + bias[h, q, k]; bias: f32[3]", EG_EXPR_SCORE, 1, "return v"},
        {"exp2(-0.5 * (h + 1)) * abs(q - k) + score", EG_EXPR_SCORE, 1, "return v"},
        {"score - slopes[h] * (q - k); slopes: f32[1]", EG_EXPR_SCORE, 1, "return -v"},
        {"score + h", EG_EXPR_SCORE, 1, "return (float)v"},
        {"h - score", EG_EXPR_SCORE, 0, NULL},
        {"score * 0.5 + h", EG_EXPR_SCORE, 0, NULL},
        {"score + score", EG_EXPR_SCORE, 0, NULL},
        {"score + (q < k ? score : 0)", EG_EXPR_SCORE, 0, NULL},
        {"30 * tanh(score / 30)", EG_EXPR_SCORE, 0, NULL},
        {"q >= k", EG_EXPR_MASK, 0, NULL},
    };
    for (int i = 0; i < (int)(sizeof cases / sizeof cases[0]); i++) {
        eg_expr *x = NULL;
        if (!CHECK_OK(eg_expr_parse(cases[i].text, cases[i].kind, NULL, 0, &x))) continue;
        if (!CHECK_INT(eg_expr_additive(x), cases[i].additive)) fprintf(stderr, "  (%s)\n", cases[i].text);
        eg_emit em;
        eg_emit_init(&em);
        if (cases[i].additive) {
            if (CHECK_OK(eg_expr_emit_term(x, &em, "term", 0))) {
                CHECK_HAS(em.buf, "__device__ __forceinline__ float term(int b, int h, int q, int k, int nq, int nk, "
                                  "const ExprTensors &t)");
                CHECK_HAS(em.buf, cases[i].has);
                CHECK(strstr(em.buf, "v0 = score") == NULL && strstr(em.buf, "= score;") == NULL);
            }
            CHECK_STATUS(eg_expr_emit_term(x, &em, "1x", 0), EFFGEN_INVALID_ARGUMENT);
            if (eg_expr_tensor_count(x)) CHECK_STATUS(eg_expr_emit_term(x, &em, "term", 8), EFFGEN_INVALID_ARGUMENT);
        } else {
            CHECK_STATUS(eg_expr_emit_term(x, &em, "term", 0), EFFGEN_INVALID_ARGUMENT);
            CHECK_HAS(effgen_last_error(), "score + E");
        }
        free(em.buf);
        eg_expr_free(x);
    }
    CHECK_INT(eg_expr_additive(NULL), 0);
}

/* Tile classification: sound on every tile (0: every pair hidden, 1: every pair visible, checked against the
 * evaluator pair by pair), and tight enough to decide the tiles of a window, a prefix and a band; tensor
 * reads of i32 and bool are unknown, of u8 within 0..255; int overflow is unknown. */
static void tile_ranges(void) {
    static const struct {
        const char *text;
        int decides; /* some tile must come out 0 and some 1 */
        int useful;  /* some comparison of ints reads no tensor */
    } cases[] = {
        {"q >= k && q - k < 256", 1, 1},
        {"k < 16 || k <= q", 1, 1},
        {"abs(q - k) <= 40", 1, 1},
        {"q - k < 8 && q >= k", 0, 1}, /* a band of 8: few random tiles lie wholly inside */
        {"!(q + nk - nq - k < 100)", 1, 1},
        {"(q < k ? q - k : k - q) > -64", 1, 1},
        {"min(q, k) > 100 == (b == 1)", 1, 1},
        {"max(q - 600, 0) * 3 + k / 2 < 900 || h == 2", 0, 1},
        {"q % 3 != 0 || k < 0", 0, 1},
        {"q * 65536 * 65536 > k", 0, 1},
        {"w[k] < 300 && q >= k", 1, 1},
        {"doc[q] == doc[k] && q >= k", 0, 1},
        {"keep[0, q] || -q < -k", 0, 1},
        {"q >= k - 0.5", 0, 0},
        {"q / 128 == k / 128", 1, 1}, /* chunks of 128 */
        {"(q - 500) / 50 == (k - 500) / 50 && q >= k", 1, 1}, /* negative dividends truncate toward zero */
        {"(k - 600) % 50 < -40 || q < 20", 0, 1},
        {"(q - k) % 100 >= 0", 1, 1},
        {"q / (k + 1) < 2", 1, 1},
        {"q / (k - 500) > 1 || (q - k) / 0 != 0", 0, 1}, /* divisors through 0, and 0 */
        {"(q + k) % (h + 7) != 3 && k - q < 300", 0, 1},
    };
    enum { NQ = 700, NK = 1000 };
    static int32_t doc[1000];
    static uint8_t w[1000], keep[1000];
    for (int i = 0; i < 1000; i++) doc[i] = i / 9, w[i] = (uint8_t)(i * 37 % 256), keep[i] = (uint8_t)(i % 5 == 0);
    unsigned rng = 12345u;
    for (int c = 0; c < (int)(sizeof cases / sizeof cases[0]); c++) {
        eg_expr *x = NULL;
        if (!CHECK_OK(eg_expr_parse(cases[c].text, EG_EXPR_MASK, decls, N_DECLS, &x))) continue;
        eg_expr_host_tensor t[EG_EXPR_TENSORS_MAX];
        memset(t, 0, sizeof t);
        for (int i = 0; i < eg_expr_tensor_count(x); i++) {
            eg_expr_decl d;
            eg_expr_tensor(x, i, &d);
            t[i].data = !strcmp(d.name, "doc") ? (const void *)doc : !strcmp(d.name, "w") ? (const void *)w : (const void *)keep;
            t[i].size[0] = d.rank == 2 ? 1 : 1000, t[i].size[1] = 1000;
            t[i].stride[0] = d.rank == 2 ? 1000 : 1, t[i].stride[1] = 1;
        }
        int seen[3] = {0, 0, 0}, bad = 0;
        for (int tile = 0; tile < 300; tile++) {
            rng = rng * 1103515245u + 12345u;
            const int qs = 1 + (int)(rng >> 8) % 64, ks = 1 + (int)(rng >> 16) % 64;
            rng = rng * 1103515245u + 12345u;
            const int qlo = (int)(rng >> 8) % (NQ - qs + 1), klo = (int)(rng >> 12) % (NK - ks + 1);
            const int b = tile % 2, h = tile % 3;
            int cls = -1;
            if (!CHECK_OK(eg_expr_mask_range(x, b, h, qlo, qlo + qs - 1, klo, klo + ks - 1, NQ, NK, &cls))) break;
            if (!CHECK(cls >= 0 && cls <= 2)) break;
            seen[cls]++;
            if (cls == 2) continue;
            for (int q = qlo; q < qlo + qs; q++)
                for (int k = klo; k < klo + ks; k++) {
                    int m = -1;
                    if (eg_expr_eval_mask(x, b, h, q, k, NQ, NK, t, eg_expr_tensor_count(x), &m) != EFFGEN_OK ||
                        m != cls) {
                        if (bad++ < 3)
                            fprintf(stderr, "  %s: tile q %d..%d k %d..%d classed %d, (%d, %d) gives %d\n",
                                    cases[c].text, qlo, qlo + qs - 1, klo, klo + ks - 1, cls, q, k, m);
                    }
                }
        }
        CHECK_INT(bad, 0);
        if (cases[c].decides && !(CHECK(seen[0] > 0) && CHECK(seen[1] > 0)))
            fprintf(stderr, "  %s: tiles 0/1/2: %d/%d/%d\n", cases[c].text, seen[0], seen[1], seen[2]);
        /* useful exactly where some comparison of ints reads no tensor */
        const int useful = eg_expr_range_useful(x);
        if (!CHECK_INT(useful, cases[c].useful))
            fprintf(stderr, "  %s: useful %d\n", cases[c].text, useful);
        /* the emitted function names its result and the helpers it uses */
        eg_emit em;
        eg_emit_init(&em);
        if (CHECK_OK(eg_expr_emit_range(x, &em, "range_fn"))) {
            CHECK_HAS(em.buf, "__device__ __forceinline__ int range_fn(int b, int h, int qlo, int qhi, int klo, int khi, "
                              "int nq, int nk)");
            CHECK_HAS(em.buf, "return r");
        }
        free(em.buf);
        eg_expr_free(x);
    }
    /* bad arguments */
    eg_expr *sx = NULL, *mx = NULL;
    int cls = 0;
    if (CHECK_OK(eg_expr_parse("score + 1", EG_EXPR_SCORE, NULL, 0, &sx)) &&
        CHECK_OK(eg_expr_parse("q >= k", EG_EXPR_MASK, NULL, 0, &mx))) {
        CHECK_STATUS(eg_expr_mask_range(sx, 0, 0, 0, 1, 0, 1, 2, 2, &cls), EFFGEN_INVALID_ARGUMENT);
        CHECK_STATUS(eg_expr_mask_range(mx, 0, 0, 5, 4, 0, 1, 8, 8, &cls), EFFGEN_INVALID_ARGUMENT);
        CHECK_HAS(effgen_last_error(), "empty tile");
        CHECK_STATUS(eg_expr_mask_range(mx, 0, 0, 0, 1, 0, 1, 2, 2, NULL), EFFGEN_INVALID_ARGUMENT);
        CHECK_INT(eg_expr_range_useful(sx), 0);
        eg_emit em;
        eg_emit_init(&em);
        CHECK_STATUS(eg_expr_emit_range(sx, &em, "f"), EFFGEN_INVALID_ARGUMENT);
        CHECK_STATUS(eg_expr_emit_range(mx, &em, "9f"), EFFGEN_INVALID_ARGUMENT);
        free(em.buf);
    }
    eg_expr_free(sx);
    eg_expr_free(mx);
}

/* Which expressions read the batch index (and so which tensors may differ between batch entries). */
static void batch_reads(void) {
    static const struct {
        const char *text;
        eg_expr_kind kind;
        int reads;
    } cases[] = {
        {"score + bias[h, q, k]; bias: f32[3]", EG_EXPR_SCORE, 0},
        {"score + bias[b, h, q, k]; bias: f32[4]", EG_EXPR_SCORE, 1},
        {"doc[b, q] == doc[b, k]; doc: i32[2]", EG_EXPR_MASK, 1},
        {"keep[min(b, 0), q] || q >= k; keep: bool[2]", EG_EXPR_MASK, 1},
        {"q - k < 128", EG_EXPR_MASK, 0},
        {"score * (b + 1)", EG_EXPR_SCORE, 1},
    };
    for (int i = 0; i < (int)(sizeof cases / sizeof cases[0]); i++) {
        eg_expr *x = NULL;
        if (!CHECK_OK(eg_expr_parse(cases[i].text, cases[i].kind, NULL, 0, &x))) continue;
        if (!CHECK_INT(eg_expr_reads_batch(x), cases[i].reads)) fprintf(stderr, "  %s\n", cases[i].text);
        eg_expr_free(x);
    }
    CHECK_INT(eg_expr_reads_batch(NULL), 0);
}

int main(void) {
    batch_reads();
    tile_ranges();
    additive();
    canonical_text();
    parse_errors();
    evaluation();
    emission();
    return T_DONE();
}
