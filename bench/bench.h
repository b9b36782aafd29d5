/* bench.h - clcnn-bench's data: the layers of a suite, one result row per
 * (layer, op, direction), and a whole run. Shared by the measuring code
 * (measure.c, peers.c), the suites (suites.c) and the writers (report.c,
 * svg.c). */
#ifndef CLCNN_BENCH_H
#define CLCNN_BENCH_H

#include "clcnn.h"

#include <stddef.h>

typedef enum { LAYER_CONV, LAYER_POOL } layer_kind;

/* One layer: a convolution (input n x h x w x c, cout filters fh x fw) or a
 * pooling (f x f window, mode). */
typedef struct {
    char suite[16]; /* "seed", "resnet", "peers", "shape" */
    char name[48];  /* e.g. "conv1", "a", "pool_max" */
    layer_kind kind;
    int n, h, w, c;
    int fh, fw, cout; /* convolution */
    int f;            /* pooling window */
    int stride, pad;
    clcnn_pool_mode mode;
} bench_layer;

/* The ops and directions measured. */
typedef enum {
    OP_PAD,             /* zero_pad of a conv layer's input by its pad */
    OP_CONV_FWD,        /* conv2d_forward with bias */
    OP_CONV_BWD_DATA,   /* conv2d_backward, da_prev only */
    OP_CONV_BWD_FILTER, /* conv2d_backward, dw and db */
    OP_POOL_FWD,
    OP_POOL_BWD,
    OP_COUNT
} bench_op;

const char *bench_op_name(bench_op op); /* "pad", "conv_fwd", ... */

/* A measured figure that may be missing (not run, or failed). */
#define BENCH_NONE (-1.0)

typedef struct {
    bench_layer layer;
    bench_op op;
    int ho, wo;                                   /* output size */
    double flops;                                 /* tc_flops (ops.h): convolutions; else 0 */
    double bytes;                                 /* tc_bytes: pad and pooling, read + written; else 0 */
    int reps;                                     /* timed repetitions after one warm-up */
    double dev_kernel_median_s, dev_kernel_min_s; /* from OpenCL profiling */
    double dev_wall_median_s, dev_wall_min_s;     /* enqueue to completion */
    double host_s;                                /* host reference, for the full batch */
    int host_batch;                               /* batch the host actually ran */
    int host_extrapolated;                        /* host_s = measured * n / host_batch */
    double max_abs_err;                           /* device against host, on host_batch */
    double max_rel_err;                           /* max_abs_err / max |host| */
    double clblast_convgemm_s;                    /* CLBlastSconvgemm, conv_fwd rows only */
    double clblast_sgemm_s;                       /* CLBlastSgemm (M = N Ho Wo, K = fh fw Cin, N = Cout) */
    double onednn_s, onednn_min_s;                /* oneDNN on the CPU, host clock (onednn_peer.h) */
    double onednn_rel_err;                        /* oneDNN against the device's result, max rel */
    const char *algo_ran; /* conv rows: "direct" or "gemm" (the device's last call), else "" */
    char error[160];      /* why a figure is missing, or "" */
} bench_row;

/* Throughputs derived from a row (BENCH_NONE when not applicable). */
double bench_gflops(double flops, double seconds);
double bench_gbs(double bytes, double seconds);

typedef struct {
    const char *family; /* "pad", "conv", "pool" */
    double seconds;     /* context creation to first result, cold programs */
} bench_first_call;

typedef struct {
    char device[256];
    char date[32]; /* UTC, ISO 8601 */
    char command[512];
    const char *dtype; /* "f32" or "f64" */
    const char *algo;  /* convolution algorithm: "auto", "direct" or "gemm" */
    int reps;
    double budget_s;
    bench_first_call first[3];
    char onednn[96]; /* the oneDNN peer: "oneDNN 2.6.3 on the CPU", or why there is none */
    bench_row *rows;
    size_t n_rows;
} bench_run;

/* Writers (report.c, svg.c). Each returns 0, or -1 with errno set. */
void bench_print_table(const bench_run *run);
int bench_write_csv(const bench_run *run, const char *path);
int bench_write_json(const bench_run *run, const char *path);
/* A bar chart of GFLOP/s per convolution row (device kernel median, host,
 * CLBlast convgemm and oneDNN where measured), with labels, a legend, the
 * device name and the date. */
int bench_write_svg(const bench_run *run, const char *path);

#endif
