/* vitrun.c - the command: ranks, plan, run, report.
 *
 * Every rank runs this. Anything that can go wrong before the scoring loop
 * is agreed on by all ranks (vr_comm_agree) so that they leave together with
 * one message from rank 0; inside the loop a failing rank ends the job.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../io/model_io.h"
#include "../io/outlock.h"
#include "../partition/plan.h"
#include "../partition/profile.h"
#include "calibrate.h"
#include "cli.h"
#include "comm.h"
#include "engine.h"
#include "flash.h"
#include "sink.h"
#include "gemm.h"
#include "kernels.h"
#include "linear.h"
#include "pool.h"
#include "report.h"
#include "shape.h"
#include "signals.h"

#ifndef VITRUN_VERSION
#define VITRUN_VERSION "0.1.0"
#endif

static int finish(int rank, vr_status st)
{
    if (st && rank == 0)
        fprintf(stderr, "vitrun: %s: %s\n", vr_status_str(st), vr_last_error());
    /* all is said: a SIGTERM from here on is mpirun tearing down the other
     * ranks after one of them exited non-zero, not a user's stop */
    vr_signals_set_talk(0);
    vr_pool_stop();
    vr_comm_finalize();
    return vr_exit_code(st);
}

/* The model's configuration, read by every rank from the index file, or
 * built from --shape. */
static vr_status read_config(const vr_options *o, vr_config *cfg)
{
    if (o->shape)
        return vr_config_from_shape(cfg, o->shape);
    vr_model_file m;
    vr_status st = vr_model_open(&m, o->model);
    if (!st)
        st = vr_model_set_size(&m, o->image_h, o->image_w, o->preprocess);
    if (!st)
        *cfg = m.cfg;
    vr_model_close(&m);
    return st;
}

/* OpenBLAS and OpenMP (under oneDNN) read some settings only when they load:
 * - OpenBLAS's kernels, from OPENBLAS_CORETYPE or its own CPU detection.
 *   When the detection settled for older kernels than this CPU runs
 *   (measured: 2.9x slower ViT-S/16 on a Sapphire Rapids Xeon with Debian's
 *   0.3.21), vitrun names the right ones;
 * - how long idle threads spin before they sleep: OPENBLAS_THREAD_TIMEOUT
 *   (2^N cycles; Debian's default 2^28, a tenth of a second) and
 *   GOMP_SPINCOUNT (libgomp's default 300000 spins). Spinning, they take
 *   the cores from vitrun's own threads (attention, LayerNorm) between two
 *   GEMMs: 2^10 makes ViT-B/16 on 2 threads 1.1x faster with OpenBLAS, and
 *   GOMP_SPINCOUNT=1000 1.1x with oneDNN (6.75 -> 7.48 images/s).
 * Any of them set here, this program runs itself again, once, before MPI
 * starts. A user's own setting is kept (OMP_WAIT_POLICY counts for GOMP's). */
static void pick_thread_settings(char **argv)
{
    const char *core = vr_gemm_better_coretype();
    int timeout = !getenv("OPENBLAS_THREAD_TIMEOUT");
    int spin = !getenv("GOMP_SPINCOUNT") && !getenv("OMP_WAIT_POLICY");
    if ((!core && !timeout && !spin) || getenv("VITRUN_BLAS_REEXEC"))
        return;
    if (core)
        setenv("OPENBLAS_CORETYPE", core, 1);
    if (timeout)
        setenv("OPENBLAS_THREAD_TIMEOUT", "10", 1);
    if (spin)
        setenv("GOMP_SPINCOUNT", "1000", 1);
    /* what was set, for --version: e.g. "SkylakeX+timeout+spin" */
    char what[64];
    snprintf(what, sizeof what, "%s%s%s", core ? core : "", timeout ? "+timeout" : "",
             spin ? "+spin" : "");
    setenv("VITRUN_BLAS_REEXEC", what, 1);
    /* exec resets handlers but keeps the blocked mask: a stop signal that
     * comes in between waits for the new image's handlers */
    vr_signals_hold();
    execv("/proc/self/exe", argv);
    /* exec failed (no /proc): carry on with what we have */
    vr_signals_install();
    if (core)
        unsetenv("OPENBLAS_CORETYPE");
    if (timeout)
        unsetenv("OPENBLAS_THREAD_TIMEOUT");
    if (spin)
        unsetenv("GOMP_SPINCOUNT");
}

