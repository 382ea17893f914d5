/* fuzz_journal.c - libFuzzer target: an untrusted resume journal through
 * the replay of `--resume` (io/journal.c): vr_journal_resume with a replay
 * callback that reads every row handed to it; then, when the journal was
 * accepted, a record appended and the journal replayed again, which must
 * give back every row.
 *
 * Input: 4 bytes choosing the run's row layout, then the journal file.
 *   [0] top-k - 1 (%8), [1] classes - 1 (%16; top-k is at most classes),
 *   [2] embedding width - 1 (%16), [3] bit 0 logits, bit 1 embeddings,
 *   bit 2 the replay callback fails on the second record
 * The run's fingerprint is FINGERPRINT below (the seeds carry it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../io/journal.h"
#include "fuzz_util.h"

#define FINGERPRINT "model_id=fuzz\ninput=images\nbatch=4\ntopk=%zu\n"

typedef struct {
    size_t k, classes, dim, scores, rows, records;
    int logits, embedding, fail_second;
    double sink; /* every number is read */
} replay_state;

static vr_status replay(void *ctx, const vr_output_row *rows, size_t n)
{
    replay_state *s = ctx;
    if (s->fail_second && s->records == 1)
        return vr_fail(VR_ERR_OUTPUT, "the output refused the replayed rows");
    s->records++;
    for (size_t r = 0; r < n; r++) {
        const vr_output_row *o = &rows[r];
        s->sink += (double)strlen(o->path) + (double)strlen(o->error);
        for (size_t t = 0; t < s->k; t++) {
            if (o->ok && (o->topk_index[t] < 0 || (size_t)o->topk_index[t] >= s->classes))
                vf_fail("row %zu replayed with class index %d of %zu", s->rows + r,
                        o->topk_index[t], s->classes);
            s->sink += o->topk_prob[t];
        }
        if (!o->logits != !s->logits || !o->embedding != !s->embedding)
            vf_fail("row %zu replayed with the wrong columns", s->rows + r);
        for (size_t c = 0; o->logits && c < s->classes; c++)
            s->sink += o->logits[c];
        for (size_t d = 0; o->embedding && d < s->dim; d++)
            s->sink += o->embedding[d];
    }
    s->rows += n;
    return VR_OK;
}

static char g_path[4096];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    vf_setup("journal");
    vf_path(g_path, sizeof g_path, "out.h5.journal");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    replay_state s;
    memset(&s, 0, sizeof s);
    s.classes = data[1] % 16 + 1;
    s.k = data[0] % 8 + 1;
    if (s.k > s.classes)
        s.k = s.classes;
    s.dim = data[2] % 16 + 1;
    s.logits = data[3] & 1;
    s.embedding = (data[3] >> 1) & 1;
    s.fail_second = (data[3] >> 2) & 1;
    s.scores = (data[3] >> 3) & 3; /* score-head floats: 0..3 */
    char fp[128];
    snprintf(fp, sizeof fp, FINGERPRINT, s.k);
    vf_write(g_path, data + 4, size - 4);

    vr_journal j;
    vr_status st = vr_journal_resume(&j, g_path, fp, s.k, s.classes, s.dim, s.logits,
                                     s.embedding, s.scores, replay, &s);
    if (st == VR_OK && j.rows != s.rows)
        vf_fail("the journal says %zu rows, %zu were replayed", j.rows, s.rows);
    if (st == VR_OK) {
        /* append two rows after what was kept, then all of it must replay */
        int idx[8] = {0};
        float prob[8] = {0}, logits[16] = {0}, emb[16] = {0}, scores[4] = {0};
        char name[300];
        memset(name, 'n', sizeof name - 1);
        name[sizeof name - 1] = '\0';
        vr_output_row rows[2] = {
            {"a.jpg", 1, "", idx, prob, s.logits ? logits : NULL, s.embedding ? emb : NULL,
             s.scores ? scores : NULL},
            {name, 0, "truncated JPEG", idx, prob, s.logits ? logits : NULL,
             s.embedding ? emb : NULL, s.scores ? scores : NULL}};
        size_t before = j.rows;
        if (vr_journal_append(&j, rows, 2) != VR_OK)
            vf_fail("append failed: %s", vr_last_error());
        vr_journal_close(&j, 0);
        s.rows = 0;
        s.records = 0;
        s.fail_second = 0;
        st = vr_journal_resume(&j, g_path, fp, s.k, s.classes, s.dim, s.logits, s.embedding,
                               s.scores, replay, &s);
        if (st != VR_OK || j.rows != before + 2 || s.rows != before + 2)
            vf_fail("a journal of %zu rows plus 2 appended replays as %zu (%s)", before,
                    s.rows, st ? vr_last_error() : "ok");
    }
    vr_journal_close(&j, 0);
    return 0;
}
