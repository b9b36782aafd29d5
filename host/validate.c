/* validate.c - argument checks for every operation (see validate.h). The
 * order is always: context, tensor pointers and their context, dtypes,
 * aliasing, scalar parameters, then shapes. */
#include "validate.h"

#include <limits.h>
#include <stdint.h>

#define SHAPE_FMT "(%d, %d, %d, %d)"
#define SHAPE_ARGS(s) (s).n, (s).h, (s).w, (s).c

static const char *dtype_name(clcnn_dtype d)
{
    return d == CLCNN_F64 ? "F64" : "F32";
}

static int shape_eq(clcnn_shape a, clcnn_shape b)
{
    return a.n == b.n && a.h == b.h && a.w == b.w && a.c == b.c;
}

/* One tensor argument: named, present unless optional, and made in ctx. */
typedef struct {
    const char *name;
    const clcnn_tensor *t;
    int optional;
} arg;

/* Checks the context, then each tensor's presence, context and dtype (all
 * must share the dtype of the first), then that no output (args[first_out]
 * onwards) is the same tensor as any other argument. */
static clcnn_status check_args(clcnn_context *ctx, const char *fn, const arg *args, int nargs, int first_out)
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
static clcnn_status check_shape(clcnn_context *ctx, const char *fn, const char *name, const clcnn_tensor *t,
                                clcnn_shape want)
{
    if (!t || shape_eq(t->shape, want))
        return CLCNN_OK;
    return clcnn__fail(ctx, CLCNN_ERR_SHAPE, "%s: %s has shape " SHAPE_FMT " but must be " SHAPE_FMT, fn,
                       name, SHAPE_ARGS(t->shape), SHAPE_ARGS(want));
}

/* One output size, floor((n_prev + 2*pad - f) / stride) + 1, after checking
 * that the window fits the padded input and the result fits an int. */
static clcnn_status out_size(clcnn_context *ctx, const char *fn, const char *axis, int n_prev, int f,
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

static clcnn_status check_dims(clcnn_context *ctx, const char *fn, const char *name, clcnn_shape s)
{
    const int d[4] = {s.n, s.h, s.w, s.c};
    for (int i = 0; i < 4; i++)
        if (d[i] < 1)
            return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT,
                               "%s: %s[%d] is %d; every dimension must be >= 1", fn, name, i, d[i]);
    return CLCNN_OK;
}

/* 1 when a_prev of shape as padded to ph x pw, as doubles, has a byte count
 * that size_t holds (the OpenCL backend's padded copies and the notebook
 * reference's padded array need it). */
static int padded_bytes_fit(clcnn_shape as, size_t ph, size_t pw)
{
    size_t count = 1;
    const size_t pdims[5] = {(size_t)as.n, ph, pw, (size_t)as.c, sizeof(double)};
    for (int i = 0; i < 5; i++)
        if (!clcnn__mul_size(count, pdims[i], &count))
            return 0;
    return 1;
}

clcnn_status clcnn__conv_output(clcnn_context *ctx, const char *fn, clcnn_shape as, clcnn_shape ws,
                                clcnn_conv_params p, clcnn_shape *zs)
{
    clcnn_status s;
    if ((s = check_dims(ctx, fn, "a_prev_dims", as)) || (s = check_dims(ctx, fn, "w_dims", ws)))
        return s;
    if (p.stride < 1)
        return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT, "%s: p.stride is %d; it must be >= 1", fn,
                           p.stride);
    if (p.pad < 0)
        return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT, "%s: p.pad is %d; it must be >= 0", fn, p.pad);
    if (p.algo != CLCNN_CONV_AUTO && p.algo != CLCNN_CONV_DIRECT && p.algo != CLCNN_CONV_GEMM)
        return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT, "%s: p.algo is %d, not a clcnn_conv_algo value",
                           fn, (int)p.algo);
    if (ws.w != as.c)
        return clcnn__fail(ctx, CLCNN_ERR_SHAPE, "%s: w has %d input channels but a_prev has %d", fn, ws.w,
                           as.c);
    clcnn_shape out = {as.n, 0, 0, ws.c};
    if ((s = out_size(ctx, fn, "H", as.h, ws.n, "fh", p.pad, p.stride, &out.h)) ||
        (s = out_size(ctx, fn, "W", as.w, ws.h, "fw", p.pad, p.stride, &out.w)))
        return s;
    /* The reference path pads a_prev into a double array: its byte count must fit size_t. */
    size_t count = 1;
    const size_t pdims[5] = {(size_t)as.n, (size_t)as.h + 2 * (size_t)p.pad, (size_t)as.w + 2 * (size_t)p.pad,
                             (size_t)as.c, sizeof(double)};
    for (int i = 0; i < 5; i++)
        if (!clcnn__mul_size(count, pdims[i], &count))
            return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT,
                               "%s: a_prev " SHAPE_FMT
                               " padded by p.pad %d gives (%d, %zu, %zu, %d), more elements "
                               "than size_t can count in bytes",
                               fn, SHAPE_ARGS(as), p.pad, as.n, pdims[1], pdims[2], as.c);
    *zs = out;
    return CLCNN_OK;
}

