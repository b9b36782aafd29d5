/* tensor.c - tensor creation, destruction, and the copies between caller
 * memory and a tensor. */
#include "internal.h"
#ifdef CLCNN_HAVE_OPENCL
#include "opencl/cl_backend.h"
#endif

#include <stdint.h>
#include <stdio.h>
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
#ifdef CLCNN_CANARIES
    /* nbytes <= SIZE_MAX / 8 (above), so the guards cannot overflow it. */
    t->guard = CLCNN_HOST_GUARD;
    t->host_block = clcnn__malloc(nbytes + 2 * t->guard);
    t->host = t->host_block ? (unsigned char *)t->host_block + t->guard : NULL;
    if (t->host) {
        const uint32_t pattern = clcnn__guard_pattern(t);
        unsigned char *after = (unsigned char *)t->host + nbytes;
        for (size_t j = 0; j < t->guard; j += sizeof pattern) {
            memcpy((unsigned char *)t->host_block + j, &pattern, sizeof pattern);
            memcpy(after + j, &pattern, sizeof pattern);
        }
    }
#else
    t->host = clcnn__malloc(nbytes);
#endif
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
    clcnn__free(t->host_block ? t->host_block : t->host);
    clcnn__free(t);
}

#ifdef CLCNN_CANARIES
int clcnn__guard_compare(const clcnn_tensor *t, const unsigned char *bytes, size_t n, const char *where,
                         int after, char *report, size_t report_len)
{
    const uint32_t pattern = clcnn__guard_pattern(t);
    unsigned char want[sizeof pattern];
    memcpy(want, &pattern, sizeof pattern);
    size_t bad = 0, first = 0, last = 0;
    for (size_t j = 0; j < n; j++)
        if (bytes[j] != want[j % sizeof pattern]) {
            if (!bad++)
                first = j;
            last = j;
        }
    if (!bad)
        return 1;
    /* Positions relative to the data: "byte 3 before" is data[-3], "byte 0
     * after" is data[nbytes]. */
    const size_t pos_first = after ? first : n - first, pos_last = after ? last : n - last;
    if (report && report_len)
        snprintf(report, report_len,
                 "%s tensor (%d, %d, %d, %d) %s, %zu bytes: %zu of the %zu guard bytes %s the data changed, "
                 "from byte %zu to byte %zu %s it (first 0x%02x, expected 0x%02x)",
                 where, t->shape.n, t->shape.h, t->shape.w, t->shape.c, dtype_name(t->dtype), t->nbytes, bad,
                 n, after ? "after" : "before", after ? pos_first : pos_last, after ? pos_last : pos_first,
                 after ? "after" : "before", bytes[first], want[first % sizeof pattern]);
    return 0;
}

int clcnn__tensor_guards_ok(const clcnn_tensor *t, char *report, size_t report_len)
{
    if (report && report_len)
        report[0] = '\0';
    if (!t || !t->guard)
        return 1;
#ifdef CLCNN_HAVE_OPENCL
    if (t->mem)
        return clcnn__cl_tensor_guards_ok(t, report, report_len);
#endif
    const unsigned char *data = t->host;
    if (!clcnn__guard_compare(t, data - t->guard, t->guard, "host", 0, report, report_len))
        return 0;
    return clcnn__guard_compare(t, data + t->nbytes, t->guard, "host", 1, report, report_len);
}

void *clcnn__tensor_host_data(clcnn_tensor *t)
{
    return t ? t->host : NULL;
}
#endif

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
