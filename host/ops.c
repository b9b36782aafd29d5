/* ops.c - the public operations: validate every argument, then hand the call
 * to the context's backend. */
#include "backend.h"
#include "validate.h"
#ifdef CLCNN_HAVE_OPENCL
#include "opencl/cl_backend.h"
/* The backend's implementation of op: OpenCL when ctx has a device, as one
 * call for the workspace accounting (opencl/cl_backend.h). */
#define DISPATCH(ctx, op, ...)                                                                               \
    ((ctx)->cl ? (clcnn__cl_call_begin((ctx)->cl), clcnn__cl_##op(__VA_ARGS__))                              \
               : clcnn__host_##op(__VA_ARGS__))
#else
#define DISPATCH(ctx, op, ...) clcnn__host_##op(__VA_ARGS__)
#endif

/* The int[4] dims of the *_output_shape functions as a clcnn_shape, and
 * back. */
static clcnn_shape dims_shape(const int dims[4])
{
    return (clcnn_shape){dims[0], dims[1], dims[2], dims[3]};
}

static clcnn_status shape_dims(clcnn_status s, const clcnn_shape *shape, int dims[4])
{
    if (s)
        return s;
    dims[0] = shape->n, dims[1] = shape->h, dims[2] = shape->w, dims[3] = shape->c;
    return CLCNN_OK;
}

clcnn_status clcnn_conv2d_output_shape(const int a_prev_dims[4], const int w_dims[4], clcnn_conv_params p,
                                       int out_dims[4])
{
    static const char fn[] = "clcnn_conv2d_output_shape";
    if (!a_prev_dims || !w_dims || !out_dims)
        return clcnn__fail(NULL, CLCNN_ERR_INVALID_ARGUMENT, "%s: %s is NULL", fn,
                           !a_prev_dims ? "a_prev_dims"
                           : !w_dims    ? "w_dims"
                                        : "out_dims");
    clcnn_shape zs;
    return shape_dims(clcnn__conv_output(NULL, fn, dims_shape(a_prev_dims), dims_shape(w_dims), p, &zs), &zs,
                      out_dims);
}

clcnn_status clcnn_pool2d_output_shape(const int a_prev_dims[4], clcnn_pool_params p, int out_dims[4])
{
    static const char fn[] = "clcnn_pool2d_output_shape";
    if (!a_prev_dims || !out_dims)
        return clcnn__fail(NULL, CLCNN_ERR_INVALID_ARGUMENT, "%s: %s is NULL", fn,
                           !a_prev_dims ? "a_prev_dims" : "out_dims");
    clcnn_shape os;
    return shape_dims(clcnn__pool_output(NULL, fn, dims_shape(a_prev_dims), p, &os), &os, out_dims);
}

clcnn_status clcnn_zero_pad(clcnn_context *ctx, const clcnn_tensor *x, int pad, clcnn_tensor *x_pad)
{
    clcnn_status s = clcnn__validate_zero_pad(ctx, x, pad, x_pad);
    return s ? s : DISPATCH(ctx, zero_pad, ctx, x, pad, x_pad);
}

/* Starts the record of what a convolution runs (clcnn_context_last_conv_algos):
 * AUTO where the call computes nothing; where it does, DIRECT on the host
 * backend, AUTO for the OpenCL backend to fill in (host/opencl/conv/conv_choice.c). */
static void conv_begin(clcnn_context *ctx, int forward, int data, int filter)
{
    const clcnn_conv_algo ran = ctx->cl ? CLCNN_CONV_AUTO : CLCNN_CONV_DIRECT;
    ctx->conv_running[0] = forward ? ran : CLCNN_CONV_AUTO;
    ctx->conv_running[1] = data ? ran : CLCNN_CONV_AUTO;
    ctx->conv_running[2] = filter ? ran : CLCNN_CONV_AUTO;
}

static clcnn_status conv_end(clcnn_context *ctx, clcnn_status s)
{
    if (s == CLCNN_OK)
        for (int d = 0; d < 3; d++)
            ctx->conv_ran[d] = ctx->conv_running[d];
    return s;
}

clcnn_status clcnn_conv2d_forward(clcnn_context *ctx, const clcnn_tensor *a_prev, const clcnn_tensor *w,
                                  const clcnn_tensor *b, clcnn_conv_params p, clcnn_tensor *z)
{
    clcnn_status s = clcnn__validate_conv_forward(ctx, a_prev, w, b, p, z);
    if (s)
        return s;
    conv_begin(ctx, 1, 0, 0);
    return conv_end(ctx, DISPATCH(ctx, conv_forward, ctx, a_prev, w, b, p, z));
}

clcnn_status clcnn_conv2d_backward(clcnn_context *ctx, const clcnn_tensor *dz, const clcnn_tensor *a_prev,
                                   const clcnn_tensor *w, clcnn_conv_params p, clcnn_tensor *da_prev,
                                   clcnn_tensor *dw, clcnn_tensor *db)
{
    clcnn_status s = clcnn__validate_conv_backward(ctx, dz, a_prev, w, p, da_prev, dw, db);
    if (s)
        return s;
    conv_begin(ctx, 0, da_prev != NULL, dw != NULL);
    return conv_end(ctx, DISPATCH(ctx, conv_backward, ctx, dz, a_prev, w, p, da_prev, dw, db));
}

clcnn_status clcnn_context_last_conv_algos(const clcnn_context *ctx, clcnn_conv_algo algos[3])
{
    static const char fn[] = "clcnn_context_last_conv_algos";
    if (!ctx || !algos)
        return clcnn__fail(NULL, CLCNN_ERR_INVALID_ARGUMENT, "%s: %s is NULL", fn, !ctx ? "ctx" : "algos");
    for (int d = 0; d < 3; d++)
        algos[d] = ctx->conv_ran[d];
    return CLCNN_OK;
}

/* ---- convolutions described by a clcnn_conv_desc ------------------------ */

clcnn_conv_desc clcnn_conv_desc_from_params(clcnn_conv_params p)
{
    return (clcnn_conv_desc){.pad_top = p.pad,
                             .pad_bottom = p.pad,
                             .pad_left = p.pad,
                             .pad_right = p.pad,
                             .stride_h = p.stride,
                             .stride_w = p.stride,
                             .dilation_h = 1,
                             .dilation_w = 1,
                             .groups = 1,
                             .algo = p.algo};
}

clcnn_status clcnn_conv2d_output_shape_desc(const int a_prev_dims[4], const int w_dims[4],
                                            const clcnn_conv_desc *d, int out_dims[4])
{
    static const char fn[] = "clcnn_conv2d_output_shape_desc";
    if (!a_prev_dims || !w_dims || !d || !out_dims)
        return clcnn__fail(NULL, CLCNN_ERR_INVALID_ARGUMENT, "%s: %s is NULL", fn,
                           !a_prev_dims ? "a_prev_dims"
                           : !w_dims    ? "w_dims"
                           : !d         ? "d"
                                        : "out_dims");
    clcnn_shape zs;
    return shape_dims(clcnn__conv_output_desc(NULL, fn, dims_shape(a_prev_dims), dims_shape(w_dims), d, &zs),
                      &zs, out_dims);
}

#ifdef CLCNN_HAVE_OPENCL
/* What the OpenCL backend runs of a desc: the notebook's form, as the
 * clcnn_conv_params of its kernels; any other form fails with a sentence
 * naming the first parameter its kernels do not compute. */
static clcnn_status cl_conv_params(clcnn_context *ctx, const char *fn, const clcnn_conv_desc *d,
                                   clcnn_conv_params *p)
{
    static const char tail[] = "is not yet supported on the OpenCL backend; use a host context";
    if (d->groups != 1)
        return clcnn__fail(ctx, CLCNN_ERR_UNSUPPORTED, "%s: d->groups %d %s", fn, d->groups, tail);
    if (d->dilation_h != 1 || d->dilation_w != 1)
        return clcnn__fail(ctx, CLCNN_ERR_UNSUPPORTED, "%s: dilation (d->dilation_h %d, d->dilation_w %d) %s",
                           fn, d->dilation_h, d->dilation_w, tail);
    if (d->stride_h != d->stride_w)
        return clcnn__fail(ctx, CLCNN_ERR_UNSUPPORTED, "%s: d->stride_h %d unequal to d->stride_w %d %s", fn,
                           d->stride_h, d->stride_w, tail);
    if (d->pad_bottom != d->pad_top || d->pad_left != d->pad_top || d->pad_right != d->pad_top)
        return clcnn__fail(
            ctx, CLCNN_ERR_UNSUPPORTED,
            "%s: unequal pads (d->pad_top %d, d->pad_bottom %d, d->pad_left %d, d->pad_right %d) %s", fn,
            d->pad_top, d->pad_bottom, d->pad_left, d->pad_right, tail);
    *p = (clcnn_conv_params){.stride = d->stride_h, .pad = d->pad_top, .algo = d->algo};
    return CLCNN_OK;
}
#endif

clcnn_status clcnn_conv2d_forward_desc(clcnn_context *ctx, const clcnn_tensor *a_prev, const clcnn_tensor *w,
                                       const clcnn_tensor *b, const clcnn_conv_desc *d, clcnn_tensor *z)
{
    clcnn_status s = clcnn__validate_conv_forward_desc(ctx, a_prev, w, b, d, z);
    if (s)
        return s;
#ifdef CLCNN_HAVE_OPENCL
    if (ctx->cl) {
        clcnn_conv_params p;
        if ((s = cl_conv_params(ctx, "clcnn_conv2d_forward_desc", d, &p)))
            return s;
        conv_begin(ctx, 1, 0, 0);
        return conv_end(ctx, DISPATCH(ctx, conv_forward, ctx, a_prev, w, b, p, z));
    }
#endif
    conv_begin(ctx, 1, 0, 0);
    return conv_end(ctx, clcnn__host_conv_forward_desc(ctx, a_prev, w, b, d, z));
}

clcnn_status clcnn_conv2d_backward_desc(clcnn_context *ctx, const clcnn_tensor *dz,
                                        const clcnn_tensor *a_prev, const clcnn_tensor *w,
                                        const clcnn_conv_desc *d, clcnn_tensor *da_prev, clcnn_tensor *dw,
                                        clcnn_tensor *db)
{
    clcnn_status s = clcnn__validate_conv_backward_desc(ctx, dz, a_prev, w, d, da_prev, dw, db);
    if (s)
        return s;
#ifdef CLCNN_HAVE_OPENCL
    if (ctx->cl) {
        clcnn_conv_params p;
        if ((s = cl_conv_params(ctx, "clcnn_conv2d_backward_desc", d, &p)))
            return s;
        conv_begin(ctx, 0, da_prev != NULL, dw != NULL);
        return conv_end(ctx, DISPATCH(ctx, conv_backward, ctx, dz, a_prev, w, p, da_prev, dw, db));
    }
#endif
    conv_begin(ctx, 0, da_prev != NULL, dw != NULL);
    return conv_end(ctx, clcnn__host_conv_backward_desc(ctx, dz, a_prev, w, d, da_prev, dw, db));
}

clcnn_status clcnn_pool2d_forward(clcnn_context *ctx, const clcnn_tensor *a_prev, clcnn_pool_params p,
                                  clcnn_tensor *a)
{
    clcnn_status s = clcnn__validate_pool_forward(ctx, a_prev, p, a);
    return s ? s : DISPATCH(ctx, pool_forward, ctx, a_prev, p, a);
}

clcnn_status clcnn_pool2d_backward(clcnn_context *ctx, const clcnn_tensor *da, const clcnn_tensor *a_prev,
                                   clcnn_pool_params p, clcnn_tensor *da_prev)
{
    clcnn_status s = clcnn__validate_pool_backward(ctx, da, a_prev, p, da_prev);
    return s ? s : DISPATCH(ctx, pool_backward, ctx, da, a_prev, p, da_prev);
}

/* ---- pooling with a clcnn_pool_desc ------------------------------------ */

clcnn_pool_desc clcnn_pool_desc_from_params(clcnn_pool_params p)
{
    return (clcnn_pool_desc){.fh = p.f,
                             .fw = p.f,
                             .stride_h = p.stride,
                             .stride_w = p.stride,
                             .dilation_h = 1,
                             .dilation_w = 1,
                             .count_include_pad = 1,
                             .mode = p.mode,
                             .max_rule = CLCNN_POOL_ALL_TIES};
}

clcnn_pool_desc clcnn_pool_desc_global(const int a_prev_dims[4], clcnn_pool_mode mode)
{
    clcnn_pool_desc d = clcnn_pool_desc_from_params((clcnn_pool_params){0, 1, mode});
    if (a_prev_dims) {
        d.fh = a_prev_dims[1];
        d.fw = a_prev_dims[2];
    }
    return d;
}

clcnn_status clcnn_pool2d_output_shape_desc(const int a_prev_dims[4], const clcnn_pool_desc *d,
                                            int out_dims[4])
{
    static const char fn[] = "clcnn_pool2d_output_shape_desc";
    if (!a_prev_dims || !out_dims)
        return clcnn__fail(NULL, CLCNN_ERR_INVALID_ARGUMENT, "%s: %s is NULL", fn,
                           !a_prev_dims ? "a_prev_dims" : "out_dims");
    clcnn_shape os;
    return shape_dims(clcnn__pool_desc_output(NULL, fn, dims_shape(a_prev_dims), d, &os), &os, out_dims);
}

clcnn_status clcnn_pool2d_forward_desc(clcnn_context *ctx, const clcnn_tensor *a_prev,
                                       const clcnn_pool_desc *d, clcnn_tensor *a)
{
    clcnn_status s = clcnn__validate_pool_forward_desc(ctx, a_prev, d, a);
    return s ? s : DISPATCH(ctx, pool_forward_desc, ctx, a_prev, d, a);
}

clcnn_status clcnn_pool2d_backward_desc(clcnn_context *ctx, const clcnn_tensor *da,
                                        const clcnn_tensor *a_prev, const clcnn_pool_desc *d,
                                        clcnn_tensor *da_prev)
{
    clcnn_status s = clcnn__validate_pool_backward_desc(ctx, da, a_prev, d, da_prev);
    return s ? s : DISPATCH(ctx, pool_backward_desc, ctx, da, a_prev, d, da_prev);
}
