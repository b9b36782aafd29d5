/* cl_conv.c - convolutions on an OpenCL context: the algorithm for each
 * direction (the caller's, CLCNN_CONV_ALGO, the AUTO heuristic, or a
 * measured choice: cl_tune.c), the direct path (kernels/conv.cl), and the
 * saving of outputs that a call writes with several enqueues. The GEMM path
 * is cl_gemm.c. */
#include "cl_backend.h"
#include "cl_short_names.h"

#include <limits.h>
#include <stdint.h>

/* Outputs saved before a call that writes them with several enqueues: if
 * an enqueue fails after some of them ran, the saved bytes are copied back
 * (behind them on the in-order queue), so that a failing call changes no
 * output. Cancelling the enqueued commands instead (a user event that every
 * command waits behind, set to an error status on failure) is not an
 * option: PoCL 3.1 aborts the process when two commands wait behind a
 * failed event. Restoring is itself an enqueue; should it fail too, the
 * first failure is the one reported. */
typedef struct {
    clcnn_tensor *t[3];
    int n;      /* tensors to save; then those whose copies were enqueued */
    cl_mem buf; /* CLCNN_SCRATCH_SAVED: the copies, one after another */
} saved_outputs;

static clcnn_status save_outputs(clcnn_context *ctx, const char *fn, saved_outputs *sv)
{
    size_t total = 0, off = 0;
    const int n = sv->n;
    for (int i = 0; i < n; i++)
        total += sv->t[i]->nbytes;
    sv->n = 0;
    if (n == 0)
        return CLCNN_OK;
    clcnn_status s = clcnn__cl_scratch(ctx, fn, CLCNN_SCRATCH_SAVED, total, &sv->buf);
    for (int i = 0; !s && i < n; i++) {
        const cl_int err = clEnqueueCopyBuffer(ctx->cl->queue, sv->t[i]->mem, sv->buf, 0, off,
                                               sv->t[i]->nbytes, 0, NULL, NULL);
        if (err != CL_SUCCESS)
            return clcnn__cl_fail(ctx, err, fn, "clEnqueueCopyBuffer (saving an output)");
        off += sv->t[i]->nbytes;
        sv->n = i + 1;
    }
    return s;
}

/* Returns s; when it is an error, first copies the saved outputs back. */
static clcnn_status restore_outputs(clcnn_context *ctx, const saved_outputs *sv, clcnn_status s)
{
    size_t off = 0;
    for (int i = 0; s != CLCNN_OK && i < sv->n; i++) {
        (void)clEnqueueCopyBuffer(ctx->cl->queue, sv->buf, sv->t[i]->mem, off, 0, sv->t[i]->nbytes, 0, NULL,
                                  NULL);
        off += sv->t[i]->nbytes;
    }
    return s;
}

/* The forward kernel's work-item order (see conv_forward_<N>): channel-major
 * on GPUs. On CPUs, where a work-group runs on one core, pixel-major lets a
 * work-group's work-items share one channel block's weights (a contiguous
 * run in the blocked layout) but reads the input once per channel block;
 * channel-major lets them share input pixels but cycles through all the
 * weights. So pixel-major once the weights outgrow half of a core's L2
 * (256 KB of 512 on this Zen 3), channel-major below. Measured on PoCL
 * with blocked weights (2026-11-26, median of 3-5 processes each,
 * GFLOP/s channel-major against pixel-major): 4x28x28x128->128 3x3
 * (590 KB of weights) forward 112 against 138, backward data 93 against
 * 124; 4x56x56x256->64 1x1 (64 KB) forward 88 against 54 (an earlier
 * build), backward data of 4x56x56x64->256 1x1 86 against 51; peers a,
 * d, e (147, 37, 24 KB) within noise. Tuning measures both orders (the
 * variant: a tuned choice, or plain DIRECT for this rule; README); the
 * order never changes a result's bits. */
static cl_int pixel_major_order(const clcnn_context *ctx, int cblocks, size_t weight_bytes, int variant)
{
    if (ctx->cl->conv_order >= 0) /* CLCNN_CONV_PIXEL_MAJOR, for tests */
        return ctx->cl->conv_order;
    if (variant == CLCNN_VARIANT_CHANNEL_MAJOR || variant == CLCNN_VARIANT_PIXEL_MAJOR)
        return variant == CLCNN_VARIANT_PIXEL_MAJOR;
    return ctx->cl->cpu && cblocks > 1 && weight_bytes >= ((size_t)256 << 10);
}

/* Channel blocks per forward work-item (conv_forward_<N>'s cgroup): on a
 * CPU, the largest power of two whose blocks sum at most CGROUP_TERMS
 * terms in all (fh*fw*cin each), at most the blocks there are, and leaving
 * at least CGROUP_MIN_ITEMS work-items; 1 on a GPU, which wants the
 * work-items. CLCNN_CONV_CGROUP sets it. PoCL, clcnn-ab against 1 block per
 * work-item (2026-11-27, 12 calls each): 1x1 forwards 4x56x56x64->64 1.16-1.25
 * (4 blocks), ->256 1.23-1.27 (8-16), 4x28x28x128->512 1.16-1.33 (8-16),
 * 4x14x14x256->1024 1.24-1.34, 4x7x7x512->2048 1.16 (8); backward data of
 * 4x28x28x192->32 (32 terms a block) 1.21-1.34 (4-8); the 7x7 s2 forward
 * of 4x224x224x3->64 1.09 (4); 3x3 with 64 channels 1.04-1.06 (2), with
 * 128 1.01 (2) but 0.94 (4), with 256 and 512 0.98-1.00 (2). */
enum { CGROUP_TERMS = 4096, CGROUP_MIN_ITEMS = 256 };

static cl_int forward_cgroup(const clcnn_context *ctx, const conv_shape *fs, int log_n, size_t px)
{
    const size_t cblocks = (size_t)fs->cout >> log_n, reduction = (size_t)fs->fh * fs->fw * fs->cin;
    const size_t pblocks = (size_t)fs->n * fs->ho * (((size_t)fs->wo + px - 1) / px);
    size_t g = ctx->cl->conv_cgroup > 0 ? (size_t)ctx->cl->conv_cgroup : 1;
    if (ctx->cl->conv_cgroup <= 0 && ctx->cl->cpu)
        while (2 * g <= cblocks && 2 * g * reduction <= CGROUP_TERMS &&
               pblocks * ((cblocks + 2 * g - 1) / (2 * g)) >= CGROUP_MIN_ITEMS)
            g *= 2;
    return (cl_int)(g < cblocks ? g : cblocks > 0 ? cblocks : 1);
}

/* Output pixels per work-item of conv_forward_<N> over rows of wo pixels:
 * the context's CONV_PX, or on a CPU with 16-wide float vectors the px
 * from 4 to 7 whose blocks leave the fewest unused pixels at a row's end
 * (the smallest among equals; 8 never leaves fewer than 4). An unused
 * pixel costs what a used one does, and where none is left 4 to 8 run
 * alike: PoCL on a Zen 4 (AVX-512),
 * clcnn-ab, 12 calls each, px 7 against 4 (2026-11-27): 4x14x14x256->256
 * 3x3 (rows of 14) forward 1.15, backward data 1.16; 4x7x7x512->512
 * forward 1.12, backward data 1.10; 4x224x224x3->64 7x7 s2 (112) 1.07;
 * rows of 56 and 28 0.99-1.00, 8 against 4 on rows of 56 0.99; 8x32x32x64
 * ->64 (32) 0.92. */
static size_t forward_px(const clcnn_context *ctx, int wo)
{
    if (!ctx->cl->conv_px_shape)
        return (size_t)ctx->cl->conv_px;
    const size_t width = (size_t)wo;
    size_t best = 4;
    for (size_t px = 5; px <= 7; px++)
        if ((width + px - 1) / px * px < (width + best - 1) / best * best)
            best = px;
    return best;
}

