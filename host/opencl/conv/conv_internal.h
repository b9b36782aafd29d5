/* conv_internal.h - what the files of host/opencl/conv/ share: the problem
 * a convolution call solves (built once per call), the ordered lists of
 * implementations (conv_choice.c), and the host sides of the direct, tiled
 * and copy kernels of kernels/conv_*.cl. Private to host/opencl/conv/. */
#ifndef CLCNN_CONV_INTERNAL_H
#define CLCNN_CONV_INTERNAL_H

#include "opencl/cl_backend.h"
#include "opencl/cl_short_names.h"

/* The directions of a convolution; the values are the tuning key's. */
typedef enum { CONV_FORWARD = 0, CONV_DATA = 1, CONV_FILTER = 2 } conv_direction;

/* One call's problem: its shape, dtype, request and input tensors, built
 * once by clcnn__conv_problem and passed down by const pointer. b is the
 * forward's bias (or NULL), dz the backward's gradient (NULL forward). */
typedef struct {
    const char *fn; /* the public function, for messages */
    conv_shape cs;
    clcnn_dtype dt;
    clcnn_conv_algo algo; /* the caller's request (clcnn_conv_params.algo) */
    const clcnn_tensor *a_prev, *w, *b, *dz;
} conv_problem;

/* The problem of a call on a_prev and w whose output (z, or dz) has shape
 * zs. */
conv_problem clcnn__conv_problem(const char *fn, const clcnn_tensor *a_prev, const clcnn_tensor *w,
                                 const clcnn_tensor *b, const clcnn_tensor *dz, clcnn_shape zs,
                                 clcnn_conv_params p);

/* ---- the algorithm choice (conv_choice.c) ----------------------------- */

/* One direction's run of a variant, writing only that direction's output. */
typedef clcnn_status (*conv_run_fn)(clcnn_context *ctx, const conv_problem *pb, int variant,
                                    clcnn_tensor *out);

/* What a call will run in direction d, decided once before it saves any
 * output: a variant (CLCNN_VARIANT_*), or CONV_PLAN_MEASURE where the tuner
 * is to measure the candidates on the call's own tensors. */
enum { CONV_PLAN_MEASURE = -1 };
int clcnn__conv_plan(clcnn_context *ctx, const conv_problem *pb, conv_direction d);

/* Whether a plan may write its direction's output with several enqueues. */
int clcnn__conv_several_writes(int plan);

/* The variant direction d runs with `plan`: the plan's, or for
 * CONV_PLAN_MEASURE the fastest candidate, measured on out (and
 * remembered). */
clcnn_status clcnn__conv_decide(clcnn_context *ctx, const conv_problem *pb, conv_direction d, int plan,
                                clcnn_tensor *out, int *variant);

/* Runs direction d with `variant` on out (recording the public algorithm
 * for clcnn_context_last_conv_algos): forward calls and tuning runs. */
clcnn_status clcnn__conv_run(clcnn_context *ctx, const conv_problem *pb, conv_direction d, int variant,
                             clcnn_tensor *out);

/* The public algorithm a variant runs. */
clcnn_conv_algo clcnn__conv_algo_of(int variant);

/* ---- the runs the lists name ------------------------------------------ */

/* conv_forward.c: the forward on the direct path (the tiled kernel or
 * conv_forward_<N>), and on the GEMM path. */
clcnn_status clcnn__conv_forward_direct(clcnn_context *ctx, const conv_problem *pb, int variant,
                                        clcnn_tensor *z);
clcnn_status clcnn__conv_forward_gemm(clcnn_context *ctx, const conv_problem *pb, int variant,
                                      clcnn_tensor *z);

/* conv_backward.c: backward data or filter alone, on the direct or the
 * GEMM path. */
clcnn_status clcnn__conv_data_direct(clcnn_context *ctx, const conv_problem *pb, int variant,
                                     clcnn_tensor *da_prev);
clcnn_status clcnn__conv_data_gemm(clcnn_context *ctx, const conv_problem *pb, int variant,
                                   clcnn_tensor *da_prev);
clcnn_status clcnn__conv_filter_direct(clcnn_context *ctx, const conv_problem *pb, int variant,
                                       clcnn_tensor *dw);
clcnn_status clcnn__conv_filter_gemm(clcnn_context *ctx, const conv_problem *pb, int variant,
                                     clcnn_tensor *dw);

/* ---- the direct forward kernel's geometry (conv_forward.c) ------------ */

/* Output pixels per work-item of conv_forward_<N> over rows of wo pixels. */
size_t clcnn__conv_forward_px(const struct clcnn_cl *cl, int wo);
/* Channel blocks per work-item of conv_forward_<N> (its cgroup). */
cl_int clcnn__conv_forward_cgroup(const struct clcnn_cl *cl, const conv_shape *fs, int log_n, size_t px);
/* Work-items of conv_forward_<N> for shape fs. */
size_t clcnn__conv_forward_items(const conv_shape *fs, int log_n, size_t px, cl_int cgroup);
/* A 1x1, stride-1, unpadded layer's rows taken as one row of pixels. */
void clcnn__conv_flatten_pointwise(const struct clcnn_cl *cl, conv_shape *s, size_t px);
/* conv_forward_<N>'s work-item order: 1 pixel-major, 0 channel-major. */
cl_int clcnn__conv_pixel_major(const struct clcnn_cl *cl, int cblocks, size_t weight_bytes, int variant);

/* ---- the copies the direct kernels read (conv_copies.c) --------------- */