static void print_version(void)
{
    const char *timeout = getenv("OPENBLAS_THREAD_TIMEOUT");
    const char *spin = getenv("GOMP_SPINCOUNT");
    const char *reexec = getenv("VITRUN_BLAS_REEXEC");
    vr_gemm_backend be = VR_GEMM_AUTO;
    vr_precision prec = VR_FP32;
    char why[8];
    vr_linear_choose(&be, &prec, why, sizeof why);
    printf("vitrun %s\n", VITRUN_VERSION);
    printf("BLAS: %s\n", vr_gemm_library());
    /* the re-exec above set it unless the user had */
    printf("OPENBLAS_THREAD_TIMEOUT: %s (%s)\n", timeout ? timeout : "unset",
           !timeout                             ? "library default"
           : reexec && strstr(reexec, "timeout") ? "set by vitrun"
                                                 : "yours");
    printf("GOMP_SPINCOUNT: %s (%s)\n", spin ? spin : "unset",
           !spin                              ? "library default"
           : reexec && strstr(reexec, "spin") ? "set by vitrun"
                                              : "yours");
    printf("GEMM: %s by default; oneDNN: %s; bf16: %s\n", vr_linear_backend_name(be),
           vr_linear_onednn_version(),
           !vr_linear_have_onednn() ? "no (needs oneDNN)"
           : vr_linear_cpu_bf16()   ? "yes (AVX512_BF16)"
                                    : "no (CPU without AVX512_BF16: fp32 instead)");
    printf("int8: %s\n", !vr_linear_have_onednn() ? "no (needs oneDNN)"
                         : vr_linear_cpu_vnni()   ? "yes (AVX-512 VNNI)"
                                                  : "no (CPU without AVX-512 VNNI: refused)");
    const char *isa = getenv("VITRUN_MAX_ISA");
    printf("Kernels: %s (VITRUN_MAX_ISA: %s); attention: %s\n", vr_kernel_level_name(),
           isa ? isa : "unset", vr_flash_usable(64) ? "fused AVX-512 for head sizes that are multiples of 16"
                                                      : "on the GEMM back end");
}

/* --calibrate P.json: this node's rates (every rank takes part: the links),
 * written by rank 0 through a temporary file. */
static vr_status calibrate(const vr_options *o, int rank)
{
    vr_profile p;
    char host[256], tmp[4200];
    int links = 0;
    vr_status st = vr_calibrate(&p, host, sizeof host, o->gemm, &links);
    if (st || rank != 0)
        return st;
    snprintf(tmp, sizeof tmp, "%s.tmp", o->calibrate);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return vr_fail(VR_ERR_OUTPUT, "--calibrate %s: cannot write %s (%s)", o->calibrate, tmp,
                       strerror(errno));
    vr_profile_write(&p, host, f);
    if (fclose(f) || rename(tmp, o->calibrate)) {
        remove(tmp);
        return vr_fail(VR_ERR_OUTPUT, "--calibrate %s: cannot write it (%s)", o->calibrate,
                       strerror(errno));
    }
    if (!o->quiet)
        fprintf(stderr, "vitrun: wrote %s (%s, %d cores): GEMM fp32 %.0f, bf16 %.0f, int8 %.0f "
                "GFLOP/s per core (%.0f%% of that with every rank computing%s); attention %.0f "
                "GFLOP/s; decoding %.2f ms; shared memory %s; "
                "network %s; a TP exchange's wait %s %.3f ms\n",
                o->calibrate, host, p.cores, p.gemm[0] / 1e9, p.gemm[1] / 1e9, p.gemm[2] / 1e9,
                100 * p.full_load, vr_comm_size() > 1 ? "" : ": one rank, not measured",
                p.attn / 1e9, p.decode_s * 1e3,
                links & 1 ? "measured" : "not measured (one rank here: a default)",
                links & 2 ? "measured" : "not measured (one node: a default; run it on two)",
                links & 4 ? "measured" : "not measured (one rank) or none, taken as",
                p.tp_sync_s * 1e3);
    return VR_OK;
}

/* The profile --plan --nodes and --layout auto predict with: --profile's,
 * or the built-in one (named in `name`). */
static vr_status profile_for(const vr_options *o, vr_profile *p, char *name, size_t cap)
{
    *p = vr_profile_builtin();
    snprintf(name, cap, "the built-in profile");
    return o->profile ? vr_profile_read(p, name, cap, o->profile) : VR_OK;
}

static int perf_precision(const vr_options *o)
{
    return o->precision == VR_INT8 ? VR_PERF_INT8 : o->precision == VR_BF16 ? VR_PERF_BF16
                                                                            : VR_PERF_FP32;
}

