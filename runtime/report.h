/* report.h - the timing report: every rank's numbers gathered to rank 0,
 * written as JSON (--report) and summarised in one line. */
#ifndef VR_REPORT_H
#define VR_REPORT_H

#include <stdio.h>

#include "../partition/plan.h"
#include "comm.h"
#include "engine.h"

/* Collective. Rank 0 writes `path` (if not NULL) and, unless quiet, prints
 * the summary to stderr; all_tokens: the run computed every token of the
 * last block (--dump), which decides the FLOPs run. With calibrate (int8
 * --int8-calibrate), rank 0 also writes that file: each matrix's relative error
 * (the largest over the ranks holding a part of it) and "fp32" for those
 * over threshold, else "int8". */
vr_status vr_report_finish(const vr_rank_report *mine, const vr_grid *g, const vr_plan *plan,
                           size_t batch, int all_tokens, const char *path, const char *output,
                           int quiet, const char *calibrate, double threshold);

#endif