/* Work-items of conv_forward_<N> for shape fs. */
static size_t forward_items(const conv_shape *fs, int log_n, size_t px, cl_int cgroup)
{
    const size_t cblocks = (size_t)fs->cout >> log_n;
    return (size_t)fs->n * (size_t)fs->ho * (((size_t)fs->wo + px - 1) / px) *
           ((cblocks + (size_t)cgroup - 1) / (size_t)cgroup);
}

/* A 1x1, stride-1, unpadded layer reads and writes pixel p at p*cin and
 * p*cout whatever the image, row and column: where rows are not a multiple
 * of px pixels, the forward kernel takes all n*h*w pixels as one row (or
 * each image's h*w, where all of them pass INT_MAX), so that no block of px
 * pixels straddles a row's end. On CPUs that spares the padded copy such a
 * block would need and the block's unused pixels (rows of 7 and 14 pixels
 * leave 1 in 8 unused with px 4): `clcnn-ab conv:S fwd|data CLCNN_CONV_FLAT=0
 * - 10` gave 1.04-1.21x on 4x7x7x512->2048 and 4x14x14x256->1024. The
 * sums, and so the bits, are unchanged. */
static void flatten_pointwise(const clcnn_context *ctx, conv_shape *s, size_t px)
{
    if (ctx->cl->conv_flat == 0 || s->fh != 1 || s->fw != 1 || s->stride != 1 || s->pad_h || s->pad_w ||
        (size_t)s->wo % px == 0)
        return;
    /* the kernel computes wo + px - 1 in int */
    const size_t plane = (size_t)s->h * (size_t)s->w, all = plane * (size_t)s->n, most = INT_MAX - px;
    if (all <= most)
        s->n = 1, s->h = s->ho = 1, s->w = s->wo = (cl_int)all;
    else if (plane <= most)
        s->h = s->ho = 1, s->w = s->wo = (cl_int)plane;
}

/* The public algorithm a tuning variant (cl_backend.h) runs, for
 * clcnn_context_last_conv_algos. */
static clcnn_conv_algo algo_of(int variant)
{
    return variant == CLCNN_VARIANT_GEMM ? CLCNN_CONV_GEMM : CLCNN_CONV_DIRECT;
}

static conv_shape conv_shape_of(const clcnn_tensor *a, const clcnn_tensor *w, clcnn_shape zs,
                                clcnn_conv_params p)
{
    return (conv_shape){a->shape.n, a->shape.h, a->shape.w, a->shape.c, w->shape.n, w->shape.h,
                        w->shape.c, zs.h,       zs.w,       p.stride,   p.pad,      p.pad};
}

typedef enum { DIR_FORWARD, DIR_DATA, DIR_FILTER } direction;

static int tiled_allowed(const clcnn_context *ctx, int variant);
static int tiled(const clcnn_context *ctx, int variant, int channels);
static int tiled_filter(const clcnn_context *ctx, int variant);

/* The tiles of a tiled kernel's output of `rows` rows and `channels`
 * columns: TILE_M x TILE_N each, a work-group per tile. */
static size_t tile_count(const clcnn_context *ctx, size_t rows, size_t channels)
{
    const size_t tm = (size_t)ctx->cl->conv_tile[0], tn = (size_t)ctx->cl->conv_tile[1];
    return (rows + tm - 1) / tm * ((channels + tn - 1) / tn);
}

/* conv_forward_tiled's tiles for shape cs: output pixels by channels. */
static size_t forward_tiles(const clcnn_context *ctx, const conv_shape *cs)
{
    return tile_count(ctx, (size_t)cs->n * (size_t)cs->ho * (size_t)cs->wo, (size_t)cs->cout);
}

/* The algorithm for one direction of a convolution: the caller's, or for
 * AUTO the context's override (CLCNN_CONV_ALGO), else the heuristic below;
 * GEMM only where its workspace fits the limit. */
static clcnn_conv_algo preferred(const clcnn_context *ctx, clcnn_conv_algo asked, direction d,
                                 const conv_shape *cs)
{
    clcnn_conv_algo a = asked == CLCNN_CONV_AUTO ? ctx->conv_algo : asked;
    if (a == CLCNN_CONV_AUTO) {
        /* Heuristic, from `clcnn-bench --suite peers --algo direct|gemm`
         * and bench/gpu-sweep-tiles.sh (README, "Algorithms, workspace and
         * tuning"). On an H200 the GEMM path wins backward data on every
         * shape but a (1.3-2.8x on b-e, 0.92x on a, where one shape does
         * not justify a rule); forward where the reduction K = fh fw cin
         * reaches about 1000 and the tiled kernel would not run or have
         * fewer than 3 tiles per compute unit (32x7x7x512->512 3x3, 200 tiles on 132
         * units: GEMM 0.60 ms, tiled 0.85; 32x14x14x256->256, 392: 0.62
         * and 0.61; 32x28x28x128->128, 784: 0.82 and 0.58; below K 1000
         * the tiled kernel won by 1.1-3.6x, and 128x28x28x192->32, which
         * runs conv_forward_<N>, tied); and backward filter once dW has
         * 10^5 elements and 16 or more per reduction step N Ho Wo (c:
         * 1.24x; on b, 5.9 per step, the direct kernel took 1.03 ms and
         * GEMM 2.27 at f2b974f; with fewer outputs CLBlast's GEMM has too
         * few tiles for the long reduction). On PoCL CLBlast's untuned GEMM loses to the
         * direct kernels in every direction. */
        const double kk = (double)cs->fh * cs->fw * cs->cin, dw = kk * cs->cout;
        const double steps = (double)cs->n * cs->ho * cs->wo;
        if (ctx->cl->cpu)
            a = CLCNN_CONV_DIRECT;
        else if (d == DIR_DATA)
            a = CLCNN_CONV_GEMM;
        else if (d == DIR_FORWARD)
            a = kk >= 1000 && (!tiled(ctx, CLCNN_VARIANT_DIRECT, cs->cout) ||
                               forward_tiles(ctx, cs) < 3 * (size_t)ctx->cl->units)
                    ? CLCNN_CONV_GEMM
                    : CLCNN_CONV_DIRECT;
        else
            a = dw >= 1e5 && dw >= 16 * steps ? CLCNN_CONV_GEMM : CLCNN_CONV_DIRECT;
    }
    return a;
}

static clcnn_conv_algo choose(clcnn_context *ctx, clcnn_conv_algo asked, direction d, const conv_shape *cs,
                              clcnn_dtype dt)
{
    clcnn_conv_algo a = preferred(ctx, asked, d, cs);
    if (a == CLCNN_CONV_GEMM && !clcnn__cl_gemm_fits(ctx, cs, dt, d == DIR_DATA))
        a = CLCNN_CONV_DIRECT;
    return a;
}

/* The variants (cl_backend.h) tuning measures for direction d: the direct
 * kernel in each work-item order where it takes one (forward; backward data
 * with stride 1, which runs the forward kernel), has more than one channel
 * block to order, and no order is forced (CLCNN_CONV_PIXEL_MAJOR), else the
 * direct kernel as it is; the tiled kernels (forward, backward data with
 * stride 1, backward filter) on GPUs (or with CLCNN_CONV_TILED=1; never
 * with 0); and GEMM where its workspace fits.
 * Into out; returns how many. */