/* --layout auto: dp, pp, tp and the batch the performance model predicts
 * fastest for the nodes and ranks this job has, chosen on rank 0 (which
 * says so) and agreed. */
static vr_status layout_auto(vr_options *o, int rank, int size)
{
    int nodes, rpn, pick[4] = {1, 1, 1, 1};
    vr_comm_node_shape(&nodes, &rpn);
    vr_status st = VR_OK;
    char line[600] = "";
    if (rank == 0) {
        vr_config c;
        vr_profile p;
        char name[256];
        vr_perf_choice *ch = NULL;
        size_t n = 0;
        vr_perf_setup s = {.precision = perf_precision(o), .decode = o->input != NULL,
                           .wire_bf16 = o->wire_bf16, .threads = vr_gemm_threads()};
        if ((long)nodes * rpn != size)
            st = vr_fail(VR_ERR_USAGE, "--layout auto: the job's %d ranks are not the same "
                         "number on each of its %d nodes; start as many on every node, or give "
                         "--dp, --pp and --tp", size, nodes);
        if (!st && !(st = read_config(o, &c)) && !(st = profile_for(o, &p, name, sizeof name)) &&
            !(st = vr_perf_search(&c, nodes, rpn, &s, &p, o->memory_per_rank, &ch, &n))) {
            if (!n || !ch[0].fits) {
                double least = n ? ch[0].memory_per_rank : 0;
                for (size_t i = 1; i < n; i++)
                    least = ch[i].memory_per_rank < least ? ch[i].memory_per_rank : least;
                st = vr_fail(VR_ERR_USAGE, "--layout auto: no layout of %d node(s) x %d rank(s) "
                             "fits in %.0f MB per rank (%s); the smallest needs %.0f MB: add "
                             "ranks or nodes, or allow more", nodes, rpn,
                             (o->memory_per_rank ? o->memory_per_rank : p.mem_bytes / rpn) / 1e6,
                             o->memory_per_rank ? "--memory-per-rank" : "the node's memory over "
                                                                        "its ranks", least / 1e6);
            } else {
                pick[0] = ch[0].dp, pick[1] = ch[0].pp, pick[2] = ch[0].tp,
                pick[3] = ch[0].batch;
                snprintf(line, sizeof line, "vitrun: --layout auto: dp %d x pp %d x tp %d, batch "
                         "%d for %d node(s) x %d rank(s): predicted %.2f images/s, %.0f MB per "
                         "rank, bound by %s (%s)", ch[0].dp, ch[0].pp, ch[0].tp, ch[0].batch,
                         nodes, rpn, ch[0].images_per_s, ch[0].memory_per_rank / 1e6,
                         vr_bound_name(ch[0].bound), name);
            }
        }
        free(ch);
    }
    if ((st = vr_comm_agree(st)) || (st = vr_comm_bcast(pick, sizeof pick, 0)))
        return st;
    o->dp = pick[0], o->pp = pick[1], o->tp = pick[2], o->batch = (size_t)pick[3];
    if (rank == 0 && !o->quiet)
        fprintf(stderr, "%s\n", line);
    return VR_OK;
}

/* --memory-per-rank with a given layout: refused before anything is read
 * when the performance model puts its largest rank above the limit. */
static vr_status memory_check(const vr_options *o, const vr_plan *plan, const vr_grid *g)
{
    vr_profile p;
    char host[256];
    vr_perf r;
    vr_status st;
    int rpn = g->nodes > 0 ? (g->world_size + g->nodes - 1) / g->nodes : 1;
    vr_perf_setup s = {.batch = (int)o->batch, .threads = vr_gemm_threads(),
                       .ranks_per_node = rpn, .precision = perf_precision(o),
                       .decode = o->input != NULL, .wire_bf16 = o->wire_bf16};
    if ((st = profile_for(o, &p, host, sizeof host)) ||
        (st = vr_perf_predict(plan, &s, &p, o->memory_per_rank, &r)))
        return st;
    if (r.memory_per_rank <= o->memory_per_rank)
        return VR_OK;
    return vr_fail(VR_ERR_USAGE, "--memory-per-rank %.0f MiB: a rank of dp %d x pp %d x tp %d "
                   "at batch %zu needs about %.0f MiB (%s weights and buffers, by the "
                   "performance model); split the model over more ranks (--pp, --tp), a "
                   "smaller --batch or --precision, or let --layout auto choose",
                   o->memory_per_rank / 1048576, plan->dp, plan->pp, plan->tp, o->batch,
                   r.memory_per_rank / 1048576, vr_linear_precision_name(o->precision));
}