clcnn_status clcnn__pool_output(clcnn_context *ctx, const char *fn, clcnn_shape as, clcnn_pool_params p,
                                clcnn_shape *os)
{
    clcnn_status s;
    if ((s = check_dims(ctx, fn, "a_prev_dims", as)))
        return s;
    if (p.f < 1)
        return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT, "%s: p.f is %d; it must be >= 1", fn, p.f);
    if (p.stride < 1)
        return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT, "%s: p.stride is %d; it must be >= 1", fn,
                           p.stride);
    if (p.mode != CLCNN_POOL_MAX && p.mode != CLCNN_POOL_AVG)
        return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT, "%s: p.mode is %d, not a clcnn_pool_mode value",
                           fn, (int)p.mode);
    clcnn_shape out = {as.n, 0, 0, as.c};
    if ((s = out_size(ctx, fn, "H", as.h, p.f, "f", 0, p.stride, &out.h)) ||
        (s = out_size(ctx, fn, "W", as.w, p.f, "f", 0, p.stride, &out.w)))
        return s;
    *os = out;
    return CLCNN_OK;
}

clcnn_status clcnn__validate_zero_pad(clcnn_context *ctx, const clcnn_tensor *x, int pad,
                                      const clcnn_tensor *x_pad)
{
    static const char fn[] = "clcnn_zero_pad";
    const arg args[] = {{"x", x, 0}, {"x_pad", x_pad, 0}};
    clcnn_status s = check_args(ctx, fn, args, 2, 1);
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
    return check_shape(ctx, fn, "x_pad", x_pad, want);
}

clcnn_status clcnn__validate_conv_forward(clcnn_context *ctx, const clcnn_tensor *a_prev,
                                          const clcnn_tensor *w, const clcnn_tensor *b, clcnn_conv_params p,
                                          const clcnn_tensor *z)
{
    static const char fn[] = "clcnn_conv2d_forward";
    const arg args[] = {{"a_prev", a_prev, 0}, {"w", w, 0}, {"b", b, 1}, {"z", z, 0}};
    clcnn_status s = check_args(ctx, fn, args, 4, 3);
    clcnn_shape zs;
    if (s || (s = clcnn__conv_output(ctx, fn, a_prev->shape, w->shape, p, &zs)))
        return s;
    if ((s = check_shape(ctx, fn, "b", b, (clcnn_shape){1, 1, 1, w->shape.c})))
        return s;
    return check_shape(ctx, fn, "z", z, zs);
}

clcnn_status clcnn__validate_conv_backward(clcnn_context *ctx, const clcnn_tensor *dz,
                                           const clcnn_tensor *a_prev, const clcnn_tensor *w,
                                           clcnn_conv_params p, const clcnn_tensor *da_prev,
                                           const clcnn_tensor *dw, const clcnn_tensor *db)
{
    static const char fn[] = "clcnn_conv2d_backward";
    const arg args[] = {{"dz", dz, 0},           {"a_prev", a_prev, 0}, {"w", w, 0},
                        {"da_prev", da_prev, 1}, {"dw", dw, 1},         {"db", db, 1}};
    clcnn_status s = check_args(ctx, fn, args, 6, 3);
    clcnn_shape zs;
    if (s || (s = clcnn__conv_output(ctx, fn, a_prev->shape, w->shape, p, &zs)))
        return s;
    if ((s = check_shape(ctx, fn, "dz", dz, zs)) ||
        (s = check_shape(ctx, fn, "da_prev", da_prev, a_prev->shape)) ||
        (s = check_shape(ctx, fn, "dw", dw, w->shape)))
        return s;
    return check_shape(ctx, fn, "db", db, (clcnn_shape){1, 1, 1, w->shape.c});
}

