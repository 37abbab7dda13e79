/* expr.c - user score/mask expressions: lexer, depth-limited recursive-descent parser that types every
 * node as it builds it, the canonical printer and its hash, the CUDA emitter (one SSA line per node,
 * branches only where a tensor read must not run) and the double-precision evaluator of the reference. */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "../templates/eg_range.cuh"

/* ---- the language's tables ---- */

enum { T_INT, T_FLOAT, T_BOOL };
static const char *const type_names[] = {"int", "float", "bool"};

enum { N_INT, N_FLOAT, N_BOOL, N_VAR, N_INDEX, N_CALL, N_NEG, N_NOT, N_BIN, N_COND };

enum { B_OR, B_AND, B_EQ, B_NE, B_LT, B_LE, B_GT, B_GE, B_ADD, B_SUB, B_MUL, B_DIV, B_MOD, N_BINOPS };
static const char *const binop_text[N_BINOPS] = {"||", "&&", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%"};
static const int binop_prec[N_BINOPS] = {2, 3, 4, 4, 5, 5, 5, 5, 6, 6, 7, 7, 7};
#define PREC_COND 1
#define PREC_UNARY 8
#define PREC_PRIMARY 9

enum { V_SCORE, V_B, V_H, V_Q, V_K, V_NQ, V_NK, N_VARS };
static const char *const var_names[N_VARS] = {"score", "b", "h", "q", "k", "nq", "nk"};

enum { F_ABS, F_MIN, F_MAX, F_EXP, F_EXP2, F_LOG, F_LOG2, F_SQRT, F_TANH, F_FLOOR, F_CEIL, F_WHERE, N_FUNCS };
static const char *const func_names[N_FUNCS] = {"abs", "min", "max", "exp", "exp2", "log",
                                                "log2", "sqrt", "tanh", "floor", "ceil", "where"};
static const int func_arity[N_FUNCS] = {1, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 3};
/* CUDA single-precision names of the one-argument float functions (F_EXP .. F_CEIL) */
static const char *const func_cuda[N_FUNCS] = {"fabsf", "fminf", "fmaxf", "expf", "exp2f", "logf",
                                               "log2f", "sqrtf", "tanhf", "floorf", "ceilf", NULL};

static const char *const dtype_names[] = {"f32", "f16", "bf16", "i32", "u8", "bool"};
#define N_DTYPES 6

const char *eg_expr_dtype_name(eg_expr_dtype t) {
    return (int)t >= 0 && (int)t < N_DTYPES ? dtype_names[t] : NULL;
}

static int dtype_value_type(int dt) {
    return dt <= EG_EXPR_BF16 ? T_FLOAT : dt == EG_EXPR_BOOL ? T_BOOL : T_INT;
}

static int lookup(const char *const *names, int n, const char *s, size_t len) {
    for (int i = 0; i < n; i++)
        if (strlen(names[i]) == len && !strncmp(names[i], s, len)) return i;
    return -1;
}

/* ---- the AST ---- */

typedef struct node {
    unsigned char op;    /* N_* */
    unsigned char type;  /* T_*: the value this node gives */
    unsigned char otype; /* operands' common type (comparisons, min/max, the branches of ?:) */
    unsigned char sub;   /* B_*, V_*, F_* or the tensor slot */
    unsigned char nkid;
    unsigned char loads; /* reads a tensor somewhere below */
    short height;
    int col;             /* 1-based column of the token that made it (an operator's) */
    int first;           /* column where its text starts (for messages about a whole argument) */
    int kid[EG_EXPR_RANK_MAX];
    int ival;
    double fval;
} node;

typedef struct tensor {
    char name[EG_EXPR_NAME_MAX + 1];
    int dtype, rank;
} tensor;

struct eg_expr {
    eg_expr_kind kind;
    node *nodes;
    int n_nodes, root;
    int n_tensors;
    tensor tensors[EG_EXPR_TENSORS_MAX];
    char *text; /* canonical */
    uint64_t hash;
};

/* ---- lexer ---- */

enum { K_END, K_INT, K_FLOAT, K_IDENT, K_OP };

typedef struct tok {
    int kind;
    int col;
    int len;
    const char *s;
    int ival;
    double fval;
} tok;

#define MAX_DECLS 32

typedef struct decl {
    char name[EG_EXPR_NAME_MAX + 1];
    int dtype, rank;
    int slot; /* -1 until the expression reads it */
} decl;

typedef struct parser {
    const char *text;
    size_t len;
    eg_expr_kind kind;
    tok *toks;
    int ntok, pos, end; /* end: the token that ends the expression (';' or the end) */
    node *nodes;
    int nn;
    int nest;
    decl decls[MAX_DECLS];
    int nd;
    int n_used;
    int failed, err_col;
    char msg[768];
} parser;

static int fail(parser *p, int col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(parser *p, int col, const char *fmt, ...) {
    if (p->failed) return -1;
    p->failed = 1;
    p->err_col = col;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->msg, sizeof p->msg, fmt, ap);
    va_end(ap);
    return -1;
}

static int is_ident_start(int c) { return isalpha(c) || c == '_'; }
static int is_ident_char(int c) { return isalnum(c) || c == '_'; }

/* Scan a number at s; fills t. Returns 0, or -1 after fail(). */
static int lex_number(parser *p, const char *s, tok *t) {
    const char *q = s;
    int is_float = 0;
    while (isdigit((unsigned char)*q)) q++;
    if (*q == '.') {
        is_float = 1;
        q++;
        while (isdigit((unsigned char)*q)) q++;
    }
    if ((*q == 'e' || *q == 'E') &&
        (isdigit((unsigned char)q[1]) || ((q[1] == '+' || q[1] == '-') && isdigit((unsigned char)q[2])))) {
        is_float = 1;
        q += 2;
        while (isdigit((unsigned char)*q)) q++;
    }
    t->len = (int)(q - s);
    if (is_ident_char((unsigned char)*q) || *q == '.') {
        const char *r = q;
        while (is_ident_char((unsigned char)*r) || *r == '.') r++;
        return fail(p, t->col, "malformed number \"%.*s\"", (int)(r - s) > 40 ? 40 : (int)(r - s), s);
    }
    if (t->len > 64) return fail(p, t->col, "number \"%.20s...\" is longer than 64 characters", s);
    char buf[72];
    memcpy(buf, s, (size_t)t->len);
    buf[t->len] = 0;
    if (!is_float) {
        long long v = 0;
        for (const char *c = buf; *c; c++) {
            v = v * 10 + (*c - '0');
            if (v > 2147483647LL)
                return fail(p, t->col, "integer literal \"%s\" out of range (at most 2147483647)", buf);
        }
        t->kind = K_INT;
        t->ival = (int)v;
        return 0;
    }
    errno = 0;
    double v = strtod(buf, NULL);
    if (errno == ERANGE && fabs(v) > 1.0) v = HUGE_VAL;
    if (!(v <= FLT_MAX))
        return fail(p, t->col, "float literal \"%s\" out of range for fp32 (at most %g)", buf, (double)FLT_MAX);
    t->kind = K_FLOAT;
    t->fval = v;
    return 0;
}

/* Tokens of the whole text; the array ends with a K_END token. */
static int lex(parser *p) {
    p->toks = malloc(sizeof *p->toks * (p->len + 1));
    if (!p->toks) return -2;
    const char *s = p->text;
    int n = 0;
    for (size_t i = 0; i < p->len;) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            i++;
            continue;
        }
        tok *t = &p->toks[n];
        memset(t, 0, sizeof *t);
        t->col = (int)i + 1;
        t->s = s + i;
        if (isdigit(c) || (c == '.' && isdigit((unsigned char)s[i + 1]))) {
            if (lex_number(p, s + i, t)) return -1;
        } else if (is_ident_start(c)) {
            size_t j = i;
            while (j < p->len && is_ident_char((unsigned char)s[j])) j++;
            t->kind = K_IDENT;
            t->len = (int)(j - i);
        } else {
            static const char *const two[] = {"<=", ">=", "==", "!=", "&&", "||"};
            t->kind = K_OP;
            t->len = 0;
            for (int k = 0; k < 6; k++)
                if (s[i] == two[k][0] && s[i + 1] == two[k][1]) t->len = 2;
            if (!t->len) {
                if (c == '=') return fail(p, t->col, "unexpected \"=\" (equality is \"==\")");
                if (c == '&') return fail(p, t->col, "unexpected \"&\" (logical and is \"&&\")");
                if (c == '|') return fail(p, t->col, "unexpected \"|\" (logical or is \"||\")");
                if (!strchr("+-*/%<>!?:()[],;", c)) {
                    if (isprint(c)) return fail(p, t->col, "unexpected character \"%c\"", c);
                    return fail(p, t->col, "unexpected character 0x%02x", c);
                }
                t->len = 1;
            }
        }
        i += (size_t)t->len;
        n++;
    }
    memset(&p->toks[n], 0, sizeof p->toks[n]);
    p->toks[n].kind = K_END;
    p->toks[n].col = (int)p->len + 1;
    p->toks[n].s = s + p->len;
    p->ntok = n;
    return 0;
}

static int is_op(const tok *t, const char *op) {
    return t->kind == K_OP && (size_t)t->len == strlen(op) && !strncmp(t->s, op, (size_t)t->len);
}

/* A token as messages show it. */
static const char *tok_desc(const tok *t, char *buf, size_t size) {
    if (t->kind == K_END) return "end of input";
    snprintf(buf, size, "\"%.*s\"", t->len > 40 ? 40 : t->len, t->s);
    return buf;
}

/* ---- names ---- */

static int reserved(const char *s, size_t len) {
    return lookup(var_names, N_VARS, s, len) >= 0 || lookup(func_names, N_FUNCS, s, len) >= 0 ||
           (len == 4 && !strncmp(s, "true", 4)) || (len == 5 && !strncmp(s, "false", 5));
}

