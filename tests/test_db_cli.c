/* test_db_cli.c - `effgen db ...` end to end: the built CLI (its path in $EFFGEN_CLI) run on databases
 * this test fills through the library; exit codes, what each command prints, --db and $EFFGEN_DB. */
#include <sqlite3.h>
#include <sys/wait.h>

#include "t.h"
#include "tdb.h"

static const char *cli;
static char out[1 << 16];

/* Run the CLI with args (a shell fragment), capturing stdout and stderr into out; returns the exit code. */
static int run(const char *env, const char *args) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s '%s' %s 2>&1", env ? env : "", cli, args);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void fill(const char *path) {
    eg_db *db = NULL;
    CHECK_OK(eg_db_open(path, 0, &db));
    if (!db) return;
    eg_db_kernel k = tdb_kernel("bm128.bn64.w4.s2");
    eg_db_measurement m = tdb_measurement("bm128.bn64.w4.s2", 1.25), f = tdb_measurement("bm256.bn64.w8.s2", 0);
    f.result = EG_DB_CHECK_FAILED;
    snprintf(f.failure, sizeof f.failure, "max rel error 0.31");
    eg_db_winner w = tdb_winner(8192, "bm128.bn64.w4.s2", EG_DB_MEASURED, 512.5),
                 w2 = tdb_winner(16384, "bm64.bn64.w4.s2", EG_DB_MODEL, 0);
    CHECK_OK(eg_db_kernel_put(db, &k));
    CHECK_OK(eg_db_measurement_put(db, &m));
    CHECK_OK(eg_db_measurement_put(db, &f));
    CHECK_OK(eg_db_winner_put(db, &w));
    CHECK_OK(eg_db_winner_put(db, &w2));
    eg_db_close(db);
}