enum { MAX_CANDIDATES = 4 };
static int candidates(clcnn_context *ctx, direction d, const conv_shape *cs, clcnn_dtype dt,
                      int out[MAX_CANDIDATES])
{
    const int channels = d == DIR_FORWARD ? cs->cout : cs->cin;
    const int blocks = channels >> vector_width_log2(channels, clcnn__cl_max_width(ctx->cl, dt));
    int n = 0;
    const int as_forward = d == DIR_FORWARD || (d == DIR_DATA && cs->stride == 1);
    const int with_tiled = (ctx->cl->conv_tiled == 1 || (ctx->cl->conv_tiled < 0 && !ctx->cl->cpu)) &&
                           (as_forward ? tiled_allowed(ctx, CLCNN_VARIANT_TILED)
                                       : d == DIR_FILTER && tiled_filter(ctx, CLCNN_VARIANT_TILED));
    if (as_forward && blocks > 1 && ctx->cl->conv_order < 0) {
        out[n++] = CLCNN_VARIANT_CHANNEL_MAJOR;
        out[n++] = CLCNN_VARIANT_PIXEL_MAJOR;
    } else {
        /* beside TILED, conv_forward_<N> as such (a plain DIRECT could be
         * the tiled kernel again); CHANNEL_MAJOR leaves a forced order be */
        out[n++] = with_tiled ? CLCNN_VARIANT_CHANNEL_MAJOR : CLCNN_VARIANT_DIRECT;
    }
    if (with_tiled)
        out[n++] = CLCNN_VARIANT_TILED;
    if (clcnn__cl_gemm_fits(ctx, cs, dt, d == DIR_DATA))
        out[n++] = CLCNN_VARIANT_GEMM;
    return n;
}

/* What one direction of a call will run, decided once, before the call
 * saves any output (clcnn__cl_conv_forward and _backward), so that what it
 * saves fits what runs: choose()'s algorithm, unless tuning is on for an
 * AUTO call with more than one candidate: then the variant remembered for
 * the shape (cl_tune.c), or PLAN_MEASURE where there is none: every
 * candidate runs on the call's own tensors, then the fastest once more for
 * the result. A remembered GEMM whose workspace no longer fits (a lower
 * limit) falls back to choose(); a remembered order where the kernel has
 * none, or one is forced, runs the direct kernel as it is. */
enum { PLAN_MEASURE = -1 };

static int plan(clcnn_context *ctx, clcnn_conv_algo asked, direction d, const conv_shape *cs, clcnn_dtype dt)
{
    int c[MAX_CANDIDATES];
    if (!ctx->tuning || asked != CLCNN_CONV_AUTO || ctx->conv_algo != CLCNN_CONV_AUTO ||
        candidates(ctx, d, cs, dt, c) < 2)
        return (int)choose(ctx, asked, d, cs, dt);
    const int known = clcnn__cl_tune_lookup(ctx, clcnn__cl_tune_key(ctx, (int)d, cs, dt));
    if (known == CLCNN_VARIANT_GEMM && !clcnn__cl_gemm_fits(ctx, cs, dt, d == DIR_DATA))
        return (int)choose(ctx, asked, d, cs, dt);
    return known >= 0 ? known : PLAN_MEASURE;
}

/* Whether a plan may write its direction's output with several enqueues. */
static int several_writes(int plan_d)
{
    return plan_d == CLCNN_VARIANT_GEMM || plan_d == PLAN_MEASURE;
}

/* One direction's runs for the tuner: the op with the algorithm forced and
 * only that direction's output. */
typedef struct {
    const clcnn_tensor *in, *w, *b, *dz;
    clcnn_conv_params p;
    clcnn_tensor *out;
} tune_args;

static clcnn_status conv_forward(clcnn_context *ctx, const clcnn_tensor *a_prev, const clcnn_tensor *w,
                                 const clcnn_tensor *b, clcnn_conv_params p, int plan_f, clcnn_tensor *z);
static clcnn_status conv_backward(clcnn_context *ctx, const clcnn_tensor *dz, const clcnn_tensor *a_prev,
                                  const clcnn_tensor *w, clcnn_conv_params p, int plan_d, int plan_w,
                                  clcnn_tensor *da_prev, clcnn_tensor *dw, clcnn_tensor *db);

/* A tuning run: the call's own direction with a variant (every candidate
 * can run: GEMM is one only where it fits). The call saved its outputs
 * before it began tuning, so a run does not save them again: that would
 * overwrite the copy of the caller's values with an earlier run's results. */
static clcnn_status run_forward(clcnn_context *ctx, int variant, void *args)
{
    tune_args *t = args;
    return conv_forward(ctx, t->in, t->w, t->b, t->p, variant, t->out);
}

static clcnn_status run_data(clcnn_context *ctx, int variant, void *args)
{
    tune_args *t = args;
    return conv_backward(ctx, t->dz, t->in, t->w, t->p, variant, CLCNN_VARIANT_DIRECT, t->out, NULL, NULL);
}

static clcnn_status run_filter(clcnn_context *ctx, int variant, void *args)
{
    tune_args *t = args;
    return conv_backward(ctx, t->dz, t->in, t->w, t->p, CLCNN_VARIANT_DIRECT, variant, NULL, t->out, NULL);
}

/* The variant direction d runs with plan plan_d: the plan's, or for
 * PLAN_MEASURE the fastest candidate, measured with `run` on the call's
 * tensors (and remembered). */
static clcnn_status decide(clcnn_context *ctx, int plan_d, direction d, const conv_shape *cs, clcnn_dtype dt,
                           clcnn__cl_tune_run run, tune_args *args, int *variant)
{
    if (plan_d != PLAN_MEASURE) {
        *variant = plan_d;
        return CLCNN_OK;
    }
    int c[MAX_CANDIDATES];
    const int n = candidates(ctx, d, cs, dt, c);
    return clcnn__cl_tune(ctx, clcnn__cl_tune_key(ctx, (int)d, cs, dt), run, args, c, n, variant);
}

/* On CPUs, where a border tap's per-pixel tests cost much (7x7 and 14x14
 * layers are mostly border), the direct forward reads a zero-padded copy
 * of a_prev instead: workspace CLCNN_SCRATCH_PADDED, n x (h+2p) x (w+2p) x
 * cin plus CONV_PX * stride pixels of slack, filled by conv_pad_input
 * (from the program of the forward kernel of width 2^log_n). The padding
 * zeros are multiplied as before, in the same order, so the bits are the
 * same. Not when nothing needs it (no padding, no partial last block) or
 * the copy does not fit the workspace limit beside the call's other
 * workspaces; then *cs, *input and *row_slack stay as they are. */
static clcnn_status prepad(clcnn_context *ctx, const char *fn, const clcnn_tensor *a_prev, size_t px,
                           int log_n, conv_shape *cs, cl_mem *input, cl_int *row_slack)
{
    /* unpadded: no copy where every block of px pixels is whole, or where
     * there is one row of output (a flattened 1x1 layer, say), whose one
     * partial block reads through tests */
    if (!ctx->cl->cpu || (cs->pad_h == 0 && cs->pad_w == 0 &&
                          ((size_t)cs->wo % px == 0 || (size_t)cs->n * (size_t)cs->ho == 1)))
        return CLCNN_OK;
    const size_t elem = clcnn__dtype_size(a_prev->dtype);
    const size_t hp = (size_t)cs->h + 2 * (size_t)cs->pad_h, wp = (size_t)cs->w + 2 * (size_t)cs->pad_w;
    const size_t cin = (size_t)cs->cin, slack = px * (size_t)cs->stride * cin;
    size_t count, bytes;
    if (hp > INT_MAX || wp > INT_MAX || !clcnn__mul_size((size_t)cs->n * hp, wp, &count) ||
        !clcnn__mul_size(count, cin, &count) || count > SIZE_MAX - slack ||
        !clcnn__mul_size(count + slack, elem, &bytes) ||
        bytes > clcnn__cl_scratch_room(ctx, CLCNN_SCRATCH_PADDED) || bytes > ctx->cl->max_alloc)
        return CLCNN_OK;
    const clcnn_cl_kernel *k;
    cl_mem padded;
    clcnn_status s =
        clcnn__cl_kernel_px(ctx, fn, CLCNN_KERNEL_CONV_PAD_INPUT_1 + log_n, a_prev->dtype, (int)px, &k);
    if (!s)
        s = clcnn__cl_scratch(ctx, fn, CLCNN_SCRATCH_PADDED, bytes, &padded);
    if (s)
        return s;
    const cl_int n = cs->n, h = cs->h, w = cs->w, c = cs->cin, pad = cs->pad_h, group = 256;
    const kernel_arg args[] = {ARG(a_prev->mem), ARG(n),   ARG(h),     ARG(w),
                               ARG(c),           ARG(pad), ARG(group), ARG(padded)};
    if ((s = set_args(ctx, fn, k, args, 8)) ||
        (s = launch(ctx, fn, k, (size_t)cs->n * hp * ((wp * cin + (size_t)group - 1) / (size_t)group))))
        return s;
    cs->h = (cl_int)hp, cs->w = (cl_int)wp, cs->pad_h = cs->pad_w = 0;
    *input = padded;
    *row_slack = 1;
    return CLCNN_OK;
}

