/* cl_ops.c - setting kernel arguments and launching kernels, and the
 * padding and pooling operations on an OpenCL context (convolutions:
 * conv/ and cl_gemm.c). An operation fetches its kernels (building them
 * on first use), sets every argument, and only then enqueues, on the
 * context's in-order queue without waiting. */
#include "cl_backend.h"
#include "cl_short_names.h"

#include <stdio.h>

/* Mirrors pool_shape in kernels/pool.cl. */
typedef struct {
    cl_int n, h, w, c;
    cl_int ho, wo;
    cl_int f, stride;
    cl_int mode;
} pool_shape;

clcnn_status clcnn__cl_set_args(clcnn_context *ctx, const char *fn, const clcnn_cl_kernel *k,
                                const clcnn_kernel_arg *args, int n)
{
    for (int i = 0; i < n; i++) {
        cl_int err = clSetKernelArg(k->k, (cl_uint)i, args[i].size, args[i].value);
        if (err != CL_SUCCESS)
            return clcnn__cl_fail(ctx, err, fn, "clSetKernelArg");
    }
    return CLCNN_OK;
}

/* Enqueues k over `items` work-items in work-groups of its fixed size,
 * rounding the range up: every kernel ignores ids past its element count. A
 * fixed size also keeps PoCL from compiling a new work-group specialisation
 * for every range. */
clcnn_status clcnn__cl_launch(clcnn_context *ctx, const char *fn, const clcnn_cl_kernel *k, size_t items)
{
    size_t local = k->local, global = (items + local - 1) / local * local;
    cl_int err = clEnqueueNDRangeKernel(ctx->cl->queue, k->k, 1, NULL, &global, &local, 0, NULL, NULL);
    return err == CL_SUCCESS ? CLCNN_OK : clcnn__cl_fail(ctx, err, fn, "clEnqueueNDRangeKernel");
}

clcnn_status clcnn__cl_launch_2d(clcnn_context *ctx, const char *fn, const clcnn_cl_kernel *k, size_t d0,
                                 size_t d1)
{
    size_t l0 = 1;
    while (l0 < d0 && l0 < k->local)
        l0 *= 2;
    size_t local[2] = {l0, k->local / l0};
    size_t global[2] = {(d0 + local[0] - 1) / local[0] * local[0], (d1 + local[1] - 1) / local[1] * local[1]};
    cl_int err = clEnqueueNDRangeKernel(ctx->cl->queue, k->k, 2, NULL, global, local, 0, NULL, NULL);
    return err == CL_SUCCESS ? CLCNN_OK : clcnn__cl_fail(ctx, err, fn, "clEnqueueNDRangeKernel");
}

clcnn_status clcnn__cl_zero_pad(clcnn_context *ctx, const clcnn_tensor *x, int pad, clcnn_tensor *x_pad)
{
    static const char fn[] = "clcnn_zero_pad";
    const clcnn_cl_kernel *k;
    clcnn_status s = clcnn__cl_kernel(ctx, fn, CLCNN_KERNEL_ZERO_PAD, x->dtype, &k);
    if (s)
        return s;
    /* one work-item per padded row and run of up to `group` of its
     * elements: 256 on CPUs, one on GPUs (see kernels/pad.cl) */
    const cl_int n = x->shape.n, h = x->shape.h, w = x->shape.w, c = x->shape.c, p = pad;
    const cl_int group = ctx->cl->cpu ? 256 : 1;
    const kernel_arg args[] = {ARG(x->mem), ARG(n), ARG(h),     ARG(w),
                               ARG(c),      ARG(p), ARG(group), ARG(x_pad->mem)};
    if ((s = set_args(ctx, fn, k, args, 8)))
        return s;
    const size_t rows = (size_t)x_pad->shape.n * (size_t)x_pad->shape.h;
    const size_t row = (size_t)x_pad->shape.w * (size_t)c; /* a tensor's count fits size_t */
    return launch(ctx, fn, k, rows * ((row + (size_t)group - 1) / (size_t)group));
}

