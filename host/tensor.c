/* tensor.c - tensor creation, destruction, and the copies between caller
 * memory and a tensor. */
#include "internal.h"
#ifdef CLCNN_HAVE_OPENCL
#include "opencl/cl_backend.h"
#endif

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *dtype_name(clcnn_dtype d)
{
    return d == CLCNN_F64 ? "F64" : "F32";
}

clcnn_status clcnn_tensor_create(clcnn_context *ctx, clcnn_dtype dtype, int n, int h, int w, int c,
                                 clcnn_tensor **out)
{
    static const char fn[] = "clcnn_tensor_create";
    if (!ctx)
        return clcnn__fail(NULL, CLCNN_ERR_INVALID_ARGUMENT, "%s: ctx is NULL", fn);
    if (!out)
        return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT, "%s: out is NULL", fn);
    if (clcnn__dtype_size(dtype) == 0)
        return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT, "%s: dtype is %d, not a clcnn_dtype value", fn,
                           (int)dtype);
    const int dims[4] = {n, h, w, c};
    static const char *const names[4] = {"n", "h", "w", "c"};
    for (int i = 0; i < 4; i++)
        if (dims[i] < 1)
            return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT, "%s: %s is %d; every dimension must be >= 1",
                               fn, names[i], dims[i]);

    /* The element count times 8 must fit size_t whatever the dtype, since the
     * reference path works on double copies of F32 tensors. */
    size_t count = 1, nbytes;
    for (int i = 0; i < 4; i++)
        if (!clcnn__mul_size(count, (size_t)dims[i], &count))
            count = SIZE_MAX;
    if (count > SIZE_MAX / sizeof(double) || !clcnn__mul_size(count, clcnn__dtype_size(dtype), &nbytes))
        return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT,
                           "%s: shape (%d, %d, %d, %d) has more elements than size_t can count in bytes", fn,
                           n, h, w, c);

    clcnn_tensor *t = clcnn__malloc(sizeof *t);
    if (!t)
        return clcnn__fail(ctx, CLCNN_ERR_OUT_OF_MEMORY, "%s: out of host memory for a tensor", fn);
    memset(t, 0, sizeof *t);
    t->ctx = ctx;
    t->dtype = dtype;
    t->shape = (clcnn_shape){n, h, w, c};
    t->count = count;
    t->nbytes = nbytes;
#ifdef CLCNN_HAVE_OPENCL
    if (ctx->cl) {
        clcnn_status s = clcnn__cl_tensor_alloc(ctx, t);
        if (s != CLCNN_OK) {
            clcnn__free(t);
            return s;
        }
        *out = t;
        return CLCNN_OK;
    }
#endif
    t->host = clcnn__malloc(nbytes);
    if (!t->host) {
        clcnn__free(t);
        return clcnn__fail(ctx, CLCNN_ERR_OUT_OF_MEMORY,
                           "%s: out of host memory for a %s tensor (%d, %d, %d, %d) of %zu bytes", fn,
                           dtype_name(dtype), n, h, w, c, nbytes);
    }
    memset(t->host, 0, nbytes);
    *out = t;
    return CLCNN_OK;
}

void clcnn_tensor_destroy(clcnn_tensor *t)
{
    if (!t)
        return;
#ifdef CLCNN_HAVE_OPENCL
    if (t->mem)
        clcnn__cl_tensor_free(t);
#endif
    clcnn__free(t->host);
    clcnn__free(t);
}

/* The checks shared by write and read. */
static clcnn_status check_copy(const char *fn, const clcnn_tensor *t, const void *p, const char *pname,
                               size_t nbytes)
{
    if (!t)
        return clcnn__fail(NULL, CLCNN_ERR_INVALID_ARGUMENT, "%s: t is NULL", fn);
    if (!p)
        return clcnn__fail(t->ctx, CLCNN_ERR_INVALID_ARGUMENT, "%s: %s is NULL", fn, pname);
    if (nbytes != t->nbytes)
        return clcnn__fail(t->ctx, CLCNN_ERR_INVALID_ARGUMENT,
                           "%s: nbytes is %zu but the %s tensor (%d, %d, %d, %d) holds %zu bytes", fn, nbytes,
                           dtype_name(t->dtype), t->shape.n, t->shape.h, t->shape.w, t->shape.c, t->nbytes);
    return CLCNN_OK;
}

clcnn_status clcnn_tensor_write(clcnn_tensor *t, const void *src, size_t nbytes)
{
    clcnn_status s = check_copy("clcnn_tensor_write", t, src, "src", nbytes);
    if (s != CLCNN_OK)
        return s;
#ifdef CLCNN_HAVE_OPENCL
    if (t->mem)
        return clcnn__cl_tensor_write(t, src);
#endif
    memcpy(t->host, src, nbytes);
    return CLCNN_OK;
}

clcnn_status clcnn_tensor_read(const clcnn_tensor *t, void *dst, size_t nbytes)
{
    clcnn_status s = check_copy("clcnn_tensor_read", t, dst, "dst", nbytes);
    if (s != CLCNN_OK)
        return s;
#ifdef CLCNN_HAVE_OPENCL
    if (t->mem)
        return clcnn__cl_tensor_read(t, dst);
#endif
    memcpy(dst, t->host, nbytes);
    return CLCNN_OK;
}

void clcnn_tensor_shape(const clcnn_tensor *t, int dims[4])
{
    if (!dims)
        return;
    dims[0] = t ? t->shape.n : 0;
    dims[1] = t ? t->shape.h : 0;
    dims[2] = t ? t->shape.w : 0;
    dims[3] = t ? t->shape.c : 0;
}

clcnn_dtype clcnn_tensor_dtype(const clcnn_tensor *t)
{
    return t ? t->dtype : CLCNN_F32;
}