static int find_decl(const parser *p, const char *s, size_t len) {
    for (int i = 0; i < p->nd; i++)
        if (strlen(p->decls[i].name) == len && !strncmp(p->decls[i].name, s, len)) return i;
    return -1;
}

/* Add a declaration; why is NULL on success, else the reason it was refused. */
static const char *add_decl(parser *p, const char *s, size_t len, int dtype, int rank, char *why, size_t wsize) {
    if (len == 0 || len > EG_EXPR_NAME_MAX || !is_ident_start((unsigned char)s[0])) {
        snprintf(why, wsize, "tensor names are identifiers of 1 to %d characters", EG_EXPR_NAME_MAX);
        return why;
    }
    for (size_t i = 0; i < len; i++)
        if (!is_ident_char((unsigned char)s[i])) {
            snprintf(why, wsize, "tensor names are identifiers of 1 to %d characters", EG_EXPR_NAME_MAX);
            return why;
        }
    if (reserved(s, len)) {
        snprintf(why, wsize, "\"%.*s\" is a name of the language, not available for a tensor", (int)len, s);
        return why;
    }
    if (dtype < 0 || dtype >= N_DTYPES) {
        snprintf(why, wsize, "element type %d: must be f32, f16, bf16, i32, u8 or bool", dtype);
        return why;
    }
    if (rank < 1 || rank > EG_EXPR_RANK_MAX) {
        snprintf(why, wsize, "rank %d: must be 1 to %d", rank, EG_EXPR_RANK_MAX);
        return why;
    }
    int d = find_decl(p, s, len);
    if (d >= 0) {
        if (p->decls[d].dtype == dtype && p->decls[d].rank == rank) return NULL;
        snprintf(why, wsize, "tensor \"%.*s\" declared twice, as %s[%d] and %s[%d]", (int)len, s,
                 dtype_names[p->decls[d].dtype], p->decls[d].rank, dtype_names[dtype], rank);
        return why;
    }
    if (p->nd >= MAX_DECLS) {
        snprintf(why, wsize, "more than %d tensor declarations", MAX_DECLS);
        return why;
    }
    decl *x = &p->decls[p->nd++];
    memcpy(x->name, s, len);
    x->name[len] = 0;
    x->dtype = dtype;
    x->rank = rank;
    x->slot = -1;
    return NULL;
}

/* "score, b, h, q, k, nq, nk, and tensors bias, slopes" */
static void known_names(const parser *p, char *buf, size_t size) {
    size_t n = 0;
    buf[0] = 0;
    for (int i = p->kind == EG_EXPR_MASK ? 1 : 0; i < N_VARS; i++) {
        int w = snprintf(buf + n, size - n, "%s%s", n ? ", " : "", var_names[i]);
        if (w < 0 || (size_t)w >= size - n) return;
        n += (size_t)w;
    }
    for (int i = 0; i < p->nd; i++) {
        int w = snprintf(buf + n, size - n, "%s%s", i ? ", " : ", and tensors ", p->decls[i].name);
        if (w < 0 || (size_t)w >= size - n) return;
        n += (size_t)w;
    }
    if (p->nd == 0) snprintf(buf + n, size - n, "; no tensors declared");
}

static void known_funcs(char *buf, size_t size) {
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; i < N_FUNCS; i++) {
        int w = snprintf(buf + n, size - n, "%s%s", i ? ", " : "", func_names[i]);
        if (w < 0 || (size_t)w >= size - n) return;
        n += (size_t)w;
    }
}

/* ---- parser: each make_* types its node, or fails naming the operator's column ---- */

static int new_node(parser *p, int op, int type, int col) {
    if (p->nn >= p->ntok + 1) return fail(p, col, "internal: node table full");
    node *n = &p->nodes[p->nn];
    memset(n, 0, sizeof *n);
    n->op = (unsigned char)op;
    n->type = (unsigned char)type;
    n->col = n->first = col;
    n->height = 1;
    return p->nn++;
}

/* Link kids and check the height of the tree. */
static int set_kids(parser *p, int at, const int *kids, int nkid) {
    node *n = &p->nodes[at];
    n->nkid = (unsigned char)nkid;
    for (int i = 0; i < nkid; i++) {
        const node *c = &p->nodes[kids[i]];
        n->kid[i] = kids[i];
        if (c->height + 1 > n->height) n->height = (short)(c->height + 1);
        n->loads |= c->loads;
        if (c->first < n->first) n->first = c->first;
    }
    if (n->height > EG_EXPR_DEPTH_MAX)
        return fail(p, n->col, "expression nested more than %d levels deep", EG_EXPR_DEPTH_MAX);
    return at;
}

static int is_num(int t) { return t == T_INT || t == T_FLOAT; }
static int promote(int a, int b) { return a == T_FLOAT || b == T_FLOAT ? T_FLOAT : T_INT; }

static int make_bin(parser *p, int op, int col, int l, int r) {
    int a = p->nodes[l].type, b = p->nodes[r].type, type, otype;
    const char *o = binop_text[op];
    if (op == B_OR || op == B_AND) {
        if (a != T_BOOL || b != T_BOOL)
            return fail(p, col, "operator \"%s\" needs booleans, got %s on the %s (compare it, e.g. x != 0)", o,
                        type_names[a != T_BOOL ? a : b], a != T_BOOL ? "left" : "right");
        type = otype = T_BOOL;
    } else if (op == B_EQ || op == B_NE) {
        if ((a == T_BOOL) != (b == T_BOOL))
            return fail(p, col, "operator \"%s\" compares %s with %s; both sides must be numbers or both booleans", o,
                        type_names[a], type_names[b]);
        otype = a == T_BOOL ? T_BOOL : promote(a, b);
        type = T_BOOL;
    } else if (op == B_MOD) {
        if (a != T_INT || b != T_INT)
            return fail(p, col, "operator \"%%\" needs ints, got %s on the %s (modulo of %s is not supported)",
                        type_names[a != T_INT ? a : b], a != T_INT ? "left" : "right",
                        (a != T_INT ? a : b) == T_FLOAT ? "floats" : "booleans");
        type = otype = T_INT;
    } else {
        if (!is_num(a) || !is_num(b))
            return fail(p, col, "operator \"%s\" needs numbers, got bool on the %s", o, !is_num(a) ? "left" : "right");
        otype = promote(a, b);
        type = op >= B_ADD ? otype : T_BOOL;
    }
    int at = new_node(p, N_BIN, type, col);
    if (at < 0) return -1;
    p->nodes[at].sub = (unsigned char)op;
    p->nodes[at].otype = (unsigned char)otype;
    int kids[2] = {l, r};
    return set_kids(p, at, kids, 2);
}

static int make_cond(parser *p, int col, int c, int a, int b, const char *what) {
    int tc = p->nodes[c].type, ta = p->nodes[a].type, tb = p->nodes[b].type;
    if (tc != T_BOOL) return fail(p, col, "the condition of %s must be boolean, got %s", what, type_names[tc]);
    if ((ta == T_BOOL) != (tb == T_BOOL))
        return fail(p, col, "the branches of %s must both be numbers or both booleans, got %s and %s", what,
                    type_names[ta], type_names[tb]);
    int t = ta == T_BOOL ? T_BOOL : promote(ta, tb);
    int at = new_node(p, N_COND, t, col);
    if (at < 0) return -1;
    p->nodes[at].otype = (unsigned char)t;
    int kids[3] = {c, a, b};
    return set_kids(p, at, kids, 3);
}

static int parse_cond(parser *p);
static int parse_primary(parser *p);

static int parse_unary(parser *p) {
    tok *t = &p->toks[p->pos];
    if (is_op(t, "-") || is_op(t, "!")) {
        if (++p->nest > EG_EXPR_NEST_MAX)
            return fail(p, t->col, "parentheses and operators nested more than %d deep", EG_EXPR_NEST_MAX);
        p->pos++;
        int x = parse_unary(p);
        p->nest--;
        if (x < 0) return -1;
        int ty = p->nodes[x].type;
        int neg = t->s[0] == '-';
        if (neg && !is_num(ty)) return fail(p, t->col, "operator \"-\" needs a number, got bool");
        if (!neg && ty != T_BOOL)
            return fail(p, t->col, "operator \"!\" needs a boolean, got %s (compare it, e.g. x == 0)", type_names[ty]);
        int at = new_node(p, neg ? N_NEG : N_NOT, ty, t->col);
        if (at < 0) return -1;
        return set_kids(p, at, &x, 1);
    }
    return parse_primary(p);
}

static int parse_bin(parser *p, int min_prec) {
    int l = parse_unary(p);
    while (l >= 0) {
        tok *t = &p->toks[p->pos];
        int op = t->kind == K_OP ? lookup(binop_text, N_BINOPS, t->s, (size_t)t->len) : -1;
        if (op < 0 || binop_prec[op] < min_prec) break;
        p->pos++;
        int r = parse_bin(p, binop_prec[op] + 1);
        if (r < 0) return -1;
        l = make_bin(p, op, t->col, l, r);
    }
    return l;
}

static int parse_cond(parser *p) {
    tok *start = &p->toks[p->pos];
    if (++p->nest > EG_EXPR_NEST_MAX)
        return fail(p, start->col, "parentheses and operators nested more than %d deep", EG_EXPR_NEST_MAX);
    int c = parse_bin(p, PREC_COND + 1);
    if (c >= 0 && is_op(&p->toks[p->pos], "?")) {
        tok *qm = &p->toks[p->pos++];
        int a = parse_cond(p);
        if (a < 0) return -1;
        tok *colon = &p->toks[p->pos];
        if (!is_op(colon, ":")) {
            char d[64];
            return fail(p, colon->col, "expected \":\" of the \"?\" at column %d, found %s", qm->col,
                        tok_desc(colon, d, sizeof d));
        }
        p->pos++;
        int b = parse_cond(p);
        if (b < 0) return -1;
        c = make_cond(p, qm->col, c, a, b, "?:");
    }
    p->nest--;
    return c;
}