int clcnn__cl_vector_width_log2(int channels, int max_width)
{
    int log_n = 4;
    while (log_n > 0 && ((1 << log_n) > max_width || channels % (1 << log_n) != 0))
        log_n--;
    return log_n;
}

static pool_shape pool_shape_of(const clcnn_tensor *a_prev, clcnn_shape os, clcnn_pool_params p)
{
    return (pool_shape){a_prev->shape.n, a_prev->shape.h, a_prev->shape.w, a_prev->shape.c, os.h, os.w, p.f,
                        p.stride,        (cl_int)p.mode};
}

/* Channels per pool work-item at most: the device's vector limit, and on
 * CPUs no more than 8 (PoCL, 4x112x112x64 f3 s2 max pool forward: 9.2 GB/s
 * with 8, 5.2 with 16; average f2 s2: 15.7 against 9.0). */
static int pool_max_width(const clcnn_context *ctx, clcnn_dtype dt)
{
    const int w = clcnn__cl_max_width(ctx->cl, dt);
    return ctx->cl->cpu && w > 8 ? 8 : w;
}

/* Channel blocks per pool work-item: 64 channels' worth on a CPU, where
 * the per-work-item index decoding costs as much as the loads; one block on
 * a GPU, which wants the work-items. */
static cl_int pool_group(const clcnn_context *ctx, int log_n)
{
    return ctx->cl->cpu && (64 >> log_n) > 1 ? 64 >> log_n : 1;
}

static size_t pool_groups(int channels, int log_n, cl_int group)
{
    const size_t blocks = (size_t)channels >> log_n;
    return (blocks + (size_t)group - 1) / (size_t)group;
}

/* Pixels along a row per pool work-item: 8 on a CPU, where decoding a
 * work-item's indices (64-bit divisions) cost about as much as pooling one
 * pixel's 64 channels; 1 on a GPU. */
static cl_int pool_run(const clcnn_context *ctx)
{
    return ctx->cl->cpu ? 8 : 1;
}

/* Work-items of a pool kernel over tensor t (a forward, da_prev backward). */
static size_t pool_items(const clcnn_tensor *t, int log_n, cl_int group, cl_int run)
{
    const size_t rows = (size_t)t->shape.n * (size_t)t->shape.h;
    return rows * (((size_t)t->shape.w + (size_t)run - 1) / (size_t)run) *
           pool_groups(t->shape.c, log_n, group);
}

/* The pooling forward, its messages naming fn (the public entry point). */
static clcnn_status pool_forward(clcnn_context *ctx, const char *fn, const clcnn_tensor *a_prev,
                                 clcnn_pool_params p, clcnn_tensor *a)
{
    const int log_n = vector_width_log2(a_prev->shape.c, pool_max_width(ctx, a_prev->dtype));
    const clcnn_cl_kernel *k;
    clcnn_status s = clcnn__cl_kernel(ctx, fn, CLCNN_KERNEL_POOL_FORWARD_1 + log_n, a_prev->dtype, &k);
    if (s)
        return s;
    const pool_shape ps = pool_shape_of(a_prev, a->shape, p);
    const cl_int group = pool_group(ctx, log_n), run = pool_run(ctx);
    const kernel_arg args[] = {ARG(a_prev->mem), ARG(ps), ARG(group), ARG(run), ARG(a->mem)};
    if ((s = set_args(ctx, fn, k, args, 5)))
        return s;
    return launch(ctx, fn, k, pool_items(a, log_n, group, run));
}

clcnn_status clcnn__cl_pool_forward(clcnn_context *ctx, const clcnn_tensor *a_prev, clcnn_pool_params p,
                                    clcnn_tensor *a)
{
    return pool_forward(ctx, "clcnn_pool2d_forward", a_prev, p, a);
}

