/* script.c - the Lua binding of the autotuner: problems{}, space{}, wg_space{}, limits{}, constraint(fn)
 * and strategy(...) declare a plan and are checked where they are called, so errors carry the script's
 * file and line; effgen.* exposes the cost model and api.measure the tuner. Scripts get the base, string,
 * table, math and utf8 libraries only. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "eg_lua.h"
#include "expr.h"

#define MAX_PROBLEMS 100000

/* The plan comes first so that a plan pointer is the script's pointer. */
typedef struct script {
    eg_tune_plan plan;
    lua_State *L;
    int cap;
    int constraint_ref, strategy_ref;
    int have_space, have_strategy;
} script;

/* ---- small checks; each raises a Lua error that names the caller's line ---- */

static script *self(lua_State *L) { return (script *)lua_touserdata(L, lua_upvalueindex(1)); }

/* "file:line" of the running script's call into C, without luaL_where's trailing ": ". */
static void where_here(lua_State *L, char *buf, size_t size) {
    luaL_where(L, 1);
    const char *w = lua_tostring(L, -1);
    size_t n = strlen(w);
    while (n > 0 && (w[n - 1] == ' ' || w[n - 1] == ':')) n--;
    snprintf(buf, size, "%.*s", (int)n, w);
    lua_pop(L, 1);
}

/* Every key of the table at idx must be one of names (NULL-terminated). */
static void check_keys(lua_State *L, int idx, const char *what, const char *const *names) {
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) {
            if (lua_isinteger(L, -1) && !strcmp(what, "strategy")) continue; /* {"topk", k = 8} */
            luaL_error(L, "%s: parameters are named (name = value); found a %s key", what, luaL_typename(L, -1));
        }
        const char *k = lua_tostring(L, -1);
        int ok = 0;
        for (int i = 0; names[i] && !ok; i++) ok = !strcmp(k, names[i]);
        if (!ok) {
            luaL_Buffer b;
            luaL_buffinit(L, &b);
            for (int i = 0; names[i]; i++) {
                if (i) luaL_addstring(&b, ", ");
                luaL_addstring(&b, names[i]);
            }
            luaL_pushresult(&b);
            luaL_error(L, "%s: unknown parameter '%s' (expected %s)", what, k, lua_tostring(L, -1));
        }
    }
}

static int int_value(lua_State *L, int idx, const char *what, const char *name, int lo, int hi) {
    int ok = 0;
    lua_Integer v = lua_tointegerx(L, idx, &ok);
    if (!ok) luaL_error(L, "%s: %s must be an integer, not %s", what, name, luaL_typename(L, idx));
    if (v < lo || v > hi) luaL_error(L, "%s: %s=%d: must be from %d to %d", what, name, (int)v, lo, hi);
    return (int)v;
}

/* An optional integer field of the table at idx; def when absent. */
static int int_field(lua_State *L, int idx, const char *what, const char *name, int def, int lo, int hi) {
    lua_getfield(L, idx, name);
    int v = def;
    if (!lua_isnil(L, -1)) v = int_value(L, -1, what, name, lo, hi);
    lua_pop(L, 1);
    return v;
}

/* Field name of the table at idx: one integer or a list of them, into out (room for max). Returns the
 * count; 0 when the field is absent. */
static int int_list(lua_State *L, int idx, const char *what, const char *name, int *out, int max, int lo, int hi) {
    lua_getfield(L, idx, name);
    int n = 0;
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return 0;
    }
    char label[64];
    if (lua_istable(L, -1)) {
        lua_Integer len = luaL_len(L, -1);
        if (len < 1) luaL_error(L, "%s: %s is an empty list", what, name);
        if (len > max) luaL_error(L, "%s: %s lists %d values; at most %d", what, name, (int)len, max);
        for (lua_Integer i = 1; i <= len; i++) {
            lua_geti(L, -1, i);
            snprintf(label, sizeof label, "%s[%d]", name, (int)i);
            out[n++] = int_value(L, -1, what, label, lo, hi);
            lua_pop(L, 1);
        }
    } else {
        out[n++] = int_value(L, -1, what, name, lo, hi);
    }
    lua_pop(L, 1);
    return n;
}

/* Field name: one string or a list of them, each one of choices; returns a bit set of the choices. */
static unsigned str_set(lua_State *L, int idx, const char *what, const char *name, const char *const *choices,
                        unsigned def) {
    lua_getfield(L, idx, name);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return def;
    }
    int single = !lua_istable(L, -1);
    lua_Integer len = single ? 1 : luaL_len(L, -1);
    if (len < 1) luaL_error(L, "%s: %s is an empty list", what, name);
    unsigned set = 0;
    for (lua_Integer i = 1; i <= len; i++) {
        if (single)
            lua_pushvalue(L, -1);
        else
            lua_geti(L, -1, i);
        const char *v = lua_tostring(L, -1);
        if (!v || lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "%s: %s must be a string or a list of strings, not %s", what, name, luaL_typename(L, -1));
        int k = 0;
        while (choices[k] && strcmp(choices[k], v)) k++;
        if (!choices[k]) {
            luaL_Buffer b;
            luaL_buffinit(L, &b);
            for (int j = 0; choices[j]; j++) {
                if (j) luaL_addstring(&b, ", ");
                luaL_addstring(&b, choices[j]);
            }
            luaL_pushresult(&b);
            luaL_error(L, "%s: %s \"%s\": must be one of %s", what, name, v, lua_tostring(L, -1));
        }
        set |= 1u << k;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return set;
}

/* ---- declarations ---- */

static const char *const dtype_names[] = {"bf16", "fp16", NULL};
static const char *const mask_names[] = {"none", "causal", "causal_tl", NULL};
static const char *const op_names[] = {"attn_fwd", NULL};

