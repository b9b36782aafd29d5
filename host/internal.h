/* internal.h - clcnn's private structures and helpers shared by host/ files.
 * Nothing here is part of the public API. */
#ifndef CLCNN_INTERNAL_H
#define CLCNN_INTERNAL_H

#include "clcnn.h"

#include <stddef.h>

/* A 4-D NHWC shape. */
typedef struct {
    int n, h, w, c;
} clcnn_shape;

/* The OpenCL backend's part of a context (host/opencl/cl_backend.h). */
struct clcnn_cl;

struct clcnn_context {
    clcnn_backend backend; /* HOST or OPENCL, never AUTO */
    char device_name[256];
    char *error; /* last failure message, heap, grown as needed */
    size_t error_cap;
    struct clcnn_cl *cl;       /* OPENCL: device, queue, programs; NULL for HOST */
    size_t workspace_limit;    /* largest device workspace of a call, bytes */
    clcnn_conv_algo conv_algo; /* what CLCNN_CONV_AUTO means (CLCNN_CONV_ALGO) */
    int tuning;                /* measure AUTO's choice per shape (CLCNN_TUNE) */
    double tune_budget_s;      /* time for the timed runs of one tuning (CLCNN_TUNE_BUDGET) */
};

/* The default of clcnn_context_workspace_limit: 256 MiB. */
#define CLCNN_DEFAULT_WORKSPACE_LIMIT ((size_t)256 << 20)

/* Sets ctx's workspace limit, algorithm override and tuning from their
 * defaults and the environment (CLCNN_WORKSPACE_LIMIT, CLCNN_CONV_ALGO,
 * CLCNN_TUNE, CLCNN_TUNE_BUDGET); a bad value
 * fails naming the variable, for the function fn. */
clcnn_status clcnn__context_env(clcnn_context *ctx, const char *fn);

struct clcnn_tensor {
    clcnn_context *ctx;
    clcnn_dtype dtype;
    clcnn_shape shape;
    size_t count;        /* n*h*w*c, checked against overflow at creation */
    size_t nbytes;       /* count * element size */
    void *host;          /* HOST: the data */
    struct _cl_mem *mem; /* OPENCL: the device buffer (a cl_mem) */
};

/* Records a printf-style message as ctx's last error (or this thread's when
 * ctx is NULL) and returns status, so that validation reads
 *   return clcnn__fail(ctx, CLCNN_ERR_SHAPE, "...", ...); */
clcnn_status clcnn__fail(clcnn_context *ctx, clcnn_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Host allocation, the one place every library allocation goes through. */
void *clcnn__malloc(size_t nbytes);
void clcnn__free(void *p);

/* Size in bytes of one element of dtype (0 for an unknown dtype). */
size_t clcnn__dtype_size(clcnn_dtype dtype);

/* a * b into *out; 0 when it overflows size_t, 1 otherwise. */
int clcnn__mul_size(size_t a, size_t b, size_t *out);

#endif /* CLCNN_INTERNAL_H */
