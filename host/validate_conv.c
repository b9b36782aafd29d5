/* validate_conv.c - the argument checks of the convolutions, in the
 * notebook's form (clcnn_conv_params) and described by a clcnn_conv_desc. */
#include "validate_internal.h"

#include <limits.h>
#include <stdint.h>

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
    if ((s = clcnn__check_dims(ctx, fn, "a_prev_dims", as)) || (s = clcnn__check_dims(ctx, fn, "w_dims", ws)))
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
    if ((s = clcnn__out_size(ctx, fn, "H", as.h, ws.n, "fh", p.pad, p.stride, &out.h)) ||
        (s = clcnn__out_size(ctx, fn, "W", as.w, ws.h, "fw", p.pad, p.stride, &out.w)))
        return s;
    /* The reference path pads a_prev into a double array: its byte count must fit size_t. */
    const size_t ph = (size_t)as.h + 2 * (size_t)p.pad, pw = (size_t)as.w + 2 * (size_t)p.pad;
    if (!padded_bytes_fit(as, ph, pw))
        return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT,
                           "%s: a_prev " SHAPE_FMT
                           " padded by p.pad %d gives (%d, %zu, %zu, %d), more elements "
                           "than size_t can count in bytes",
                           fn, SHAPE_ARGS(as), p.pad, as.n, ph, pw, as.c);
    *zs = out;
    return CLCNN_OK;
}

/* What a convolution call takes its output shape from: the notebook's
 * clcnn_conv_params, or (is_desc) a clcnn_conv_desc that may be NULL. */
typedef struct {
    int is_desc;
    clcnn_conv_params p;
    const clcnn_conv_desc *d;
} conv_form;

static clcnn_status conv_form_output(clcnn_context *ctx, const char *fn, clcnn_shape as, clcnn_shape ws,
                                     conv_form f, clcnn_shape *zs)
{
    if (!f.is_desc)
        return clcnn__conv_output(ctx, fn, as, ws, f.p, zs);
    if (!f.d)
        return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT, "%s: d is NULL", fn);
    return clcnn__conv_output_desc(ctx, fn, as, ws, f.d, zs);
}

/* The checks of a convolution forward of either form. */
static clcnn_status check_conv_forward(clcnn_context *ctx, const char *fn, const clcnn_tensor *a_prev,
                                       const clcnn_tensor *w, const clcnn_tensor *b, conv_form f,
                                       const clcnn_tensor *z)
{
    const clcnn__arg args[] = {{"a_prev", a_prev, 0}, {"w", w, 0}, {"b", b, 1}, {"z", z, 0}};
    clcnn_status s = clcnn__check_args(ctx, fn, args, 4, 3);
    clcnn_shape zs;
    if (s || (s = conv_form_output(ctx, fn, a_prev->shape, w->shape, f, &zs)))
        return s;
    if ((s = clcnn__check_shape(ctx, fn, "b", b, (clcnn_shape){1, 1, 1, w->shape.c})))
        return s;
    return clcnn__check_shape(ctx, fn, "z", z, zs);
}

/* The checks of a convolution backward of either form. */
static clcnn_status check_conv_backward(clcnn_context *ctx, const char *fn, const clcnn_tensor *dz,
                                        const clcnn_tensor *a_prev, const clcnn_tensor *w, conv_form f,
                                        const clcnn_tensor *da_prev, const clcnn_tensor *dw,
                                        const clcnn_tensor *db)
{
    const clcnn__arg args[] = {{"dz", dz, 0},           {"a_prev", a_prev, 0}, {"w", w, 0},
                               {"da_prev", da_prev, 1}, {"dw", dw, 1},         {"db", db, 1}};
    clcnn_status s = clcnn__check_args(ctx, fn, args, 6, 3);
    clcnn_shape zs;
    if (s || (s = conv_form_output(ctx, fn, a_prev->shape, w->shape, f, &zs)))
        return s;
    if ((s = clcnn__check_shape(ctx, fn, "dz", dz, zs)) ||
        (s = clcnn__check_shape(ctx, fn, "da_prev", da_prev, a_prev->shape)) ||
        (s = clcnn__check_shape(ctx, fn, "dw", dw, w->shape)))
        return s;
    return clcnn__check_shape(ctx, fn, "db", db, (clcnn_shape){1, 1, 1, w->shape.c});
}