typedef struct bucket_decl {
    int bucket, batch, heads, seqlen_q, seqlen_k;
} bucket_decl;

static void add_problem(lua_State *L, script *s, const eg_tune_problem *p) {
    if (s->plan.n_problems == s->cap) {
        if (s->cap >= MAX_PROBLEMS) luaL_error(L, "problems: more than %d problems", MAX_PROBLEMS);
        int cap = s->cap ? 2 * s->cap : 32;
        eg_tune_problem *np = realloc(s->plan.problems, sizeof *np * (size_t)cap);
        if (!np) luaL_error(L, "problems: out of memory");
        s->plan.problems = np;
        s->cap = cap;
    }
    s->plan.problems[s->plan.n_problems++] = *p;
}

/* problems { ops, head_dims, dtypes, masks, buckets }: the cross product is added to the plan. */
static int l_problems(lua_State *L) {
    script *s = self(L);
    const char *what = "problems";
    luaL_checktype(L, 1, LUA_TTABLE);
    static const char *const keys[] = {"ops", "head_dims", "dtypes", "masks", "buckets", NULL};
    check_keys(L, 1, what, keys);
    str_set(L, 1, what, "ops", op_names, 1u);
    int dims[64];
    int nd = int_list(L, 1, what, "head_dims", dims, 64, 8, 256);
    if (!nd) luaL_error(L, "problems: head_dims is required (e.g. head_dims = {64, 128})");
    for (int i = 0; i < nd; i++)
        if (dims[i] % 8) luaL_error(L, "problems: head_dims: %d is not a multiple of 8", dims[i]);
    unsigned dts = str_set(L, 1, what, "dtypes", dtype_names, 1u);
    unsigned masks = str_set(L, 1, what, "masks", mask_names, 1u);

    lua_getfield(L, 1, "buckets");
    if (!lua_istable(L, -1))
        luaL_error(L, "problems: buckets is required: a list of {bucket = N, batch = B, heads = H, seqlen = N}");
    lua_Integer nb = luaL_len(L, -1);
    if (nb < 1 || nb > 64) luaL_error(L, "problems: buckets lists %d entries; 1 to 64 are allowed", (int)nb);
    bucket_decl b[64];
    static const char *const bkeys[] = {"bucket", "batch", "heads", "seqlen", "seqlen_q", "seqlen_k", NULL};
    for (lua_Integer i = 1; i <= nb; i++) {
        lua_geti(L, -1, i);
        char label[48];
        snprintf(label, sizeof label, "problems: buckets[%d]", (int)i);
        if (!lua_istable(L, -1)) luaL_error(L, "%s: must be a table {bucket = N, ...}", label);
        check_keys(L, -1, label, bkeys);
        bucket_decl *d = &b[i - 1];
        d->bucket = int_field(L, -1, label, "bucket", 0, 1, 1 << 24);
        if (!d->bucket) luaL_error(L, "%s: bucket is required (the largest seqlen_k it serves)", label);
        int n = int_field(L, -1, label, "seqlen", d->bucket, 1, 1 << 24);
        d->seqlen_q = int_field(L, -1, label, "seqlen_q", n, 1, 1 << 24);
        d->seqlen_k = int_field(L, -1, label, "seqlen_k", n, 1, 1 << 24);
        d->batch = int_field(L, -1, label, "batch", 0, 1, 1 << 16);
        d->heads = int_field(L, -1, label, "heads", 0, 1, 1 << 12);
        for (lua_Integer j = 1; j < i; j++)
            if (b[j - 1].bucket == d->bucket) luaL_error(L, "%s: bucket %d is declared twice", label, d->bucket);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);

    for (int di = 0; di < nd; di++)
        for (int t = 0; dtype_names[t]; t++)
            for (int m = 0; mask_names[m]; m++)
                for (int k = 0; k < nb; k++) {
                    if (!(dts >> t & 1) || !(masks >> m & 1)) continue;
                    eg_tune_problem p;
                    memset(&p, 0, sizeof p);
                    p.spec.op = EG_OP_ATTN_FWD;
                    p.spec.head_dim = dims[di];
                    p.spec.dtype = t ? EFFGEN_FP16 : EFFGEN_BF16;
                    p.spec.mask = m ? EG_MASK_CAUSAL : EG_MASK_NONE;
                    p.spec.align = m == 2 ? EFFGEN_CAUSAL_TOP_LEFT : EFFGEN_CAUSAL_BOTTOM_RIGHT;
                    p.spec.arch = 90;
                    p.bucket = b[k].bucket;
                    p.seqlen_q = b[k].seqlen_q;
                    p.seqlen_k = b[k].seqlen_k;
                    /* defaults follow the usual benchmark shapes: H*D = 2048, B*N = 16k tokens */
                    p.heads = b[k].heads ? b[k].heads : (2048 / dims[di] > 0 ? 2048 / dims[di] : 1);
                    p.batch = b[k].batch ? b[k].batch : (16384 / p.seqlen_q > 0 ? 16384 / p.seqlen_q : 1);
                    for (int q = 0; q < s->plan.n_problems; q++) {
                        const eg_tune_problem *o = &s->plan.problems[q];
                        if (!memcmp(&o->spec, &p.spec, sizeof p.spec) && o->bucket == p.bucket)
                            luaL_error(L, "problems: d%d %s %s bucket %d is already declared", dims[di],
                                       dtype_names[t], mask_names[m], p.bucket);
                    }
                    add_problem(L, s, &p);
                }
    return 0;
}

/* space { block_m, block_n, warps, stages [, dsplit] }: every list but dsplit is required; dsplit lists 0
 * (one warp per row tile) and/or 2 (warps in pairs, ".d2"), {0} when absent. */