/* Comma-separated expressions up to the closing bracket; returns the count (all of them, even beyond
 * the kids stored) or -1. */
static int parse_list(parser *p, const tok *open, const char *close, int *kids, const char *what) {
    int n = 0;
    char d[64];
    if (is_op(&p->toks[p->pos], close)) {
        p->pos++;
        return 0;
    }
    for (;;) {
        int x = parse_cond(p);
        if (x < 0) return -1;
        if (n < EG_EXPR_RANK_MAX) kids[n] = x;
        n++;
        tok *t = &p->toks[p->pos];
        if (is_op(t, ",")) {
            p->pos++;
            continue;
        }
        if (is_op(t, close)) {
            p->pos++;
            return n;
        }
        if (t->kind == K_END || is_op(t, ";"))
            return fail(p, t->col, "missing \"%s\" to close the \"%.*s\" of %s at column %d", close, open->len, open->s,
                        what, open->col);
        return fail(p, t->col, "expected \",\" or \"%s\" in %s (opened at column %d), found %s", close, what, open->col,
                    tok_desc(t, d, sizeof d));
    }
}

/* The lists of known names live in this frame only on the error path, not in every parse_primary
 * frame of a deeply nested expression. */
static __attribute__((noinline)) int fail_unknown(parser *p, const tok *t, int func) {
    char known[512];
    int nlen = t->len > 40 ? 40 : t->len;
    if (func) {
        known_funcs(known, sizeof known);
        return fail(p, t->col, "unknown function \"%.*s\" (known: %s)", nlen, t->s, known);
    }
    known_names(p, known, sizeof known);
    return fail(p, t->col, "unknown name \"%.*s\" (known: %s)", nlen, t->s, known);
}

static int parse_primary(parser *p) {
    tok *t = &p->toks[p->pos];
    char d[64];
    if (t->kind == K_INT || t->kind == K_FLOAT) {
        p->pos++;
        int at = new_node(p, t->kind == K_INT ? N_INT : N_FLOAT, t->kind == K_INT ? T_INT : T_FLOAT, t->col);
        if (at >= 0) {
            p->nodes[at].ival = t->ival;
            p->nodes[at].fval = t->fval;
        }
        return at;
    }
    if (is_op(t, "(")) {
        p->pos++;
        int x = parse_cond(p);
        if (x < 0) return -1;
        tok *c = &p->toks[p->pos];
        if (!is_op(c, ")")) {
            if (c->kind == K_END || is_op(c, ";"))
                return fail(p, c->col, "missing \")\" to close the \"(\" at column %d", t->col);
            return fail(p, c->col, "expected \")\" to close the \"(\" at column %d, found %s", t->col,
                        tok_desc(c, d, sizeof d));
        }
        p->pos++;
        return x;
    }
    if (t->kind != K_IDENT) {
        if (is_op(t, ")")) return fail(p, t->col, "unbalanced \")\": expected an expression before it");
        return fail(p, t->col, "expected an expression, found %s", tok_desc(t, d, sizeof d));
    }
    p->pos++;
    size_t len = (size_t)t->len;
    tok *nx = &p->toks[p->pos];
    int var = lookup(var_names, N_VARS, t->s, len);
    int fn = lookup(func_names, N_FUNCS, t->s, len);
    int td = find_decl(p, t->s, len);
    int nlen = t->len > 40 ? 40 : t->len;
    if ((len == 4 && !strncmp(t->s, "true", 4)) || (len == 5 && !strncmp(t->s, "false", 5))) {
        int at = new_node(p, N_BOOL, T_BOOL, t->col);
        if (at >= 0) p->nodes[at].ival = t->s[0] == 't';
        return at;
    }
    if (is_op(nx, "(")) {
        if (fn < 0) {
            if (var >= 0 || td >= 0)
                return fail(p, t->col, "\"%.*s\" is a %s, not a function", nlen, t->s,
                            var >= 0 ? "variable" : "tensor");
            return fail_unknown(p, t, 1);
        }
        p->pos++;
        int kids[EG_EXPR_RANK_MAX];
        int n = parse_list(p, nx, ")", kids, "the call");
        if (n < 0) return -1;
        if (n != func_arity[fn])
            return fail(p, t->col, "function \"%s\" takes %d argument%s, got %d", func_names[fn], func_arity[fn],
                        func_arity[fn] == 1 ? "" : "s", n);
        if (fn == F_WHERE) return make_cond(p, t->col, kids[0], kids[1], kids[2], "where()");
        int type = T_FLOAT;
        for (int i = 0; i < n; i++) {
            int ti = p->nodes[kids[i]].type;
            if (!is_num(ti))
                return fail(p, p->nodes[kids[i]].first, "function \"%s\" needs numbers, got %s as argument %d",
                            func_names[fn], type_names[ti], i + 1);
        }
        if (fn == F_ABS) type = p->nodes[kids[0]].type;
        if (fn == F_MIN || fn == F_MAX) type = promote(p->nodes[kids[0]].type, p->nodes[kids[1]].type);
        int at = new_node(p, N_CALL, type, t->col);
        if (at < 0) return -1;
        p->nodes[at].sub = (unsigned char)fn;
        p->nodes[at].otype = (unsigned char)type;
        return set_kids(p, at, kids, n);
    }
    if (is_op(nx, "[")) {
        if (td < 0) {
            if (var >= 0 || fn >= 0)
                return fail(p, t->col, "\"%.*s\" is a %s, not a tensor, and cannot be indexed", nlen, t->s,
                            var >= 0 ? "variable" : "function");
            return fail_unknown(p, t, 0);
        }
        decl *x = &p->decls[td];
        if (x->slot < 0) {
            if (p->n_used >= EG_EXPR_TENSORS_MAX)
                return fail(p, t->col, "tensor \"%s\" is one more than the %d tensors an expression may read", x->name,
                            EG_EXPR_TENSORS_MAX);
            x->slot = p->n_used++;
        }
        p->pos++;
        int kids[EG_EXPR_RANK_MAX];
        int n = parse_list(p, nx, "]", kids, "the index");
        if (n < 0) return -1;
        if (n != x->rank)
            return fail(p, t->col, "tensor \"%s\" is declared %s[%d] and takes %d index%s, got %d", x->name,
                        dtype_names[x->dtype], x->rank, x->rank, x->rank == 1 ? "" : "es", n);
        for (int i = 0; i < n; i++) {
            int ti = p->nodes[kids[i]].type;
            if (ti != T_INT)
                return fail(p, p->nodes[kids[i]].first, "index %d of tensor \"%s\" must be an int, got %s", i + 1,
                            x->name, type_names[ti]);
        }
        int at = new_node(p, N_INDEX, dtype_value_type(x->dtype), t->col);
        if (at < 0) return -1;
        p->nodes[at].ival = td; /* the declaration; becomes the slot once parsing is over */
        if (set_kids(p, at, kids, n) < 0) return -1;
        p->nodes[at].loads = 1;
        return at;
    }
    if (var >= 0) {
        if (var == V_SCORE && p->kind == EG_EXPR_MASK)
            return fail(p, t->col, "\"score\" is not available in a mask expression (masks see only b, h, q, k, nq, nk "
                                   "and tensors)");
        int at = new_node(p, N_VAR, var == V_SCORE ? T_FLOAT : T_INT, t->col);
        if (at >= 0) p->nodes[at].sub = (unsigned char)var;
        return at;
    }
    if (td >= 0)
        return fail(p, t->col, "tensor \"%s\" must be indexed with %d index%s: %s[...]", p->decls[td].name,
                    p->decls[td].rank, p->decls[td].rank == 1 ? "" : "es", p->decls[td].name);
    if (fn >= 0)
        return fail(p, t->col, "function \"%s\" must be called: %s(...)", func_names[fn], func_names[fn]);
    return fail_unknown(p, t, 0);
}

/* Declarations after the ';': name: dtype[rank], ... */
static int parse_decls(parser *p, int at) {
    char d[64], why[160];
    if (p->toks[at].kind == K_END)
        return fail(p, p->toks[at].col, "expected a tensor declaration like \"bias: f32[3]\" after \";\"");
    for (;;) {
        tok *name = &p->toks[at], *colon = &p->toks[at + (name->kind != K_END)];
        if (name->kind != K_IDENT)
            return fail(p, name->col, "expected a tensor name in the declarations, found %s", tok_desc(name, d, sizeof d));
        if (!is_op(colon, ":"))
            return fail(p, colon->col, "expected \":\" after the tensor name \"%.*s\", found %s", name->len, name->s,
                        tok_desc(colon, d, sizeof d));
        tok *ty = colon + (colon->kind != K_END);
        int dt = ty->kind == K_IDENT ? lookup(dtype_names, N_DTYPES, ty->s, (size_t)ty->len) : -1;
        if (dt < 0)
            return fail(p, ty->col, "unknown element type %s (known: f32, f16, bf16, i32, u8, bool)",
                        tok_desc(ty, d, sizeof d));
        tok *ob = ty + 1, *rk = ob + (ob->kind != K_END), *cb = rk + (rk->kind != K_END);
        if (!is_op(ob, "[") || rk->kind != K_INT || !is_op(cb, "]"))
            return fail(p, ob->col, "expected the rank in brackets after the element type, e.g. %.*s[2]", ty->len,
                        ty->s);
        if (add_decl(p, name->s, (size_t)name->len, dt, rk->ival, why, sizeof why))
            return fail(p, name->col, "%s", why);
        tok *sep = cb + 1;
        if (sep->kind == K_END) return 0;
        if (!is_op(sep, ","))
            return fail(p, sep->col, "expected \",\" or the end after a tensor declaration, found %s",
                        tok_desc(sep, d, sizeof d));
        at = (int)(sep - p->toks) + 1;
    }
}