/* The direct forward's weights (shape *fs, the forward's; with flip, w
 * holds the original weights of backward data as a forward convolution):
 * with `blocked` (CPUs' default; never for the tiled kernel), in blocks of
 * N = 2^log_n channels (conv_block_weights into workspace
 * CLCNN_SCRATCH_WEIGHTS; *wblock = N); else HWIO, which with flip is also
 * a copy. With neither blocks nor flip, w itself (*weights
 * and *wblock as they are: w->mem and cout); so too without flip where
 * the blocked copy does not fit the workspace limit beside the call's
 * other workspaces. The copy sets *flag (a cl_int the caller cleared;
 * none when NULL) if some weight is not finite. */
enum { BLOCK_KTILE = 16 };

static clcnn_status block_weights(clcnn_context *ctx, const char *fn, const clcnn_tensor *w,
                                  const conv_shape *fs, cl_int flip, int blocked, int log_n, cl_mem flag,
                                  cl_mem *weights, cl_int *wblock)
{
    cl_int nb = blocked ? (cl_int)1 << log_n : fs->cout;
    if (!flip && w->nbytes > clcnn__cl_scratch_room(ctx, CLCNN_SCRATCH_WEIGHTS))
        nb = fs->cout; /* blocks only speed the reads: HWIO where they do not fit */
    if (nb == fs->cout && !flip)
        return CLCNN_OK;
    const clcnn_cl_kernel *k;
    cl_mem wb = NULL;
    clcnn_status s = clcnn__cl_kernel(ctx, fn, CLCNN_KERNEL_CONV_BLOCK_WEIGHTS, w->dtype, &k);
    if (!s)
        s = clcnn__cl_scratch(ctx, fn, CLCNN_SCRATCH_WEIGHTS, w->nbytes, &wb);
    /* On CPUs, the weights as they are: a work-item per tap and tile of
     * BLOCK_KTILE input channels; flipped: a work-item per run of 16 of a
     * row. On GPUs one element per work-item. perf of `clcnn-ab` (copy time
     * / convolution time), 4x7x7x512->2048 1x1 forward: tiles 0.42, runs of
     * 16 0.84, elements 3.5; 4x7x7x512->512 3x3 backward data (flipped):
     * tiles 0.56, runs of 16 0.47, elements 2.0. */
    const cl_int run = ctx->cl->cpu ? 16 : 1, ktile = ctx->cl->cpu && !flip ? BLOCK_KTILE : 0;
    const size_t items = ktile ? (size_t)fs->fh * (size_t)fs->fw * (((size_t)fs->cin + ktile - 1) / ktile)
                               : w->count / (size_t)nb * (((size_t)nb + (size_t)run - 1) / (size_t)run);
    const kernel_arg args[] = {ARG(w->mem), ARG(*fs),   ARG(flip), ARG(nb),
                               ARG(run),    ARG(ktile), ARG(flag), ARG(wb)};
    if (s || (s = set_args(ctx, fn, k, args, 8)) || (s = launch(ctx, fn, k, items)))
        return s;
    *weights = wb;
    *wblock = nb;
    return CLCNN_OK;
}

/* The flag of non-finite weights (workspace CLCNN_SCRATCH_FLAG), cleared,
 * for block_weights to set. */
static clcnn_status cleared_flag(clcnn_context *ctx, const char *fn, cl_mem *flag)
{
    const cl_int zero = 0;
    cl_mem f;
    clcnn_status s = clcnn__cl_scratch(ctx, fn, CLCNN_SCRATCH_FLAG, sizeof zero, &f);
    if (s)
        return s;
    const cl_int err =
        clEnqueueFillBuffer(ctx->cl->queue, f, &zero, sizeof zero, 0, sizeof zero, 0, NULL, NULL);
    if (err != CL_SUCCESS)
        return clcnn__cl_fail(ctx, err, fn, "clEnqueueFillBuffer (weights flag)");
    *flag = f;
    return CLCNN_OK;
}

/* Backward data as a forward convolution (shape *ts) on CPUs: a zero-padded
 * copy of dz with slack, as prepad makes for the forward, and a flag
 * (workspace CLCNN_SCRATCH_FLAG, cleared here) for block_weights to set if
 * some weight is not finite; the kernel reads the copy only when the flag
 * is clear (conv_forward_<N>). Neither when prepad makes no copy (nothing
 * to pad, the copy over the workspace limit) or the padding is not one
 * square pad: *dz_slack and *flag stay NULL. */
static clcnn_status padded_dz(clcnn_context *ctx, const char *fn, const clcnn_tensor *dz,
                              const conv_shape *ts, int log_n, size_t px, cl_mem *dz_slack, cl_mem *flag)
{
    if (ts->pad_h != ts->pad_w || ts->pad_h < 0)
        return CLCNN_OK;
    conv_shape ps = *ts;
    cl_mem input = dz->mem;
    cl_int row_slack = 0;
    clcnn_status s = prepad(ctx, fn, dz, px, log_n, &ps, &input, &row_slack);
    if (s || !row_slack || (s = cleared_flag(ctx, fn, flag)))
        return s;
    *dz_slack = input;
    return CLCNN_OK;
}

/* What both tiled kernels need: not CLCNN_CONV_TILED=0, a tile the device
 * can run, and no work-item order named (tuning's name for the other
 * direct kernels as such). */
static int tiled_allowed(const clcnn_context *ctx, int variant)
{
    return ctx->cl->conv_tiled != 0 && ctx->cl->tile_fits && variant != CLCNN_VARIANT_CHANNEL_MAJOR &&
           variant != CLCNN_VARIANT_PIXEL_MAJOR;
}

/* Whether the direct forward with `variant` runs conv_forward_tiled: never
 * with CLCNN_CONV_TILED=0; always with 1 or as the variant TILED; for a
 * plain DIRECT on GPUs where cout fills a tile's TILE_N channels. H200,
 * bench/gpu-sweep-tiles.sh (2026-11-27), conv_forward_<N> time / tiled
 * time with 64 x 64 tiles: 3x3 layers 1.7-2.2, 1x1 layers of 64-2048
 * channels 1.1-1.7, 7x7 s2 from 3 channels 1.4; 128x28x28x192->32 1x1
 * 0.89 (64 x 32 tiles: 0.99). On CPUs (PoCL) the work-group's barriers make
 * it many times slower. (Where the device cannot run the tile's
 * work-group, conv_forward_<N> runs instead.) */