static int l_space(lua_State *L) {
    script *s = self(L);
    const char *what = "space";
    luaL_checktype(L, 1, LUA_TTABLE);
    static const char *const keys[] = {"block_m", "block_n", "warps", "stages", "dsplit", NULL};
    check_keys(L, 1, what, keys);
    eg_tune_space *sp = &s->plan.space;
    sp->n_block_m = int_list(L, 1, what, "block_m", sp->block_m, EG_TUNE_MAX_VALUES, 16, 256);
    sp->n_block_n = int_list(L, 1, what, "block_n", sp->block_n, EG_TUNE_MAX_VALUES, 16, 256);
    sp->n_warps = int_list(L, 1, what, "warps", sp->warps, EG_TUNE_MAX_VALUES, 1, 8);
    sp->n_stages = int_list(L, 1, what, "stages", sp->stages, EG_TUNE_MAX_VALUES, 1, 4);
    sp->n_dsplit = int_list(L, 1, what, "dsplit", sp->dsplit, EG_TUNE_MAX_VALUES, 0, 2);
    for (int i = 0; i < sp->n_dsplit; i++)
        if (sp->dsplit[i] == 1) luaL_error(L, "space: dsplit 1: must be 0 (one warp per row tile) or 2 (warps in pairs)");
    for (int i = 0; i < 4; i++) {
        int n = i == 0 ? sp->n_block_m : i == 1 ? sp->n_block_n : i == 2 ? sp->n_warps : sp->n_stages;
        if (!n) luaL_error(L, "space: %s is required (a list of values)", keys[i]);
    }
    /* what no arch accepts is a mistake in the script, reported here; the rest is pruned per arch */
    for (int i = 0; i < sp->n_block_m; i++)
        if (sp->block_m[i] % 16) luaL_error(L, "space: block_m %d: must be a multiple of 16", sp->block_m[i]);
    for (int i = 0; i < sp->n_block_n; i++)
        if (sp->block_n[i] % 16) luaL_error(L, "space: block_n %d: must be a multiple of 16", sp->block_n[i]);
    for (int i = 0; i < sp->n_warps; i++)
        if (sp->warps[i] != 1 && sp->warps[i] != 2 && sp->warps[i] != 4 && sp->warps[i] != 8)
            luaL_error(L, "space: warps %d: must be 1, 2, 4 or 8", sp->warps[i]);
    s->have_space = 1;
    where_here(L, s->plan.where_space, sizeof s->plan.where_space);
    return 0;
}

/* wg_space { consumers, block_n, stages }: the Hopper warpgroup family's candidates, used where the target
 * is sm_90a and the family implements the problem's spec. Each list is optional: {1, 2, 3}, {64, 128}
 * and {2, 3} by default. */
static int l_wg_space(lua_State *L) {
    script *s = self(L);
    const char *what = "wg_space";
    luaL_checktype(L, 1, LUA_TTABLE);
    static const char *const keys[] = {"consumers", "block_n", "stages", NULL};
    check_keys(L, 1, what, keys);
    eg_tune_wg_space *wg = &s->plan.wg_space;
    static const int def_cons[] = {1, 2, 3}, def_bn[] = {64, 128}, def_st[] = {2, 3};
    wg->n_consumers = int_list(L, 1, what, "consumers", wg->consumers, EG_TUNE_MAX_VALUES, INT32_MIN, INT32_MAX);
    wg->n_block_n = int_list(L, 1, what, "block_n", wg->block_n, EG_TUNE_MAX_VALUES, INT32_MIN, INT32_MAX);
    wg->n_stages = int_list(L, 1, what, "stages", wg->stages, EG_TUNE_MAX_VALUES, INT32_MIN, INT32_MAX);
    if (!wg->n_consumers) memcpy(wg->consumers, def_cons, sizeof def_cons), wg->n_consumers = 3;
    if (!wg->n_block_n) memcpy(wg->block_n, def_bn, sizeof def_bn), wg->n_block_n = 2;
    if (!wg->n_stages) memcpy(wg->stages, def_st, sizeof def_st), wg->n_stages = 2;
    if (!s->have_space) where_here(L, s->plan.where_space, sizeof s->plan.where_space);
    /* what no spec accepts is a mistake in the script, reported here; the rest is pruned per problem */
    for (int i = 0; i < wg->n_consumers; i++)
        if (wg->consumers[i] < 1 || wg->consumers[i] > 3)
            luaL_error(L, "wg_space: consumers %d: must be 1, 2 or 3 (consumer warpgroups of 64 query rows each)",
                       wg->consumers[i]);
    for (int i = 0; i < wg->n_block_n; i++)
        if (wg->block_n[i] != 64 && wg->block_n[i] != 128)
            luaL_error(L, "wg_space: block_n %d: must be 64 or 128", wg->block_n[i]);
    for (int i = 0; i < wg->n_stages; i++)
        if (wg->stages[i] < 2 || wg->stages[i] > 4)
            luaL_error(L, "wg_space: stages %d: must be 2, 3 or 4 (a consumer holds one stage while the next loads)",
                       wg->stages[i]);
    return 0;
}

/* limits { max_smem, max_registers, min_occupancy }: pruning by the cost model before compiling. */
static int l_limits(lua_State *L) {
    script *s = self(L);
    const char *what = "limits";
    luaL_checktype(L, 1, LUA_TTABLE);
    static const char *const keys[] = {"max_smem", "max_registers", "min_occupancy", NULL};
    check_keys(L, 1, what, keys);
    s->plan.limits.max_smem = int_field(L, 1, what, "max_smem", 0, 0, 1 << 30);
    s->plan.limits.max_registers = int_field(L, 1, what, "max_registers", 0, 0, 255);
    s->plan.limits.min_occupancy = int_field(L, 1, what, "min_occupancy", 0, 0, 64);
    if (!s->plan.where_constraint[0] || s->constraint_ref == LUA_NOREF)
        where_here(L, s->plan.where_constraint, sizeof s->plan.where_constraint);
    return 0;
}

