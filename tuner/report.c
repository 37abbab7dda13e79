/* report.c - the tuner's --json summary: per problem the winner, its time and TFLOP/s, how many
 * candidates were compiled, checked and timed, and where the seconds went (compile, check, time). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "autotune.h"

static void jstr(FILE *f, const char *s) {
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* Numbers JSON can carry: non-finite values become null. */
static void jnum(FILE *f, double v) {
    if (isfinite(v))
        fprintf(f, "%.6g", v);
    else
        fputs("null", f);
}

static void jms(FILE *f, const char *config, double ms) {
    if (config[0] && ms > 0)
        jnum(f, ms);
    else
        fputs("null", f);
}

effgen_status eg_tune_write_json(const eg_tune_stats *s, const char *path) {
    FILE *f = fopen(path, "w");
    if (!f) return eg_err(EFFGEN_IO, "%s: cannot write the JSON summary", path);
    char an[16];
    eg_arch_print(s->arch, an, sizeof an);
    fprintf(f, "{\n  \"arch\": \"%s\",\n  \"mode\": \"%s\",\n  \"device\": ", an,
            s->dry_run ? "dry-run" : s->offline ? "model" : "measured");
    jstr(f, s->device);
    fputs(",\n  \"database\": ", f);
    jstr(f, s->db_path);
    fprintf(f,
            ",\n  \"totals\": {\"problems\": %d, \"candidates\": %d, \"pruned\": %d, \"selected\": %d, "
            "\"compiled\": %d, \"reused\": %d, \"compile_failed\": %d, \"checked\": %d, \"check_failed\": %d, "
            "\"timed\": %d, \"resumed\": %d,\n    \"seconds\": {\"total\": ",
            s->n_results, s->candidates, s->pruned, s->selected, s->compiled, s->reused, s->compile_failed,
            s->checked, s->check_failed, s->timed, s->resumed);
    jnum(f, s->wall_s);
    fputs(", \"compile_nvrtc\": ", f);
    jnum(f, s->compile_s);
    fputs(", \"compile_wait\": ", f);
    jnum(f, s->compile_wait_s);
    fputs(", \"check\": ", f);
    jnum(f, s->check_s);
    fputs(", \"time\": ", f);
    jnum(f, s->time_s);
    fputs("}},\n  \"problems\": [", f);
    for (int i = 0; i < s->n_results; i++) {
        const eg_tune_result *r = &s->results[i];
        fputs(i ? ",\n    {" : "\n    {", f);
        fputs("\"spec\": ", f);
        jstr(f, r->spec);
        fputs(", \"problem\": ", f);
        jstr(f, r->problem);
        fprintf(f, ", \"bucket\": %d, \"config\": ", r->bucket);
        if (r->config[0])
            jstr(f, r->config);
        else
            fputs("null", f);
        fprintf(f, ", \"source\": \"%s\", \"kept\": %s, \"ms\": ", r->source == EG_DB_MODEL ? "model" : "measured",
                r->kept ? "true" : "false");
        jms(f, r->config, r->ms);
        fputs(", \"tflops\": ", f);
        jms(f, r->config, r->tflops);
        fprintf(f,
                ", \"candidates\": %d, \"pruned\": %d, \"selected\": %d, \"compiled\": %d, \"reused\": %d, "
                "\"compile_failed\": %d, \"checked\": %d, \"check_failed\": %d, \"timed\": %d, \"resumed\": %d, "
                "\"remeasured\": %d, \"seconds\": {\"compile\": ",
                r->candidates, r->pruned, r->selected, r->compiled, r->reused, r->compile_failed, r->checked,
                r->check_failed, r->timed, r->resumed, r->remeasured);
        jnum(f, r->compile_s);
        fputs(", \"check\": ", f);
        jnum(f, r->check_s);
        fputs(", \"time\": ", f);
        jnum(f, r->time_s);
        fputs("}, \"model_pick\": ", f);
        if (r->model_config[0]) jstr(f, r->model_config);
        else fputs("null", f);
        fputs(", \"model_pick_ms\": ", f);
        jms(f, r->model_config, r->model_ms);
        fputs(", \"top8_pick\": ", f);
        if (r->top8_config[0]) jstr(f, r->top8_config);
        else fputs("null", f);
        fputs(", \"top8_pick_ms\": ", f);
        jms(f, r->top8_config, r->top8_ms);
        fputc('}', f);
    }
    fputs("\n  ]\n}\n", f);
    if (fclose(f) != 0) return eg_err(EFFGEN_IO, "%s: write failed", path);
    return EFFGEN_OK;
}
