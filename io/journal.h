/* journal.h - the crash-safe record of finished rows that --resume continues.
 *
 * While a run writes OUT, it also appends every finished micro-batch to
 * OUT.journal as one checksummed record. A process killed at any moment
 * leaves at worst a torn last record, which the next --resume detects and
 * cuts off; the rows before it are replayed into a fresh OUT and the run goes
 * on from the first missing micro-batch. The journal's header holds the
 * run's fingerprint (model, input listing, options that change the numbers),
 * so a resume with a different command is refused instead of mixing runs.
 * Format: docs/DESIGN.md, "Resume".
 */
#ifndef VR_JOURNAL_H
#define VR_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "../runtime/status.h"
#include "output.h"

typedef struct {
    char path[4096];
    int fd;
    size_t k, classes, dim;  /* row layout: top-k, logits (C), embedding (D), */
    size_t scores;           /* and the score heads' outputs (S floats) */
    int logits, embedding;
    size_t rows;             /* rows recorded so far */
    double last_sync;        /* wall time of the last fdatasync */
    uint8_t *buf;            /* one encoded record */
    size_t cap;
} vr_journal;

/* Starts a new journal (replacing any). */
vr_status vr_journal_create(vr_journal *j, const char *path, const char *fingerprint, size_t k,
                            size_t classes, size_t dim, int logits, int embedding, size_t scores);

/* Reopens an existing journal written with the same fingerprint, cuts off a
 * torn tail, and hands every complete record's rows to `replay` in order.
 * j->rows is then the count of rows already done. */
typedef vr_status (*vr_replay_fn)(void *ctx, const vr_output_row *rows, size_t n);
vr_status vr_journal_resume(vr_journal *j, const char *path, const char *fingerprint, size_t k,
                            size_t classes, size_t dim, int logits, int embedding,
                            size_t scores, vr_replay_fn replay, void *ctx);

/* Appends rows [j->rows, j->rows + n) as one record; synced to disk at most
 * every two seconds (and by close). */
vr_status vr_journal_append(vr_journal *j, const vr_output_row *rows, size_t n);

/* Compares two run fingerprints line by line, ignoring lines that start
 * with one of `skip` (NULL-ended; may be NULL) in both. 1 when they differ,
 * with "WHO has 'LINE', this run 'LINE'" for the first difference in out. */
int vr_fingerprint_diff(const char *had, const char *now, const char *who,
                        const char *const *skip, char *out, size_t cap);

/* Syncs and closes; `remove_file` deletes it (the output is complete). */
vr_status vr_journal_close(vr_journal *j, int remove_file);

#endif