/* constraint(function(problem, config) return bool end) */
static int l_constraint(lua_State *L) {
    script *s = self(L);
    luaL_checktype(L, 1, LUA_TFUNCTION);
    if (s->constraint_ref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, s->constraint_ref);
    lua_pushvalue(L, 1);
    s->constraint_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    where_here(L, s->plan.where_constraint, sizeof s->plan.where_constraint);
    return 0;
}

/* strategy "exhaustive" | strategy {"topk", k = 8} | strategy {"random", budget = 16, seed = 1}
 * | strategy(function(problem, candidates, api) ... return config end) */
static int l_strategy(lua_State *L) {
    script *s = self(L);
    eg_tune_strategy st = {EG_TUNE_EXHAUSTIVE, 8, 16, 1};
    if (lua_isfunction(L, 1)) {
        if (s->strategy_ref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, s->strategy_ref);
        lua_pushvalue(L, 1);
        s->strategy_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        st.kind = EG_TUNE_SCRIPT;
    } else {
        const char *name = NULL;
        if (lua_type(L, 1) == LUA_TSTRING) {
            name = lua_tostring(L, 1);
        } else if (lua_istable(L, 1)) {
            static const char *const keys[] = {"name", "k", "budget", "seed", NULL};
            check_keys(L, 1, "strategy", keys);
            lua_geti(L, 1, 1);
            if (lua_type(L, -1) != LUA_TSTRING) {
                lua_pop(L, 1);
                lua_getfield(L, 1, "name");
            }
            name = lua_tostring(L, -1);
            lua_pop(L, 1); /* the string stays alive: the table holds it */
        }
        if (!name)
            luaL_error(L, "strategy: expected a name (\"exhaustive\", \"topk\", \"random\"), a table "
                          "{\"topk\", k = 8} or a function");
        if (!strcmp(name, "exhaustive")) {
            st.kind = EG_TUNE_EXHAUSTIVE;
        } else if (!strcmp(name, "topk")) {
            st.kind = EG_TUNE_TOPK;
        } else if (!strcmp(name, "random")) {
            st.kind = EG_TUNE_RANDOM;
        } else {
            luaL_error(L, "strategy: unknown strategy \"%s\" (expected exhaustive, topk, random or a function)", name);
        }
        if (lua_istable(L, 1)) {
            st.k = int_field(L, 1, "strategy", "k", st.k, 1, 1 << 20);
            st.budget = int_field(L, 1, "strategy", "budget", st.budget, 1, 1 << 20);
            st.seed = (uint64_t)int_field(L, 1, "strategy", "seed", (int)st.seed, 0, 0x7fffffff);
        }
    }
    s->plan.strategy = st;
    s->have_strategy = 1;
    return 0;
}

/* ---- values between C and Lua ---- */

static void push_problem(lua_State *L, const eg_tune_problem *p) {
    char buf[EG_KEY_MAX];
    lua_createtable(L, 0, 11);
    lua_pushstring(L, "attn_fwd");
    lua_setfield(L, -2, "op");
    lua_pushinteger(L, p->spec.head_dim);
    lua_setfield(L, -2, "head_dim");
    lua_pushstring(L, p->spec.dtype == EFFGEN_FP16 ? "fp16" : "bf16");
    lua_setfield(L, -2, "dtype");
    lua_pushstring(L, p->spec.mask == EG_MASK_NONE                ? "none"
                      : p->spec.align == EFFGEN_CAUSAL_TOP_LEFT ? "causal_tl"
                                                                  : "causal");
    lua_setfield(L, -2, "mask");
    eg_arch_print(p->spec.arch, buf, sizeof buf);
    lua_pushstring(L, buf);
    lua_setfield(L, -2, "arch");
    eg_spec_print(&p->spec, buf, sizeof buf);
    lua_pushstring(L, buf);
    lua_setfield(L, -2, "spec");
    lua_pushinteger(L, p->bucket);
    lua_setfield(L, -2, "bucket");
    lua_pushinteger(L, p->batch);
    lua_setfield(L, -2, "batch");
    lua_pushinteger(L, p->heads);
    lua_setfield(L, -2, "heads");
    lua_pushinteger(L, p->seqlen_q);
    lua_setfield(L, -2, "seqlen_q");
    lua_pushinteger(L, p->seqlen_k);
    lua_setfield(L, -2, "seqlen_k");
}

static void push_config(lua_State *L, const eg_config *c) {
    char buf[64];
    lua_createtable(L, 0, 7);
    lua_pushstring(L, c->family == EG_FAMILY_WG ? "wg" : "mma");
    lua_setfield(L, -2, "family");
    if (c->family == EG_FAMILY_WG) {
        lua_pushinteger(L, eg_config_consumers(c));
        lua_setfield(L, -2, "consumers");
    }
    lua_pushinteger(L, c->block_m);
    lua_setfield(L, -2, "block_m");
    lua_pushinteger(L, c->block_n);
    lua_setfield(L, -2, "block_n");
    lua_pushinteger(L, c->warps);
    lua_setfield(L, -2, "warps");
    lua_pushinteger(L, c->stages);
    lua_setfield(L, -2, "stages");
    if (c->family == EG_FAMILY_MMA) {
        lua_pushinteger(L, c->dsplit);
        lua_setfield(L, -2, "dsplit");
    }
    eg_config_print(c, buf, sizeof buf);
    lua_pushstring(L, buf);
    lua_setfield(L, -2, "key");
}

/* An integer field of the table at idx without raising: 0 when absent, 2 when not an integer, 1 when an
 * integer, in *v (-1 when out of 0 .. 2^20, which the config checks then name). */
