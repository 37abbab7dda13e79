/* cmd_db.c - effgen db list|show|export|import|merge|verify|vacuum: maintenance of the kernel database
 * (db/db.h). Argument parsing and printing only; every operation is one library call. Commands that only
 * read open the database read-only, so they never create or migrate a file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cg.h"
#include "cli.h"
#include "db.h"

static int is_help(const char *s) { return !strcmp(s, "--help") || !strcmp(s, "-h"); }

static int fail(const char *cmd, effgen_status st) {
    const char *e = effgen_last_error();
    fprintf(stderr, "effgen db %s: %s (%s)\n", cmd, e[0] ? e : effgen_status_message(st), effgen_status_name(st));
    return 1;
}

static void usage(FILE *f) {
    fprintf(f, "usage: effgen db [--db PATH] COMMAND [ARGS]   (effgen db COMMAND --help for each)\n"
               "  list [--arch sm_XX]          winners and row counts\n"
               "  show SPEC                    measurements of a spec, oldest first\n"
               "  export [-o FILE] [--with-cubins]   JSON (to standard output without -o)\n"
               "  import FILE.json             add an export's rows (merge rules)\n"
               "  merge SRC.db...              add other databases' rows (e.g. shards of one tune)\n"
               "  verify                       integrity, schema version, cubin hashes; exit 1 on a problem\n"
               "  vacuum                       compact the file\n"
               "--db PATH: the database (default: $EFFGEN_DB, else $XDG_CACHE_HOME/effgen/kernels.db, else\n"
               "~/.cache/effgen/kernels.db).\n");
}

/* Per-command help text, printed for COMMAND --help. */
static const struct {
    const char *name;
    const char *help;
} helps[] = {
    {"list", "usage: effgen db [--db PATH] list [--arch sm_XX]\n"
             "Print every winner (arch, spec, bucket, config, source, TFLOP/s, device, whether it was built by\n"
             "this effgen's generator) and the number of kernels, measurements and winners.\n"},
    {"show", "usage: effgen db [--db PATH] show SPEC\n"
             "Print every measurement of SPEC (e.g. attn_fwd/d128/bf16/causal/sm_90), oldest first: time, config,\n"
             "problem, device, result, median/min/max ms, TFLOP/s, relative error, failure reason.\n"},
    {"export", "usage: effgen db [--db PATH] export [-o FILE] [--with-cubins]\n"
               "Write the database as JSON (format \"effgen-db\"). Cubins are left out unless --with-cubins,\n"
               "which writes each as a hex string. Without -o the JSON goes to standard output.\n"},
    {"import", "usage: effgen db [--db PATH] import FILE.json\n"
               "Add the rows of an export with the merge rules; kernels without a cubin are skipped. A malformed\n"
               "file changes nothing.\n"},
    {"merge", "usage: effgen db [--db PATH] merge SRC.db...\n"
              "Add the rows of other effgen databases (opened read-only), one transaction each: kernels are\n"
              "added when missing, a measurement replaces an older one of the same key, a measured winner beats\n"
              "a model pick and a faster measured winner beats a slower one (same generator and NVRTC only).\n"},
    {"verify", "usage: effgen db [--db PATH] verify\n"
               "Check SQLite's integrity, the schema version and every cubin against its hash; print a report\n"
               "and exit 1 when anything is wrong (or the file cannot be opened).\n"},
    {"vacuum", "usage: effgen db [--db PATH] vacuum\n"
               "Rebuild the file without its free pages (SQLite VACUUM).\n"},
};

static const char *help_of(const char *cmd) {
    for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++)
        if (!strcmp(helps[i].name, cmd)) return helps[i].help;
    return NULL;
}

static int open_db(const char *cmd, const char *path, int readonly, eg_db **db) {
    effgen_status st = eg_db_open(path, readonly, db);
    return st ? fail(cmd, st) : 0;
}

static int print_counts(eg_db *db, const char *cmd) {
    eg_db_counts c;
    effgen_status st = eg_db_count(db, &c);
    if (st) return fail(cmd, st);
    printf("%s: %lld kernels, %lld measurements, %lld winners\n", eg_db_path(db), (long long)c.kernels,
           (long long)c.measurements, (long long)c.winners);
    return 0;
}

