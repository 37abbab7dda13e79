/* err.c - status names and messages (from the one X-macro list) and the per-thread error text that
 * every layer records its failures into, so a caller reads the detail with one call. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cg.h"

#define EG_ERR_CAP 8192
static _Thread_local char err_text[EG_ERR_CAP];

const char *effgen_status_name(effgen_status s) {
    switch (s) {
#define X(name, code, msg) \
    case EFFGEN_##name:    \
        return "EFFGEN_" #name;
        EFFGEN_STATUS_MAP(X)
#undef X
    }
    return "EFFGEN_UNKNOWN";
}

const char *effgen_status_message(effgen_status s) {
    switch (s) {
#define X(name, code, msg) \
    case EFFGEN_##name:    \
        return msg;
        EFFGEN_STATUS_MAP(X)
#undef X
    }
    return "unknown status";
}

effgen_status eg_err(effgen_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err_text, sizeof err_text, fmt, ap);
    va_end(ap);
    return s;
}

effgen_status eg_err_wrap(effgen_status s, const char *fmt, ...) {
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* Shift the old text right in place: no second 8 KB buffer, and no snprintf of two unbounded
     * strings (which -Wformat-truncation rejects under -Werror). */
    size_t plen = strlen(prefix), olen = strlen(err_text);
    size_t head = plen + 2, room = sizeof err_text - 1 - head;
    if (olen > room) olen = room;
    memmove(err_text + head, err_text, olen);
    memcpy(err_text, prefix, plen);
    err_text[plen] = ':';
    err_text[plen + 1] = ' ';
    err_text[head + olen] = 0;
    return s;
}

void eg_err_clear(void) { err_text[0] = 0; }

const char *effgen_last_error(void) { return err_text; }
