/* conv_copies.c - the copies the direct kernels read instead of the tensors
 * themselves: a zero-padded input, weights in blocks of channels (or
 * flipped for backward data), the flag of non-finite weights, and inputs in
 * blocks of channels for the backward filter. Each goes to a workspace
 * (cl_backend.h), so a later failure changes no output; copies that only
 * speed reads are skipped where they do not fit the workspace limit. */
#include "conv_internal.h"

#include <limits.h>
#include <stdint.h>

/* On CPUs, where a border tap's per-pixel tests cost much (7x7 and 14x14
 * layers are mostly border), the direct forward reads a zero-padded copy of
 * a_prev (workspace CLCNN_SCRATCH_PADDED, with CONV_PX * stride pixels of
 * slack, filled by pad.cl's zero_pad), multiplying the padding zeros in the same order, so the bits
 * are the same. No copy where nothing needs one or it does not fit beside
 * the call's other workspaces: *cs, *input and *row_slack stay as they
 * are. */
clcnn_status clcnn__conv_prepad(clcnn_context *ctx, const char *fn, const clcnn_tensor *a_prev, size_t px,
                                conv_shape *cs, cl_mem *input, cl_int *row_slack)
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
    clcnn_status s = clcnn__cl_kernel(ctx, fn, CLCNN_KERNEL_ZERO_PAD, a_prev->dtype, &k);
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

/* The direct forward's weights (shape *fs; with flip, the original weights
 * of backward data as a forward convolution) copied into workspace
 * CLCNN_SCRATCH_WEIGHTS: with `blocked` in blocks of N = 2^log_n channels
 * (*wblock = N), so that a work-item reads one contiguous run, else HWIO
 * (flipped). Without flip, w itself (*weights and *wblock untouched) where
 * unblocked or where the blocked copy does not fit beside the call's other
 * workspaces. The copy sets flag (cleared by the caller; none when NULL) if
 * some weight is not finite. */
enum { BLOCK_KTILE = 16 };

clcnn_status clcnn__conv_block_weights(clcnn_context *ctx, const char *fn, const clcnn_tensor *w,
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
     * row; on GPUs one element per work-item. Each is the fastest copy of
     * its kind measured (docs/performance/conv-choice-rules.md). */
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

/* The flag lives in workspace CLCNN_SCRATCH_FLAG. */
clcnn_status clcnn__conv_cleared_flag(clcnn_context *ctx, const char *fn, cl_mem *flag)
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

/* Backward data as a forward convolution (shape *ts) on CPUs: dz padded as
 * prepad pads a_prev, and the cleared flag for block_weights, since the
 * kernel reads the copy only while every weight is finite
 * (conv_forward_<N>). Neither (*dz_slack, *flag NULL) where prepad makes no
 * copy or the padding is not one square pad. */
clcnn_status clcnn__conv_padded_dz(clcnn_context *ctx, const char *fn, const clcnn_tensor *dz,
                                   const conv_shape *ts, size_t px, cl_mem *dz_slack, cl_mem *flag)
{
    if (ts->pad_h != ts->pad_w || ts->pad_h < 0)
        return CLCNN_OK;
    conv_shape ps = *ts;
    cl_mem input = dz->mem;
    cl_int row_slack = 0;
    clcnn_status s = clcnn__conv_prepad(ctx, fn, dz, px, &ps, &input, &row_slack);
    if (s || !row_slack || (s = clcnn__conv_cleared_flag(ctx, fn, flag)))
        return s;
    *dz_slack = input;
    return CLCNN_OK;
}

/* The backward filter's operands on CPUs: x (a_prev, or dz) copied in
 * blocks of kb channels (conv_block_channels into workspace `slot`), where
 * one work-item's values of neighbouring positions lie kb elements apart
 * instead of the channel count. *out is that copy, or NULL when it does
 * not fit the workspace limit beside the call's other workspaces. */
clcnn_status clcnn__conv_block_channels(clcnn_context *ctx, const char *fn, const clcnn_tensor *x, size_t kb,
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