static int table_int(lua_State *L, int idx, const char *name, int *v) {
    lua_getfield(L, idx, name);
    int present = !lua_isnil(L, -1), ok = 0;
    lua_Integer x = lua_tointegerx(L, -1, &ok);
    lua_pop(L, 1);
    *v = ok && x >= 0 && x <= 1 << 20 ? (int)x : -1;
    return !present ? 0 : ok ? 1 : 2;
}

/* A config from a table without raising (the strategy's result is read outside a protected call):
 * family "mma" (default) with block_m, block_n, warps, stages, or "wg" with block_n, stages and consumers
 * (block_m 64 * consumers when absent; warps, as push_config gives it, when consumers is absent). Field
 * checks only; on failure the reason is in why. */
static int table_config(lua_State *L, int idx, eg_config *out, char *why, size_t size) {
    idx = lua_absindex(L, idx);
    eg_config c = {0, 0, 0, 0, EG_FAMILY_MMA, 0};
    lua_getfield(L, idx, "family");
    const char *fam = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    int fam_ok = lua_isnil(L, -1) || (fam && (!strcmp(fam, "mma") || !strcmp(fam, "wg")));
    if (fam && !strcmp(fam, "wg")) c.family = EG_FAMILY_WG;
    lua_pop(L, 1); /* fam stays alive: the table holds it */
    if (!fam_ok) {
        snprintf(why, size, "config.family: must be \"mma\" or \"wg\"");
        return 0;
    }
    int cons = -1;
    const char *need[4] = {"block_m", "block_n", "warps", "stages"};
    int *slot[4] = {&c.block_m, &c.block_n, &c.warps, &c.stages};
    int has_cons = c.family == EG_FAMILY_WG ? table_int(L, idx, "consumers", &cons) : 0;
    if (has_cons) {
        if (has_cons != 1 || cons < 1 || cons > 3) {
            snprintf(why, size, "config.consumers: must be 1, 2 or 3 (consumer warpgroups of 64 query rows)");
            return 0;
        }
        c.warps = 4 * (cons + 1);
        need[2] = NULL;
        int has_bm = table_int(L, idx, "block_m", &c.block_m);
        if (has_bm == 0) c.block_m = 64 * cons;
        if (has_bm == 2) {
            snprintf(why, size, "config.block_m must be an integer");
            return 0;
        }
        need[0] = NULL;
    }
    for (int i = 0; i < 4; i++) {
        if (need[i] && table_int(L, idx, need[i], slot[i]) != 1) {
            snprintf(why, size, "config.%s must be an integer%s", need[i],
                     c.family == EG_FAMILY_WG && i == 2 ? " (or give consumers)" : "");
            return 0;
        }
    }
    int dsplit = 0, has_dsplit = c.family == EG_FAMILY_MMA ? table_int(L, idx, "dsplit", &dsplit) : 0;
    if (has_dsplit == 2) {
        snprintf(why, size, "config.dsplit must be an integer (0, or 2: warps in pairs)");
        return 0;
    }
    if (has_dsplit) c.dsplit = dsplit;
    if (eg_config_validate(&c, NULL) != EFFGEN_OK) {
        snprintf(why, size, "%s", effgen_last_error());
        eg_err_clear();
        return 0;
    }
    *out = c;
    return 1;
}

/* A config from canonical text or a table (table_config). Field checks only: the arch's limits are the
 * caller's business. */
static eg_config to_config(lua_State *L, int idx, const char *what) {
    eg_config c;
    if (lua_type(L, idx) == LUA_TSTRING) {
        if (eg_config_parse(lua_tostring(L, idx), &c) != EFFGEN_OK) luaL_error(L, "%s: %s", what, effgen_last_error());
        return c;
    }
    if (!lua_istable(L, idx))
        luaL_error(L,
                   "%s: config must be a table {block_m=, block_n=, warps=, stages=} or {family=\"wg\", consumers=, "
                   "block_n=, stages=} or text, not %s",
                   what, luaL_typename(L, idx));
    char why[512];
    if (!table_config(L, idx, &c, why, sizeof why)) luaL_error(L, "%s: %s", what, why);
    return c;
}

/* A parsed user expression held by a Lua userdata, so that a Lua error raised after parsing (a bad field
 * further on) does not leak it: the garbage collector frees it. */
static const char *const expr_meta = "effgen.expr";
static int expr_gc(lua_State *L) {
    eg_expr **box = luaL_checkudata(L, 1, expr_meta);
    eg_expr_free(*box);
    *box = NULL;
    return 0;
}
static const char *const kind_names[] = {"score", "mask", NULL};

/* Parse text as an expression of kind (0 score, 1 mask) into a new userdata pushed on the stack; a parse
 * error raises a Lua error with what (the caller and field) and the parser's message, caret line included. */
