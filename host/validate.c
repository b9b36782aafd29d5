/* validate.c - argument checks for every operation (see validate.h): the
 * checks every operation shares, and the zero_pad gate; the convolution and
 * pooling gates are in validate_conv.c and validate_pool.c. The order is
 * always: context, tensor pointers and their context, dtypes, aliasing,
 * scalar parameters, then shapes. */
#include "validate_internal.h"

#include <limits.h>
#include <stdint.h>

static const char *dtype_name(clcnn_dtype d)
{
    return d == CLCNN_F64 ? "F64" : "F32";
}

static int shape_eq(clcnn_shape a, clcnn_shape b)
{
    return a.n == b.n && a.h == b.h && a.w == b.w && a.c == b.c;
}

/* Checks the context, then each tensor's presence, context and dtype (all
 * must share the dtype of the first), then that no output (args[first_out]
 * onwards) is the same tensor as any other argument. */
clcnn_status clcnn__check_args(clcnn_context *ctx, const char *fn, const clcnn__arg *args, int nargs,
                               int first_out)
{
    if (!ctx)
        return clcnn__fail(NULL, CLCNN_ERR_INVALID_ARGUMENT, "%s: ctx is NULL", fn);
    for (int i = 0; i < nargs; i++) {
        if (!args[i].t) {
            if (args[i].optional)
                continue;
            return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT, "%s: %s is NULL", fn, args[i].name);
        }
        if (args[i].t->ctx != ctx)
            return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT, "%s: %s belongs to another context than ctx",
                               fn, args[i].name);
    }
    for (int i = 1; i < nargs; i++)
        if (args[i].t && args[i].t->dtype != args[0].t->dtype)
            return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT, "%s: %s is %s but %s is %s", fn, args[i].name,
                               dtype_name(args[i].t->dtype), args[0].name, dtype_name(args[0].t->dtype));
    for (int o = first_out; o < nargs; o++)
        for (int i = 0; i < nargs; i++)
            if (i != o && args[o].t && args[o].t == args[i].t)
                return clcnn__fail(
                    ctx, CLCNN_ERR_INVALID_ARGUMENT,
                    "%s: %s is the same tensor as %s; an output may not alias another argument", fn,
                    args[o].name, args[i].name);
    return CLCNN_OK;
}

/* An output (or gradient) tensor must have exactly the shape want. */
clcnn_status clcnn__check_shape(clcnn_context *ctx, const char *fn, const char *name, const clcnn_tensor *t,
                                clcnn_shape want)
{
    if (!t || shape_eq(t->shape, want))
        return CLCNN_OK;
    return clcnn__fail(ctx, CLCNN_ERR_SHAPE, "%s: %s has shape " SHAPE_FMT " but must be " SHAPE_FMT, fn,
                       name, SHAPE_ARGS(t->shape), SHAPE_ARGS(want));
}

/* One output size, floor((n_prev + 2*pad - f) / stride) + 1, after checking
 * that the window fits the padded input and the result fits an int. */
clcnn_status clcnn__out_size(clcnn_context *ctx, const char *fn, const char *axis, int n_prev, int f,
                             const char *fname, int pad, int stride, int *out)
{
    long long padded = (long long)n_prev + 2LL * pad;
    if (f > padded && pad == 0)
        return clcnn__fail(ctx, CLCNN_ERR_SHAPE,
                           "%s: the window %s = %d is larger than the input %s %d (n_%s_prev)", fn, fname, f,
                           axis, n_prev, axis);
    if (f > padded)
        return clcnn__fail(ctx, CLCNN_ERR_SHAPE,
                           "%s: the window %s = %d is larger than the padded input %s %lld (n_%s_prev %d + "
                           "2*pad %lld, pad %d)",
                           fn, fname, f, axis, padded, axis, n_prev, 2LL * pad, pad);
    long long n = (padded - f) / stride + 1;
    if (padded > INT_MAX)
        return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT,
                           "%s: the padded input %s %lld (n_%s_prev %d + 2*pad %lld, pad %d) overflows int",
                           fn, axis, padded, axis, n_prev, 2LL * pad, pad);
    *out = (int)n;
    return CLCNN_OK;
}

clcnn_status clcnn__check_dims(clcnn_context *ctx, const char *fn, const char *name, clcnn_shape s)
{
    const int d[4] = {s.n, s.h, s.w, s.c};
    for (int i = 0; i < 4; i++)
        if (d[i] < 1)
            return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT,
                               "%s: %s[%d] is %d; every dimension must be >= 1", fn, name, i, d[i]);
    return CLCNN_OK;
}

clcnn_status clcnn__padded_axis(clcnn_context *ctx, const char *fn, const clcnn__desc_axis *a,
                                long long *padded)
{
    *padded = (long long)a->n + a->pad_begin + a->pad_end;
    if (*padded > INT_MAX)
        return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT,
                           "%s: the padded input %s %lld (n_%s_prev %d + %s %d + %s %d) overflows int", fn,
                           a->axis, *padded, a->axis, a->n, a->pb_name, a->pad_begin, a->pe_name, a->pad_end);
    return CLCNN_OK;
}

clcnn_status clcnn__validate_zero_pad(clcnn_context *ctx, const clcnn_tensor *x, int pad,
                                      const clcnn_tensor *x_pad)
{
    static const char fn[] = "clcnn_zero_pad";
    const clcnn__arg args[] = {{"x", x, 0}, {"x_pad", x_pad, 0}};
    clcnn_status s = clcnn__check_args(ctx, fn, args, 2, 1);
    if (s)
        return s;
    if (pad < 0)
        return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT, "%s: pad is %d; it must be >= 0", fn, pad);
    long long ph = (long long)x->shape.h + 2LL * pad, pw = (long long)x->shape.w + 2LL * pad;
    if (ph > INT_MAX || pw > INT_MAX)
        return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT,
                           "%s: the padded shape (%d, %lld, %lld, %d) overflows int (pad %d)", fn, x->shape.n,
                           ph, pw, x->shape.c, pad);
    clcnn_shape want = {x->shape.n, (int)ph, (int)pw, x->shape.c};
    return clcnn__check_shape(ctx, fn, "x_pad", x_pad, want);
}
