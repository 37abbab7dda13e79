/* db.h - the kernel database: compiled kernels (cubins), measurements and winners in one SQLite file.
 * The only interface to SQLite in effgen (sqlite3.h is included in db/ alone). Every row that can be
 * served records what makes it true: generator version, NVRTC version, arch, and for timings the device
 * and driver; a row that no longer matches is never served. Safe for several processes at once (WAL,
 * busy timeout, every write one BEGIN IMMEDIATE transaction) and for several threads on one handle (calls
 * are serialized). The schema is documented in docs/database.md. */
#ifndef EG_DB_H
#define EG_DB_H

#include <stddef.h>
#include <stdint.h>

#include "effgen.h"

typedef struct eg_db eg_db;

#define EG_DB_SCHEMA_VERSION 1

/* Default path: $EFFGEN_DB, else $XDG_CACHE_HOME/effgen/kernels.db, else ~/.cache/effgen/kernels.db.
 * Writes into buf; the cache folder is created when missing ($EFFGEN_DB is taken as given). */
effgen_status eg_db_default_path(char *buf, size_t size);

/* Open (creating and migrating when writable). readonly=1 never writes and needs an existing file; in a
 * folder it cannot write it reads the file as immutable. Errors: a file that is not SQLite, truncated,
 * another program's database or missing for reading (EFFGEN_IO, message names the file), a schema newer
 * than this build (EFFGEN_UNSUPPORTED, names both versions), a read-only file opened for writing
 * (EFFGEN_IO). A refused file is left unchanged. On failure *out is NULL. */
effgen_status eg_db_open(const char *path, int readonly, eg_db **out);
/* Close; NULL is a no-op. */
void eg_db_close(eg_db *db);
/* The path the handle was opened with ("" for NULL). */
const char *eg_db_path(const eg_db *db);

/* What a cached row must match to be served. */
typedef struct eg_db_build {
    char generator[32]; /* eg_generator_version */
    char nvrtc[16];     /* "13.0" */
} eg_db_build;

/* The device a measurement was taken on. */
typedef struct eg_db_device {
    char name[256];
    int cc, sm_count, driver; /* cc as 90; driver as cuDriverGetVersion gives it */
} eg_db_device;

typedef struct eg_db_kernel {
    char spec[128], config[64];
    int arch;
    eg_db_build build;
    int registers, smem_bytes, spill_bytes;
    double compile_ms;
    void *cubin; /* owned by the caller when returned by eg_db_kernel_get: free() it */
    size_t cubin_size;
} eg_db_kernel;

/* Insert or replace the kernel for (spec, config, arch, build); the cubin's hash (FNV-1a 64, hex) is
 * computed and stored. */
effgen_status eg_db_kernel_put(eg_db *db, const eg_db_kernel *k);
/* The cubin for (spec, config, arch, build). EFFGEN_OK with *found = 0 when there is none; a row whose
 * stored hash does not match its blob is deleted and reported as not found (the caller recompiles). */
effgen_status eg_db_kernel_get(eg_db *db, const char *spec, const char *config, int arch, const eg_db_build *b,
                               eg_db_kernel *out, int *found);

/* Status of a measured candidate. */
typedef enum eg_db_result {
    EG_DB_OK = 0,             /* checked and timed */
    EG_DB_CHECK_FAILED = 1,   /* wrong result: never a winner */
    EG_DB_COMPILE_FAILED = 2,
    EG_DB_LAUNCH_FAILED = 3,
    EG_DB_PRUNED = 4          /* rejected by the model before compiling */
} eg_db_result;

typedef struct eg_db_measurement {
    char spec[128], config[64];
    int arch;
    eg_db_build build;
    char problem[96];   /* canonical problem text, e.g. "b2.h16.nq8192.nk8192" */
    int bucket;         /* sequence-length bucket: the largest seqlen_k it covers */
    eg_db_device device;
    eg_db_result result;
    double ms_median, ms_min, ms_max, tflops, rel_err;
    char failure[512];  /* why, when result != EG_DB_OK */
    char created[32];   /* filled by the database (UTC ISO 8601) */
} eg_db_measurement;