static eg_expr *push_expr(lua_State *L, const char *text, int kind, const char *what, const char *field) {
    eg_expr **box = lua_newuserdatauv(L, sizeof *box, 0);
    *box = NULL;
    if (luaL_newmetatable(L, expr_meta)) {
        lua_pushcfunction(L, expr_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    if (eg_expr_parse(text, kind ? EG_EXPR_MASK : EG_EXPR_SCORE, NULL, 0, box) != EFFGEN_OK)
        luaL_error(L, "%s: %s: %s", what, field, effgen_last_error());
    return *box;
}

/* A spec from canonical text, or a table with head_dim, dtype, mask, arch (a problem table works) and the
 * user expressions score_mod and mask_mod (texts, tensors declared after ';'). The expressions stay
 * referenced from the stack (one userdata each, pushed here) until the calling function returns. */
static eg_spec to_spec(lua_State *L, int idx, const char *what) {
    eg_spec s;
    memset(&s, 0, sizeof s);
    if (lua_type(L, idx) == LUA_TSTRING) {
        if (eg_spec_parse(lua_tostring(L, idx), &s) != EFFGEN_OK) luaL_error(L, "%s: %s", what, effgen_last_error());
        return s;
    }
    if (!lua_istable(L, idx))
        luaL_error(L, "%s: spec must be a table {head_dim=, dtype=, mask=, arch=, score_mod=, mask_mod=} or text, "
                      "not %s",
                   what, luaL_typename(L, idx));
    idx = lua_absindex(L, idx);
    s.op = EG_OP_ATTN_FWD;
    s.head_dim = int_field(L, idx, what, "head_dim", 0, 0, 1 << 20);
    s.dtype = (str_set(L, idx, what, "dtype", dtype_names, 1u) & 2u) ? EFFGEN_FP16 : EFFGEN_BF16;
    unsigned m = str_set(L, idx, what, "mask", mask_names, 1u);
    s.mask = (m & 6u) ? EG_MASK_CAUSAL : EG_MASK_NONE;
    s.align = (m & 4u) ? EFFGEN_CAUSAL_TOP_LEFT : EFFGEN_CAUSAL_BOTTOM_RIGHT;
    s.arch = 90;
    lua_getfield(L, idx, "arch");
    if (lua_type(L, -1) == LUA_TSTRING) {
        if (eg_arch_parse(lua_tostring(L, -1), &s.arch) != EFFGEN_OK) luaL_error(L, "%s: %s", what, effgen_last_error());
    } else if (!lua_isnil(L, -1)) {
        s.arch = int_value(L, -1, what, "arch", 0, 1000);
    }
    lua_pop(L, 1);
    static const char *const mods[2] = {"score_mod", "mask_mod"};
    for (int i = 0; i < 2; i++) {
        lua_getfield(L, idx, mods[i]);
        if (lua_type(L, -1) == LUA_TSTRING) {
            const eg_expr *e = push_expr(L, lua_tostring(L, -1), i, what, mods[i]);
            lua_remove(L, -2); /* the text; the userdata stays */
            if (i) s.mask_mod = e;
            else s.score_mod = e;
        } else {
            if (!lua_isnil(L, -1))
                luaL_error(L, "%s: %s must be the expression's text, not %s", what, mods[i], luaL_typename(L, -1));
            lua_pop(L, 1);
        }
    }
    if (eg_spec_validate(&s) != EFFGEN_OK) luaL_error(L, "%s: %s", what, effgen_last_error());
    return s;
}

/* effgen.expr(text, kind): the expression parsed as kind "score" or "mask", as a table {kind, text (the
 * canonical text), hash (16 hex digits, as in spec keys), tensors = {{name, dtype, rank}, ...} in slot
 * order, tiles (mask expressions: whether the kernel can decide whole tiles by interval arithmetic)}; a bad
 * expression raises an error naming the token and its column. */
static int l_expr(lua_State *L) {
    const char *text = luaL_checkstring(L, 1);
    const char *kn = luaL_checkstring(L, 2);
    int kind = -1;
    for (int i = 0; kind_names[i]; i++)
        if (!strcmp(kn, kind_names[i])) kind = i;
    if (kind < 0) luaL_error(L, "effgen.expr: kind=\"%s\": must be \"score\" or \"mask\"", kn);
    const eg_expr *e = push_expr(L, text, kind, "effgen.expr", "text");
    lua_createtable(L, 0, 5);
    lua_pushstring(L, kind_names[kind]);
    lua_setfield(L, -2, "kind");
    lua_pushstring(L, eg_expr_text(e));
    lua_setfield(L, -2, "text");
    char hex[17];
    eg_expr_hash_hex(e, hex);
    lua_pushstring(L, hex);
    lua_setfield(L, -2, "hash");
    const int n = eg_expr_tensor_count(e);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        eg_expr_decl d;
        eg_expr_tensor(e, i, &d);
        lua_createtable(L, 0, 3);
        lua_pushstring(L, d.name);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, eg_expr_dtype_name(d.dtype));
        lua_setfield(L, -2, "dtype");
        lua_pushinteger(L, d.rank);
        lua_setfield(L, -2, "rank");
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "tensors");
    lua_pushboolean(L, kind == 1 && eg_expr_range_useful(e));
    lua_setfield(L, -2, "tiles");
    return 1;
}

/* effgen.generate(spec, config): the CUDA source the generator writes for them (a spec table may carry
 * score_mod and mask_mod); a spec or config the generator refuses raises the reason. */
static int l_generate(lua_State *L) {
    eg_spec s = to_spec(L, 1, "effgen.generate");
    eg_config c = to_config(L, 2, "effgen.generate");
    char *src = NULL;
    if (eg_cg_generate(&s, &c, &src) != EFFGEN_OK) luaL_error(L, "effgen.generate: %s", effgen_last_error());
    lua_pushstring(L, src);
    free(src);
    return 1;
}

/* effgen.smem / .registers / .occupancy (spec, config): the cost model's numbers. */
static int l_cost(lua_State *L, int which, const char *what) {
    eg_spec s = to_spec(L, 1, what);
    eg_config c = to_config(L, 2, what);
    eg_cost cost;
    eg_model_cost(&s, &c, &cost);
    lua_pushinteger(L, which == 0 ? cost.smem_bytes : which == 1 ? cost.regs_estimate : cost.blocks_per_sm);
    return 1;
}
static int l_smem(lua_State *L) { return l_cost(L, 0, "effgen.smem"); }
static int l_registers(lua_State *L) { return l_cost(L, 1, "effgen.registers"); }
static int l_occupancy(lua_State *L) { return l_cost(L, 2, "effgen.occupancy"); }

/* effgen.estimate(problem, config): model time in microseconds on the problem's shape (a spec alone:
 * 32 heads of 4096 queries and keys); math.huge where the arch cannot run it. */
