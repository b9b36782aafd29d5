/* validate_pool.c - the argument checks of the poolings, in the notebook's
 * form (clcnn_pool_params) and described by a clcnn_pool_desc. */
#include "validate_internal.h"

#include <limits.h>

clcnn_status clcnn__pool_output(clcnn_context *ctx, const char *fn, clcnn_shape as, clcnn_pool_params p,
                                clcnn_shape *os)
{
    clcnn_status s;
    if ((s = clcnn__check_dims(ctx, fn, "a_prev_dims", as)))
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
    if ((s = clcnn__out_size(ctx, fn, "H", as.h, p.f, "f", 0, p.stride, &out.h)) ||
        (s = clcnn__out_size(ctx, fn, "W", as.w, p.f, "f", 0, p.stride, &out.w)))
        return s;
    *os = out;
    return CLCNN_OK;
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
    const clcnn__arg args[] = {{"a_prev", a_prev, 0}, {"a", a, 0}};
    clcnn_status s = clcnn__check_args(ctx, fn, args, 2, 1);
    clcnn_shape os = {0, 0, 0, 0};
    if (s || (s = pool_form_output(ctx, fn, a_prev->shape, f, &os)))
        return s;
    return clcnn__check_shape(ctx, fn, "a", a, os);
}

/* The checks of a pooling backward of either form. */
static clcnn_status check_pool_backward(clcnn_context *ctx, const char *fn, const clcnn_tensor *da,
                                        const clcnn_tensor *a_prev, pool_form f, const clcnn_tensor *da_prev)
{
    const clcnn__arg args[] = {{"da", da, 0}, {"a_prev", a_prev, 0}, {"da_prev", da_prev, 0}};
    clcnn_status s = clcnn__check_args(ctx, fn, args, 3, 2);
    clcnn_shape os = {0, 0, 0, 0};
    if (s || (s = pool_form_output(ctx, fn, a_prev->shape, f, &os)))
        return s;
    if ((s = clcnn__check_shape(ctx, fn, "da", da, os)))
        return s;
    return clcnn__check_shape(ctx, fn, "da_prev", da_prev, a_prev->shape);
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
static clcnn_status pool_taps_inside(clcnn_context *ctx, const char *fn, const clcnn__desc_axis *a,
                                     long long out)
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

static clcnn__desc_axis pool_axis_h(const clcnn_pool_desc *d, int n)
{
    const clcnn__desc_axis a = {
        "H",           n,       d->fh,        d->stride_h,     d->pad_top,     d->pad_bottom,
        d->dilation_h, "d->fh", "d->pad_top", "d->pad_bottom", "d->dilation_h"};
    return a;
}

static clcnn__desc_axis pool_axis_w(const clcnn_pool_desc *d, int n)
{
    const clcnn__desc_axis a = {
        "W",           n,       d->fw,         d->stride_w,    d->pad_left,    d->pad_right,
        d->dilation_w, "d->fw", "d->pad_left", "d->pad_right", "d->dilation_w"};
    return a;
}

/* One output size by the floor or ceil rule of clcnn_pool_desc. */
static clcnn_status pool_desc_axis(clcnn_context *ctx, const char *fn, const clcnn__desc_axis *a,
                                   int ceil_mode, int *out)
{
    long long padded;
    clcnn_status s = clcnn__padded_axis(ctx, fn, a, &padded);
    if (s)
        return s;
    const long long extent = (long long)a->dilation * (a->f - 1) + 1;
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
    if ((s = pool_taps_inside(ctx, fn, a, n)))
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
    if ((s = clcnn__check_dims(ctx, fn, "a_prev_dims", as)) || (s = pool_desc_values(ctx, fn, d)))
        return s;
    const clcnn__desc_axis ah = pool_axis_h(d, as.h), aw = pool_axis_w(d, as.w);
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
