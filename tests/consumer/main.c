/* main.c - the smallest program built against an installed effgen (by find_package or pkg-config): it
 * needs only effgen.h and the shared library, and exercises a call that works on any machine. */
#include <stdio.h>
#include <string.h>

#include <effgen.h>

int main(void) {
    char *src = NULL;
    effgen_status st = effgen_generate("attn_fwd/d64/fp16/causal/sm_80", NULL, &src);
    if (st != EFFGEN_OK || !src || !strstr(src, "attn_fwd/d64/fp16/causal/sm_80")) {
        fprintf(stderr, "effgen_generate: %s: %s\n", effgen_status_name(st), effgen_last_error());
        effgen_free(src);
        return 1;
    }
    printf("effgen %s generated %zu bytes\n", effgen_version(), strlen(src));
    effgen_free(src);
    return strcmp(effgen_version(), "0.1.0") == 0 ? 0 : 1;
}