static int l_estimate(lua_State *L) {
    eg_spec s = to_spec(L, 1, "effgen.estimate");
    eg_config c = to_config(L, 2, "effgen.estimate");
    int bh = 32, nq = 4096, nk = 4096;
    if (lua_istable(L, 1)) {
        int b = int_field(L, 1, "effgen.estimate", "batch", 1, 1, 1 << 24);
        int h = int_field(L, 1, "effgen.estimate", "heads", 32, 1, 1 << 24);
        bh = b * h;
        nq = int_field(L, 1, "effgen.estimate", "seqlen_q", 4096, 1, 1 << 24);
        nk = int_field(L, 1, "effgen.estimate", "seqlen_k", 4096, 1, 1 << 24);
    }
    double t = eg_model_estimate(&s, &c, bh, nq, nk);
    eg_err_clear();
    lua_pushnumber(L, isfinite(t) ? t : HUGE_VAL);
    return 1;
}

/* effgen.validate(spec, config) -> true | false, reason: the arch's limits. */
static int l_validate(lua_State *L) {
    eg_spec s = to_spec(L, 1, "effgen.validate");
    eg_config c = to_config(L, 2, "effgen.validate");
    if (eg_config_validate(&c, &s) == EFFGEN_OK) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushboolean(L, 0);
    lua_pushstring(L, effgen_last_error());
    eg_err_clear();
    return 2;
}

/* ---- the sandbox and running ---- */

/* Message handler: keep the text (runtime errors already start with "file:line:"). */
static int msgh(lua_State *L) {
    if (lua_type(L, 1) == LUA_TSTRING) return 1;
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
    lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    return 1;
}

/* pcall with msgh; on error the message is the error text. nres results stay on the stack. */
static effgen_status pcall(lua_State *L, int nargs, int nres) {
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, msgh);
    lua_insert(L, base);
    int r = lua_pcall(L, nargs, nres, base);
    lua_remove(L, base);
    if (r == LUA_OK) return EFFGEN_OK;
    effgen_status st = r == LUA_ERRMEM ? eg_err(EFFGEN_NO_MEMORY, "script: out of memory")
                                       : eg_err(EFFGEN_INVALID_ARGUMENT, "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
    return st;
}

static void open_sandbox(lua_State *L, script *s) {
    static const luaL_Reg libs[] = {{LUA_GNAME, luaopen_base},          {LUA_TABLIBNAME, luaopen_table},
                                    {LUA_STRLIBNAME, luaopen_string},   {LUA_MATHLIBNAME, luaopen_math},
                                    {LUA_UTF8LIBNAME, luaopen_utf8},    {NULL, NULL}};
    for (const luaL_Reg *l = libs; l->func; l++) {
        luaL_requiref(L, l->name, l->func, 1);
        lua_pop(L, 1);
    }
    /* no reaching files or bytecode from a tuning script */
    static const char *const drop[] = {"dofile", "loadfile", "load", "require", NULL};
    for (int i = 0; drop[i]; i++) {
        lua_pushnil(L);
        lua_setglobal(L, drop[i]);
    }
    static const luaL_Reg decl[] = {{"problems", l_problems},     {"space", l_space},       {"wg_space", l_wg_space},
                                    {"limits", l_limits},         {"constraint", l_constraint},
                                    {"strategy", l_strategy},     {NULL, NULL}};
    for (const luaL_Reg *f = decl; f->func; f++) {
        lua_pushlightuserdata(L, s);
        lua_pushcclosure(L, f->func, 1);
        lua_setglobal(L, f->name);
    }
    static const luaL_Reg model[] = {{"smem", l_smem},         {"registers", l_registers}, {"occupancy", l_occupancy},
                                     {"estimate", l_estimate}, {"validate", l_validate},   {"expr", l_expr},
                                     {"generate", l_generate}, {NULL, NULL}};
    luaL_newlib(L, model);
    lua_pushstring(L, eg_arch_list());
    lua_setfield(L, -2, "archs");
    lua_setglobal(L, "effgen");
}

/* ---- hooks called by the tuner ---- */

static effgen_status hook_constraint(void *ud, const eg_tune_problem *p, const eg_config *c, int *keep) {
    script *s = ud;
    lua_State *L = s->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->constraint_ref);
    push_problem(L, p);
    push_config(L, c);
    effgen_status st = pcall(L, 2, 1);
    if (st) return st;
    *keep = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return EFFGEN_OK;
}

/* State of api.measure during one strategy call; a full userdata, so a closure kept past the call finds
 * it inactive instead of dangling. */
typedef struct measure_ctx {
    int active;
    eg_tune_run *run;
    eg_tune_problem p;
    effgen_status fatal;
} measure_ctx;

static int l_measure(lua_State *L) {
    measure_ctx *m = lua_touserdata(L, lua_upvalueindex(1));
    if (!m->active) return luaL_error(L, "api.measure: only inside the strategy call it was given to");
    eg_config c = to_config(L, 1, "api.measure");
    double ms = -1;
    char why[512];
    effgen_status st = eg_tune_measure(m->run, &m->p, &c, &ms, why, sizeof why);
    if (st) {
        m->fatal = st;
        return luaL_error(L, "api.measure: %s", effgen_last_error());
    }
    if (ms < 0) {
        lua_pushnil(L);
        lua_pushstring(L, why);
        return 2;
    }
    lua_pushnumber(L, ms);
    return 1;
}

static int l_api_estimate(lua_State *L) {
    measure_ctx *m = lua_touserdata(L, lua_upvalueindex(1));
    eg_config c = to_config(L, 1, "api.estimate");
    double t = eg_tune_estimate(&m->p, &c);
    eg_err_clear();
    lua_pushnumber(L, isfinite(t) ? t : HUGE_VAL);
    return 1;
}