static int tiled(const clcnn_context *ctx, int variant, int channels)
{
    return tiled_allowed(ctx, variant) && (ctx->cl->conv_tiled == 1 || variant == CLCNN_VARIANT_TILED ||
                                           (!ctx->cl->cpu && channels >= ctx->cl->conv_tile[1]));
}

/* Tiled kernel `id` for dtype where `want` and the device can run its
 * work-group, else NULL in *k. */
static clcnn_status tiled_kernel(clcnn_context *ctx, const char *fn, clcnn_kernel_id id, int want,
                                 clcnn_dtype dt, const clcnn_cl_kernel **k)
{
    *k = NULL;
    if (!want)
        return CLCNN_OK;
    clcnn_status s = clcnn__cl_kernel(ctx, fn, id, dt, k);
    if (!s && (*k)->local == 0)
        *k = NULL;
    return s;
}

/* Whether dw runs on conv_backward_filter_tiled: never with
 * CLCNN_CONV_TILED=0, where the device cannot run the tile or where its
 * work-items are not a multiple of TILE_M; with 1, or
 * as the variant TILED (tuning), but for an order variant (which tuning
 * names for conv_backward_filter_<N> as such). Not by default on GPUs:
 * it has not run on one yet. */
static int tiled_filter(const clcnn_context *ctx, int variant)
{
    /* its staging of A^T wants work-items a multiple of TILE_M */
    return tiled_allowed(ctx, variant) &&
           clcnn__cl_tile_threads(ctx->cl->conv_tile) % (size_t)ctx->cl->conv_tile[0] == 0 &&
           (ctx->cl->conv_tiled == 1 || variant == CLCNN_VARIANT_TILED);
}

/* z as conv_forward_tiled computes it: a work-group per tile of TILE_M
 * output pixels by TILE_N channels, k->local work-items each. */
static clcnn_status forward_tiled(clcnn_context *ctx, const char *fn, const clcnn_cl_kernel *k,
                                  const clcnn_tensor *a_prev, const clcnn_tensor *w, const clcnn_tensor *b,
                                  clcnn_conv_params p, clcnn_tensor *z)
{
    const conv_shape cs = conv_shape_of(a_prev, w, z->shape, p);
    const cl_int has_bias = b != NULL, skip_padding = 0;
    const cl_mem bias = b ? b->mem : w->mem, none = NULL; /* any valid buffer when there is no bias */
    const kernel_arg args[] = {ARG(a_prev->mem), ARG(w->mem),       ARG(bias), ARG(has_bias),
                               ARG(cs),          ARG(skip_padding), ARG(none), ARG(z->mem)};
    clcnn_status s = set_args(ctx, fn, k, args, 8);
    return s ? s : launch(ctx, fn, k, forward_tiles(ctx, &cs) * k->local);
}

static clcnn_status conv_forward(clcnn_context *ctx, const clcnn_tensor *a_prev, const clcnn_tensor *w,
                                 const clcnn_tensor *b, clcnn_conv_params p, int plan_f, clcnn_tensor *z)
{
    static const char fn[] = "clcnn_conv2d_forward";
    int variant;
    {
        const conv_shape cs = conv_shape_of(a_prev, w, z->shape, p);
        tune_args ta = {a_prev, w, b, NULL, p, z};
        clcnn_status st = decide(ctx, plan_f, DIR_FORWARD, &cs, a_prev->dtype, run_forward, &ta, &variant);
        if (st)
            return st;
        ctx->conv_running[0] = algo_of(variant);
        if (variant == CLCNN_VARIANT_GEMM)
            return clcnn__cl_gemm_forward(ctx, &cs, a_prev, w, b, z);
    }
    {
        const clcnn_cl_kernel *kt;
        clcnn_status s = tiled_kernel(ctx, fn, CLCNN_KERNEL_CONV_FORWARD_TILED,
                                      tiled(ctx, variant, w->shape.c), a_prev->dtype, &kt);
        if (s || kt)
            return s ? s : forward_tiled(ctx, fn, kt, a_prev, w, b, p, z);
    }
    /* N output channels per work-item: the largest of 16, 8, 4, 2, 1 that
     * divides cout and the device's limit allows. */
    static const clcnn_kernel_id by_width[5] = {CLCNN_KERNEL_CONV_FORWARD_1, CLCNN_KERNEL_CONV_FORWARD_2,
                                                CLCNN_KERNEL_CONV_FORWARD_4, CLCNN_KERNEL_CONV_FORWARD_8,
                                                CLCNN_KERNEL_CONV_FORWARD_16};
    const int log_n = vector_width_log2(w->shape.c, clcnn__cl_max_width(ctx->cl, w->dtype));
    const size_t px = forward_px(ctx, z->shape.w);
    const clcnn_cl_kernel *k;
    clcnn_status s = clcnn__cl_kernel_px(ctx, fn, by_width[log_n], a_prev->dtype, (int)px, &k);
    if (s)
        return s;
    conv_shape cs = conv_shape_of(a_prev, w, z->shape, p);
    flatten_pointwise(ctx, &cs, px);
    cl_mem input = a_prev->mem, weights = w->mem;
    cl_int row_slack = 0, wblock = cs.cout;
    if ((s = prepad(ctx, fn, a_prev, px, log_n, &cs, &input, &row_slack)) ||
        (s = block_weights(ctx, fn, w, &cs, 0, ctx->cl->conv_blocked, log_n, NULL, &weights, &wblock)))
        return s;
    const cl_int has_bias = b != NULL;
    const cl_mem bias = b ? b->mem : w->mem, none = NULL; /* any valid buffer when there is no bias */
    const cl_int pixel_major = pixel_major_order(ctx, z->shape.c >> log_n, w->nbytes, variant),
                 skip_padding = 0, cgroup = forward_cgroup(ctx, &cs, log_n, px);
    const kernel_arg args[] = {ARG(input),       ARG(weights), ARG(bias),         ARG(has_bias),  ARG(cs),
                               ARG(pixel_major), ARG(cgroup),  ARG(skip_padding), ARG(row_slack), ARG(wblock),
                               ARG(none),        ARG(none),    ARG(z->mem)};
    if ((s = set_args(ctx, fn, k, args, 13)))
        return s;
    return launch(ctx, fn, k, forward_items(&cs, log_n, px, cgroup));
}

/* The GEMM path writes z with several enqueues (bias rows, a GEMM per
 * chunk), and so do tuning runs before the call's own: z is saved first
 * where either may happen. */
clcnn_status clcnn__cl_conv_forward(clcnn_context *ctx, const clcnn_tensor *a_prev, const clcnn_tensor *w,
                                    const clcnn_tensor *b, clcnn_conv_params p, clcnn_tensor *z)
{
    const conv_shape cs = conv_shape_of(a_prev, w, z->shape, p);
    const int plan_f = plan(ctx, p.algo, DIR_FORWARD, &cs, a_prev->dtype);
    saved_outputs sv = {{z}, several_writes(plan_f), NULL};
    clcnn_status s = save_outputs(ctx, "clcnn_conv2d_forward", &sv);
    if (!s)
        s = conv_forward(ctx, a_prev, w, b, p, plan_f, z);
    return restore_outputs(ctx, &sv, s);
}

/* How many chunks the backward-filter reduction over `positions` output
 * positions is cut into: runs of about FILTER_CHUNK_LEN positions, at most
 * FILTER_MAX_CHUNKS of them, and a partial-sum workspace of at most
 * FILTER_MAX_WORKSPACE bytes on GPUs, FILTER_MAX_WORKSPACE_CPU on CPUs (or
 * the context's workspace limit, if lower). On a CPU the partial sums are
 * written and read back through memory: PoCL, A/B in one process with 64
 * MiB and 4 MiB (as clcnn-ab does it, 2026-11-27): 4x14x14x256->256 3x3 (2.4 MB of
 * dW, 4 runs -> 1) +11%, 4x28x28x128->128 +3-6%, 4x56x56x64->64 +2-7%.
 * It depends on the shape, the device type and that limit alone, so a
 * call's summation order, and so its bits, never change. */