/* ---- canonical printing ---- */

typedef struct sbuf {
    char *b;
    size_t len, cap;
    int failed;
} sbuf;

static void sb_put(sbuf *s, const char *t, size_t n) {
    if (s->failed) return;
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        while (cap < s->len + n + 1) cap *= 2;
        char *nb = realloc(s->b, cap);
        if (!nb) {
            s->failed = 1;
            return;
        }
        s->b = nb;
        s->cap = cap;
    }
    memcpy(s->b + s->len, t, n);
    s->len += n;
    s->b[s->len] = 0;
}
static void sb_str(sbuf *s, const char *t) { sb_put(s, t, strlen(t)); }

/* Shortest text that reads back as v, always with a '.' or an exponent so it stays a float literal. */
static void float_text(double v, char *buf, size_t size) {
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    /* positional rather than "1e+03" where that is short */
    if (strchr(buf, 'e') && fabs(v) >= 1e-4 && fabs(v) < 1e15) {
        char alt[48];
        for (int d = 0; d <= 20; d++) {
            snprintf(alt, sizeof alt, "%.*f", d, v);
            if (strtod(alt, NULL) == v) break;
        }
        if (strlen(alt) < size) memcpy(buf, alt, strlen(alt) + 1);
    }
    if (!strpbrk(buf, ".e")) {
        size_t n = strlen(buf);
        if (n + 3 <= size) memcpy(buf + n, ".0", 3);
    }
}

/* The same for an fp32 constant of the kernel: shortest text strtof reads back as the same float. */
static void float_text_f(float v, char *buf, size_t size) {
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(buf, size, "%.*g", prec, (double)v);
        if (strtof(buf, NULL) == v) break;
    }
    if (strchr(buf, 'e') && fabsf(v) >= 1e-4f && fabsf(v) < 1e15f) {
        char alt[48];
        for (int d = 0; d <= 20; d++) {
            snprintf(alt, sizeof alt, "%.*f", d, (double)v);
            if (strtof(alt, NULL) == v) break;
        }
        if (strlen(alt) < size) memcpy(buf, alt, strlen(alt) + 1);
    }
    if (!strpbrk(buf, ".e")) {
        size_t n = strlen(buf);
        if (n + 3 <= size) memcpy(buf + n, ".0", 3);
    }
}

static int prec_of(const node *n) {
    if (n->op == N_COND) return PREC_COND;
    if (n->op == N_BIN) return binop_prec[n->sub];
    if (n->op == N_NEG || n->op == N_NOT) return PREC_UNARY;
    return PREC_PRIMARY;
}

static void print_node(const eg_expr *e, int at, sbuf *s);

static void print_kid(const eg_expr *e, int at, int need, sbuf *s) {
    int paren = prec_of(&e->nodes[at]) < need;
    if (paren) sb_str(s, "(");
    print_node(e, at, s);
    if (paren) sb_str(s, ")");
}

static void print_node(const eg_expr *e, int at, sbuf *s) {
    const node *n = &e->nodes[at];
    char buf[48];
    switch (n->op) {
    case N_INT:
        snprintf(buf, sizeof buf, "%d", n->ival);
        sb_str(s, buf);
        break;
    case N_FLOAT:
        float_text(n->fval, buf, sizeof buf);
        sb_str(s, buf);
        break;
    case N_BOOL: sb_str(s, n->ival ? "true" : "false"); break;
    case N_VAR: sb_str(s, var_names[n->sub]); break;
    case N_INDEX:
    case N_CALL:
        sb_str(s, n->op == N_INDEX ? e->tensors[n->ival].name : func_names[n->sub]);
        sb_str(s, n->op == N_INDEX ? "[" : "(");
        for (int i = 0; i < n->nkid; i++) {
            if (i) sb_str(s, ", ");
            print_node(e, n->kid[i], s);
        }
        sb_str(s, n->op == N_INDEX ? "]" : ")");
        break;
    case N_NEG:
    case N_NOT:
        sb_str(s, n->op == N_NEG ? "-" : "!");
        print_kid(e, n->kid[0], PREC_PRIMARY, s);
        break;
    case N_BIN:
        print_kid(e, n->kid[0], binop_prec[n->sub], s);
        sb_str(s, " ");
        sb_str(s, binop_text[n->sub]);
        sb_str(s, " ");
        print_kid(e, n->kid[1], binop_prec[n->sub] + 1, s);
        break;
    case N_COND:
        print_kid(e, n->kid[0], PREC_COND + 1, s);
        sb_str(s, " ? ");
        print_kid(e, n->kid[1], PREC_COND, s);
        sb_str(s, " : ");
        print_kid(e, n->kid[2], PREC_COND, s);
        break;
    }
}

/* ---- the error text: message, column and a caret line under a window of the input ---- */

static void show(const char *text, size_t len, size_t from, size_t n, char *out) {
    for (size_t i = 0; i < n && from + i < len; i++) {
        unsigned char c = (unsigned char)text[from + i];
        out[i] = isprint(c) ? (char)c : (c == '\t' || c == '\n' || c == '\r') ? ' ' : '?';
        out[i + 1] = 0;
    }
}

static effgen_status parse_error(const parser *p) {
    enum { WIN = 100 };
    char quoted[WIN + 1] = "", line[WIN + 1] = "";
    size_t col = (size_t)p->err_col - 1, from = 0;
    show(p->text, p->len, 0, p->len > 60 ? 60 : p->len, quoted);
    if (col > WIN - 20) from = col - (WIN - 20);
    show(p->text, p->len, from, WIN, line);
    return eg_err(EFFGEN_PARSE, "expression \"%s%s\": column %d: %s\n  %s%s\n  %s%*s^", quoted,
                  p->len > 60 ? "..." : "", p->err_col, p->msg, from ? "..." : "", line, from ? "   " : "",
                  (int)(col - from), "");
}

/* ---- parse ---- */

static uint64_t fnv1a(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static int cmp_slot_name(const void *a, const void *b) {
    return strcmp(((const tensor *)a)->name, ((const tensor *)b)->name);
}

effgen_status eg_expr_parse(const char *text, eg_expr_kind kind, const eg_expr_decl *decls, int n_decls,
                            eg_expr **out) {
    if (out) *out = NULL;
    if (!text || !out) return eg_err(EFFGEN_INVALID_ARGUMENT, "eg_expr_parse: text and out must be non-NULL");
    if (kind != EG_EXPR_SCORE && kind != EG_EXPR_MASK)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "expression kind=%d: must be score (0) or mask (1)", (int)kind);
    if (n_decls < 0 || (n_decls > 0 && !decls))
        return eg_err(EFFGEN_INVALID_ARGUMENT, "expression: %d tensor declarations at %p", n_decls, (const void *)decls);
    parser *p = calloc(1, sizeof *p);
    if (!p) return eg_err(EFFGEN_NO_MEMORY, "expression: out of memory");
    effgen_status st = EFFGEN_OK;
    eg_expr *e = NULL;
    sbuf sb = {0};
    p->text = text;
    p->len = strnlen(text, EG_EXPR_TEXT_MAX + 1);
    p->kind = kind;
    for (int i = 0; i < n_decls; i++) {
        char why[160];
        const char *name = decls[i].name;
        if (!name || add_decl(p, name, strnlen(name, EG_EXPR_NAME_MAX + 1), (int)decls[i].dtype, decls[i].rank, why,
                              sizeof why)) {
            st = eg_err(EFFGEN_INVALID_ARGUMENT, "tensor declaration %d (\"%.40s\"): %s", i, name ? name : "(null)",
                        name ? why : "the name is NULL");
            goto done;
        }
    }
    if (p->len > EG_EXPR_TEXT_MAX) {
        p->len = EG_EXPR_TEXT_MAX;
        fail(p, EG_EXPR_TEXT_MAX + 1, "expression longer than %d characters", EG_EXPR_TEXT_MAX);
        st = parse_error(p);
        goto done;
    }
    int lr = lex(p);
    if (lr == -2) {
        st = eg_err(EFFGEN_NO_MEMORY, "expression: out of memory for %zu tokens", p->len + 1);
        goto done;
    }
    if (lr < 0) {
        st = parse_error(p);
        goto done;
    }
    /* the declarations after ';' first, so that the expression knows every tensor */
    p->end = p->ntok;
    for (int i = 0; i < p->ntok; i++)
        if (is_op(&p->toks[i], ";")) {
            p->end = i;
            break;
        }
    if (p->end < p->ntok && parse_decls(p, p->end + 1) < 0) {
        st = parse_error(p);
        goto done;
    }
    if (p->end == 0) {
        fail(p, p->toks[0].col, "empty expression");
        st = parse_error(p);
        goto done;
    }
    p->nodes = malloc(sizeof *p->nodes * (size_t)(p->ntok + 1));
    if (!p->nodes) {
        st = eg_err(EFFGEN_NO_MEMORY, "expression: out of memory for %d nodes", p->ntok + 1);
        goto done;
    }
    int root = parse_cond(p);
    if (root >= 0 && p->pos != p->end) {
        tok *t = &p->toks[p->pos];
        char d[64];
        if (is_op(t, ")") || is_op(t, "]"))
            fail(p, t->col, "unbalanced \"%c\": nothing open to close", t->s[0]);
        else
            fail(p, t->col, "unexpected %s after the end of the expression", tok_desc(t, d, sizeof d));
        root = -1;
    }
    if (root >= 0) {
        int rt = p->nodes[root].type;
        if (kind == EG_EXPR_MASK && rt != T_BOOL)
            fail(p, p->toks[0].col, "a mask expression must be boolean, this one gives %s (compare it, e.g. x != 0)",
                 type_names[rt]);
        else if (kind == EG_EXPR_SCORE && rt == T_BOOL)
            fail(p, p->toks[0].col, "a score expression must be a number, this one gives bool (use c ? x : y)");
        if (p->failed) root = -1;
    }
    if (root < 0) {
        st = parse_error(p);
        goto done;
    }

    e = calloc(1, sizeof *e);
    if (!e) {
        st = eg_err(EFFGEN_NO_MEMORY, "expression: out of memory");
        goto done;
    }
    e->kind = kind;
    e->root = root;
    e->n_nodes = p->nn;
    e->nodes = p->nodes;
    p->nodes = NULL;
    /* tensors in name order: that order is the slot order, so equal expressions have equal slots */
    int slot_of_decl[MAX_DECLS];
    for (int i = 0; i < p->nd; i++)
        if (p->decls[i].slot >= 0) {
            tensor *t = &e->tensors[e->n_tensors++];
            memcpy(t->name, p->decls[i].name, sizeof t->name);
            t->dtype = p->decls[i].dtype;
            t->rank = p->decls[i].rank;
        }
    qsort(e->tensors, (size_t)e->n_tensors, sizeof e->tensors[0], cmp_slot_name);
    for (int i = 0; i < p->nd; i++) {
        slot_of_decl[i] = -1;
        for (int j = 0; j < e->n_tensors; j++)
            if (!strcmp(e->tensors[j].name, p->decls[i].name)) slot_of_decl[i] = j;
    }
    for (int i = 0; i < e->n_nodes; i++)
        if (e->nodes[i].op == N_INDEX) e->nodes[i].ival = slot_of_decl[e->nodes[i].ival];

    print_node(e, root, &sb);
    for (int i = 0; i < e->n_tensors; i++) {
        char rank[16];
        snprintf(rank, sizeof rank, "[%d]", e->tensors[i].rank);
        sb_str(&sb, i ? ", " : "; ");
        sb_str(&sb, e->tensors[i].name);
        sb_str(&sb, ": ");
        sb_str(&sb, dtype_names[e->tensors[i].dtype]);
        sb_str(&sb, rank);
    }
    if (sb.failed) {
        st = eg_err(EFFGEN_NO_MEMORY, "expression: out of memory for the canonical text");
        goto done;
    }
    if (sb.len > EG_EXPR_TEXT_MAX) {
        fail(p, 1, "the canonical form of this expression has %zu characters, more than %d", sb.len, EG_EXPR_TEXT_MAX);
        st = parse_error(p);
        goto done;
    }
    e->text = sb.b;
    sb.b = NULL;
    e->hash = fnv1a(e->text);
    *out = e;
    e = NULL;

done:
    free(sb.b);
    eg_expr_free(e);
    free(p->nodes);
    free(p->toks);
    free(p);
    return st;
}