/* ---- list ---- */

typedef struct list_state {
    int arch; /* 0: all */
    int rows;
} list_state;

static int list_row(const eg_db_winner *w, void *arg) {
    list_state *ls = arg;
    if (ls->arch && w->arch != ls->arch) return 0;
    char arch[16];
    eg_arch_print(w->arch, arch, sizeof arch);
    if (!ls->rows++)
        printf("%-6s %-34s %7s %-20s %-8s %8s  %-7s %s\n", "arch", "spec", "bucket", "config", "source", "TFLOP/s",
               "gen", "device");
    printf("%-6s %-34s %7d %-20s %-8s %8.1f  %-7s %s\n", arch, w->spec, w->bucket, w->config,
           w->source == EG_DB_MEASURED ? "measured" : "model", w->tflops,
           strcmp(w->build.generator, eg_generator_version) == 0 ? "current" : "other",
           w->device[0] ? w->device : "-");
    return 0;
}

static int cmd_list(const char *path, int argc, char **argv) {
    list_state ls = {0, 0};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--arch") && i + 1 < argc) {
            if (eg_arch_parse(argv[++i], &ls.arch)) return fail("list", EFFGEN_INVALID_ARGUMENT);
        } else {
            fprintf(stderr, "effgen db list: unexpected argument %s (see --help)\n", argv[i]);
            return 2;
        }
    }
    eg_db *db = NULL;
    if (open_db("list", path, 1, &db)) return 1;
    effgen_status st = eg_db_winner_each(db, list_row, &ls);
    int rc = st ? fail("list", st) : 0;
    if (!rc) {
        if (!ls.rows) printf("no winners\n");
        rc = print_counts(db, "list");
    }
    eg_db_close(db);
    return rc;
}

/* ---- show ---- */

static int show_row(const eg_db_measurement *m, void *arg) {
    static const char *const results[] = {"ok", "wrong", "no-compile", "no-launch", "pruned"};
    int *rows = arg;
    char arch[16];
    eg_arch_print(m->arch, arch, sizeof arch);
    if (!(*rows)++)
        printf("%-24s %-6s %-20s %-24s %-24s %-10s %9s %9s %9s %8s %9s  %s\n", "time", "arch", "config", "problem",
               "device", "result", "median ms", "min ms", "max ms", "TFLOP/s", "rel err", "failure");
    const char *r = (unsigned)m->result < sizeof results / sizeof results[0] ? results[m->result] : "?";
    printf("%-24s %-6s %-20s %-24s %-24.24s %-10s %9.4f %9.4f %9.4f %8.1f %9.2e  %s\n", m->created, arch, m->config,
           m->problem, m->device.name, r, m->ms_median, m->ms_min, m->ms_max, m->tflops, m->rel_err,
           m->failure[0] ? m->failure : "");
    return 0;
}

static int cmd_show(const char *path, int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "effgen db show: expected one SPEC (see --help)\n");
        return 2;
    }
    eg_db *db = NULL;
    if (open_db("show", path, 1, &db)) return 1;
    int rows = 0;
    effgen_status st = eg_db_measurement_history(db, argv[1], show_row, &rows);
    int rc = st ? fail("show", st) : 0;
    if (!rc && !rows) printf("no measurements of %s in %s\n", argv[1], eg_db_path(db));
    eg_db_close(db);
    return rc;
}

/* ---- export, import, merge ---- */

static int cmd_export(const char *path, int argc, char **argv) {
    const char *out = "-";
    int cubins = 0;
    for (int i = 1; i < argc; i++) {
        if ((!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) && i + 1 < argc) {
            out = argv[++i];
        } else if (!strcmp(argv[i], "--with-cubins")) {
            cubins = 1;
        } else {
            fprintf(stderr, "effgen db export: unexpected argument %s (see --help)\n", argv[i]);
            return 2;
        }
    }
    eg_db *db = NULL;
    if (open_db("export", path, 1, &db)) return 1;
    effgen_status st = eg_db_export_json(db, out, cubins);
    eg_db_close(db);
    return st ? fail("export", st) : 0;
}

