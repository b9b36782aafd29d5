/* conv_backward_data.c - da_prev on the direct path, set up (kernels built,
 * workspaces filled, arguments set) for conv_backward.c to enqueue. With
 * stride 1, backward data is a forward convolution of dz, padded by
 * f - 1 - pad, with the weights flipped and transposed (in that kernel's
 * order: output rows, then columns, then channels, as the reference): on
 * conv_forward_tiled or conv_forward_<N>. Other strides: with at most 2
 * input channels per work-item and 8+ filters, conv_backward_data_dot
 * (DOT_K channels per work-item, 8-wide reductions over the filters, on w
 * itself); else conv_backward_data_<N> on the transposed weights.
 * Measured figures behind the rules: see
 * docs/performance/conv-choice-rules.md. */
#include "conv_internal.h"

/* Pixels along a row per work-item of conv_backward_data_dot and _dot3 on
 * CPUs (1 on GPUs, which want the work-items): decoding a work-item's
 * indices (three 64-bit divisions) and its covering rows is then paid once
 * per run. */
enum { DOT_RUN_CPU = 8 };

/* Input channels per work-item of conv_backward_data_dot and _dot3
 * (conv_backward_data.cl's DOT_K): 3 where that computes fewer clamped channels than 4
 * (cin 1, 2, 3, 5, 6, 9, ...). */
static size_t dot_k(int cin)
{
    const size_t c = (size_t)cin;
    return (c + 2) / 3 * 3 < (c + 3) / 4 * 4 ? 3 : 4;
}

/* The dot kernel: one work-item per run of pixels and run of DOT_K
 * channels. */
static clcnn_status setup_dot(clcnn_context *ctx, const conv_problem *pb, clcnn_tensor *da_prev,
                              conv_launch *out)
{
    const conv_shape *cs = &pb->cs;
    const cl_int dot_run = ctx->cl->cpu ? DOT_RUN_CPU : 1;
    const size_t k = dot_k(cs->cin);
    const clcnn_kernel_id id =
        k == 3 ? CLCNN_KERNEL_CONV_BACKWARD_DATA_DOT3 : CLCNN_KERNEL_CONV_BACKWARD_DATA_DOT;
    out->items = (size_t)cs->n * (size_t)cs->h * (((size_t)cs->w + (size_t)dot_run - 1) / (size_t)dot_run) *
                 (((size_t)cs->cin + k - 1) / k);
    const kernel_arg args[] = {ARG(pb->dz->mem), ARG(pb->w->mem), ARG(*cs), ARG(dot_run), ARG(da_prev->mem)};
    clcnn_status s = clcnn__cl_kernel(ctx, pb->fn, id, pb->dt, &out->k);
    if (!s)
        s = set_args(ctx, pb->fn, out->k, args, 5);
    return s;
}

/* conv_backward_data_<N> (N input channels per work-item, 2^log_n) on the
 * weights transposed into a workspace by transpose_weights. */
static clcnn_status setup_transposed(clcnn_context *ctx, const conv_problem *pb, int log_n,
                                     clcnn_tensor *da_prev, conv_data_setup *out)
{
    const clcnn_tensor *w = pb->w;
    const clcnn_cl_kernel *kt = NULL, *kd = NULL;
    cl_mem w_t = NULL;
    clcnn_status s;
    out->data.items = da_prev->count >> log_n;
    if (!(s = clcnn__cl_kernel(ctx, pb->fn, CLCNN_KERNEL_TRANSPOSE_WEIGHTS, pb->dt, &kt)))
        out->transpose = (conv_launch){kt, w->count};
    if (!s && !(s = clcnn__cl_kernel(ctx, pb->fn, CLCNN_KERNEL_CONV_BACKWARD_DATA_1 + log_n, pb->dt, &kd)))
        out->data.k = kd;
    if (!s && !(s = clcnn__cl_scratch(ctx, pb->fn, CLCNN_SCRATCH_WEIGHTS, w->nbytes, &w_t))) {
        const kernel_arg targs[] = {ARG(w->mem), ARG(pb->cs), ARG(w_t)};
        const kernel_arg args[] = {ARG(pb->dz->mem), ARG(w_t), ARG(pb->cs), ARG(da_prev->mem)};
        if (!(s = set_args(ctx, pb->fn, kt, targs, 3)))
            s = set_args(ctx, pb->fn, kd, args, 4);
    }
    return s;
}