/* What a pooling call takes its output shape from: the notebook's
 * clcnn_pool_params, or (is_desc) a clcnn_pool_desc that may be NULL. */
typedef struct {
    int is_desc;
    clcnn_pool_params p;
    const clcnn_pool_desc *d;
} pool_form;

static clcnn_status pool_form_output(clcnn_context *ctx, const char *fn, clcnn_shape as, pool_form f,
                                     clcnn_shape *os)
{
    return f.is_desc ? clcnn__pool_desc_output(ctx, fn, as, f.d, os)
                     : clcnn__pool_output(ctx, fn, as, f.p, os);
}

/* The checks of a pooling forward of either form. */
static clcnn_status check_pool_forward(clcnn_context *ctx, const char *fn, const clcnn_tensor *a_prev,
                                       pool_form f, const clcnn_tensor *a)
{
    const arg args[] = {{"a_prev", a_prev, 0}, {"a", a, 0}};
    clcnn_status s = check_args(ctx, fn, args, 2, 1);
    clcnn_shape os = {0, 0, 0, 0};
    if (s || (s = pool_form_output(ctx, fn, a_prev->shape, f, &os)))
        return s;
    return check_shape(ctx, fn, "a", a, os);
}

/* The checks of a pooling backward of either form. */
static clcnn_status check_pool_backward(clcnn_context *ctx, const char *fn, const clcnn_tensor *da,
                                        const clcnn_tensor *a_prev, pool_form f, const clcnn_tensor *da_prev)
{
    const arg args[] = {{"da", da, 0}, {"a_prev", a_prev, 0}, {"da_prev", da_prev, 0}};
    clcnn_status s = check_args(ctx, fn, args, 3, 2);
    clcnn_shape os = {0, 0, 0, 0};
    if (s || (s = pool_form_output(ctx, fn, a_prev->shape, f, &os)))
        return s;
    if ((s = check_shape(ctx, fn, "da", da, os)))
        return s;
    return check_shape(ctx, fn, "da_prev", da_prev, a_prev->shape);
}

clcnn_status clcnn__validate_pool_forward(clcnn_context *ctx, const clcnn_tensor *a_prev, clcnn_pool_params p,
                                          const clcnn_tensor *a)
{
    return check_pool_forward(ctx, "clcnn_pool2d_forward", a_prev, (pool_form){.p = p}, a);
}

clcnn_status clcnn__validate_pool_backward(clcnn_context *ctx, const clcnn_tensor *da,
                                           const clcnn_tensor *a_prev, clcnn_pool_params p,
                                           const clcnn_tensor *da_prev)
{
    return check_pool_backward(ctx, "clcnn_pool2d_backward", da, a_prev, (pool_form){.p = p}, da_prev);
}

/* ---- pooling with a clcnn_pool_desc ------------------------------------ */

/* One axis of a desc: the input size, the window, stride, pads and dilation
 * on it, and the names the messages give them. */
typedef struct {
    const char *axis; /* "H" or "W" */
    int n, f, stride, pad_begin, pad_end, dilation;
    const char *f_name, *pb_name, *pe_name, *dil_name;
} pool_axis;

static clcnn_status at_least_1(clcnn_context *ctx, const char *fn, const char *name, int v)
{
    if (v >= 1)
        return CLCNN_OK;
    return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT, "%s: %s is %d; it must be >= 1", fn, name, v);
}

static clcnn_status zero_or_one(clcnn_context *ctx, const char *fn, const char *name, int v)
{
    if (v == 0 || v == 1)
        return CLCNN_OK;
    return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT, "%s: %s is %d; it must be 0 or 1", fn, name, v);
}