/* --plan --nodes N --ranks-per-node R: the best layouts by the model. */
static vr_status plan_nodes(const vr_options *o, const vr_config *c)
{
    vr_profile p;
    char host[256];
    vr_status st;
    if ((st = profile_for(o, &p, host, sizeof host)))
        return st;
    int prec = perf_precision(o);
    if (!(p.gemm[prec] > 0))
        return vr_fail(VR_ERR_USAGE, "--plan: %s has no %s GEMM rate (its node could not run "
                       "them); plan another --precision", o->profile ? o->profile : host,
                       vr_linear_precision_name(o->precision));
    /* 0: the profile's cores over R; more ranks x threads than cores share them */
    vr_perf_setup s = {.precision = prec, .decode = o->input != NULL, .wire_bf16 = o->wire_bf16,
                       .threads = o->threads};
    vr_perf_choice *ch;
    size_t n;
    if ((st = vr_perf_search(c, o->nodes, o->ranks_per_node, &s, &p, o->memory_per_rank, &ch,
                             &n)))
        return st;
    if (!o->json)
        printf("%d node(s) x %d rank(s), %s, %s, %s; predicted by the performance model "
               "(docs/SCALING.md):\n", o->nodes, o->ranks_per_node,
               vr_linear_precision_name(o->precision), o->profile ? o->profile : host,
               o->input ? "decoding JPEGs" : "no decoding");
    vr_perf_print(ch, n, 10, o->json, stdout);
    free(ch);
    return VR_OK;
}