/* The pooling backward, its messages naming fn. */
static clcnn_status pool_backward(clcnn_context *ctx, const char *fn, const clcnn_tensor *da,
                                  const clcnn_tensor *a_prev, clcnn_pool_params p, clcnn_tensor *da_prev)
{
    const int log_n = vector_width_log2(a_prev->shape.c, pool_max_width(ctx, a_prev->dtype));
    const clcnn_cl_kernel *k, *kf = NULL;
    clcnn_status s = clcnn__cl_kernel(ctx, fn, CLCNN_KERNEL_POOL_BACKWARD_1 + log_n, da->dtype, &k);
    if (s)
        return s;
    const pool_shape ps = pool_shape_of(a_prev, da->shape, p);
    const cl_int group = pool_group(ctx, log_n), run = pool_run(ctx);
    /* max: the window maxima first, into a workspace, so that each input
     * element compares against them instead of rescanning every window;
     * average where an input lies in 9 or more windows (f >= 3*stride):
     * each window's share da / (f*f) first, into the same workspace, so
     * that each window is divided once, not once per input it covers. That
     * pass costs what the divisions it saves do where an input lies in
     * fewer windows. PoCL, backward of 4x112x112x64, clcnn-ab in bursts of
     * 4, three processes of each build: f3 s1 1.65-1.83 ms against
     * 2.13-2.29 without the pass; f2 s1 (4 windows) 1.71-2.32 against
     * 1.29-1.36, f3 s2 (2.25) 0.74-1.05 against 0.65-0.91. The pass is
     * optional: only where its workspace fits the context's limit. */
    const cl_int divided = p.mode == CLCNN_POOL_AVG && (long)p.f >= 3L * p.stride &&
                           da->nbytes <= clcnn__cl_scratch_room(ctx, CLCNN_SCRATCH_PARTIAL);
    const cl_ulong vectors = (cl_ulong)(da->count >> log_n);
    cl_mem per_window = da->mem; /* the first pass's output: maxima (max) or shares (average) */
    if (p.mode == CLCNN_POOL_MAX &&
        (!(s = clcnn__cl_kernel(ctx, fn, CLCNN_KERNEL_POOL_FORWARD_1 + log_n, da->dtype, &kf)) &&
         !(s = clcnn__cl_scratch(ctx, fn, CLCNN_SCRATCH_PARTIAL, da->nbytes, &per_window)))) {
        const kernel_arg fargs[] = {ARG(a_prev->mem), ARG(ps), ARG(group), ARG(run), ARG(per_window)};
        s = set_args(ctx, fn, kf, fargs, 5);
    } else if (divided &&
               (!(s = clcnn__cl_kernel(ctx, fn, CLCNN_KERNEL_POOL_SHARE_1 + log_n, da->dtype, &kf)) &&
                !(s = clcnn__cl_scratch(ctx, fn, CLCNN_SCRATCH_PARTIAL, da->nbytes, &per_window)))) {
        const kernel_arg sargs[] = {ARG(da->mem), ARG(ps), ARG(vectors), ARG(per_window)};
        s = set_args(ctx, fn, kf, sargs, 4);
    }
    if (s)
        return s;
    /* Non-temporal stores of da_prev (on CPUs; pool.cl, STREAM_STORES)
     * except for an average backward that writes at least twice what it
     * reads (da, or the shares, as large) on a CPU with 16-wide vectors:
     * there plain stores ran faster on a Zen 4 (clcnn-ab
     * pool:avg:N,112,112,64,2,2 bwd in bursts of 4: 1.60x at N = 4,
     * 1.26-1.28x at 8 and 12, 1.21x at 16, whose 64 MB pass the 32 MB L3;
     * f3 s2 1.06x, 4x56x56x256 f2 s2 1.28x, 7x7x2048 f7 s1 1.27x), but
     * slower where it writes about what it reads (f3 s1 on 4x112x112x64,
     * 0.73x) and on the max backward, which reads a_prev too (0.85x); on a
     * Zen 3 (AVX2) slower on the average f2 s2 too (16-21 GB/s against
     * 22-25). */
    const cl_int stream = !(p.mode == CLCNN_POOL_AVG && ctx->cl->cpu && ctx->cl->wide_vectors &&
                            da_prev->count / 2 >= da->count);
    const kernel_arg args[] = {ARG(da->mem), ARG(a_prev->mem), ARG(per_window), ARG(ps),          ARG(group),
                               ARG(run),     ARG(divided),     ARG(stream),     ARG(da_prev->mem)};
    if ((s = set_args(ctx, fn, k, args, 9)))
        return s;
    if (kf && (s = launch(ctx, fn, kf, divided ? (size_t)vectors : pool_items(da, log_n, group, run))))
        return s;
    return launch(ctx, fn, k, pool_items(da_prev, log_n, group, run));
}