enum { FILTER_CHUNK_LEN = 256, FILTER_MAX_CHUNKS = 512 };
#define FILTER_MAX_WORKSPACE ((size_t)64 << 20)
#define FILTER_MAX_WORKSPACE_CPU ((size_t)4 << 20)

static cl_int filter_chunks(size_t positions, size_t dw_count, size_t elem, size_t limit, int cpu)
{
    const size_t cap = cpu ? FILTER_MAX_WORKSPACE_CPU : FILTER_MAX_WORKSPACE;
    const size_t workspace = limit < cap ? limit : cap;
    size_t chunks = (positions + FILTER_CHUNK_LEN - 1) / FILTER_CHUNK_LEN;
    if (chunks > FILTER_MAX_CHUNKS)
        chunks = FILTER_MAX_CHUNKS;
    const size_t dw_bytes = dw_count * elem; /* a tensor's byte count: fits size_t */
    if (dw_bytes > workspace / chunks)
        chunks = workspace / dw_bytes;
    return chunks < 2 ? 1 : (cl_int)chunks;
}

/* Pixels along a row per work-item of conv_backward_data_dot and _dot3 on
 * CPUs (1 on GPUs, which want the work-items): decoding a work-item's
 * indices (three 64-bit divisions) and its covering rows is then paid once
 * per run. PoCL, clcnn-ab against 1 pixel per work-item (2026-11-27, 6-8
 * calls each, twice): 4x224x224x3->64 7x7 s2 1.06-1.07x with 2, 1.10-1.14
 * with 4, 1.12-1.13 with 8, 1.15-1.17 with 16 (8 against 16: 1.01); 4x56x56x6->64
 * 3x3 s2 1.39-1.43 with 8 (16 against 8: 1.03-1.05). */
enum { DOT_RUN_CPU = 8 };

/* Input channels per work-item of conv_backward_data_dot and _dot3
 * (conv.cl's DOT_K): 3 where that computes fewer clamped channels than 4
 * (cin 1, 2, 3, 5, 6, 9, ...). PoCL, backward data, median of 4
 * processes: 4x224x224x3->64 7x7 s2 43 GFLOP/s with 4, 55 with 3;
 * 4x56x56x6->64 3x3 s2 26 and 32. */
static size_t dot_k(int cin)
{
    const size_t c = (size_t)cin;
    return (c + 2) / 3 * 3 < (c + 3) / 4 * 4 ? 3 : 4;
}

/* The backward filter's operands on CPUs: x (a_prev, or dz) copied in
 * blocks of kb channels (conv_block_channels into workspace `slot`), where
 * one work-item's values of neighbouring positions lie kb elements apart
 * instead of the channel count. *out is that copy, or NULL when it does
 * not fit the workspace limit beside the call's other workspaces. */
static clcnn_status block_channels(clcnn_context *ctx, const char *fn, const clcnn_tensor *x, size_t kb,
                                   int slot, cl_mem *out)
{
    const size_t c = (size_t)x->shape.c, kblocks = (c + kb - 1) / kb;
    const size_t pixels = (size_t)x->shape.n * (size_t)x->shape.h * (size_t)x->shape.w;
    size_t count, bytes;
    *out = NULL;
    if (!clcnn__mul_size(pixels, kblocks * kb, &count) ||
        !clcnn__mul_size(count, clcnn__dtype_size(x->dtype), &bytes) ||
        bytes > clcnn__cl_scratch_room(ctx, slot) || bytes > ctx->cl->max_alloc)
        return CLCNN_OK;
    const clcnn_cl_kernel *k;
    cl_mem copy;
    clcnn_status s = clcnn__cl_kernel(ctx, fn, CLCNN_KERNEL_CONV_BLOCK_CHANNELS, x->dtype, &k);
    if (!s)
        s = clcnn__cl_scratch(ctx, fn, slot, bytes, &copy);
    const cl_long n_pixels = (cl_long)pixels;
    const cl_int n_channels = (cl_int)c, k_block = (cl_int)kb;
    const kernel_arg args[] = {ARG(x->mem), ARG(n_pixels), ARG(n_channels), ARG(k_block), ARG(copy)};
    if (s || (s = set_args(ctx, fn, k, args, 5)) || (s = launch(ctx, fn, k, pixels)))
        return s;
    *out = copy;
    return CLCNN_OK;
}

/* Whether the backward filter reads blocked copies of a_prev and dz
 * (block_channels): on CPUs with more than one block of each, as
 * CLCNN_FILTER_BLOCKED forces, else where a pixel's channels span
 * FILTER_BLOCKED_MIN_CIN+ and the copies are cheap beside the reduction
 * (fh*fw*cout >= FILTER_BLOCKED_MIN_WORK multiply-adds per input value). */
enum { FILTER_BLOCKED_MIN_CIN = 128, FILTER_BLOCKED_MIN_WORK = 512 };

static int filter_blocked(const clcnn_context *ctx, const conv_shape *cs, size_t kb, size_t n)
{
    const struct clcnn_cl *cl = ctx->cl;
    if (!cl->cpu || (size_t)cs->cin <= kb || (size_t)cs->cout <= n)
        return 0;
    if (cl->filter_blocked >= 0)
        return cl->filter_blocked;
    return cs->cin >= FILTER_BLOCKED_MIN_CIN && (long)cs->fh * cs->fw * cs->cout >= FILTER_BLOCKED_MIN_WORK;
}