int main(void) {
    cli = getenv("EFFGEN_CLI");
    if (!cli || access(cli, X_OK) != 0) {
        fprintf(stderr, "EFFGEN_CLI must name the built effgen program\n");
        return 1;
    }
    tdb_mkdir("effgen-test-db-cli");
    char a[600], args[2048];
    snprintf(a, sizeof a, "%s", tdb_path("a.db"));
    fill(a);

    CHECK_INT(run(NULL, "db --help"), 0);
    CHECK_HAS(out, "usage: effgen db");
    static const char *const cmds[] = {"list", "show", "export", "import", "merge", "verify", "vacuum"};
    for (int i = 0; i < 7; i++) {
        snprintf(args, sizeof args, "db %s --help", cmds[i]);
        CHECK_INT(run(NULL, args), 0);
        CHECK_HAS(out, cmds[i]);
    }
    CHECK_INT(run(NULL, "db"), 2);
    CHECK_INT(run(NULL, "db frobnicate"), 2);
    CHECK_HAS(out, "unknown command");
    CHECK_INT(run(NULL, "db list --db"), 2);
    /* a bad score scale for check is refused before any device is touched, naming the value and the range */
    CHECK_INT(run(NULL, "check --help"), 0);
    CHECK_HAS(out, "--scale S");
    static const char *const scales[] = {"0", "-2", "abc", "1e9", "3x"};
    for (int i = 0; i < 5; i++) {
        snprintf(args, sizeof args, "check --scale '%s' --quick", scales[i]);
        CHECK_INT(run(NULL, args), 2);
        CHECK_HAS(out, "--scale");
        CHECK_HAS(out, scales[i]);
        CHECK_HAS(out, "above 0, at most 10000");
    }

    /* check's seed is a whole number of 32 bits, refused otherwise before any device is touched */
    static const char *const seeds[] = {"-1", " -18446744073709551615", "abc", "12x", "", "4294967296"};
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        snprintf(args, sizeof args, "check --seed '%s' --quick", seeds[i]);
        CHECK_INT(run(NULL, args), 2);
        char named[64];
        snprintf(named, sizeof named, "--seed \"%s\"", seeds[i]);
        CHECK_HAS(out, named);
        CHECK_HAS(out, "expected a whole number from 0 to 4294967295");
    }

    /* a malformed --config is refused once, before any device is touched, with the parser's reason */
    static const char *const bad_configs[][2] = {{"bench", "wg.bm0"}, {"check", "bm7.bn64.w4.s2"}, {"check", "xyz"}};
    for (int i = 0; i < 3; i++) {
        snprintf(args, sizeof args, "%s --config '%s' --d 64", bad_configs[i][0], bad_configs[i][1]);
        CHECK_INT(run(NULL, args), 2);
        CHECK_HAS(out, "--config");
        CHECK_HAS(out, bad_configs[i][1]);
    }

    /* so is a malformed --expr-tensor, with the reason: type, sizes, form */
    static const char *const bad_tensors[][2] = {
        {"t:f99:H", "dtype \"f99\""}, {"t:f32:HxZ", "sizes must be"}, {":f32:H", "expected NAME:DTYPE"}};
    for (int i = 0; i < 3; i++) {
        snprintf(args, sizeof args, "bench --expr-tensor '%s' --d 64", bad_tensors[i][0]);
        CHECK_INT(run(NULL, args), 2);
        CHECK_HAS(out, "--expr-tensor");
        CHECK_HAS(out, bad_tensors[i][1]);
    }

    /* counts given to bench, compile and tune are whole numbers from 1 up, refused otherwise before any device
     * or compile is touched, naming the option and the value */
    static const char *const counts[] = {"0", "-3", "abc", "7x", "", "2000000"};
    static const char *const count_cmds[] = {"bench --reps", "compile --all --jobs", "tune --dry-run --reps"};
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 6; i++) {
            snprintf(args, sizeof args, "%s '%s'", count_cmds[c], counts[i]);
            CHECK_INT(run(NULL, args), 2);
            char named[64];
            snprintf(named, sizeof named, "%s \"%s\"", strrchr(count_cmds[c], ' ') + 1, counts[i]);
            CHECK_HAS(out, named);
            CHECK_HAS(out, "expected a whole number from 1 to 1048576");
        }

    snprintf(args, sizeof args, "db --db '%s' list", a);
    CHECK_INT(run(NULL, args), 0);
    CHECK_HAS(out, "attn_fwd/d128/bf16/causal/sm_90");
    CHECK_HAS(out, "bm128.bn64.w4.s2");
    CHECK_HAS(out, "measured");
    CHECK_HAS(out, "512.5");
    CHECK_HAS(out, "model");
    CHECK_HAS(out, "1 kernels, 2 measurements, 2 winners");
    snprintf(args, sizeof args, "db list --arch sm_80 --db '%s'", a);
    CHECK_INT(run(NULL, args), 0);
    CHECK_HAS(out, "no winners");

    snprintf(args, sizeof args, "db --db '%s' show attn_fwd/d128/bf16/causal/sm_90", a);
    CHECK_INT(run(NULL, args), 0);
    CHECK_HAS(out, "bm256.bn64.w8.s2");
    CHECK_HAS(out, "max rel error 0.31");
    CHECK_HAS(out, "NVIDIA H100");

    /* $EFFGEN_DB is the default. */
    char env[700];
    snprintf(env, sizeof env, "EFFGEN_DB='%s'", a);
    CHECK_INT(run(env, "db verify"), 0);
    CHECK_HAS(out, ": ok");

    /* export -> import into a new file -> same winners. */
    snprintf(args, sizeof args, "db --db '%s' export --with-cubins -o '%s'", a, tdb_path("a.json"));
    CHECK_INT(run(NULL, args), 0);
    snprintf(args, sizeof args, "db --db '%s' import '%s'", tdb_path("b.db"), tdb_path("a.json"));
    CHECK_INT(run(NULL, args), 0);
    CHECK_HAS(out, "1 kernels, 2 measurements, 2 winners");
    snprintf(args, sizeof args, "db --db '%s' export", a);
    CHECK_INT(run(NULL, args), 0);
    CHECK_HAS(out, "\"format\": \"effgen-db\"");
    CHECK_LACKS(out, "\"cubin\":");

    /* merge: another shard's rows join. */
    eg_db *c = NULL;
    CHECK_OK(eg_db_open(tdb_path("c.db"), 0, &c));
    eg_db_measurement m = tdb_measurement("bm64.bn128.w4.s3", 0.9);
    CHECK_OK(eg_db_measurement_put(c, &m));
    eg_db_close(c);
    snprintf(args, sizeof args, "db --db '%s' merge '%s' '%s'", tdb_path("b.db"), tdb_path("c.db"),
             tdb_path("nothing.db"));
    CHECK_INT(run(NULL, args), 1); /* the missing source is reported; the good one is merged */
    CHECK_HAS(out, "nothing.db");
    CHECK_HAS(out, "1 kernels, 3 measurements, 2 winners");

    snprintf(args, sizeof args, "db --db '%s' vacuum", tdb_path("b.db"));
    CHECK_INT(run(NULL, args), 0);

    /* verify: a tampered cubin and a garbage file exit 1 with the reason. */
    sqlite3 *h = NULL;
    sqlite3_open(a, &h);
    CHECK_INT(sqlite3_exec(h, "UPDATE kernels SET cubin = zeroblob(8)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    snprintf(args, sizeof args, "db --db '%s' verify", a);
    CHECK_INT(run(NULL, args), 1);
    CHECK_HAS(out, "cubin hash");
    CHECK_HAS(out, "1 problem");
    FILE *g = fopen(tdb_path("junk.db"), "w");
    if (g) {
        fputs("not a database at all, just some text that is long enough to look like a file of some kind\n", g);
        fclose(g);
    }
    snprintf(args, sizeof args, "db --db '%s' verify", tdb_path("junk.db"));
    CHECK_INT(run(NULL, args), 1);
    CHECK_HAS(out, "junk.db");
    CHECK_HAS(out, "not an SQLite database");
    snprintf(args, sizeof args, "db --db '%s' list", tdb_path("absent.db"));
    CHECK_INT(run(NULL, args), 1);
    CHECK_HAS(out, "absent.db");
    return T_DONE();
}