/* A pad is >= 0 and below the window on its axis, so that every window of
 * an undilated pooling holds at least one input position. */
static clcnn_status pad_ok(clcnn_context *ctx, const char *fn, const char *name, int pad, const char *f_name,
                           int f)
{
    if (pad < 0)
        return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT, "%s: %s is %d; it must be >= 0", fn, name, pad);
    if (pad >= f)
        return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT,
                           "%s: %s is %d; it must be below the window %s = %d", fn, name, pad, f_name, f);
    return CLCNN_OK;
}

/* Every scalar of d, in the order of its fields (mode and max_rule before
 * the dilation check that depends on the mode). */
static clcnn_status pool_desc_values(clcnn_context *ctx, const char *fn, const clcnn_pool_desc *d)
{
    clcnn_status s;
    if ((s = at_least_1(ctx, fn, "d->fh", d->fh)) || (s = at_least_1(ctx, fn, "d->fw", d->fw)) ||
        (s = at_least_1(ctx, fn, "d->stride_h", d->stride_h)) ||
        (s = at_least_1(ctx, fn, "d->stride_w", d->stride_w)) ||
        (s = pad_ok(ctx, fn, "d->pad_top", d->pad_top, "d->fh", d->fh)) ||
        (s = pad_ok(ctx, fn, "d->pad_bottom", d->pad_bottom, "d->fh", d->fh)) ||
        (s = pad_ok(ctx, fn, "d->pad_left", d->pad_left, "d->fw", d->fw)) ||
        (s = pad_ok(ctx, fn, "d->pad_right", d->pad_right, "d->fw", d->fw)) ||
        (s = at_least_1(ctx, fn, "d->dilation_h", d->dilation_h)) ||
        (s = at_least_1(ctx, fn, "d->dilation_w", d->dilation_w)) ||
        (s = zero_or_one(ctx, fn, "d->ceil_mode", d->ceil_mode)) ||
        (s = zero_or_one(ctx, fn, "d->count_include_pad", d->count_include_pad)))
        return s;
    if (d->mode != CLCNN_POOL_MAX && d->mode != CLCNN_POOL_AVG)
        return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT, "%s: d->mode is %d, not a clcnn_pool_mode value",
                           fn, (int)d->mode);
    if (d->max_rule != CLCNN_POOL_ALL_TIES && d->max_rule != CLCNN_POOL_FIRST_MAX)
        return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT,
                           "%s: d->max_rule is %d, not a clcnn_pool_max_rule value", fn, (int)d->max_rule);
    if (d->mode == CLCNN_POOL_AVG && (d->dilation_h != 1 || d->dilation_w != 1))
        return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT,
                           "%s: d->%s is %d with average pooling; dilation must be 1 there (it is for max "
                           "pooling only)",
                           fn, d->dilation_h != 1 ? "dilation_h" : "dilation_w",
                           d->dilation_h != 1 ? d->dilation_h : d->dilation_w);
    return CLCNN_OK;
}

/* A dilated window that starts in the begin padding may step over an input
 * shorter than its dilation: its first tap at or past 0 must lie before n.
 * Only windows starting before 0 can miss (pads are below the window, and
 * later windows start inside the input), and only where n < dilation (the
 * first tap at or past 0 is below the dilation), which with the extent
 * check leaves at most one such window to look at. */
static clcnn_status pool_taps_inside(clcnn_context *ctx, const char *fn, const pool_axis *a, long long out)
{
    if (a->n >= a->dilation)
        return CLCNN_OK;
    for (long long o = 0; o < out && o * a->stride < a->pad_begin; o++) {
        const long long start = o * a->stride - a->pad_begin;
        const long long first = start + (-start + a->dilation - 1) / a->dilation * a->dilation;
        if (first >= a->n)
            return clcnn__fail(ctx, CLCNN_ERR_SHAPE,
                               "%s: the window of output %s %lld has no tap inside the input: its taps at "
                               "%lld, %lld, ... (%s = %d) step over n_%s_prev %d",
                               fn, a->axis, o, start, start + a->dilation, a->dil_name, a->dilation, a->axis,
                               a->n);
    }
    return CLCNN_OK;
}