/* conv_forward_<N> on dz (shape *ts, flattened where it may be) and the
 * flipped, transposed weights (in blocks on CPUs), written at once: they go
 * to a workspace, so a later failure changes no output. */
static clcnn_status setup_as_forward(clcnn_context *ctx, const conv_problem *pb, int variant,
                                     const conv_shape *ts, int log_n, size_t px, clcnn_tensor *da_prev,
                                     conv_launch *out)
{
    const struct clcnn_cl *cl = ctx->cl;
    const cl_int cgroup = clcnn__conv_forward_cgroup(cl, ts, log_n, px);
    out->items = clcnn__conv_forward_items(ts, log_n, px, cgroup);
    const cl_int pixel_major = clcnn__conv_pixel_major(cl, pb->cs.cin >> log_n, pb->w->nbytes, variant),
                 skip_padding = 1, row_slack = 0, no_bias = 0;
    cl_int wblock = ts->cout;
    cl_mem w_t = NULL, dz_slack = NULL, flag = NULL;
    clcnn_status s =
        clcnn__cl_kernel_px(ctx, pb->fn, CLCNN_KERNEL_CONV_FORWARD_1 + log_n, pb->dt, (int)px, &out->k);
    if (!s && !(s = clcnn__conv_padded_dz(ctx, pb->fn, pb->dz, ts, px, &dz_slack, &flag)) &&
        !(s = clcnn__conv_block_weights(ctx, pb->fn, pb->w, ts, 1, cl->conv_blocked, log_n, flag, &w_t,
                                        &wblock))) {
        const kernel_arg args[] = {ARG(pb->dz->mem), ARG(w_t),         ARG(w_t),      ARG(no_bias),
                                   ARG(*ts),         ARG(pixel_major), ARG(cgroup),   ARG(skip_padding),
                                   ARG(row_slack),   ARG(wblock),      ARG(dz_slack), ARG(flag),
                                   ARG(da_prev->mem)};
        s = set_args(ctx, pb->fn, out->k, args, 13);
    }
    return s;
}

/* Everything that can fail before the device runs: kernels, workspaces and
 * arguments; N input channels per work-item (the largest of 16, 8, 4, 2, 1
 * dividing cin within the device's limit). */
clcnn_status clcnn__conv_data_setup(clcnn_context *ctx, const conv_problem *pb, int variant,
                                    clcnn_tensor *da_prev, conv_data_setup *out)
{
    const conv_shape *cs = &pb->cs;
    *out = (conv_data_setup){{NULL, 0}, {NULL, 0}};
    if (!da_prev)
        return CLCNN_OK;
    const int log_n = vector_width_log2(pb->w->shape.w, clcnn__cl_max_width(ctx->cl, pb->dt));
    if (cs->stride != 1)
        return log_n <= 1 && cs->cout >= 8 ? setup_dot(ctx, pb, da_prev, &out->data)
                                           : setup_transposed(ctx, pb, log_n, da_prev, out);
    conv_shape ts = *cs; /* the forward convolution's shape */
    ts.h = cs->ho, ts.w = cs->wo, ts.cin = cs->cout, ts.cout = cs->cin, ts.ho = cs->h, ts.wo = cs->w;
    ts.stride = 1, ts.pad_h = cs->fh - 1 - cs->pad_h, ts.pad_w = cs->fw - 1 - cs->pad_w;
    const size_t px = clcnn__conv_forward_px(ctx->cl, ts.wo);
    clcnn__conv_flatten_pointwise(ctx->cl, &ts, px);
    const clcnn_cl_kernel *kt;
    clcnn_status s = clcnn__conv_tiled_kernel(ctx, pb->fn, CLCNN_KERNEL_CONV_FORWARD_TILED,
                                              clcnn__conv_tiled(ctx->cl, variant, cs->cin), pb->dt, &kt);
    if (s || kt)
        return s ? s : clcnn__conv_data_tiled(ctx, pb, &ts, log_n, kt, da_prev, &out->data);
    return setup_as_forward(ctx, pb, variant, &ts, log_n, px, da_prev, &out->data);
}