void eg_expr_free(eg_expr *e) {
    if (!e) return;
    free(e->nodes);
    free(e->text);
    free(e);
}

eg_expr_kind eg_expr_kind_of(const eg_expr *e) { return e ? e->kind : EG_EXPR_SCORE; }
const char *eg_expr_text(const eg_expr *e) { return e ? e->text : ""; }

int eg_expr_print(const eg_expr *e, char *buf, size_t size) {
    const char *text = eg_expr_text(e);
    size_t n = strlen(text);
    if (size) {
        size_t c = n < size - 1 ? n : size - 1;
        memcpy(buf, text, c);
        buf[c] = 0;
    }
    return (int)n;
}

uint64_t eg_expr_hash(const eg_expr *e) { return e ? e->hash : 0; }
void eg_expr_hash_hex(const eg_expr *e, char buf[17]) { snprintf(buf, 17, "%016llx", (unsigned long long)eg_expr_hash(e)); }

int eg_expr_tensor_count(const eg_expr *e) { return e ? e->n_tensors : 0; }

effgen_status eg_expr_tensor(const eg_expr *e, int i, eg_expr_decl *out) {
    if (!e || !out || i < 0 || i >= e->n_tensors)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "expression tensor %d: out of range (the expression reads %d)", i,
                      e ? e->n_tensors : 0);
    out->name = e->tensors[i].name;
    out->dtype = (eg_expr_dtype)e->tensors[i].dtype;
    out->rank = e->tensors[i].rank;
    return EFFGEN_OK;
}

/* ---- CUDA emission ---- */

void eg_expr_emit_prelude(eg_emit *em) {
    eg_emit_line(em, "// user expressions: loads of each element type and the operations with defined results for every operand");
    eg_emit_open(em, "namespace eg");
    /* struct ExprTensors is in eg_prelude.cuh: the kernel parameters hold one */
    eg_emit_line(em, "__device__ __forceinline__ float expr_ld_f32(const void *p, i64 i) { return "
                     "static_cast<const float *>(p)[i]; }");
    eg_emit_open(em, "__device__ __forceinline__ float expr_ld_f16(const void *p, i64 i)");
    eg_emit_line(em, "const unsigned short h = static_cast<const fp16 *>(p)[i].bits;");
    eg_emit_line(em, "float f;");
    eg_emit_line(em, "asm(\"cvt.f32.f16 %%0, %%1;\\n\" : \"=f\"(f) : \"h\"(h));");
    eg_emit_line(em, "return f;");
    eg_emit_close(em, "");
    eg_emit_line(em, "__device__ __forceinline__ float expr_ld_bf16(const void *p, i64 i) { return "
                     "__uint_as_float((u32)static_cast<const bf16 *>(p)[i].bits << 16); }");
    eg_emit_line(em, "__device__ __forceinline__ int expr_ld_i32(const void *p, i64 i) { return "
                     "static_cast<const int *>(p)[i]; }");
    eg_emit_line(em, "__device__ __forceinline__ int expr_ld_u8(const void *p, i64 i) { return "
                     "(int)static_cast<const unsigned char *>(p)[i]; }");
    eg_emit_line(em, "__device__ __forceinline__ bool expr_ld_bool(const void *p, i64 i) { return "
                     "static_cast<const unsigned char *>(p)[i] != 0; }");
    eg_emit_line(em, "// 32-bit two's complement: x / 0 = x %% 0 = 0, INT_MIN / -1 = INT_MIN (as the CPU reference)");
    eg_emit_line(em, "__device__ __forceinline__ int expr_ineg(int a) { return (int)(0u - (u32)a); }");
    eg_emit_line(em, "__device__ __forceinline__ int expr_idiv(int a, int b) { return b == 0 ? 0 : b == -1 ? "
                     "expr_ineg(a) : a / b; }");
    eg_emit_line(em, "__device__ __forceinline__ int expr_imod(int a, int b) { return b == 0 || b == -1 ? 0 : a %% b; }");
    eg_emit_line(em, "__device__ __forceinline__ int expr_iabs(int a) { return a < 0 ? expr_ineg(a) : a; }");
    eg_emit_close(em, "  // namespace eg");
}

static const char *const cuda_types[] = {"int", "float", "bool"};

/* Operand a as type want: "v7" or "(float)v7". */
static const char *operand(const eg_expr *e, int at, int want, char *buf, size_t size) {
    if (e->nodes[at].type == T_INT && want == T_FLOAT)
        snprintf(buf, size, "(float)v%d", at);
    else
        snprintf(buf, size, "v%d", at);
    return buf;
}

static void emit_node(const eg_expr *e, int at, eg_emit *em, int slot_base);

/* The arguments every emitted function shares: a name that is an identifier, and the expression's tensors
 * within the table from slot_base. */
static effgen_status check_emit_args(const eg_expr *e, const char *name, int slot_base) {
    size_t nl = name ? strlen(name) : 0;
    int ok = nl > 0 && nl <= 64 && is_ident_start((unsigned char)name[0]);
    for (size_t i = 0; ok && i < nl; i++) ok = is_ident_char((unsigned char)name[i]);
    if (!ok)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "expression function name \"%.64s\": must be an identifier of 1 to 64 characters",
                      name ? name : "");
    if (slot_base < 0 || slot_base + e->n_tensors > EG_EXPR_TENSORS_MAX)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "expression tensor slots %d..%d: the table has %d slots", slot_base,
                      slot_base + e->n_tensors - 1, EG_EXPR_TENSORS_MAX);
    return EFFGEN_OK;
}

/* v<at> = kid, where the kid's statements run only on this path. */
static void emit_branch(const eg_expr *e, int at, int kid, int want, eg_emit *em, int slot_base) {
    char a[32];
    emit_node(e, kid, em, slot_base);
    eg_emit_line(em, "v%d = %s;", at, operand(e, kid, want, a, sizeof a));
}

