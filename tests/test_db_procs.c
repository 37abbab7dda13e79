/* test_db_procs.c - several processes on one database file: two writers at once lose no row, a writer
 * killed in the middle leaves a file that passes the integrity check, and processes opening a new file
 * at the same moment create its schema once. Children open their own handles after fork (an SQLite
 * connection must not cross a fork). */
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "t.h"
#include "tdb.h"

#define PER_CHILD 300

/* Exit status: 0, or 10 + the step that failed (its error on stderr). */
static int writer(const char *path, int id) {
    eg_db *db = NULL;
    if (eg_db_open(path, 0, &db) != EFFGEN_OK) {
        fprintf(stderr, "writer %d: %s\n", id, effgen_last_error());
        return 10;
    }
    for (int i = 0; i < PER_CHILD; i++) {
        char cfg[64];
        snprintf(cfg, sizeof cfg, "w%d.%d", id, i);
        eg_db_measurement m = tdb_measurement(cfg, 1.0 + i);
        /* Each put is its own transaction, so the two writers interleave at every row. */
        if (eg_db_measurement_put(db, &m) != EFFGEN_OK) {
            fprintf(stderr, "writer %d row %d: %s\n", id, i, effgen_last_error());
            eg_db_close(db);
            return 11;
        }
        if (i % 30 == 0) {
            eg_db_kernel k = tdb_kernel(cfg);
            eg_db_winner w = tdb_winner(i, cfg, EG_DB_MEASURED, 100 + id);
            if (eg_db_kernel_put(db, &k) != EFFGEN_OK || eg_db_winner_put(db, &w) != EFFGEN_OK) {
                fprintf(stderr, "writer %d row %d: %s\n", id, i, effgen_last_error());
                eg_db_close(db);
                return 12;
            }
        }
    }
    eg_db_close(db);
    return 0;
}

static void check_integrity(const char *path) {
    eg_db *db = NULL;
    CHECK_OK(eg_db_open(path, 0, &db));
    if (!db) return;
    char *report = NULL;
    int problems = -1;
    CHECK_OK(eg_db_verify(db, &report, &problems));
    if (!CHECK_INT(problems, 0)) fprintf(stderr, "%s", report ? report : "");
    free(report);
    eg_db_close(db);
}

static void test_two_writers(void) {
    const char *path = tdb_path("shared.db");
    pid_t pids[2];
    fflush(NULL);
    for (int c = 0; c < 2; c++) {
        pids[c] = fork();
        if (pids[c] == 0) _exit(writer(path, c));
    }
    for (int c = 0; c < 2; c++) {
        int status = 0;
        CHECK(pids[c] > 0 && waitpid(pids[c], &status, 0) == pids[c]);
        CHECK(WIFEXITED(status));
        CHECK_INT(WEXITSTATUS(status), 0);
    }
    eg_db *db = NULL;
    CHECK_OK(eg_db_open(path, 1, &db));
    if (db) {
        CHECK_INT(tdb_count(db, "measurements"), 2 * PER_CHILD);
        CHECK_INT(tdb_count(db, "kernels"), 2 * (PER_CHILD / 30));
        CHECK_INT(tdb_count(db, "winners"), PER_CHILD / 30); /* same keys from both: one row each */
        eg_db_close(db);
    }
    check_integrity(path);
}

/* Writes until killed: kernels with cubins of varying size (multi-page transactions) and measurements.
 * Tells the parent through the pipe once the first rows are in. */
static void endless_writer(const char *path, int ready_fd) {
    eg_db *db = NULL;
    if (eg_db_open(path, 0, &db) != EFFGEN_OK) _exit(10);
    static unsigned char big[256 * 1024];
    for (long i = 0;; i++) {
        char cfg[64];
        snprintf(cfg, sizeof cfg, "k%ld", i);
        eg_db_kernel k = tdb_kernel(cfg);
        for (size_t j = 0; j < sizeof big; j += 97) big[j] = (unsigned char)(i + j);
        k.cubin = big;
        k.cubin_size = 4096 + (size_t)(i * 7919) % (sizeof big - 4096);
        eg_db_measurement m = tdb_measurement(cfg, 1.0);
        if (eg_db_kernel_put(db, &k) != EFFGEN_OK || eg_db_measurement_put(db, &m) != EFFGEN_OK) _exit(11);
        if (i == 3 && write(ready_fd, "r", 1) != 1) _exit(12);
    }
}

static void test_killed_writer(void) {
    const char *path = tdb_path("killed.db");
    for (int round = 0; round < 3; round++) {
        int fds[2];
        if (!CHECK(pipe(fds) == 0)) return;
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            endless_writer(path, fds[1]);
        }
        close(fds[1]);
        char c;
        CHECK(read(fds[0], &c, 1) == 1);
        close(fds[0]);
        /* Let it get well into writing, at a different point each round. */
        struct timespec ts = {0, (50 + 70 * round) * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status = 0;
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

        check_integrity(path);
        eg_db *db = NULL;
        CHECK_OK(eg_db_open(path, 0, &db));
        if (!db) return;
        /* Each round's writer starts again at key 0 and replaces rows, so the counts are the longest
         * round's; a kernel's measurement is written right after it, so at most one is missing (plus the
         * extra row written after each earlier round). */
        long long k = tdb_count(db, "kernels"), m = tdb_count(db, "measurements") - (round > 0);
        CHECK(k > 3);
        if (!CHECK(m == k || m == k - 1)) fprintf(stderr, "kernels %lld, measurements %lld\n", k, m);
        /* And the file takes writes again (the next round's writer restarts from key 0: replaces). */
        eg_db_measurement extra = tdb_measurement("after-kill", 1.0);
        CHECK_OK(eg_db_measurement_put(db, &extra));
        eg_db_close(db);
    }
}

/* Processes that all open the same new file at once: one creates the schema, the others wait for it. */
static void test_concurrent_create(void) {
    const char *path = tdb_path("fresh.db");
    enum { N = 6 };
    pid_t pids[N];
    fflush(NULL);
    for (int c = 0; c < N; c++) {
        pids[c] = fork();
        if (pids[c] == 0) {
            eg_db *db = NULL;
            if (eg_db_open(path, 0, &db) != EFFGEN_OK) {
                fprintf(stderr, "opener %d: %s\n", c, effgen_last_error());
                _exit(10);
            }
            char cfg[16];
            snprintf(cfg, sizeof cfg, "c%d", c);
            eg_db_measurement m = tdb_measurement(cfg, 1.0);
            effgen_status st = eg_db_measurement_put(db, &m);
            eg_db_close(db);
            _exit(st ? 11 : 0);
        }
    }
    for (int c = 0; c < N; c++) {
        int status = 0;
        CHECK(pids[c] > 0 && waitpid(pids[c], &status, 0) == pids[c]);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    eg_db *db = NULL;
    CHECK_OK(eg_db_open(path, 1, &db));
    CHECK_INT(tdb_count(db, "measurements"), N);
    eg_db_close(db);
    check_integrity(path);
}

int main(void) {
    tdb_mkdir("effgen-test-db-procs");
    test_two_writers();
    test_killed_writer();
    test_concurrent_create();
    return T_DONE();
}