static pool_axis pool_axis_h(const clcnn_pool_desc *d, int n)
{
    const pool_axis a = {"H",           n,       d->fh,        d->stride_h,     d->pad_top,     d->pad_bottom,
                         d->dilation_h, "d->fh", "d->pad_top", "d->pad_bottom", "d->dilation_h"};
    return a;
}

static pool_axis pool_axis_w(const clcnn_pool_desc *d, int n)
{
    const pool_axis a = {"W",           n,       d->fw,         d->stride_w,    d->pad_left,    d->pad_right,
                         d->dilation_w, "d->fw", "d->pad_left", "d->pad_right", "d->dilation_w"};
    return a;
}

/* One output size by the floor or ceil rule of clcnn_pool_desc. */
static clcnn_status pool_desc_axis(clcnn_context *ctx, const char *fn, const pool_axis *a, int ceil_mode,
                                   int *out)
{
    const long long padded = (long long)a->n + a->pad_begin + a->pad_end;
    const long long extent = (long long)a->dilation * (a->f - 1) + 1;
    if (padded > INT_MAX)
        return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT,
                           "%s: the padded input %s %lld (n_%s_prev %d + %s %d + %s %d) overflows int", fn,
                           a->axis, padded, a->axis, a->n, a->pb_name, a->pad_begin, a->pe_name, a->pad_end);
    if (extent > padded)
        return clcnn__fail(ctx, CLCNN_ERR_SHAPE,
                           "%s: the window %s = %d (extent %lld with %s %d) is larger than the padded input "
                           "%s %lld (n_%s_prev %d + %s %d + %s %d)",
                           fn, a->f_name, a->f, extent, a->dil_name, a->dilation, a->axis, padded, a->axis,
                           a->n, a->pb_name, a->pad_begin, a->pe_name, a->pad_end);
    const long long span = padded - extent;
    long long n = ceil_mode ? (span + a->stride - 1) / a->stride + 1 : span / a->stride + 1;
    /* a last window wholly in the end padding is dropped */
    if (ceil_mode && (n - 1) * a->stride >= (long long)a->n + a->pad_begin)
        n--;
    clcnn_status s = pool_taps_inside(ctx, fn, a, n);
    if (s)
        return s;
    *out = (int)n;
    return CLCNN_OK;
}

clcnn_status clcnn__pool_desc_output(clcnn_context *ctx, const char *fn, clcnn_shape as,
                                     const clcnn_pool_desc *d, clcnn_shape *os)
{
    clcnn_status s;
    if (!d)
        return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT, "%s: d is NULL", fn);
    if ((s = check_dims(ctx, fn, "a_prev_dims", as)) || (s = pool_desc_values(ctx, fn, d)))
        return s;
    const pool_axis ah = pool_axis_h(d, as.h), aw = pool_axis_w(d, as.w);
    clcnn_shape out = {as.n, 0, 0, as.c};
    if ((s = pool_desc_axis(ctx, fn, &ah, d->ceil_mode, &out.h)) ||
        (s = pool_desc_axis(ctx, fn, &aw, d->ceil_mode, &out.w)))
        return s;
    *os = out;
    return CLCNN_OK;
}

clcnn_status clcnn__validate_pool_forward_desc(clcnn_context *ctx, const clcnn_tensor *a_prev,
                                               const clcnn_pool_desc *d, const clcnn_tensor *a)
{
    return check_pool_forward(ctx, "clcnn_pool2d_forward_desc", a_prev, (pool_form){.is_desc = 1, .d = d}, a);
}

clcnn_status clcnn__validate_pool_backward_desc(clcnn_context *ctx, const clcnn_tensor *da,
                                                const clcnn_tensor *a_prev, const clcnn_pool_desc *d,
                                                const clcnn_tensor *da_prev)
{
    return check_pool_backward(ctx, "clcnn_pool2d_backward_desc", da, a_prev,
                               (pool_form){.is_desc = 1, .d = d}, da_prev);
}

/* ---- convolutions described by a clcnn_conv_desc ------------------------ */

/* The pads, strides and dilations of one axis of a clcnn_conv_desc, with the
 * names its messages give them. */