static void emit_node(const eg_expr *e, int at, eg_emit *em, int slot_base) {
    const node *n = &e->nodes[at];
    const char *ty = cuda_types[n->type];
    char a[32], b[32], c[32];
    /* Tensor reads below a branch of ?:, && or || run only on that branch (as in C): "k < nk && doc[k]"
     * must not read doc[nk]. Branches without reads are evaluated eagerly, which the compiler prefers. */
    if ((n->op == N_COND && (e->nodes[n->kid[1]].loads || e->nodes[n->kid[2]].loads)) ||
        (n->op == N_BIN && (n->sub == B_AND || n->sub == B_OR) && e->nodes[n->kid[1]].loads)) {
        emit_node(e, n->kid[0], em, slot_base);
        if (n->op == N_COND) {
            eg_emit_line(em, "%s v%d;", ty, at);
            eg_emit_open(em, "if (v%d)", n->kid[0]);
            emit_branch(e, at, n->kid[1], n->type, em, slot_base);
            em->indent--;
            eg_emit_open(em, "} else");
            emit_branch(e, at, n->kid[2], n->type, em, slot_base);
            eg_emit_close(em, "");
        } else {
            eg_emit_line(em, "bool v%d = v%d;", at, n->kid[0]);
            eg_emit_open(em, "if (%sv%d)", n->sub == B_AND ? "" : "!", at);
            emit_branch(e, at, n->kid[1], T_BOOL, em, slot_base);
            eg_emit_close(em, "");
        }
        return;
    }
    for (int i = 0; i < n->nkid; i++) emit_node(e, n->kid[i], em, slot_base);
    int k0 = n->kid[0], k1 = n->kid[1], k2 = n->kid[2];
    switch (n->op) {
    case N_INT: eg_emit_line(em, "const int v%d = %d;", at, n->ival); break;
    case N_FLOAT: {
        char f[48];
        float_text_f((float)n->fval, f, sizeof f);
        eg_emit_line(em, "const float v%d = %sf;", at, f);
        break;
    }
    case N_BOOL: eg_emit_line(em, "const bool v%d = %s;", at, n->ival ? "true" : "false"); break;
    case N_VAR: eg_emit_line(em, "const %s v%d = %s;", ty, at, var_names[n->sub]); break;
    case N_INDEX: {
        const tensor *t = &e->tensors[n->ival];
        int slot = slot_base + n->ival;
        char off[256];
        size_t len = 0;
        for (int i = 0; i < n->nkid; i++) {
            int w = snprintf(off + len, sizeof off - len, "%s(i64)v%d * t.stride[%d][%d]", i ? " + " : "", n->kid[i],
                             slot, i);
            if (w > 0) len += (size_t)w;
        }
        eg_emit_line(em, "const %s v%d = expr_ld_%s(t.ptr[%d], %s);  // %s", ty, at, dtype_names[t->dtype], slot, off,
                     t->name);
        break;
    }
    case N_CALL:
        if (n->type == T_INT) {
            if (n->sub == F_ABS)
                eg_emit_line(em, "const int v%d = expr_iabs(v%d);", at, k0);
            else
                eg_emit_line(em, "const int v%d = %s(v%d, v%d);", at, n->sub == F_MIN ? "min" : "max", k0, k1);
        } else if (n->nkid == 2) {
            eg_emit_line(em, "const float v%d = %s(%s, %s);", at, func_cuda[n->sub], operand(e, k0, T_FLOAT, a, sizeof a),
                         operand(e, k1, T_FLOAT, b, sizeof b));
        } else {
            eg_emit_line(em, "const float v%d = %s(%s);", at, func_cuda[n->sub], operand(e, k0, T_FLOAT, a, sizeof a));
        }
        break;
    case N_NEG:
        if (n->type == T_INT)
            eg_emit_line(em, "const int v%d = expr_ineg(v%d);", at, k0);
        else
            eg_emit_line(em, "const float v%d = -v%d;", at, k0);
        break;
    case N_NOT: eg_emit_line(em, "const bool v%d = !v%d;", at, k0); break;
    case N_BIN: {
        int op = n->sub, ot = n->otype;
        operand(e, k0, ot, a, sizeof a);
        operand(e, k1, ot, b, sizeof b);
        if (ot == T_INT && op == B_DIV)
            eg_emit_line(em, "const int v%d = expr_idiv(%s, %s);", at, a, b);
        else if (op == B_MOD)
            eg_emit_line(em, "const int v%d = expr_imod(%s, %s);", at, a, b);
        else if (ot == T_INT && (op == B_ADD || op == B_SUB || op == B_MUL))
            eg_emit_line(em, "const int v%d = (int)((u32)%s %s (u32)%s);", at, a, binop_text[op], b);
        else
            eg_emit_line(em, "const %s v%d = %s %s %s;", ty, at, a, binop_text[op], b);
        break;
    }
    case N_COND:
        eg_emit_line(em, "const %s v%d = v%d ? %s : %s;", ty, at, k0, operand(e, k1, n->type, b, sizeof b),
                     operand(e, k2, n->type, c, sizeof c));
        break;
    }
}

effgen_status eg_expr_emit(const eg_expr *e, eg_emit *em, const char *name, int slot_base) {
    if (!e || !em) return eg_err(EFFGEN_INVALID_ARGUMENT, "eg_expr_emit: expression and emitter must be non-NULL");
    int score = e->kind == EG_EXPR_SCORE;
    if (!name) name = score ? "score_mod" : "mask_mod";
    effgen_status st = check_emit_args(e, name, slot_base);
    if (st) return st;
    char hex[17];
    eg_expr_hash_hex(e, hex);
    eg_emit_open(em, "namespace eg");
    eg_emit_line(em, "// %s %s", score ? "score_mod" : "mask_mod", hex);
    /* the canonical text as a comment, in lines the emitter accepts (it holds no backslash) */
    for (size_t i = 0, n = strlen(e->text); i < n; i += 900)
        eg_emit_line(em, "//   %.900s", e->text + i);
    if (score)
        eg_emit_open(em, "__device__ __forceinline__ float %s(float score, int b, int h, int q, int k, int nq, int nk, "
                         "const ExprTensors &t)",
                     name);
    else
        eg_emit_open(em, "__device__ __forceinline__ bool %s(int b, int h, int q, int k, int nq, int nk, "
                         "const ExprTensors &t)",
                     name);
    eg_emit_line(em, "%s(void)b; (void)h; (void)q; (void)k; (void)nq; (void)nk; (void)t;", score ? "(void)score; " : "");
    emit_node(e, e->root, em, slot_base);
    char r[32];
    eg_emit_line(em, "return %s;", operand(e, e->root, score ? T_FLOAT : T_BOOL, r, sizeof r));
    eg_emit_close(em, "");
    eg_emit_close(em, "  // namespace eg");
    return EFFGEN_OK;
}

/* Whether node at reads the variable var (V_*) somewhere below. */
static int reads_var(const eg_expr *e, int at, int var) {
    const node *n = &e->nodes[at];
    if (n->op == N_VAR) return n->sub == var;
    for (int i = 0; i < n->nkid; i++)
        if (reads_var(e, n->kid[i], var)) return 1;
    return 0;
}

static int is_score(const eg_expr *e, int at) { return e->nodes[at].op == N_VAR && e->nodes[at].sub == V_SCORE; }

int eg_expr_additive(const eg_expr *e) {
    if (!e || e->kind != EG_EXPR_SCORE) return 0;
    const node *n = &e->nodes[e->root];
    if (n->op != N_BIN || (n->sub != B_ADD && n->sub != B_SUB)) return 0;
    if (is_score(e, n->kid[0]) && !reads_var(e, n->kid[1], V_SCORE)) return 1;
    return n->sub == B_ADD && is_score(e, n->kid[1]) && !reads_var(e, n->kid[0], V_SCORE);
}

effgen_status eg_expr_emit_term(const eg_expr *e, eg_emit *em, const char *name, int slot_base) {
    if (!eg_expr_additive(e) || !em)
        return eg_err(EFFGEN_INVALID_ARGUMENT,
                      "eg_expr_emit_term: the expression is not score + E, E + score or score - E, or no emitter");
    effgen_status st = check_emit_args(e, name, slot_base);
    if (st) return st;
    const node *n = &e->nodes[e->root];
    const int term = is_score(e, n->kid[0]) ? n->kid[1] : n->kid[0];
    char hex[17], r[32];
    eg_expr_hash_hex(e, hex);
    eg_emit_open(em, "namespace eg");
    eg_emit_line(em, "// the term the score_mod %s adds to the score", hex);
    eg_emit_open(em, "__device__ __forceinline__ float %s(int b, int h, int q, int k, int nq, int nk, const ExprTensors &t)",
                 name);
    eg_emit_line(em, "(void)b; (void)h; (void)q; (void)k; (void)nq; (void)nk; (void)t;");
    emit_node(e, term, em, slot_base);
    eg_emit_line(em, "return %s%s;", n->sub == B_SUB ? "-" : "", operand(e, term, T_FLOAT, r, sizeof r));
    eg_emit_close(em, "");
    eg_emit_close(em, "  // namespace eg");
    return EFFGEN_OK;
}

/* ---- tile classification (templates/eg_range.cuh) ---- */

/* The value of node at over a tile: int nodes a range, bool nodes a tri-state, float nodes nothing. */
typedef struct rval {
    eg_irange r;
    int tri;
} rval;

typedef struct rtile {
    int b, h, qlo, qhi, klo, khi, nq, nk;
} rtile;

