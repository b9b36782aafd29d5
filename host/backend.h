/* backend.h - the operations as each backend implements them. Arguments have
 * passed validation (validate.h) when these are called; on failure a backend
 * records the message and leaves every output unchanged. */
#ifndef CLCNN_BACKEND_H
#define CLCNN_BACKEND_H

#include "internal.h"

clcnn_status clcnn__host_zero_pad(clcnn_context *ctx, const clcnn_tensor *x, int pad, clcnn_tensor *x_pad);
clcnn_status clcnn__host_conv_forward(clcnn_context *ctx, const clcnn_tensor *a_prev, const clcnn_tensor *w,
                                      const clcnn_tensor *b, clcnn_conv_params p, clcnn_tensor *z);
clcnn_status clcnn__host_conv_backward(clcnn_context *ctx, const clcnn_tensor *dz, const clcnn_tensor *a_prev,
                                       const clcnn_tensor *w, clcnn_conv_params p, clcnn_tensor *da_prev,
                                       clcnn_tensor *dw, clcnn_tensor *db);
clcnn_status clcnn__host_pool_forward(clcnn_context *ctx, const clcnn_tensor *a_prev, clcnn_pool_params p,
                                      clcnn_tensor *a);
clcnn_status clcnn__host_pool_backward(clcnn_context *ctx, const clcnn_tensor *da, const clcnn_tensor *a_prev,
                                       clcnn_pool_params p, clcnn_tensor *da_prev);

clcnn_status clcnn__host_pool_forward_desc(clcnn_context *ctx, const clcnn_tensor *a_prev,
                                           const clcnn_pool_desc *d, clcnn_tensor *a);
clcnn_status clcnn__host_pool_backward_desc(clcnn_context *ctx, const clcnn_tensor *da,
                                            const clcnn_tensor *a_prev, const clcnn_pool_desc *d,
                                            clcnn_tensor *da_prev);
/* Convolutions described by a clcnn_conv_desc (the host backend runs every
 * form; ops.c gives the OpenCL backend the notebook's form as
 * clcnn_conv_params). */
clcnn_status clcnn__host_conv_forward_desc(clcnn_context *ctx, const clcnn_tensor *a_prev,
                                           const clcnn_tensor *w, const clcnn_tensor *b,
                                           const clcnn_conv_desc *d, clcnn_tensor *z);
clcnn_status clcnn__host_conv_backward_desc(clcnn_context *ctx, const clcnn_tensor *dz,
                                            const clcnn_tensor *a_prev, const clcnn_tensor *w,
                                            const clcnn_conv_desc *d, clcnn_tensor *da_prev, clcnn_tensor *dw,
                                            clcnn_tensor *db);

#endif /* CLCNN_BACKEND_H */