/* Insert, or replace the row with the same (spec, config, arch, build, problem, device name, driver):
 * the newer run wins and gets a new timestamp. NaN doubles are stored as NULL and read back as NaN. */
effgen_status eg_db_measurement_put(eg_db *db, const eg_db_measurement *m);
/* Whether (spec, config, arch, build, problem, device: name, cc, SM count, driver) was already measured,
 * whatever its result (a failed candidate is finished too): resume skips it. */
effgen_status eg_db_measurement_has(eg_db *db, const eg_db_measurement *key, int *found);
/* Call fn for each measurement of (spec, arch, build, problem, device), ordered by ms_median (rows with
 * result EG_DB_OK first; failed ones after). fn returning nonzero stops the walk. The rows are read
 * first, so fn may call back into the database. */
effgen_status eg_db_measurement_each(eg_db *db, const char *spec, int arch, const eg_db_build *b, const char *problem,
                                     const eg_db_device *dev, int (*fn)(const eg_db_measurement *, void *), void *arg);
/* Every measurement of spec (NULL: of all specs), any arch, build or device, oldest first: `effgen db
 * show`. fn as for eg_db_measurement_each. */
effgen_status eg_db_measurement_history(eg_db *db, const char *spec, int (*fn)(const eg_db_measurement *, void *),
                                        void *arg);

typedef enum eg_db_source { EG_DB_MEASURED = 0, EG_DB_MODEL = 1 } eg_db_source;

typedef struct eg_db_winner {
    int arch;
    char spec[128];
    int bucket;
    char config[64];
    eg_db_source source;
    double tflops;     /* 0 for model picks */
    eg_db_build build;
    char device[256];  /* "" for model picks */
    char updated[32];
} eg_db_winner;

/* Insert or replace the winner of (arch, spec, bucket, build); updated is set by the database. A model
 * pick never replaces a measured winner (the call succeeds and leaves the measured row). */
effgen_status eg_db_winner_put(eg_db *db, const eg_db_winner *w);
/* The winner for (arch, spec) whose bucket is the smallest >= seqlen_k (else the largest bucket), only
 * among rows built by b. *found = 0 when none. */
effgen_status eg_db_winner_get(eg_db *db, int arch, const char *spec, int seqlen_k, const eg_db_build *b,
                               eg_db_winner *out, int *found);
/* Every winner of any build, ordered by arch, spec, bucket. fn as for eg_db_measurement_each. */
effgen_status eg_db_winner_each(eg_db *db, int (*fn)(const eg_db_winner *, void *), void *arg);

/* Row counts of the three tables. */
typedef struct eg_db_counts {
    int64_t kernels, measurements, winners;
} eg_db_counts;
effgen_status eg_db_count(eg_db *db, eg_db_counts *out);

/* Maintenance behind `effgen db ...`. verify: PRAGMA integrity_check, schema version, every cubin hash;
 * *report (malloc'd, free()) holds a summary line and then one line per problem; *problems counts them.
 * Returns EFFGEN_OK when the checks could run, whatever they found. */
effgen_status eg_db_verify(eg_db *db, char **report, int *problems);
/* VACUUM: rebuild the file without free pages. */
effgen_status eg_db_vacuum(eg_db *db);
/* Copy every row of the database at src_path (attached read-only; same schema version) into db, in one
 * transaction: kernels insert-or-ignore (only those whose cubin matches its hash); measurements replace
 * an existing row only when newer; winners, per (arch, spec, bucket, generator, NVRTC): a measured row
 * beats a model row, between measured rows the higher TFLOP/s wins, otherwise the existing row stays. */
effgen_status eg_db_merge(eg_db *db, const char *src_path);
/* Export as JSON to path ("-": stdout): {"format":"effgen-db","schema":N,"kernels":[...],
 * "measurements":[...],"winners":[...]}. Kernels carry their cubin as a hex string only when
 * with_cubins. */
effgen_status eg_db_export_json(eg_db *db, const char *path, int with_cubins);
/* Import such a JSON file with the merge rules (kernels without a cubin are skipped). Malformed JSON
 * (EFFGEN_PARSE) or a newer schema (EFFGEN_UNSUPPORTED) writes nothing. */
effgen_status eg_db_import_json(eg_db *db, const char *path);

#endif