/* On CPUs, a zero-padded copy of a_prev for the direct forward (shape *cs,
 * updated to the copy's), in *input with *row_slack = 1; else nothing. */
clcnn_status clcnn__conv_prepad(clcnn_context *ctx, const char *fn, const clcnn_tensor *a_prev, size_t px,
                                conv_shape *cs, cl_mem *input, cl_int *row_slack);
/* The direct forward's weights in blocks of 2^log_n channels, or flipped
 * for backward data as a forward convolution (flip), into *weights. */
clcnn_status clcnn__conv_block_weights(clcnn_context *ctx, const char *fn, const clcnn_tensor *w,
                                       const conv_shape *fs, cl_int flip, int blocked, int log_n, cl_mem flag,
                                       cl_mem *weights, cl_int *wblock);
/* The cleared flag of non-finite weights, for block_weights to set. */
clcnn_status clcnn__conv_cleared_flag(clcnn_context *ctx, const char *fn, cl_mem *flag);
/* Backward data as a forward convolution on CPUs: a padded copy of dz and
 * the flag, or neither (both NULL). */
clcnn_status clcnn__conv_padded_dz(clcnn_context *ctx, const char *fn, const clcnn_tensor *dz,
                                   const conv_shape *ts, size_t px, cl_mem *dz_slack, cl_mem *flag);
/* x in blocks of kb channels in workspace `slot`, or NULL in *out. */
clcnn_status clcnn__conv_block_channels(clcnn_context *ctx, const char *fn, const clcnn_tensor *x, size_t kb,
                                        int slot, cl_mem *out);

/* ---- the tiled kernels (conv_tiled.c) --------------------------------- */

/* What both tiled kernels need (not disabled, a tile the device can run,
 * no work-item order named). */
int clcnn__conv_tiled_allowed(const struct clcnn_cl *cl, int variant);
/* Whether the forward kernel with `variant` over `channels` output
 * channels runs conv_forward_tiled. */
int clcnn__conv_tiled(const struct clcnn_cl *cl, int variant, int channels);
/* Whether dw runs on conv_backward_filter_tiled. */
int clcnn__conv_tiled_filter(const struct clcnn_cl *cl, int variant);
/* Tiled kernel `id` where `want` and the device can run it, else NULL. */
clcnn_status clcnn__conv_tiled_kernel(clcnn_context *ctx, const char *fn, clcnn_kernel_id id, int want,
                                      clcnn_dtype dt, const clcnn_cl_kernel **k);
/* The tiles of a tiled kernel's output of rows x channels. */
size_t clcnn__conv_tile_count(const struct clcnn_cl *cl, size_t rows, size_t channels);
/* conv_forward_tiled's tiles for shape cs. */
size_t clcnn__conv_forward_tiles(const struct clcnn_cl *cl, const conv_shape *cs);
/* z by conv_forward_tiled (k), enqueued. */
clcnn_status clcnn__conv_forward_tiled(clcnn_context *ctx, const conv_problem *pb, const clcnn_cl_kernel *k,
                                       clcnn_tensor *z);

/* ---- the direct backward, set up before it is enqueued ---------------- */

/* A kernel with its arguments set and the work-items to launch it over;
 * no kernel: nothing to launch. */
typedef struct {
    const clcnn_cl_kernel *k;
    size_t items;
} conv_launch;

/* Launches l where it has a kernel. */
clcnn_status clcnn__conv_launch(clcnn_context *ctx, const char *fn, conv_launch l);

/* conv_backward_data.c: da_prev's kernels: the weights' transpose (first
 * of all) and the data kernel (last of all). */
typedef struct {
    conv_launch transpose, data;
} conv_data_setup;
clcnn_status clcnn__conv_data_setup(clcnn_context *ctx, const conv_problem *pb, int variant,
                                    clcnn_tensor *da_prev, conv_data_setup *out);

/* conv_tiled.c: da_prev by conv_forward_tiled (k) on the flipped weights,
 * for stride 1 (ts: backward data as a forward convolution). */
clcnn_status clcnn__conv_data_tiled(clcnn_context *ctx, const conv_problem *pb, const conv_shape *ts,
                                    int log_n, const clcnn_cl_kernel *k, clcnn_tensor *da_prev,
                                    conv_launch *out);

/* conv_backward_filter.c: dw's kernel and the sum of its partial sums, and
 * db's (alone, where the filter kernel does not write it beside dw). */
typedef struct {
    conv_launch filter, sum, bias;
} conv_filter_setup;
clcnn_status clcnn__conv_filter_setup(clcnn_context *ctx, const conv_problem *pb, int variant,
                                      clcnn_tensor *dw, clcnn_tensor *db, conv_filter_setup *out);

/* ---- saved outputs (conv_saved.c) ------------------------------------- */

/* Outputs saved before a call that writes them with several enqueues, and
 * copied back if a later enqueue fails. */
typedef struct {
    clcnn_tensor *t[3];
    int n;      /* tensors to save; then those whose copies were enqueued */
    cl_mem buf; /* CLCNN_SCRATCH_SAVED: the copies, one after another */
} conv_saved;
clcnn_status clcnn__conv_save(clcnn_context *ctx, const char *fn, conv_saved *sv);
/* Returns s; when it is an error, first copies the saved outputs back. */
clcnn_status clcnn__conv_restore(clcnn_context *ctx, const conv_saved *sv, clcnn_status s);

#endif /* CLCNN_CONV_INTERNAL_H */