static effgen_status hook_strategy(void *ud, eg_tune_run *run, const eg_tune_problem *p, const eg_config *cands, int n,
                                   eg_config *chosen) {
    script *s = ud;
    lua_State *L = s->L;
    int top = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->strategy_ref);
    push_problem(L, p);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        push_config(L, &cands[i]);
        lua_rawseti(L, -2, i + 1);
    }
    measure_ctx *m = lua_newuserdatauv(L, sizeof *m, 0);
    memset(m, 0, sizeof *m);
    m->active = 1;
    m->run = run;
    m->p = *p;
    int mref = luaL_ref(L, LUA_REGISTRYINDEX); /* keeps m alive through the call */
    lua_createtable(L, 0, 2);
    lua_rawgeti(L, LUA_REGISTRYINDEX, mref);
    lua_pushcclosure(L, l_measure, 1);
    lua_setfield(L, -2, "measure");
    lua_rawgeti(L, LUA_REGISTRYINDEX, mref);
    lua_pushcclosure(L, l_api_estimate, 1);
    lua_setfield(L, -2, "estimate");
    effgen_status st = pcall(L, 3, 1);
    m->active = 0;
    effgen_status fatal = m->fatal;
    luaL_unref(L, LUA_REGISTRYINDEX, mref);
    if (st) {
        lua_settop(L, top);
        return fatal ? eg_err_wrap(fatal, "strategy") : st;
    }
    /* the function's own line, for a result that is not a config */
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->strategy_ref);
    lua_Debug ar;
    lua_getinfo(L, ">S", &ar);
    char where[300];
    snprintf(where, sizeof where, "%s:%d", ar.short_src, ar.linedefined);
    char pk[EG_KEY_MAX];
    eg_spec_print(&p->spec, pk, sizeof pk);
    if (lua_isnil(L, -1)) {
        lua_settop(L, top);
        return eg_err(EFFGEN_INVALID_ARGUMENT, "%s: strategy returned no config for %s bucket %d", where, pk, p->bucket);
    }
    eg_config c;
    int ok = 0;
    if (lua_type(L, -1) == LUA_TSTRING) {
        ok = eg_config_parse(lua_tostring(L, -1), &c) == EFFGEN_OK;
    } else if (lua_istable(L, -1)) {
        char why[512];
        ok = table_config(L, -1, &c, why, sizeof why);
    }
    lua_settop(L, top);
    if (!ok) {
        eg_err_clear();
        return eg_err(EFFGEN_INVALID_ARGUMENT, "%s: strategy must return a config (a candidate's table or its key) for %s bucket %d",
                      where, pk, p->bucket);
    }
    *chosen = c;
    return EFFGEN_OK;
}

/* ---- loading ---- */

void eg_lua_plan_free(eg_tune_plan *plan) {
    if (!plan) return;
    script *s = (script *)plan;
    if (s->L) lua_close(s->L);
    free(s->plan.problems);
    free(s);
}

effgen_status eg_lua_plan_load(const char *path, eg_tune_plan **out) {
    if (!out) return eg_err(EFFGEN_INVALID_ARGUMENT, "out=NULL: must point to a plan pointer");
    *out = NULL;
    if (!path) return eg_err(EFFGEN_INVALID_ARGUMENT, "script=NULL: a tuning script path is needed");
    script *s = calloc(1, sizeof *s);
    if (!s) return eg_err(EFFGEN_NO_MEMORY, "script: out of memory");
    s->constraint_ref = s->strategy_ref = LUA_NOREF;
    snprintf(s->plan.source, sizeof s->plan.source, "%s", path);
    s->plan.strategy = (eg_tune_strategy){EG_TUNE_EXHAUSTIVE, 8, 16, 1};
    effgen_status st = EFFGEN_OK;
    lua_State *L = s->L = luaL_newstate();
    if (!L) {
        st = eg_err(EFFGEN_NO_MEMORY, "%s: cannot create a Lua state", path);
        goto fail;
    }
    open_sandbox(L, s);
    int r = luaL_loadfilex(L, path, "t");
    if (r != LUA_OK) {
        const char *m = lua_tostring(L, -1);
        st = r == LUA_ERRSYNTAX ? eg_err(EFFGEN_PARSE, "%s", m)
             : r == LUA_ERRMEM  ? eg_err(EFFGEN_NO_MEMORY, "%s: out of memory", path)
                                : eg_err(EFFGEN_IO, "%s", m ? m : path);
        goto fail;
    }
    if ((st = pcall(L, 0, 0))) goto fail;
    if (s->plan.n_problems == 0) {
        st = eg_err(EFFGEN_INVALID_ARGUMENT, "%s: declares no problems (call problems{head_dims = ..., buckets = ...})",
                    path);
        goto fail;
    }
    if (!s->have_space && !s->plan.wg_space.n_consumers) {
        st = eg_err(EFFGEN_INVALID_ARGUMENT,
                    "%s: declares no search space (call space{block_m = ..., block_n = ..., warps = ..., stages = ...}, "
                    "or for sm_90a only wg_space{...})",
                    path);
        goto fail;
    }
    if (s->constraint_ref != LUA_NOREF) s->plan.hooks.constraint = hook_constraint;
    if (s->strategy_ref != LUA_NOREF) s->plan.hooks.strategy = hook_strategy;
    s->plan.hooks.ud = s;
    *out = &s->plan;
    return EFFGEN_OK;

fail:
    eg_lua_plan_free(&s->plan);
    return st;
}

effgen_status eg_lua_default_script(char *buf, size_t size) {
    static const char *const dirs[] = {EFFGEN_LUA_DIR, EFFGEN_LUA_INSTALL_DIR};
    for (int i = 0; i < 2; i++) {
        snprintf(buf, size, "%s/default.lua", dirs[i]);
        if (access(buf, R_OK) == 0) return EFFGEN_OK;
    }
    return eg_err(EFFGEN_IO, "default.lua not found in %s or %s: pass --script FILE", EFFGEN_LUA_DIR,
                  EFFGEN_LUA_INSTALL_DIR);
}
