/* conv_backward.c - the backward convolution on an OpenCL context: the
 * entry point (plans, saved outputs), then per call the GEMM path's parts
 * (cl_gemm.c), which enqueue as they go, then the direct path's parts that
 * remain, all set up before the first of them is enqueued
 * (conv_backward_data.c, conv_backward_filter.c). */
#include "conv_internal.h"

clcnn_status clcnn__conv_launch(clcnn_context *ctx, const char *fn, conv_launch l)
{
    return l.k ? launch(ctx, fn, l.k, l.items) : CLCNN_OK;
}

/* The direct parts: everything that can fail before the device runs comes
 * first. The transpose and the partial sums write only workspaces, so they
 * are enqueued first: an enqueue that fails there leaves every output
 * untouched; da_prev, the largest output, comes last: it needs no saved
 * copy. */
static clcnn_status backward_direct(clcnn_context *ctx, const conv_problem *pb, int variant_data,
                                    int variant_filter, clcnn_tensor *da_prev, clcnn_tensor *dw,
                                    clcnn_tensor *db)
{
    conv_data_setup d;
    conv_filter_setup f;
    clcnn_status s;
    if ((s = clcnn__conv_data_setup(ctx, pb, variant_data, da_prev, &d)) ||
        (s = clcnn__conv_filter_setup(ctx, pb, variant_filter, dw, db, &f)) ||
        (s = clcnn__conv_launch(ctx, pb->fn, d.transpose)) ||
        (s = clcnn__conv_launch(ctx, pb->fn, f.filter)) || (s = clcnn__conv_launch(ctx, pb->fn, f.sum)) ||
        (s = clcnn__conv_launch(ctx, pb->fn, f.bias)))
        return s;
    return clcnn__conv_launch(ctx, pb->fn, d.data);
}

clcnn_status clcnn__conv_data_direct(clcnn_context *ctx, const conv_problem *pb, int variant,
                                     clcnn_tensor *da_prev)
{
    return backward_direct(ctx, pb, variant, CLCNN_VARIANT_DIRECT, da_prev, NULL, NULL);
}

clcnn_status clcnn__conv_filter_direct(clcnn_context *ctx, const conv_problem *pb, int variant,
                                       clcnn_tensor *dw)
{
    return backward_direct(ctx, pb, CLCNN_VARIANT_DIRECT, variant, NULL, dw, NULL);
}

clcnn_status clcnn__conv_data_gemm(clcnn_context *ctx, const conv_problem *pb, int variant,
                                   clcnn_tensor *da_prev)
{
    (void)variant;
    return clcnn__cl_gemm_backward_data(ctx, &pb->cs, pb->dz, pb->w, da_prev);
}

clcnn_status clcnn__conv_filter_gemm(clcnn_context *ctx, const conv_problem *pb, int variant,
                                     clcnn_tensor *dw)
{
    (void)variant;
    return clcnn__cl_gemm_backward_filter(ctx, &pb->cs, pb->dz, pb->a_prev, dw);
}

/* Both directions decided (measured, where planned so) first, then the
 * GEMM parts, then the direct ones. */
static clcnn_status conv_backward(clcnn_context *ctx, const conv_problem *pb, int plan_d, int plan_w,
                                  clcnn_tensor *da_prev, clcnn_tensor *dw, clcnn_tensor *db)
{
    int variant_data = CLCNN_VARIANT_DIRECT, variant_filter = CLCNN_VARIANT_DIRECT;
    clcnn_status s;
    if (da_prev && (s = clcnn__conv_decide(ctx, pb, CONV_DATA, plan_d, da_prev, &variant_data)))
        return s;
    if (dw && (s = clcnn__conv_decide(ctx, pb, CONV_FILTER, plan_w, dw, &variant_filter)))
        return s;
    if (da_prev)
        ctx->conv_running[CONV_DATA] = clcnn__conv_algo_of(variant_data);
    if (dw)
        ctx->conv_running[CONV_FILTER] = clcnn__conv_algo_of(variant_filter);
    if (da_prev && variant_data == CLCNN_VARIANT_GEMM) {
        if ((s = clcnn__conv_data_gemm(ctx, pb, variant_data, da_prev)))
            return s;
        da_prev = NULL;
    }
    if (dw && variant_filter == CLCNN_VARIANT_GEMM) {
        if ((s = clcnn__conv_filter_gemm(ctx, pb, variant_filter, dw)))
            return s;
        dw = NULL;
    }
    return backward_direct(ctx, pb, variant_data, variant_filter, da_prev, dw, db);
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
    const conv_problem pb = clcnn__conv_problem("clcnn_conv2d_backward", a_prev, w, NULL, dz, dz->shape, p);
    const int plan_d = da_prev ? clcnn__conv_plan(ctx, &pb, CONV_DATA) : CLCNN_VARIANT_DIRECT;
    const int plan_w = dw ? clcnn__conv_plan(ctx, &pb, CONV_FILTER) : CLCNN_VARIANT_DIRECT;
    const int many_da = da_prev && clcnn__conv_several_writes(plan_d),
              many_dw = dw && clcnn__conv_several_writes(plan_w);
    conv_saved sv = {{NULL}, 0, NULL};
    if ((da_prev ? 1 + many_da : 0) + (dw ? 1 + many_dw : 0) + (db ? 1 : 0) > 1) {
        if (many_da)
            sv.t[sv.n++] = da_prev;
        if (dw)
            sv.t[sv.n++] = dw;
        if (db)
            sv.t[sv.n++] = db;
    }
    clcnn_status s = clcnn__conv_save(ctx, pb.fn, &sv);
    if (!s)
        s = conv_backward(ctx, &pb, plan_d, plan_w, da_prev, dw, db);
    return clcnn__conv_restore(ctx, &sv, s);
}
