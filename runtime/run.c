/* run.c - the run description (run.h). */
#include "run.h"

#include <string.h>
#include <unistd.h>

#include "../io/output.h"

void vr_run_resolve(vr_run *r, const vr_options *o, const vr_config *c)
{
    memset(r, 0, sizeof *r);
    r->input = o->input;
    r->synthetic = o->synthetic;
    r->output = o->output;
    r->resume = o->resume;
    r->strict = o->strict;
    /* the classifier's logits, or the zero-shot classes' */
    r->logits = o->logits && (c->classes || o->zero_shot);
    /* a model without a classifier (an embedding tower) writes its embedding,
     * unless its output is zero-shot classes */
    if (o->embeddings || (!c->classes && !o->zero_shot))
        r->embedding = o->emb_f16 ? VR_EMB_F16 : VR_EMB_F32;
    r->truth = o->truth;
    r->labels_from_cls = o->labels_from_cls;
    r->limits = (vr_image_limits){o->max_pixels, o->max_file_bytes, o->dct_scale};
    r->decoders = o->decoders;
    r->progress = o->quiet || o->progress == VR_PROGRESS_OFF ? -1
                  : o->progress == VR_PROGRESS_BAR           ? 1
                  : o->progress == VR_PROGRESS_LOG           ? 0
                                                             : isatty(STDERR_FILENO);
    r->progress_every = o->progress_every;
    r->quiet = o->quiet;
}
