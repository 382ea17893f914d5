/* claims.h - an output folder shared by the replicas of one job and by
 * independent jobs, coordinated through the file system alone: which shards
 * are finished, who works on which (claims with leases), how a finished
 * shard is committed exactly once, and the manifest.
 *
 * Layout (docs/DESIGN.md, "Shard queue"):
 *   OUT/STEM.h5 | STEM.csv      a finished shard's table: its existence is
 *                               what "finished" means (with STEM.npy when
 *                               the run writes embeddings)
 *   OUT/STEM.npy                its embeddings, row i = row i of the table
 *   OUT/manifest.csv            one line per shard finished or given up
 *   OUT/.vitrun/run             the run's fingerprint (what must match to
 *                               share or resume the folder)
 *   OUT/.vitrun/claims/STEM.G   claim of generation G: who works on the
 *                               shard; renewed (rewritten) while they do
 *   OUT/.vitrun/tmp/            tables and arrays being written
 *   OUT/.vitrun/failed/STEM     the job that could not read the shard (its
 *                               replicas do not try it again; other jobs do)
 *
 * Every decision is one atomic file-system operation, so no two processes
 * can both win it, on local file systems, NFS (v3 and v4) and Lustre:
 *   claim      open(O_CREAT|O_EXCL) of STEM.0, or of STEM.G+1 to take over
 *              a claim G whose lease ran out;
 *   commit     link(tmp, OUT/STEM.h5), which fails when the name exists
 *              (the first of two replicas finishing one shard wins);
 *   manifest   append of one line under an fcntl lock.
 * Leases are judged in the file server's clock (the modification time of a
 * file just written), never the local one, so skewed node clocks do not
 * take live claims over.
 */
#ifndef VR_CLAIMS_H
#define VR_CLAIMS_H

#include <stddef.h>

#include "../runtime/status.h"

#define VR_OUTDIR_PATH 4096

typedef struct {
    char dir[VR_OUTDIR_PATH];    /* OUT, without a trailing slash */
    char meta[VR_OUTDIR_PATH + 16];   /* OUT/.vitrun */
    char claims[VR_OUTDIR_PATH + 32]; /* OUT/.vitrun/claims */
    char tmp[VR_OUTDIR_PATH + 32];    /* OUT/.vitrun/tmp */
    char failed[VR_OUTDIR_PATH + 32]; /* OUT/.vitrun/failed */
    char ext[8];                 /* the table's extension: "h5" or "csv" */
    int npy;                     /* finished shards have STEM.npy too */
} vr_outdir;

/* Names OUT's parts; with `create`, makes OUT (its parent must exist) and
 * OUT/.vitrun/{claims,tmp}. */
vr_status vr_outdir_open(vr_outdir *d, const char *dir, const char *ext, int npy, int create);

/* OUT/STEM.EXT */
void vr_outdir_file(const vr_outdir *d, const char *stem, const char *ext, char *out,
                    size_t cap);

/* 1 when the shard is finished: its table exists (and its .npy when the
 * run writes embeddings). */
int vr_outdir_done(const vr_outdir *d, const char *stem);

/* Now in the file server's clock: the modification time of OUT/.vitrun/
 * claims/.clock-WHO, written for the purpose. -1 when it cannot be. */
double vr_outdir_clock(const vr_outdir *d, const char *who);

/* What a claim file says. */
typedef struct {
    int gen;                 /* its generation: STEM.gen */
    double renewed;          /* its modification time (file server's clock) */
    double started;          /* when its holder began the shard (holder's clock) */
    long long rows;          /* rows its holder had read at the last renewal */
    char who[256];           /* job/replica@host:pid */
    int helped;              /* a second replica works on it too (STEM.G.dup) */
} vr_claim_info;

typedef enum {
    VR_CLAIM_TAKEN,   /* the claim is ours (*c filled) */
    VR_CLAIM_DONE,    /* the shard is finished */
    VR_CLAIM_HELD,    /* someone else's live claim (*holder filled) */
    VR_CLAIM_FAILED   /* the file system refused: vr_last_error() says why */
} vr_claim_result;

/* A claim held: the file to renew. */
typedef struct {
    char path[VR_OUTDIR_PATH + 300];
    int gen;
    double started;
} vr_claim;

/* Tries to claim shard `stem` for `who`: an unclaimed shard, or one whose
 * claim was last renewed more than `lease` seconds before `now_fs` (the
 * file server's clock; lease <= 0: every claim found is stale). */
vr_claim_result vr_claim_try(const vr_outdir *d, const char *stem, const char *who,
                             double lease, double now_fs, double started, vr_claim *c,
                             vr_claim_info *holder);

/* Registers `who` as the second replica on a shard someone holds (at most
 * one helper per claim): 1 registered, 0 someone already helps. */
int vr_claim_help(const vr_outdir *d, const char *stem, const vr_claim_info *holder,
                  const char *who);

/* Rewrites the claim (renewing its lease) with the rows read so far.
 * 0: renewed; 1: the claim is gone or a later generation exists (the
 * shard was finished, or taken over while this holder was stopped). */
int vr_claim_renew(const vr_claim *c, const char *who, long long rows);

/* The claim files of `stem` are removed: every generation and helper mark
 * when the shard is finished (all = 1), or only the caller's own claim
 * (a stop, a shard given up). */
void vr_claim_release(const vr_outdir *d, const char *stem, const vr_claim *mine, int all);

/* Records that `job` could not read shard `stem`. */
void vr_outdir_mark_failed(const vr_outdir *d, const char *stem, const char *job);
/* 1 when `job` recorded shard `stem` as unreadable. */
int vr_outdir_failed_by(const vr_outdir *d, const char *stem, const char *job);

/* The tag in the temporary files' names of replica `replica` of `job`
 * (tmp/STEM.TAG.EXT.part, tmp/STEM.TAG.npy.part): JOB-rREPLICA, safe as a
 * path component. */
void vr_outdir_tmp_tag(const char *job, int replica, char *out, size_t cap);

/* Removes the temporary files a claim's dead holder (who: JOB/rR@HOST:PID)
 * left for shard `stem`. */
void vr_outdir_drop_tmp(const vr_outdir *d, const char *stem, const char *who);

/* Removes every claim, failure mark and temporary file (a run that owns the folder,
 * starting: what they belonged to is dead). */
void vr_outdir_clear(const vr_outdir *d);

/* Commits a finished shard: link(table_tmp, OUT/STEM.EXT); when that wins,
 * renames npy_tmp (if any) to OUT/STEM.npy. The temporary files are
 * removed either way. 1: committed; 0: another replica or job committed the
 * shard first (nothing changed); -1: an error (vr_last_error()). */
int vr_outdir_commit(const vr_outdir *d, const char *stem, const char *table_tmp,
                     const char *npy_tmp);

/* Appends one line (with its newline) to OUT/manifest.csv, writing the
 * header first when the file is new; under an fcntl lock so that lines of
 * concurrent writers never interleave. */
vr_status vr_manifest_append(const vr_outdir *d, const char *line);

/* The manifest's column names. */
#define VR_MANIFEST_HEADER \
    "shard,status,rows,failed_rows,seconds,replica,host,job,files,finished_at,detail\n"

#endif
