/* emit.c - a small text emitter for generated CUDA: growable buffer, indent level, printf-checked
 * line writer, scope helpers, and a sticky error that the caller checks once at the end. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cg.h"

void eg_emit_init(eg_emit *e) { memset(e, 0, sizeof *e); }

static void put(eg_emit *e, const char *s, size_t n) {
    if (e->failed) return;
    if (e->len + n + 1 > e->cap) {
        size_t cap = e->cap ? e->cap : 4096;
        while (cap < e->len + n + 1) cap *= 2;
        char *nb = realloc(e->buf, cap);
        if (!nb) {
            e->failed = 1;
            return;
        }
        e->buf = nb;
        e->cap = cap;
    }
    memcpy(e->buf + e->len, s, n);
    e->len += n;
    e->buf[e->len] = 0;
}

static void vline(eg_emit *e, const char *fmt, va_list ap) {
    char tmp[1024];
    for (int i = 0; i < e->indent; i++) put(e, "    ", 4);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        e->failed = 1;
        return;
    }
    put(e, tmp, (size_t)n);
    put(e, "\n", 1);
}

void eg_emit_line(eg_emit *e, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vline(e, fmt, ap);
    va_end(ap);
}

void eg_emit_open(eg_emit *e, const char *fmt, ...) {
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        e->failed = 1;
        return;
    }
    eg_emit_line(e, "%s {", tmp);
    e->indent++;
}

void eg_emit_close(eg_emit *e, const char *tail) {
    if (e->indent > 0) e->indent--;
    eg_emit_line(e, "}%s", tail ? tail : "");
}

effgen_status eg_emit_finish(eg_emit *e, char **out) {
    effgen_status st = EFFGEN_OK;
    if (e->failed || !e->buf) {
        free(e->buf);
        st = eg_err(EFFGEN_NO_MEMORY, "code emitter: out of memory or a line longer than 1023 characters");
    } else {
        *out = e->buf;
    }
    eg_emit_init(e);
    return st;
}
