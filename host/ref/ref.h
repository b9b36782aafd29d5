/* ref.h - the reference path: the notebook's algorithms as plain C loops on
 * double arrays. It is the host backend and the oracle of every test, so it
 * stays obviously correct rather than fast. */
#ifndef CLCNN_REF_H
#define CLCNN_REF_H

#include "internal.h"

/* Offset of element [i][y][x][k] in a row-major NHWC array of shape s. */
static inline size_t clcnn_ref_at(clcnn_shape s, int i, int y, int x, int k)
{
    return (((size_t)i * (size_t)s.h + (size_t)y) * (size_t)s.w + (size_t)x) * (size_t)s.c + (size_t)k;
}

/* Number of elements of shape s (validated not to overflow by the caller). */
static inline size_t clcnn_ref_count(clcnn_shape s)
{
    return (size_t)s.n * (size_t)s.h * (size_t)s.w * (size_t)s.c;
}

/* The maximum of n values as numpy's np.max computes it: NaN if any is NaN. */
double clcnn_ref_max(const double *x, size_t n);

/* zero_pad: x [xs] into x_pad [n][h+2p][w+2p][c]. */
void clcnn_ref_zero_pad(const double *x, clcnn_shape xs, int pad, double *x_pad);

/* conv_forward. b may be NULL (no bias). Returns 0, or -1 when a scratch
 * allocation fails (z is then undefined). */
int clcnn_ref_conv_forward(const double *a_prev, clcnn_shape as, const double *w, clcnn_shape ws,
                           const double *b, int stride, int pad, double *z, clcnn_shape zs);

/* conv_backward. Any of da_prev, dw, db may be NULL to skip it. Returns 0, or
 * -1 when a scratch allocation fails (outputs are then undefined). */
int clcnn_ref_conv_backward(const double *dz, clcnn_shape zs, const double *a_prev, clcnn_shape as,
                            const double *w, clcnn_shape ws, int stride, int pad, double *da_prev, double *dw,
                            double *db);

/* Convolution with d's parameters (ref_conv_desc.c): w is
 * [fh][fw][n_C_prev / groups][n_C], b may be NULL. Needs no scratch memory. */
void clcnn_ref_conv_forward_desc(const double *a_prev, clcnn_shape as, const double *w, clcnn_shape ws,
                                 const double *b, const clcnn_conv_desc *d, double *z, clcnn_shape zs);

/* Its gradients; any of da_prev, dw, db may be NULL to skip it. */
void clcnn_ref_conv_backward_desc(const double *dz, clcnn_shape zs, const double *a_prev, clcnn_shape as,
                                  const double *w, clcnn_shape ws, const clcnn_conv_desc *d, double *da_prev,
                                  double *dw, double *db);

/* pool_forward: a [os] from a_prev [as]. Returns 0, or -1 on allocation
 * failure. */
int clcnn_ref_pool_forward(const double *a_prev, clcnn_shape as, int f, int stride, clcnn_pool_mode mode,
                           double *a, clcnn_shape os);

/* pool_backward: da_prev [as] from da [os] and a_prev [as]. Returns 0, or -1
 * on allocation failure. */
int clcnn_ref_pool_backward(const double *da, clcnn_shape os, const double *a_prev, clcnn_shape as, int f,
                            int stride, clcnn_pool_mode mode, double *da_prev);

/* Pooling with a desc (ref_pool_desc.c), for arguments that passed
 * validation: a [os] from a_prev [as], and da_prev [as] from da [os] and
 * a_prev. The notebook's form gives clcnn_ref_pool_forward's and
 * clcnn_ref_pool_backward's bits: the same windows, in the same order,
 * through the same step functions. Return 0, or -1 when a scratch
 * allocation fails (outputs are then undefined). */
int clcnn_ref_pool_desc_forward(const double *a_prev, clcnn_shape as, const clcnn_pool_desc *d, double *a,
                                clcnn_shape os);
int clcnn_ref_pool_desc_backward(const double *da, clcnn_shape os, const double *a_prev, clcnn_shape as,
                                 const clcnn_pool_desc *d, double *da_prev);

#endif /* CLCNN_REF_H */