static rval range_node(const eg_expr *e, int at, const rtile *t) {
    const node *n = &e->nodes[at];
    rval v = {eg_ir_full(), 2};
    rval a = {eg_ir_full(), 2}, b = a, c = a;
    if (n->op != N_INDEX)
        for (int i = 0; i < n->nkid && i < 3; i++) {
            rval k = range_node(e, n->kid[i], t);
            if (i == 0) a = k;
            else if (i == 1) b = k;
            else c = k;
        }
    switch (n->op) {
    case N_INT: v.r = eg_ir(n->ival, n->ival); break;
    case N_BOOL: v.tri = n->ival != 0; break;
    case N_VAR: {
        long long lo = 0, hi = 0;
        switch (n->sub) {
        case V_B: lo = hi = t->b; break;
        case V_H: lo = hi = t->h; break;
        case V_Q: lo = t->qlo, hi = t->qhi; break;
        case V_K: lo = t->klo, hi = t->khi; break;
        case V_NQ: lo = hi = t->nq; break;
        case V_NK: lo = hi = t->nk; break;
        default: return v; /* score: a float */
        }
        v.r = eg_ir(lo, hi);
        break;
    }
    case N_INDEX: {
        int dt = e->tensors[n->ival].dtype;
        if (dt == EG_EXPR_U8) v.r = eg_ir(0, 255);
        break; /* i32: the whole range; bool: unknown; floats: not followed */
    }
    case N_CALL:
        if (n->type == T_INT) {
            if (n->sub == F_ABS) v.r = eg_ir_abs(a.r);
            else if (n->sub == F_MIN) v.r = eg_ir_min(a.r, b.r);
            else if (n->sub == F_MAX) v.r = eg_ir_max(a.r, b.r);
        }
        break;
    case N_NEG:
        if (n->type == T_INT) v.r = eg_ir_neg(a.r);
        break;
    case N_NOT: v.tri = eg_tri_not(a.tri); break;
    case N_BIN:
        switch (n->sub) {
        case B_OR: v.tri = eg_tri_or(a.tri, b.tri); break;
        case B_AND: v.tri = eg_tri_and(a.tri, b.tri); break;
        case B_EQ: case B_NE: case B_LT: case B_LE: case B_GT: case B_GE:
            if (n->otype == T_BOOL)
                v.tri = n->sub == B_EQ ? eg_tri_beq(a.tri, b.tri) : n->sub == B_NE ? eg_tri_bne(a.tri, b.tri) : 2;
            else if (n->otype == T_INT)
                v.tri = n->sub == B_EQ ? eg_tri_eq(a.r, b.r)
                        : n->sub == B_NE ? eg_tri_ne(a.r, b.r)
                        : n->sub == B_LT ? eg_tri_lt(a.r, b.r)
                        : n->sub == B_LE ? eg_tri_le(a.r, b.r)
                        : n->sub == B_GT ? eg_tri_lt(b.r, a.r)
                                         : eg_tri_le(b.r, a.r);
            break; /* floats: unknown */
        case B_ADD: if (n->type == T_INT) v.r = eg_ir_add(a.r, b.r); break;
        case B_SUB: if (n->type == T_INT) v.r = eg_ir_sub(a.r, b.r); break;
        case B_MUL: if (n->type == T_INT) v.r = eg_ir_mul(a.r, b.r); break;
        case B_DIV: if (n->type == T_INT) v.r = eg_ir_div(a.r, b.r); break;
        case B_MOD: if (n->type == T_INT) v.r = eg_ir_mod(a.r, b.r); break;
        default: break;
        }
        break;
    case N_COND:
        if (n->type == T_INT) v.r = eg_ir_cond(a.tri, b.r, c.r);
        else if (n->type == T_BOOL) v.tri = eg_tri_cond(a.tri, b.tri, c.tri);
        break;
    default: break;
    }
    return v;
}

effgen_status eg_expr_mask_range(const eg_expr *e, int b, int h, int qlo, int qhi, int klo, int khi, int nq, int nk,
                                 int *out) {
    if (!e || !out || e->kind != EG_EXPR_MASK)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "eg_expr_mask_range: a mask expression and an output are needed");
    if (qlo > qhi || klo > khi)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "eg_expr_mask_range: empty tile (q %d..%d, k %d..%d)", qlo, qhi, klo,
                      khi);
    rtile t = {b, h, qlo, qhi, klo, khi, nq, nk};
    *out = range_node(e, e->root, &t).tri;
    return EFFGEN_OK;
}

/* Whether some comparison of ints reads no tensor: only then can a tile's verdict be known. */
static int range_decides(const eg_expr *e, int at) {
    const node *n = &e->nodes[at];
    if (n->op == N_BIN && n->sub >= B_EQ && n->sub <= B_GE && n->otype == T_INT && !n->loads) return 1;
    if (n->op == N_BOOL) return 0;
    for (int i = 0; i < n->nkid && n->op != N_INDEX; i++)
        if (range_decides(e, n->kid[i])) return 1;
    return 0;
}

int eg_expr_range_useful(const eg_expr *e) { return e && e->kind == EG_EXPR_MASK && range_decides(e, e->root); }

int eg_expr_bias_term(const eg_expr *e, int *slot, char axes[EG_EXPR_RANK_MAX], int *rank) {
    if (!eg_expr_additive(e)) return 0;
    const node *n = &e->nodes[e->root];
    if (n->sub != B_ADD) return 0;
    const node *t = &e->nodes[is_score(e, n->kid[0]) ? n->kid[1] : n->kid[0]];
    if (t->op != N_INDEX || t->nkid < 2) return 0;
    static const char names[N_VARS] = {0, 'b', 'h', 'q', 'k', 0, 0};
    static const char order[4] = {'b', 'h', 'q', 'k'};
    int at = 0; /* the next of b, h, q, k an index may name */
    for (int i = 0; i < t->nkid; i++) {
        const node *x = &e->nodes[t->kid[i]];
        if (x->op != N_VAR || !names[x->sub]) return 0;
        while (at < 4 && order[at] != names[x->sub]) at++;
        if (at == 4) return 0;
        axes[i] = order[at++];
    }
    if (axes[t->nkid - 2] != 'q' || axes[t->nkid - 1] != 'k') return 0;
    *slot = t->ival;
    *rank = t->nkid;
    return 1;
}

int eg_expr_reads_batch(const eg_expr *e) { return e && reads_var(e, e->root, V_B); }

/* The emitted twin of range_node: r<at> a const eg_irange or a const int tri-state; float nodes emit nothing
 * (nothing that reads them is followed). */
static void emit_range_node(const eg_expr *e, int at, eg_emit *em) {
    const node *n = &e->nodes[at];
    if (n->op != N_INDEX)
        for (int i = 0; i < n->nkid; i++) emit_range_node(e, n->kid[i], em);
    const int k0 = n->kid[0], k1 = n->kid[1], k2 = n->kid[2];
    switch (n->op) {
    case N_INT: eg_emit_line(em, "const eg_irange r%d = eg_ir(%d, %d);", at, n->ival, n->ival); break;
    case N_BOOL: eg_emit_line(em, "const int r%d = %d;", at, n->ival != 0); break;
    case N_VAR: {
        static const char *const lo[N_VARS] = {NULL, "b", "h", "qlo", "klo", "nq", "nk"};
        static const char *const hi[N_VARS] = {NULL, "b", "h", "qhi", "khi", "nq", "nk"};
        if (n->sub != V_SCORE) eg_emit_line(em, "const eg_irange r%d = eg_ir(%s, %s);", at, lo[n->sub], hi[n->sub]);
        break;
    }
    case N_INDEX: {
        int dt = e->tensors[n->ival].dtype;
        if (dt == EG_EXPR_U8) eg_emit_line(em, "const eg_irange r%d = eg_ir(0, 255);", at);
        else if (dt == EG_EXPR_I32) eg_emit_line(em, "const eg_irange r%d = eg_ir_full();", at);
        else if (dt == EG_EXPR_BOOL) eg_emit_line(em, "const int r%d = 2;", at);
        break;
    }
    case N_CALL:
        if (n->type == T_INT) {
            if (n->sub == F_ABS) eg_emit_line(em, "const eg_irange r%d = eg_ir_abs(r%d);", at, k0);
            else eg_emit_line(em, "const eg_irange r%d = eg_ir_%s(r%d, r%d);", at, n->sub == F_MIN ? "min" : "max", k0, k1);
        }
        break;
    case N_NEG:
        if (n->type == T_INT) eg_emit_line(em, "const eg_irange r%d = eg_ir_neg(r%d);", at, k0);
        break;
    case N_NOT: eg_emit_line(em, "const int r%d = eg_tri_not(r%d);", at, k0); break;
    case N_BIN:
        switch (n->sub) {
        case B_OR: case B_AND:
            eg_emit_line(em, "const int r%d = eg_tri_%s(r%d, r%d);", at, n->sub == B_OR ? "or" : "and", k0, k1);
            break;
        case B_EQ: case B_NE: case B_LT: case B_LE: case B_GT: case B_GE:
            if (n->otype == T_BOOL) {
                if (n->sub == B_EQ || n->sub == B_NE)
                    eg_emit_line(em, "const int r%d = eg_tri_b%s(r%d, r%d);", at, n->sub == B_EQ ? "eq" : "ne", k0, k1);
                else
                    eg_emit_line(em, "const int r%d = 2;", at);
            } else if (n->otype == T_INT) {
                const int swap = n->sub == B_GT || n->sub == B_GE;
                const char *f = n->sub == B_EQ ? "eq" : n->sub == B_NE ? "ne" : n->sub == B_LT || n->sub == B_GT ? "lt" : "le";
                eg_emit_line(em, "const int r%d = eg_tri_%s(r%d, r%d);", at, f, swap ? k1 : k0, swap ? k0 : k1);
            } else {
                eg_emit_line(em, "const int r%d = 2;", at);
            }
            break;
        case B_ADD: case B_SUB: case B_MUL: case B_DIV: case B_MOD: {
            static const char *const f[] = {[B_ADD] = "add", [B_SUB] = "sub", [B_MUL] = "mul", [B_DIV] = "div",
                                            [B_MOD] = "mod"};
            if (n->type == T_INT) eg_emit_line(em, "const eg_irange r%d = eg_ir_%s(r%d, r%d);", at, f[n->sub], k0, k1);
            break;
        }
        default:
            if (n->type == T_INT) eg_emit_line(em, "const eg_irange r%d = eg_ir_full();", at);
            break;
        }
        break;
    case N_COND:
        if (n->type == T_INT) eg_emit_line(em, "const eg_irange r%d = eg_ir_cond(r%d, r%d, r%d);", at, k0, k1, k2);
        else if (n->type == T_BOOL) eg_emit_line(em, "const int r%d = eg_tri_cond(r%d, r%d, r%d);", at, k0, k1, k2);
        break;
    default: break;
    }
}