typedef struct {
    const char *axis; /* "H" or "W" */
    const char *fname, *pb_name, *pe_name, *s_name, *d_name;
    int pad_begin, pad_end, stride, dilation;
} desc_axis;

/* One output size of a desc convolution,
 * floor((n_prev + pad_begin + pad_end - dilation*(f-1) - 1) / stride) + 1,
 * after checking that the padded input fits an int and the dilated window
 * fits the padded input. */
static clcnn_status out_size_desc(clcnn_context *ctx, const char *fn, int n_prev, int f, desc_axis a,
                                  int *out)
{
    const long long padded = (long long)n_prev + a.pad_begin + a.pad_end;
    if (padded > INT_MAX)
        return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT,
                           "%s: the padded input %s %lld (n_%s_prev %d + d->%s %d + d->%s %d) overflows int",
                           fn, a.axis, padded, a.axis, n_prev, a.pb_name, a.pad_begin, a.pe_name, a.pad_end);
    /* dilation*(f-1)+1 < 2^62: both factors are ints. */
    const long long extent = (long long)a.dilation * (f - 1) + 1;
    if (extent > padded)
        return clcnn__fail(
            ctx, CLCNN_ERR_SHAPE,
            "%s: the window %s = %d with d->%s %d spans %lld, more than the padded input %s %lld "
            "(n_%s_prev %d + d->%s %d + d->%s %d)",
            fn, a.fname, f, a.d_name, a.dilation, extent, a.axis, padded, a.axis, n_prev, a.pb_name,
            a.pad_begin, a.pe_name, a.pad_end);
    *out = (int)((padded - extent) / a.stride + 1);
    return CLCNN_OK;
}

/* d's scalar fields: pads >= 0, strides, dilations and groups >= 1, a known
 * algo. */
static clcnn_status check_conv_desc_values(clcnn_context *ctx, const char *fn, const clcnn_conv_desc *d)
{
    const struct {
        const char *name;
        int v, min;
    } f[] = {{"pad_top", d->pad_top, 0},       {"pad_bottom", d->pad_bottom, 0}, {"pad_left", d->pad_left, 0},
             {"pad_right", d->pad_right, 0},   {"stride_h", d->stride_h, 1},     {"stride_w", d->stride_w, 1},
             {"dilation_h", d->dilation_h, 1}, {"dilation_w", d->dilation_w, 1}, {"groups", d->groups, 1}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (f[i].v < f[i].min)
            return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT, "%s: d->%s is %d; it must be >= %d", fn,
                               f[i].name, f[i].v, f[i].min);
    if (d->algo != CLCNN_CONV_AUTO && d->algo != CLCNN_CONV_DIRECT && d->algo != CLCNN_CONV_GEMM)
        return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT, "%s: d->algo is %d, not a clcnn_conv_algo value",
                           fn, (int)d->algo);
    return CLCNN_OK;
}

/* The channel counts of a grouped convolution: groups divides n_C_prev and
 * n_C, and w holds n_C_prev / groups input channels. */
static clcnn_status check_conv_groups(clcnn_context *ctx, const char *fn, clcnn_shape as, clcnn_shape ws,
                                      int groups)
{
    if (as.c % groups)
        return clcnn__fail(ctx, CLCNN_ERR_SHAPE,
                           "%s: d->groups is %d but n_C_prev %d is not a multiple of it", fn, groups, as.c);
    if (ws.c % groups)
        return clcnn__fail(ctx, CLCNN_ERR_SHAPE,
                           "%s: d->groups is %d but n_C %d (w's output channels) is not a multiple of it", fn,
                           groups, ws.c);
    if (groups == 1 && ws.w != as.c)
        return clcnn__fail(ctx, CLCNN_ERR_SHAPE, "%s: w has %d input channels but a_prev has %d", fn, ws.w,
                           as.c);
    if (ws.w != as.c / groups)
        return clcnn__fail(ctx, CLCNN_ERR_SHAPE,
                           "%s: w has %d input channels per group but a_prev has %d channels in %d groups "
                           "(%d expected)",
                           fn, ws.w, as.c, groups, as.c / groups);
    return CLCNN_OK;
}

