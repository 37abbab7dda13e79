/* t.h - the checks every test uses. A failed check prints file:line, the expression and the values, and
 * is counted rather than aborting, so one run reports every broken case. T_DONE() turns the count into
 * the exit status; a test that made no check at all fails too, so an empty test cannot pass. */
#ifndef EG_TEST_T_H
#define EG_TEST_T_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "effgen.h"

/* CTest's SKIP_RETURN_CODE: the test could not run here (no driver, no device). */
#define T_SKIP_CODE 77

static int t_checks, t_failures;

/* Every check ends here; returns ok so a caller can skip follow-up checks that would only crash. */
static int t_report(int ok, const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int t_report(int ok, const char *file, int line, const char *fmt, ...) {
    t_checks++;
    if (ok) return 1;
    t_failures++;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s:%d: FAIL: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 0;
}

static inline int t_int(long long a, long long b, const char *ea, const char *eb, const char *f, int l) {
    return t_report(a == b, f, l, "%s == %s (%lld vs %lld)", ea, eb, a, b);
}

static inline int t_str(const char *a, const char *b, const char *ea, const char *eb, const char *f, int l) {
    return t_report(a && b && strcmp(a, b) == 0, f, l, "%s == %s (\"%s\" vs \"%s\")", ea, eb, a ? a : "(null)",
                    b ? b : "(null)");
}

static inline int t_has(const char *hay, const char *needle, int want, const char *eh, const char *f, int l) {
    int found = hay && strstr(hay, needle) != NULL;
    return t_report(hay && found == want, f, l, "%s %s \"%s\"; it is: %s", eh, want ? "contains" : "lacks", needle,
                    hay ? hay : "(null)");
}

static inline int t_status(effgen_status got, effgen_status want, const char *e, const char *f, int l) {
    return t_report(got == want, f, l, "%s -> %s, expected %s (last error: %s)", e, effgen_status_name(got),
                    effgen_status_name(want), effgen_last_error());
}

#define CHECK(cond) t_report(!!(cond), __FILE__, __LINE__, "%s", #cond)
#define CHECK_INT(a, b) t_int((long long)(a), (long long)(b), #a, #b, __FILE__, __LINE__)
#define CHECK_STR(a, b) t_str((a), (b), #a, #b, __FILE__, __LINE__)
/* hay contains / lacks needle */
#define CHECK_HAS(hay, needle) t_has((hay), (needle), 1, #hay, __FILE__, __LINE__)
#define CHECK_LACKS(hay, needle) t_has((hay), (needle), 0, #hay, __FILE__, __LINE__)
/* A call returns the wanted status; on mismatch the error text is shown. */
#define CHECK_STATUS(expr, want) t_status((expr), (want), #expr, __FILE__, __LINE__)
#define CHECK_OK(expr) CHECK_STATUS((expr), EFFGEN_OK)

/* Print the tally and give the exit status. */
static inline int t_done(const char *f, int l) {
    if (t_checks == 0) t_report(0, f, l, "the test made no checks");
    fprintf(stderr, "%d checks, %d failed\n", t_checks, t_failures);
    return t_failures ? 1 : 0;
}
#define T_DONE() t_done(__FILE__, __LINE__)

#endif
