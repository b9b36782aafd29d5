/* validate.h - every check of every operation's arguments, made in one place
 * before any work, so that a failing call touches no output. Each function
 * returns CLCNN_OK or the failure's status with its message recorded. */
#ifndef CLCNN_VALIDATE_H
#define CLCNN_VALIDATE_H

#include "internal.h"

/* Output shape of a convolution of input shape as by weights ws (HWIO). */
clcnn_status clcnn__conv_output(clcnn_context *ctx, const char *fn, clcnn_shape as, clcnn_shape ws,
                                clcnn_conv_params p, clcnn_shape *zs);

/* Output shape of pooling input shape as. */
clcnn_status clcnn__pool_output(clcnn_context *ctx, const char *fn, clcnn_shape as, clcnn_pool_params p,
                                clcnn_shape *os);

clcnn_status clcnn__validate_zero_pad(clcnn_context *ctx, const clcnn_tensor *x, int pad,
                                      const clcnn_tensor *x_pad);
clcnn_status clcnn__validate_conv_forward(clcnn_context *ctx, const clcnn_tensor *a_prev,
                                          const clcnn_tensor *w, const clcnn_tensor *b, clcnn_conv_params p,
                                          const clcnn_tensor *z);
clcnn_status clcnn__validate_conv_backward(clcnn_context *ctx, const clcnn_tensor *dz,
                                           const clcnn_tensor *a_prev, const clcnn_tensor *w,
                                           clcnn_conv_params p, const clcnn_tensor *da_prev,
                                           const clcnn_tensor *dw, const clcnn_tensor *db);
clcnn_status clcnn__validate_pool_forward(clcnn_context *ctx, const clcnn_tensor *a_prev, clcnn_pool_params p,
                                          const clcnn_tensor *a);
clcnn_status clcnn__validate_pool_backward(clcnn_context *ctx, const clcnn_tensor *da,
                                           const clcnn_tensor *a_prev, clcnn_pool_params p,
                                           const clcnn_tensor *da_prev);

/* Pooling with a clcnn_pool_desc: the output shape of input shape as (d
 * may be NULL: rejected, named d), and the operations' checks. */
clcnn_status clcnn__pool_desc_output(clcnn_context *ctx, const char *fn, clcnn_shape as,
                                     const clcnn_pool_desc *d, clcnn_shape *os);
clcnn_status clcnn__validate_pool_forward_desc(clcnn_context *ctx, const clcnn_tensor *a_prev,
                                               const clcnn_pool_desc *d, const clcnn_tensor *a);
clcnn_status clcnn__validate_pool_backward_desc(clcnn_context *ctx, const clcnn_tensor *da,
                                                const clcnn_tensor *a_prev, const clcnn_pool_desc *d,
                                                const clcnn_tensor *da_prev);
/* ---- convolutions described by a clcnn_conv_desc ------------------------ */

/* Output shape of a convolution of input shape as by weights ws
 * ([fh][fw][n_C_prev / groups][n_C]) with the parameters of d (not NULL). */
clcnn_status clcnn__conv_output_desc(clcnn_context *ctx, const char *fn, clcnn_shape as, clcnn_shape ws,
                                     const clcnn_conv_desc *d, clcnn_shape *zs);
clcnn_status clcnn__validate_conv_forward_desc(clcnn_context *ctx, const clcnn_tensor *a_prev,
                                               const clcnn_tensor *w, const clcnn_tensor *b,
                                               const clcnn_conv_desc *d, const clcnn_tensor *z);
clcnn_status clcnn__validate_conv_backward_desc(clcnn_context *ctx, const clcnn_tensor *dz,
                                                const clcnn_tensor *a_prev, const clcnn_tensor *w,
                                                const clcnn_conv_desc *d, const clcnn_tensor *da_prev,
                                                const clcnn_tensor *dw, const clcnn_tensor *db);

#endif /* CLCNN_VALIDATE_H */
