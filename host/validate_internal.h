/* validate_internal.h - the checks that validate.c, validate_conv.c and
 * validate_pool.c share (private to them; validate.h is the interface). */
#ifndef CLCNN_VALIDATE_INTERNAL_H
#define CLCNN_VALIDATE_INTERNAL_H

#include "validate.h"

#define SHAPE_FMT "(%d, %d, %d, %d)"
#define SHAPE_ARGS(s) (s).n, (s).h, (s).w, (s).c

/* One tensor argument: named, present unless optional, and made in ctx. */
typedef struct {
    const char *name;
    const clcnn_tensor *t;
    int optional;
} clcnn__arg;

/* Checks the context, then each tensor's presence, context and dtype (all
 * must share the dtype of the first), then that no output (args[first_out]
 * onwards) is the same tensor as any other argument. */
clcnn_status clcnn__check_args(clcnn_context *ctx, const char *fn, const clcnn__arg *args, int nargs,
                               int first_out);

/* An output (or gradient) tensor t, unless NULL, must have exactly the shape
 * want. */
clcnn_status clcnn__check_shape(clcnn_context *ctx, const char *fn, const char *name, const clcnn_tensor *t,
                                clcnn_shape want);

/* One output size, floor((n_prev + 2*pad - f) / stride) + 1, after checking
 * that the window fits the padded input and the result fits an int. */
clcnn_status clcnn__out_size(clcnn_context *ctx, const char *fn, const char *axis, int n_prev, int f,
                             const char *fname, int pad, int stride, int *out);

/* Every dimension of s (the dims argument called name) is >= 1. */
clcnn_status clcnn__check_dims(clcnn_context *ctx, const char *fn, const char *name, clcnn_shape s);

/* One axis of a convolution or pooling descriptor: the input size, the
 * window, stride, pads and dilation on it, and the names the messages give
 * them ("d->pad_top", ...). */
typedef struct {
    const char *axis; /* "H" or "W" */
    int n, f, stride, pad_begin, pad_end, dilation;
    const char *f_name, *pb_name, *pe_name, *dil_name;
} clcnn__desc_axis;

/* The padded input size of axis a, n + pad_begin + pad_end, checked to fit
 * an int. */
clcnn_status clcnn__padded_axis(clcnn_context *ctx, const char *fn, const clcnn__desc_axis *a,
                                long long *padded);

#endif