clcnn_status clcnn__validate_conv_forward(clcnn_context *ctx, const clcnn_tensor *a_prev,
                                          const clcnn_tensor *w, const clcnn_tensor *b, clcnn_conv_params p,
                                          const clcnn_tensor *z)
{
    return check_conv_forward(ctx, "clcnn_conv2d_forward", a_prev, w, b, (conv_form){.p = p}, z);
}

clcnn_status clcnn__validate_conv_backward(clcnn_context *ctx, const clcnn_tensor *dz,
                                           const clcnn_tensor *a_prev, const clcnn_tensor *w,
                                           clcnn_conv_params p, const clcnn_tensor *da_prev,
                                           const clcnn_tensor *dw, const clcnn_tensor *db)
{
    return check_conv_backward(ctx, "clcnn_conv2d_backward", dz, a_prev, w, (conv_form){.p = p}, da_prev, dw,
                               db);
}

/* ---- convolutions described by a clcnn_conv_desc ------------------------ */

/* One output size of a desc convolution,
 * floor((n_prev + pad_begin + pad_end - dilation*(f-1) - 1) / stride) + 1,
 * after checking that the padded input fits an int and the dilated window
 * fits the padded input. */
static clcnn_status out_size_desc(clcnn_context *ctx, const char *fn, const clcnn__desc_axis *a, int *out)
{
    long long padded;
    clcnn_status s = clcnn__padded_axis(ctx, fn, a, &padded);
    if (s)
        return s;
    /* dilation*(f-1)+1 < 2^62: both factors are ints. */
    const long long extent = (long long)a->dilation * (a->f - 1) + 1;
    if (extent > padded)
        return clcnn__fail(ctx, CLCNN_ERR_SHAPE,
                           "%s: the window %s = %d with %s %d spans %lld, more than the padded input %s %lld "
                           "(n_%s_prev %d + %s %d + %s %d)",
                           fn, a->f_name, a->f, a->dil_name, a->dilation, extent, a->axis, padded, a->axis,
                           a->n, a->pb_name, a->pad_begin, a->pe_name, a->pad_end);
    *out = (int)((padded - extent) / a->stride + 1);
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
    if ((s = clcnn__check_dims(ctx, fn, "a_prev_dims", as)) ||
        (s = clcnn__check_dims(ctx, fn, "w_dims", ws)) || (s = check_conv_desc_values(ctx, fn, d)) ||
        (s = check_conv_groups(ctx, fn, as, ws, d->groups)))
        return s;
    const clcnn__desc_axis ah = {
        "H",           as.h, ws.n,         d->stride_h,     d->pad_top,     d->pad_bottom,
        d->dilation_h, "fh", "d->pad_top", "d->pad_bottom", "d->dilation_h"};
    const clcnn__desc_axis aw = {"W",           as.w,           ws.h,           d->stride_w,
                                 d->pad_left,   d->pad_right,   d->dilation_w,  "fw",
                                 "d->pad_left", "d->pad_right", "d->dilation_w"};
    clcnn_shape out = {as.n, 0, 0, ws.c};
    if ((s = out_size_desc(ctx, fn, &ah, &out.h)) || (s = out_size_desc(ctx, fn, &aw, &out.w)))
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
    return check_conv_forward(ctx, "clcnn_conv2d_forward_desc", a_prev, w, b,
                              (conv_form){.is_desc = 1, .d = d}, z);
}

clcnn_status clcnn__validate_conv_backward_desc(clcnn_context *ctx, const clcnn_tensor *dz,
                                                const clcnn_tensor *a_prev, const clcnn_tensor *w,
                                                const clcnn_conv_desc *d, const clcnn_tensor *da_prev,
                                                const clcnn_tensor *dw, const clcnn_tensor *db)
{
    return check_conv_backward(ctx, "clcnn_conv2d_backward_desc", dz, a_prev, w,
                               (conv_form){.is_desc = 1, .d = d}, da_prev, dw, db);
}