clcnn_status clcnn__cl_pool_backward(clcnn_context *ctx, const clcnn_tensor *da, const clcnn_tensor *a_prev,
                                     clcnn_pool_params p, clcnn_tensor *da_prev)
{
    return pool_backward(ctx, "clcnn_pool2d_backward", da, a_prev, p, da_prev);
}

/* ---- pooling with a clcnn_pool_desc ------------------------------------ */

/* The one decision of what the pool kernels run: d as the notebook's
 * parameters in *p when it is of their form (square window, equal strides,
 * no padding, dilation 1, floor mode; for a max backward ALL_TIES, the only
 * place the rule changes a result), else CLCNN_ERR_UNSUPPORTED naming the
 * first field beyond it. count_include_pad changes nothing without pads. */
static clcnn_status pool_desc_params(clcnn_context *ctx, const char *fn, const clcnn_pool_desc *d,
                                     int backward, clcnn_pool_params *p)
{
    char what[128];
    if (d->fh != d->fw)
        snprintf(what, sizeof what, "a rectangular window (d->fh %d, d->fw %d)", d->fh, d->fw);
    else if (d->stride_h != d->stride_w)
        snprintf(what, sizeof what, "a stride per axis (d->stride_h %d, d->stride_w %d)", d->stride_h,
                 d->stride_w);
    else if (d->pad_top || d->pad_bottom || d->pad_left || d->pad_right)
        snprintf(what, sizeof what,
                 "padding (d->pad_top %d, d->pad_bottom %d, d->pad_left %d, d->pad_right %d)", d->pad_top,
                 d->pad_bottom, d->pad_left, d->pad_right);
    else if (d->dilation_h != 1 || d->dilation_w != 1)
        snprintf(what, sizeof what, "dilation (d->dilation_h %d, d->dilation_w %d)", d->dilation_h,
                 d->dilation_w);
    else if (d->ceil_mode)
        snprintf(what, sizeof what, "ceil mode (d->ceil_mode 1)");
    else if (backward && d->mode == CLCNN_POOL_MAX && d->max_rule != CLCNN_POOL_ALL_TIES)
        snprintf(what, sizeof what, "the max backward's first-max rule (d->max_rule CLCNN_POOL_FIRST_MAX)");
    else {
        *p = (clcnn_pool_params){d->fh, d->stride_h, d->mode};
        return CLCNN_OK;
    }
    return clcnn__fail(ctx, CLCNN_ERR_UNSUPPORTED,
                       "%s: %s is not yet supported on the OpenCL backend; use a host context", fn, what);
}

clcnn_status clcnn__cl_pool_forward_desc(clcnn_context *ctx, const clcnn_tensor *a_prev,
                                         const clcnn_pool_desc *d, clcnn_tensor *a)
{
    static const char fn[] = "clcnn_pool2d_forward_desc";
    clcnn_pool_params p;
    clcnn_status s = pool_desc_params(ctx, fn, d, 0, &p);
    return s ? s : pool_forward(ctx, fn, a_prev, p, a);
}

clcnn_status clcnn__cl_pool_backward_desc(clcnn_context *ctx, const clcnn_tensor *da,
                                          const clcnn_tensor *a_prev, const clcnn_pool_desc *d,
                                          clcnn_tensor *da_prev)
{
    static const char fn[] = "clcnn_pool2d_backward_desc";
    clcnn_pool_params p;
    clcnn_status s = pool_desc_params(ctx, fn, d, 1, &p);
    return s ? s : pool_backward(ctx, fn, da, a_prev, p, da_prev);
}