effgen_status eg_expr_emit_range(const eg_expr *e, eg_emit *em, const char *name) {
    if (!e || !em || e->kind != EG_EXPR_MASK)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "eg_expr_emit_range: a mask expression and an emitter are needed");
    effgen_status st = check_emit_args(e, name, 0); /* reads no tensor */
    if (st) return st;
    char hex[17];
    eg_expr_hash_hex(e, hex);
    eg_emit_open(em, "namespace eg");
    eg_emit_line(em, "// what the mask_mod %s says of every (q, k) of a tile: 0 hidden, 1 visible, 2 either", hex);
    eg_emit_open(em, "__device__ __forceinline__ int %s(int b, int h, int qlo, int qhi, int klo, int khi, int nq, int nk)",
                 name);
    eg_emit_line(em, "(void)b; (void)h; (void)qlo; (void)qhi; (void)klo; (void)khi; (void)nq; (void)nk;");
    emit_range_node(e, e->root, em);
    eg_emit_line(em, "return r%d;", e->root);
    eg_emit_close(em, "");
    eg_emit_close(em, "  // namespace eg");
    return EFFGEN_OK;
}

/* ---- CPU evaluation ---- */

typedef struct env {
    const eg_expr *e;
    double score;
    int var[N_VARS];
    const eg_expr_host_tensor *t;
} env;

typedef struct val {
    double f; /* T_FLOAT */
    int i;    /* T_INT, T_BOOL (0 or 1) */
} val;

static double as_float(const eg_expr *e, int at, val v) { return e->nodes[at].type == T_FLOAT ? v.f : (double)v.i; }
static int wrap(long long x) { return (int)(unsigned)(unsigned long long)x; }

static double half_to_double(unsigned short h) {
    int s = h >> 15, ex = (h >> 10) & 31, m = h & 1023;
    double v = ex == 0 ? ldexp(m, -24) : ex == 31 ? (m ? NAN : INFINITY) : ldexp(m + 1024, ex - 25);
    return s ? -v : v;
}

static double bf16_to_double(unsigned short h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static effgen_status eval(const env *v, int at, val *out) {
    const eg_expr *e = v->e;
    const node *n = &e->nodes[at];
    val a = {0, 0}, b = {0, 0};
    effgen_status st;
    memset(out, 0, sizeof *out);
    switch (n->op) {
    case N_INT:
    case N_BOOL: out->i = n->ival; return EFFGEN_OK;
    case N_FLOAT: out->f = n->fval; return EFFGEN_OK;
    case N_VAR:
        if (n->sub == V_SCORE)
            out->f = v->score;
        else
            out->i = v->var[n->sub];
        return EFFGEN_OK;
    case N_INDEX: {
        const tensor *t = &e->tensors[n->ival];
        const eg_expr_host_tensor *h = &v->t[n->ival];
        if (!h->data) return eg_err(EFFGEN_INVALID_ARGUMENT, "expression tensor \"%s\": data is NULL", t->name);
        int64_t off = 0;
        for (int i = 0; i < n->nkid; i++) {
            if ((st = eval(v, n->kid[i], &a))) return st;
            if (a.i < 0 || a.i >= h->size[i])
                return eg_err(EFFGEN_INVALID_ARGUMENT, "expression tensor \"%s\": index %d = %d out of range [0, %lld)",
                              t->name, i + 1, a.i, (long long)h->size[i]);
            off += (int64_t)a.i * h->stride[i];
        }
        const unsigned char *p = h->data;
        switch (t->dtype) {
        case EG_EXPR_F32: {
            float f;
            memcpy(&f, p + off * 4, 4);
            out->f = f;
            break;
        }
        case EG_EXPR_F16:
        case EG_EXPR_BF16: {
            unsigned short s;
            memcpy(&s, p + off * 2, 2);
            out->f = t->dtype == EG_EXPR_F16 ? half_to_double(s) : bf16_to_double(s);
            break;
        }
        case EG_EXPR_I32: memcpy(&out->i, p + off * 4, 4); break;
        case EG_EXPR_U8: out->i = p[off]; break;
        default: out->i = p[off] != 0; break;
        }
        return EFFGEN_OK;
    }
    case N_COND:
        if ((st = eval(v, n->kid[0], &a))) return st;
        if ((st = eval(v, n->kid[a.i ? 1 : 2], &b))) return st;
        if (n->type == T_FLOAT)
            out->f = as_float(e, n->kid[a.i ? 1 : 2], b);
        else
            out->i = b.i;
        return EFFGEN_OK;
    default: break;
    }
    if ((st = eval(v, n->kid[0], &a))) return st;
    if (n->op == N_BIN && (n->sub == B_AND || n->sub == B_OR)) { /* short-circuit, as the kernel */
        if (a.i == (n->sub == B_OR)) {
            out->i = a.i;
            return EFFGEN_OK;
        }
        if ((st = eval(v, n->kid[1], &b))) return st;
        out->i = b.i;
        return EFFGEN_OK;
    }
    if (n->nkid > 1 && (st = eval(v, n->kid[1], &b))) return st;
    if (n->op == N_NEG) {
        if (n->type == T_INT)
            out->i = wrap(-(long long)a.i);
        else
            out->f = -a.f;
        return EFFGEN_OK;
    }
    if (n->op == N_NOT) {
        out->i = !a.i;
        return EFFGEN_OK;
    }
    if (n->op == N_CALL) {
        if (n->type == T_INT) {
            if (n->sub == F_ABS)
                out->i = a.i < 0 ? wrap(-(long long)a.i) : a.i;
            else
                out->i = (n->sub == F_MIN) == (a.i < b.i) ? a.i : b.i;
            return EFFGEN_OK;
        }
        double x = as_float(e, n->kid[0], a), y = n->nkid > 1 ? as_float(e, n->kid[1], b) : 0;
        switch (n->sub) {
        case F_ABS: out->f = fabs(x); break;
        case F_MIN: out->f = fmin(x, y); break;
        case F_MAX: out->f = fmax(x, y); break;
        case F_EXP: out->f = exp(x); break;
        case F_EXP2: out->f = exp2(x); break;
        case F_LOG: out->f = log(x); break;
        case F_LOG2: out->f = log2(x); break;
        case F_SQRT: out->f = sqrt(x); break;
        case F_TANH: out->f = tanh(x); break;
        case F_FLOOR: out->f = floor(x); break;
        default: out->f = ceil(x); break;
        }
        return EFFGEN_OK;
    }
    /* N_BIN */
    int op = n->sub, ot = n->otype;
    if (ot == T_BOOL) {
        out->i = op == B_EQ ? a.i == b.i : a.i != b.i;
        return EFFGEN_OK;
    }
    if (ot == T_INT) {
        long long x = a.i, y = b.i;
        switch (op) {
        case B_ADD: out->i = wrap(x + y); break;
        case B_SUB: out->i = wrap(x - y); break;
        case B_MUL: out->i = wrap(x * y); break;
        case B_DIV: out->i = y == 0 ? 0 : wrap(x / y); break;
        case B_MOD: out->i = y == 0 || y == -1 ? 0 : (int)(x % y); break;
        case B_EQ: out->i = x == y; break;
        case B_NE: out->i = x != y; break;
        case B_LT: out->i = x < y; break;
        case B_LE: out->i = x <= y; break;
        case B_GT: out->i = x > y; break;
        default: out->i = x >= y; break;
        }
        return EFFGEN_OK;
    }
    double x = as_float(e, n->kid[0], a), y = as_float(e, n->kid[1], b);
    switch (op) {
    case B_ADD: out->f = x + y; break;
    case B_SUB: out->f = x - y; break;
    case B_MUL: out->f = x * y; break;
    case B_DIV: out->f = x / y; break;
    case B_EQ: out->i = x == y; break;
    case B_NE: out->i = x != y; break;
    case B_LT: out->i = x < y; break;
    case B_LE: out->i = x <= y; break;
    case B_GT: out->i = x > y; break;
    default: out->i = x >= y; break;
    }
    return EFFGEN_OK;
}

static effgen_status eval_root(const eg_expr *e, eg_expr_kind kind, double score, const int *vars,
                               const eg_expr_host_tensor *t, int n_tensors, val *out) {
    if (!e) return eg_err(EFFGEN_INVALID_ARGUMENT, "expression evaluation: the expression is NULL");
    if (e->kind != kind)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "expression \"%.60s\" is a %s expression, evaluated as a %s", e->text,
                      e->kind == EG_EXPR_SCORE ? "score" : "mask", kind == EG_EXPR_SCORE ? "score" : "mask");
    if (n_tensors < e->n_tensors || (e->n_tensors && !t))
        return eg_err(EFFGEN_INVALID_ARGUMENT, "expression \"%.60s\" reads %d tensors, %d given", e->text, e->n_tensors,
                      t ? n_tensors : 0);
    env v = {e, score, {0}, t};
    for (int i = 1; i < N_VARS; i++) v.var[i] = vars[i - 1];
    return eval(&v, e->root, out);
}

effgen_status eg_expr_eval_score(const eg_expr *e, double score, int b, int h, int q, int k, int nq, int nk,
                                 const eg_expr_host_tensor *t, int n_tensors, double *out) {
    int vars[6] = {b, h, q, k, nq, nk};
    val r;
    if (!out) return eg_err(EFFGEN_INVALID_ARGUMENT, "eg_expr_eval_score: out is NULL");
    effgen_status st = eval_root(e, EG_EXPR_SCORE, score, vars, t, n_tensors, &r);
    if (st) return st;
    *out = as_float(e, e->root, r);
    return EFFGEN_OK;
}

effgen_status eg_expr_eval_mask(const eg_expr *e, int b, int h, int q, int k, int nq, int nk,
                                const eg_expr_host_tensor *t, int n_tensors, int *out) {
    int vars[6] = {b, h, q, k, nq, nk};
    val r;
    if (!out) return eg_err(EFFGEN_INVALID_ARGUMENT, "eg_expr_eval_mask: out is NULL");
    effgen_status st = eval_root(e, EG_EXPR_MASK, 0, vars, t, n_tensors, &r);
    if (st) return st;
    *out = r.i;
    return EFFGEN_OK;
}