static int cmd_import(const char *path, int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "effgen db import: expected one FILE.json (see --help)\n");
        return 2;
    }
    eg_db *db = NULL;
    if (open_db("import", path, 0, &db)) return 1;
    effgen_status st = eg_db_import_json(db, argv[1]);
    int rc = st ? fail("import", st) : print_counts(db, "import");
    eg_db_close(db);
    return rc;
}

static int cmd_merge(const char *path, int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "effgen db merge: expected at least one SRC.db (see --help)\n");
        return 2;
    }
    eg_db *db = NULL;
    if (open_db("merge", path, 0, &db)) return 1;
    int rc = 0;
    /* One transaction per source: a bad source is reported and the good ones still count. */
    for (int i = 1; i < argc; i++) {
        effgen_status st = eg_db_merge(db, argv[i]);
        if (st) {
            rc = fail("merge", st);
        } else {
            printf("merged %s\n", argv[i]);
        }
    }
    if (print_counts(db, "merge")) rc = 1;
    eg_db_close(db);
    return rc;
}

/* ---- verify, vacuum ---- */

static int cmd_verify(const char *path, int argc, char **argv) {
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "effgen db verify: takes no arguments (see --help)\n");
        return 2;
    }
    eg_db *db = NULL;
    if (open_db("verify", path, 1, &db)) return 1;
    char *report = NULL;
    int problems = 0;
    effgen_status st = eg_db_verify(db, &report, &problems);
    eg_db_close(db);
    if (st) return fail("verify", st);
    fputs(report, stdout);
    free(report);
    return problems ? 1 : 0;
}

static long long file_size(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

static int cmd_vacuum(const char *path, int argc, char **argv) {
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "effgen db vacuum: takes no arguments (see --help)\n");
        return 2;
    }
    long long before = file_size(path);
    eg_db *db = NULL;
    if (open_db("vacuum", path, 0, &db)) return 1;
    effgen_status st = eg_db_vacuum(db);
    eg_db_close(db); /* checkpoints the WAL, so the size below is the file's own */
    if (st) return fail("vacuum", st);
    printf("%s: %lld -> %lld bytes\n", path, before, file_size(path));
    return 0;
}

int eg_cli_db(int argc, char **argv) {
    char defpath[4096];
    const char *path = NULL;
    /* --db may stand before or after the command; take it out, keep the rest in order. */
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (!rest) return fail("", EFFGEN_NO_MEMORY);
    int n = 0, help = 0, rc = 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--db")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "effgen db: --db needs a PATH\n");
                goto done;
            }
            path = argv[++i];
        } else if (!strncmp(argv[i], "--db=", 5)) {
            path = argv[i] + 5;
        } else if (is_help(argv[i])) {
            help = 1;
        } else {
            rest[n++] = argv[i];
        }
    }
    if (!n) {
        usage(help ? stdout : stderr);
        rc = help ? 0 : 2;
        goto done;
    }
    const char *cmd = rest[0];
    const char *h = help_of(cmd);
    if (!h) {
        fprintf(stderr, "effgen db: unknown command \"%s\"\n", cmd);
        usage(stderr);
        goto done;
    }
    if (help) {
        fputs(h, stdout);
        rc = 0;
        goto done;
    }
    if (!path) {
        effgen_status st = eg_db_default_path(defpath, sizeof defpath);
        if (st) {
            rc = fail(cmd, st);
            goto done;
        }
        path = defpath;
    }
    if (!strcmp(cmd, "list")) rc = cmd_list(path, n, rest);
    else if (!strcmp(cmd, "show")) rc = cmd_show(path, n, rest);
    else if (!strcmp(cmd, "export")) rc = cmd_export(path, n, rest);
    else if (!strcmp(cmd, "import")) rc = cmd_import(path, n, rest);
    else if (!strcmp(cmd, "merge")) rc = cmd_merge(path, n, rest);
    else if (!strcmp(cmd, "verify")) rc = cmd_verify(path, n, rest);
    else rc = cmd_vacuum(path, n, rest);
done:
    free(rest);
    return rc;
}