clcnn_status clcnn__conv_output_desc(clcnn_context *ctx, const char *fn, clcnn_shape as, clcnn_shape ws,
                                     const clcnn_conv_desc *d, clcnn_shape *zs)
{
    clcnn_status s;
    if ((s = check_dims(ctx, fn, "a_prev_dims", as)) || (s = check_dims(ctx, fn, "w_dims", ws)) ||
        (s = check_conv_desc_values(ctx, fn, d)) || (s = check_conv_groups(ctx, fn, as, ws, d->groups)))
        return s;
    const desc_axis ah = {"H",          "fh",       "pad_top",     "pad_bottom", "stride_h",
                          "dilation_h", d->pad_top, d->pad_bottom, d->stride_h,  d->dilation_h};
    const desc_axis aw = {"W",          "fw",        "pad_left",   "pad_right", "stride_w",
                          "dilation_w", d->pad_left, d->pad_right, d->stride_w, d->dilation_w};
    clcnn_shape out = {as.n, 0, 0, ws.c};
    if ((s = out_size_desc(ctx, fn, as.h, ws.n, ah, &out.h)) ||
        (s = out_size_desc(ctx, fn, as.w, ws.h, aw, &out.w)))
        return s;
    const size_t ph = (size_t)as.h + (size_t)d->pad_top + (size_t)d->pad_bottom;
    const size_t pw = (size_t)as.w + (size_t)d->pad_left + (size_t)d->pad_right;
    if (!padded_bytes_fit(as, ph, pw))
        return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT,
                           "%s: a_prev " SHAPE_FMT
                           " padded by d's pads gives (%d, %zu, %zu, %d), more elements "
                           "than size_t can count in bytes",
                           fn, SHAPE_ARGS(as), as.n, ph, pw, as.c);
    *zs = out;
    return CLCNN_OK;
}

clcnn_status clcnn__validate_conv_forward_desc(clcnn_context *ctx, const clcnn_tensor *a_prev,
                                               const clcnn_tensor *w, const clcnn_tensor *b,
                                               const clcnn_conv_desc *d, const clcnn_tensor *z)
{
    static const char fn[] = "clcnn_conv2d_forward_desc";
    const arg args[] = {{"a_prev", a_prev, 0}, {"w", w, 0}, {"b", b, 1}, {"z", z, 0}};
    clcnn_status s = check_args(ctx, fn, args, 4, 3);
    if (s)
        return s;
    if (!d)
        return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT, "%s: d is NULL", fn);
    clcnn_shape zs;
    if ((s = clcnn__conv_output_desc(ctx, fn, a_prev->shape, w->shape, d, &zs)) ||
        (s = check_shape(ctx, fn, "b", b, (clcnn_shape){1, 1, 1, w->shape.c})))
        return s;
    return check_shape(ctx, fn, "z", z, zs);
}

clcnn_status clcnn__validate_conv_backward_desc(clcnn_context *ctx, const clcnn_tensor *dz,
                                                const clcnn_tensor *a_prev, const clcnn_tensor *w,
                                                const clcnn_conv_desc *d, const clcnn_tensor *da_prev,
                                                const clcnn_tensor *dw, const clcnn_tensor *db)
{
    static const char fn[] = "clcnn_conv2d_backward_desc";
    const arg args[] = {{"dz", dz, 0},           {"a_prev", a_prev, 0}, {"w", w, 0},
                        {"da_prev", da_prev, 1}, {"dw", dw, 1},         {"db", db, 1}};
    clcnn_status s = check_args(ctx, fn, args, 6, 3);
    if (s)
        return s;
    if (!d)
        return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT, "%s: d is NULL", fn);
    clcnn_shape zs;
    if ((s = clcnn__conv_output_desc(ctx, fn, a_prev->shape, w->shape, d, &zs)) ||
        (s = check_shape(ctx, fn, "dz", dz, zs)) ||
        (s = check_shape(ctx, fn, "da_prev", da_prev, a_prev->shape)) ||
        (s = check_shape(ctx, fn, "dw", dw, w->shape)))
        return s;
    return check_shape(ctx, fn, "db", db, (clcnn_shape){1, 1, 1, w->shape.c});
}