static clcnn_status conv_backward(clcnn_context *ctx, const clcnn_tensor *dz, const clcnn_tensor *a_prev,
                                  const clcnn_tensor *w, clcnn_conv_params p, int plan_d, int plan_w,
                                  clcnn_tensor *da_prev, clcnn_tensor *dw, clcnn_tensor *db)
{
    static const char fn[] = "clcnn_conv2d_backward";
    const clcnn_dtype dt = dz->dtype;
    const conv_shape cs = conv_shape_of(a_prev, w, dz->shape, p);
    const clcnn_cl_kernel *kd = NULL, *kw = NULL, *kb = NULL;
    clcnn_status s = CLCNN_OK;
    /* The GEMM path's parts run first (they enqueue as they go), then the
     * direct path's parts that remain. */
    int variant_data = CLCNN_VARIANT_DIRECT, variant_filter = CLCNN_VARIANT_DIRECT;
    tune_args td = {a_prev, w, NULL, dz, p, da_prev}, tf = {a_prev, w, NULL, dz, p, dw};
    if (da_prev && (s = decide(ctx, plan_d, DIR_DATA, &cs, dt, run_data, &td, &variant_data)))
        return s;
    if (dw && (s = decide(ctx, plan_w, DIR_FILTER, &cs, dt, run_filter, &tf, &variant_filter)))
        return s;
    if (da_prev)
        ctx->conv_running[1] = algo_of(variant_data);
    if (dw)
        ctx->conv_running[2] = algo_of(variant_filter);
    if (da_prev && variant_data == CLCNN_VARIANT_GEMM) {
        if ((s = clcnn__cl_gemm_backward_data(ctx, &cs, dz, w, da_prev)))
            return s;
        da_prev = NULL;
    }
    if (dw && variant_filter == CLCNN_VARIANT_GEMM) {
        if ((s = clcnn__cl_gemm_backward_filter(ctx, &cs, dz, a_prev, dw)))
            return s;
        dw = NULL;
    }
    /* Everything that can fail before the device runs comes first.
     * da_prev: the weights transposed into a workspace, then N input
     * channels per work-item (the largest of 16, 8, 4, 2, 1 dividing cin
     * within the device's limit). */
    const clcnn_cl_kernel *kt = NULL;
    cl_mem w_t = NULL;
    const int data_log_n = vector_width_log2(w->shape.w, clcnn__cl_max_width(ctx->cl, w->dtype));
    /* With stride 1, backward data is a forward convolution of dz, padded by
     * f - 1 - pad, with the weights flipped and transposed (in that kernel's
     * order: output rows, then columns, then channels, as the reference).
     * Other strides: with at most 2 input channels per work-item and 8+
     * filters, conv_backward_data_dot (DOT_K channels per work-item, 8-wide
     * reductions over the filters, on w itself); else
     * conv_backward_data_<N> on the transposed weights. */
    const cl_int as_forward = p.stride == 1, no_bias = 0;
    const int dot = !as_forward && data_log_n <= 1 && cs.cout >= 8;
    const cl_int dot_run = ctx->cl->cpu ? DOT_RUN_CPU : 1; /* pixels per work-item of the dot kernels */
    conv_shape ts = cs;                                    /* the forward convolution's shape */
    ts.h = cs.ho, ts.w = cs.wo, ts.cin = cs.cout, ts.cout = cs.cin, ts.ho = cs.h, ts.wo = cs.w;
    ts.stride = 1, ts.pad_h = cs.fh - 1 - cs.pad_h, ts.pad_w = cs.fw - 1 - cs.pad_w;
    const size_t px = forward_px(ctx, ts.wo);
    if (as_forward)
        flatten_pointwise(ctx, &ts, px);
    size_t data_items = 0;
    clcnn_kernel_id data_kernel = CLCNN_KERNEL_CONV_BACKWARD_DATA_DOT;
    const cl_int data_cgroup = forward_cgroup(ctx, &ts, data_log_n, px);
    if (da_prev && as_forward) {
        data_kernel = CLCNN_KERNEL_CONV_FORWARD_1 + data_log_n;
        data_items = forward_items(&ts, data_log_n, px, data_cgroup);
    } else if (da_prev && dot) { /* one work-item per run of pixels and run of DOT_K channels */
        const size_t k = dot_k(cs.cin);
        data_kernel = k == 3 ? CLCNN_KERNEL_CONV_BACKWARD_DATA_DOT3 : CLCNN_KERNEL_CONV_BACKWARD_DATA_DOT;
        data_items = (size_t)cs.n * (size_t)cs.h * (((size_t)cs.w + (size_t)dot_run - 1) / (size_t)dot_run) *
                     (((size_t)cs.cin + k - 1) / k);
    } else if (da_prev) {
        data_kernel = CLCNN_KERNEL_CONV_BACKWARD_DATA_1 + data_log_n;
        data_items = da_prev->count >> data_log_n;
    }
    if (da_prev && dot) {
        const kernel_arg args[] = {ARG(dz->mem), ARG(w->mem), ARG(cs), ARG(dot_run), ARG(da_prev->mem)};
        if (!(s = clcnn__cl_kernel(ctx, fn, data_kernel, dt, &kd)))
            s = set_args(ctx, fn, kd, args, 5);
    } else if (da_prev && as_forward &&
               !(s = tiled_kernel(ctx, fn, CLCNN_KERNEL_CONV_FORWARD_TILED, tiled(ctx, variant_data, cs.cin),
                                  dt, &kd)) &&
               kd) {
        /* conv_forward_tiled on the flipped, transposed weights in HWIO,
         * with the flag of non-finite weights */
        const cl_int skip_padding = 1;
        cl_int wblock = ts.cout;
        cl_mem flag = NULL;
        if (!(s = cleared_flag(ctx, fn, &flag)) &&
            !(s = block_weights(ctx, fn, w, &ts, 1, 0, data_log_n, flag, &w_t, &wblock))) {
            const kernel_arg fargs[] = {ARG(dz->mem), ARG(w_t),          ARG(w_t),  ARG(no_bias),
                                        ARG(ts),      ARG(skip_padding), ARG(flag), ARG(da_prev->mem)};
            s = set_args(ctx, fn, kd, fargs, 8);
        }
        data_items = forward_tiles(ctx, &ts) * kd->local;
    } else if (!s && da_prev && as_forward) {
        /* The flipped, transposed weights (in blocks on CPUs) are written
         * at once: they go to a workspace, so a later failure changes no
         * output. */
        const cl_int pixel_major = pixel_major_order(ctx, cs.cin >> data_log_n, w->nbytes, variant_data),
                     skip_padding = 1;
        const cl_int row_slack = 0;
        cl_int wblock = ts.cout;
        cl_mem dz_slack = NULL, flag = NULL;
        if (!(s = clcnn__cl_kernel_px(ctx, fn, data_kernel, dt, (int)px, &kd)) &&
            !(s = padded_dz(ctx, fn, dz, &ts, data_log_n, px, &dz_slack, &flag)) &&
            !(s = block_weights(ctx, fn, w, &ts, 1, ctx->cl->conv_blocked, data_log_n, flag, &w_t,
                                &wblock))) {
            const kernel_arg fargs[] = {
                ARG(dz->mem),     ARG(w_t),         ARG(w_t),          ARG(no_bias),   ARG(ts),
                ARG(pixel_major), ARG(data_cgroup), ARG(skip_padding), ARG(row_slack), ARG(wblock),
                ARG(dz_slack),    ARG(flag),        ARG(da_prev->mem)};
            s = set_args(ctx, fn, kd, fargs, 13);
        }
    } else if (!s && da_prev && !(s = clcnn__cl_kernel(ctx, fn, CLCNN_KERNEL_TRANSPOSE_WEIGHTS, dt, &kt)) &&
               !(s = clcnn__cl_kernel(ctx, fn, data_kernel, dt, &kd)) &&
               !(s = clcnn__cl_scratch(ctx, fn, CLCNN_SCRATCH_WEIGHTS, w->nbytes, &w_t))) {
        const kernel_arg targs[] = {ARG(w->mem), ARG(cs), ARG(w_t)};
        const kernel_arg args[] = {ARG(dz->mem), ARG(w_t), ARG(cs), ARG(da_prev->mem)};
        if (!(s = set_args(ctx, fn, kt, targs, 3)))
            s = set_args(ctx, fn, kd, args, 4);
    }
    /* dw: N filters per work-item, in one pass or as a split reduction over
     * chunks of the output positions when the reduction is long (see
     * conv_backward_filter_<N> and conv_backward_filter_sum). */
    const int filter_log_n = vector_width_log2(w->shape.c, clcnn__cl_max_width(ctx->cl, w->dtype));
    const size_t positions = (size_t)dz->shape.n * (size_t)dz->shape.h * (size_t)dz->shape.w;
    const size_t rows = (size_t)dz->shape.n * (size_t)dz->shape.h; /* runs are whole output rows */
    /* The runs depend on the shape (a partial-sum row holds dw and db), the
     * device type and the limit only, not on which outputs are asked for:
     * db sums in the same runs whether the filter kernel writes it beside
     * dw (fused, below) or conv_backward_bias alone does. */
    const size_t dw_elems = (size_t)cs.fh * (size_t)cs.fw * (size_t)cs.cin * (size_t)cs.cout;
    size_t n_chunks = filter_chunks(positions, dw_elems + (size_t)cs.cout, clcnn__dtype_size(dt),
                                    ctx->workspace_limit, ctx->cl->cpu);
    if (n_chunks > rows)
        n_chunks = rows;
    const cl_long chunk_len = (cl_long)((rows + n_chunks - 1) / n_chunks);
    const cl_int chunks = (cl_int)((rows + (size_t)chunk_len - 1) / (size_t)chunk_len); /* none empty */
    /* Input channels per work-item: FILTER_KB, or FILTER_KB_SMALL (3) for
     * layers with fewer channels than FILTER_KB, whose blocks would be
     * mostly clamped copies (conv.cl). */
    const int small = cs.cin < ctx->cl->filter_kb && ctx->cl->filter_kb > 3;
    const size_t fkb = small ? 3 : (size_t)ctx->cl->filter_kb;
    const size_t filter_items = (size_t)cs.fh * (size_t)cs.fw * (((size_t)cs.cin + fkb - 1) / fkb) *
                                ((size_t)cs.cout >> filter_log_n);
    const cl_long dw_count = dw ? (cl_long)dw->count : 0;
    /* db beside dw: the filter kernel's work-items of tap (0, 0) sum it
     * from the dz vectors they have just read, instead of conv_backward_bias
     * reading dz once more (PoCL, 4x56x56x64->256 1x1: 14% of the backward
     * filter's time). */
    /* dw on conv_backward_filter_tiled (tiled_filter), db then alone */
    const clcnn_cl_kernel *kft = NULL;
    if (!s)
        s = tiled_kernel(ctx, fn, CLCNN_KERNEL_CONV_BACKWARD_FILTER_TILED,
                         dw && tiled_filter(ctx, variant_filter), dt, &kft);
    const int fused = dw && db && !kft;
    const cl_long bias_count = fused ? (cl_long)cs.cout : 0, out_stride = dw_count + bias_count;
    /* Elements per work-item of the sums across runs and of the bias. */
    const cl_int sum_run = ctx->cl->cpu ? 16 : 1;
    const clcnn_cl_kernel *ks = NULL;
    cl_mem partial = NULL;
    if (!s && dw && kft)
        kw = kft;
    else if (!s && dw)
        s = clcnn__cl_kernel(
            ctx, fn,
            (small ? CLCNN_KERNEL_CONV_BACKWARD_FILTER_SMALL_1 : CLCNN_KERNEL_CONV_BACKWARD_FILTER_1) +
                filter_log_n,
            dt, &kw);
    if (!s && dw) {
        cl_mem out = dw->mem, db_out = fused ? db->mem : NULL;
        cl_long db_offset = 0;
        if (chunks > 1 && !(s = clcnn__cl_kernel(ctx, fn, CLCNN_KERNEL_CONV_BACKWARD_FILTER_SUM, dt, &ks)))
            s = clcnn__cl_scratch(ctx, fn, CLCNN_SCRATCH_PARTIAL,
                                  (size_t)chunks * (size_t)out_stride * clcnn__dtype_size(dt), &partial);
        if (partial) {
            out = partial;
            db_out = fused ? partial : NULL;
            db_offset = dw_count;
        }
        /* Both copies or neither (the kernel has one flag); none for the
         * tiled kernel. */
        cl_mem a_in = a_prev->mem, dz_in = dz->mem, a_blk = NULL, dz_blk = NULL;
        if (!s && !kft && filter_blocked(ctx, &cs, fkb, (size_t)1 << filter_log_n) &&
            !(s = block_channels(ctx, fn, a_prev, fkb, CLCNN_SCRATCH_BLOCKED_INPUT, &a_blk)) && a_blk)
            s = block_channels(ctx, fn, dz, (size_t)1 << filter_log_n, CLCNN_SCRATCH_BLOCKED_DZ, &dz_blk);
        const cl_int blocked = a_blk && dz_blk;
        if (blocked)
            a_in = a_blk, dz_in = dz_blk;
        const cl_mem sum_db = fused ? db->mem : dw->mem; /* any valid buffer when there is no bias */
        /* kb before cb in the work-item order on CPUs reading NHWC (conv.cl) */
        const cl_int channel_first = ctx->cl->cpu && !blocked;
        const kernel_arg args[] = {
            ARG(dz_in),         ARG(a_in), ARG(cs),         ARG(chunks), ARG(chunk_len), ARG(blocked),
            ARG(channel_first), ARG(out),  ARG(out_stride), ARG(db_out), ARG(db_offset)};
        const kernel_arg sargs[] = {ARG(partial), ARG(chunks),  ARG(dw_count),   ARG(out_stride),
                                    ARG(sum_run), ARG(dw->mem), ARG(bias_count), ARG(sum_db)};
        const kernel_arg targs[] = {ARG(dz->mem),   ARG(a_prev->mem), ARG(cs),
                                    ARG(chunk_len), ARG(out),         ARG(out_stride)};
        if (!s && !(s = kft ? set_args(ctx, fn, kw, targs, 6) : set_args(ctx, fn, kw, args, 11)) && ks)
            s = set_args(ctx, fn, ks, sargs, 8);
    }
    if (!s && db && !fused && !(s = clcnn__cl_kernel(ctx, fn, CLCNN_KERNEL_CONV_BACKWARD_BIAS, dt, &kb))) {
        const kernel_arg args[] = {ARG(dz->mem), ARG(cs), ARG(sum_run), ARG(chunk_len), ARG(db->mem)};
        s = set_args(ctx, fn, kb, args, 5);
    }
    /* The transpose and the partial sums write only workspaces, so they go
     * first: an enqueue that fails there leaves every output untouched.
     * da_prev, the largest output, comes last: it needs no saved copy. */
    if (!s && kt)
        s = launch(ctx, fn, kt, w->count);
    if (!s && kw) /* per run of rows: the tiled kernel's tiles of dW, or filter_items */
        s = launch(ctx, fn, kw,
                   (ks ? (size_t)chunks : 1) *
                       (kft ? tile_count(ctx, dw_elems / (size_t)cs.cout, (size_t)cs.cout) * kft->local
                            : filter_items));
    if (!s && ks)
        s = launch(ctx, fn, ks, ((size_t)out_stride + (size_t)sum_run - 1) / (size_t)sum_run);
    if (!s && kb)
        s = launch(ctx, fn, kb, (db->count + (size_t)sum_run - 1) / (size_t)sum_run);
    if (!s && kd)
        s = launch(ctx, fn, kd, data_items);
    return s;
}