int main(int argc, char **argv)
{
    pick_thread_settings(argv);
    /* from the start, a stop request (Slurm's time-limit USR1, TERM, Ctrl-C)
     * is recorded and honoured at the first step, not fatal during set-up */
    vr_signals_install();
    vr_status st = vr_comm_init(&argc, &argv);
    if (st) {
        fprintf(stderr, "vitrun: %s\n", vr_last_error());
        return 1;
    }
    int rank = vr_comm_rank(), size = vr_comm_size();
    vr_signals_set_talk(rank == 0); /* a stop before anything is written: one line */
    vr_options o;
    /* same argv everywhere, but --int8-keep @FILE and a MODEL.int8 are files
     * each rank reads: the verdict is agreed */
    if ((st = vr_comm_agree(vr_cli_parse(&o, argc, argv))))
        return finish(rank, st);
    if (o.help || o.version) {
        if (rank == 0 && o.help)
            vr_cli_usage(stdout);
        if (rank == 0 && o.version)
            print_version();
        return finish(rank, VR_OK);
    }
    const char *isa = getenv("VITRUN_MAX_ISA");
    if (isa && vr_kernel_level_parse(isa) < 0)
        st = vr_fail(VR_ERR_USAGE, "VITRUN_MAX_ISA is '%s'; expected scalar, avx2 or avx512 (a "
                     "cap on the instructions of vitrun's own kernels); unset it to use the "
                     "CPU's best", isa);
    const char *wait = getenv("VITRUN_WAIT");
    if (!st && wait && strcmp(wait, "spin") && strcmp(wait, "nap"))
        st = vr_fail(VR_ERR_USAGE, "VITRUN_WAIT is '%s'; expected spin (wait for pipeline "
                     "messages inside MPI) or nap (sleep between tests); unset it to let vitrun "
                     "nap only where a node has more ranks x threads than CPUs", wait);
    if ((st = vr_comm_agree(st)))
        return finish(rank, st);
    char why[256] = "";
    /* (every rank decides: a node without VNNI refuses int8 for the job;
     * --plan --nodes describes the profile's nodes, not this one) */
    if (!(o.plan && o.nodes))
        st = vr_linear_choose(&o.gemm, &o.precision, why, sizeof why);
    if ((st = vr_comm_agree(st)))
        return finish(rank, st);
    if (why[0] && rank == 0 && !o.quiet)
        fprintf(stderr, "vitrun: %s\n", why);
    if (o.int8_auto[0] && rank == 0 && !o.quiet)
        fprintf(stderr, "vitrun: int8: applying the calibration %s (its fp32 matrices stay "
                "float32; --int8-keep none to quantise every one)\n", o.int8_auto);
    vr_gemm_set_threads(o.threads);
    /* vitrun's own loops get as many threads as BLAS */
    vr_pool_start(vr_gemm_threads());
    vr_comm_wait_setup(vr_gemm_threads());
    if (o.calibrate)
        return finish(rank, calibrate(&o, rank));
    if (o.layout_auto && (st = layout_auto(&o, rank, size)))
        return finish(rank, st);
    size_t layers[o.pp];
    if (o.layers && (st = vr_plan_parse_layers(o.layers, layers, o.pp)))
        return finish(rank, st);
    /* the layout is checked before anything is read */
    vr_grid g;
    if (o.plan && size == 1) {
        /* one process describing a layout it is not running */
        memset(&g, 0, sizeof g);
        g.world_size = o.pp * o.tp * (o.dp ? o.dp : 1);
        g.dp = o.dp ? o.dp : 1;
        g.pp = o.pp;
        g.tp = o.tp;
        g.nodes = 1;
    } else if ((st = vr_comm_grid(&g, o.dp, o.pp, o.tp))) {
        return finish(rank, st);
    }
    vr_config cfg;
    if ((st = vr_comm_agree(read_config(&o, &cfg))))
        return finish(rank, st);
    if (o.plan && o.nodes)
        return finish(rank, vr_comm_agree(rank == 0 ? plan_nodes(&o, &cfg) : VR_OK));
    if (o.dump && size > 1)
        return finish(rank, vr_fail(VR_ERR_USAGE, "--dump-activations needs a single rank"));
    vr_plan plan;
    if ((st = vr_comm_agree(vr_plan_build(&plan, &cfg, g.dp, g.pp, g.tp,
                                          o.layers ? layers : NULL))))
        return finish(rank, st);
    /* a memory limit per rank: the layout's largest rank, by the model */
    if (o.memory_per_rank && !o.layout_auto &&
        (st = vr_comm_agree(rank == 0 ? memory_check(&o, &plan, &g) : VR_OK))) {
        vr_plan_free(&plan);
        return finish(rank, st);
    }
    if (o.plan) {
        if (rank == 0 && o.precision == VR_INT8 &&
            (st = vr_int8_keep_check(o.int8_keep, cfg.layers))) {
            vr_plan_free(&plan);
            return finish(rank, st);
        }
        if (rank == 0) {
            vr_plan_print(&plan, stdout);
            if (o.precision == VR_INT8)
                vr_int8_keep_print(o.int8_keep, cfg.layers, stdout);
            if (size > 1)
                printf("placement: %d node(s); %d tensor-parallel group(s) span nodes\n",
                       g.nodes, g.tp_groups_split);
        }
        vr_plan_free(&plan);
        return finish(rank, VR_OK);
    }
    /* before anything is written (the manifest) or scored */
    if ((st = vr_comm_agree(rank == 0 ? vr_sink_check_paths(&o) : VR_OK))) {
        vr_plan_free(&plan);
        return finish(rank, st);
    }
    /* one run writes an output at a time: its writer holds OUT.lock from
     * before the first file of the run to the commit (io/outlock.h) */
    vr_outlock lock = {.fd = -1};
    /* (tar shards into a folder: the engine locks the folder, or shares it
     * with --claim) */
    int writer = o.output && !vr_output_is_folder(o.output) &&
                 g.world_rank == vr_comm_world_of(&g, 0, g.pp - 1, 0);
    if ((st = vr_comm_agree(writer ? vr_outlock_acquire(&lock, o.output) : VR_OK))) {
        vr_plan_free(&plan);
        return finish(rank, st);
    }
    if (lock.fd >= 0)
        vr_signals_remove_on_stop(lock.path);
    vr_rank_report rep;
    st = vr_engine_run(&o, &g, &plan, &rep);
    vr_outlock_release(&lock);
    if (!st || st == VR_STOPPED) {
        /* a stopped run still reports what it did; keep the stop message */
        char stop_msg[2048], where[4200];
        snprintf(stop_msg, sizeof stop_msg, "%s", vr_last_error());
        snprintf(where, sizeof where, "%s%s", o.output ? o.output : "(--no-output: not kept)",
                 st && o.output ? ".part" : "");
        size_t batch = rep.batch ? rep.batch : o.batch; /* 0: stopped before the input */
        vr_status st2 = vr_comm_agree(vr_report_finish(&rep, &g, &plan, batch, o.dump != NULL,
                                                       o.report, where, o.quiet, o.int8_calibrate,
                                                       o.int8_threshold));
        if (st2)
            st = st2;
        else if (st)
            vr_fail(st, "%s", stop_msg);
    }
    vr_plan_free(&plan);
    return finish(rank, st);
}
