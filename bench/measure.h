/* measure.h - measuring one layer: device times (OpenCL profiling and wall
 * clock), the host reference's time within a budget, and the error of the
 * device against the host. */
#ifndef CLCNN_BENCH_MEASURE_H
#define CLCNN_BENCH_MEASURE_H

#include "bench.h"

typedef struct {
    clcnn_context *dev;  /* OpenCL context whose queue has profiling on */
    clcnn_context *host; /* the reference */
    clcnn_dtype dtype;
    int reps;            /* timed repetitions wanted after the warm-up */
    double row_budget_s; /* seconds one row may spend on the host, and again on the device */
    int clblast;         /* also time CLBlast on conv_fwd rows (F32) */
    int onednn;          /* also time oneDNN on the CPU on every row but pad (F32) */
} bench_env;

/* The rows a layer yields: conv: pad (when pad > 0), conv_fwd,
 * conv_bwd_data, conv_bwd_filter; pool: pool_fwd, pool_bwd. */
int bench_layer_ops(const bench_layer *l, bench_op ops[4]);

/* Measures every op of layer l into rows (at least 4); returns how many rows
 * it wrote. A failure is recorded in that row's `error`, never fatal. */
int bench_measure_layer(const bench_env *env, const bench_layer *l, bench_row *rows);

/* Time from clcnn_context_create to the first result read back of op
 * family "pad", "conv" or "pool" on a fresh context; negative on failure. */
double bench_first_call_seconds(const char *family, const char *device, clcnn_dtype dtype);

/* Seconds on a monotonic clock. */
double bench_now(void);

/* Whether a row times one more call, after `done` of at most `max_reps`
 * since `start` (bench_now): always the first, then while the budget
 * lasts. The warm-up call before does not set the count: on a first call
 * it includes a program build (about 1 s on PoCL; CLBlast's and oneDNN's
 * code generation for the peers), which capped 4-ms rows at 2-3 reps. */
int bench_time_more(int done, int max_reps, double start, double budget_s);

#endif