/* One enqueue writes each direct output (the direct da_prev last of all),
 * several each GEMM one (chunks, col2im), and the GEMM parts run first. So
 * when more than one enqueue may write outputs, every output is saved
 * first but a direct da_prev. Tuning runs count as several enqueues: they
 * write an output before the call's own run does. */
clcnn_status clcnn__cl_conv_backward(clcnn_context *ctx, const clcnn_tensor *dz, const clcnn_tensor *a_prev,
                                     const clcnn_tensor *w, clcnn_conv_params p, clcnn_tensor *da_prev,
                                     clcnn_tensor *dw, clcnn_tensor *db)
{
    const conv_shape cs = conv_shape_of(a_prev, w, dz->shape, p);
    const int plan_d = da_prev ? plan(ctx, p.algo, DIR_DATA, &cs, dz->dtype) : CLCNN_CONV_DIRECT;
    const int plan_w = dw ? plan(ctx, p.algo, DIR_FILTER, &cs, dz->dtype) : CLCNN_CONV_DIRECT;
    const int many_da = da_prev && several_writes(plan_d), many_dw = dw && several_writes(plan_w);
    saved_outputs sv = {{NULL}, 0, NULL};
    if ((da_prev ? 1 + many_da : 0) + (dw ? 1 + many_dw : 0) + (db ? 1 : 0) > 1) {
        if (many_da)
            sv.t[sv.n++] = da_prev;
        if (dw)
            sv.t[sv.n++] = dw;
        if (db)
            sv.t[sv.n++] = db;
    }
    clcnn_status s = save_outputs(ctx, "clcnn_conv2d_backward", &sv);
    if (!s)
        s = conv_backward(ctx, dz, a_prev, w, p, plan_d, plan_w, da_prev, dw, db);
    return restore_outputs(ctx, &sv, s);
}
