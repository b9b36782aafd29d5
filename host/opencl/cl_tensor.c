/* cl_tensor.c - tensors of an OpenCL context: one device buffer each, zeroed
 * at creation, copied to and from caller memory with blocking transfers. */
#include "cl_backend.h"

clcnn_status clcnn__cl_tensor_alloc(clcnn_context *ctx, clcnn_tensor *t)
{
    static const char fn[] = "clcnn_tensor_create";
    struct clcnn_cl *cl = ctx->cl;
    if (cl->max_alloc && t->nbytes > cl->max_alloc)
        return clcnn__fail(
            ctx, CLCNN_ERR_OUT_OF_MEMORY,
            "%s: the tensor (%d, %d, %d, %d) needs %zu bytes but the device \"%s\" allocates at most "
            "%llu bytes in one buffer (CL_DEVICE_MAX_MEM_ALLOC_SIZE)",
            fn, t->shape.n, t->shape.h, t->shape.w, t->shape.c, t->nbytes, ctx->device_name,
            (unsigned long long)cl->max_alloc);
    cl_int err;
    cl_mem mem = clCreateBuffer(cl->context, CL_MEM_READ_WRITE, t->nbytes, NULL, &err);
    if (err != CL_SUCCESS)
        return clcnn__cl_fail(ctx, err, fn, "clCreateBuffer");
    const cl_uchar zero = 0;
    err = clEnqueueFillBuffer(cl->queue, mem, &zero, 1, 0, t->nbytes, 0, NULL, NULL);
    if (err != CL_SUCCESS) {
        clReleaseMemObject(mem);
        return clcnn__cl_fail(ctx, err, fn, "clEnqueueFillBuffer");
    }
    t->mem = mem;
    return CLCNN_OK;
}

void clcnn__cl_tensor_free(clcnn_tensor *t)
{
    if (t->mem)
        clReleaseMemObject(t->mem);
}

clcnn_status clcnn__cl_tensor_write(clcnn_tensor *t, const void *src)
{
    cl_int err = clEnqueueWriteBuffer(t->ctx->cl->queue, t->mem, CL_TRUE, 0, t->nbytes, src, 0, NULL, NULL);
    return err == CL_SUCCESS ? CLCNN_OK
                             : clcnn__cl_fail(t->ctx, err, "clcnn_tensor_write", "clEnqueueWriteBuffer");
}

clcnn_status clcnn__cl_tensor_read(const clcnn_tensor *t, void *dst)
{
    cl_int err = clEnqueueReadBuffer(t->ctx->cl->queue, t->mem, CL_TRUE, 0, t->nbytes, dst, 0, NULL, NULL);
    return err == CL_SUCCESS ? CLCNN_OK
                             : clcnn__cl_fail(t->ctx, err, "clcnn_tensor_read", "clEnqueueReadBuffer");
}

clcnn_status clcnn__cl_scratch(clcnn_context *ctx, const char *fn, int slot, size_t nbytes, cl_mem *out)
{
    struct clcnn_cl *cl = ctx->cl;
    if (cl->scratch_bytes[slot] < nbytes) {
        cl_int err;
        cl_mem m = clCreateBuffer(cl->context, CL_MEM_READ_WRITE, nbytes, NULL, &err);
        if (err != CL_SUCCESS)
            return clcnn__cl_fail(ctx, err, fn, "clCreateBuffer (workspace)");
        if (cl->scratch[slot])
            clReleaseMemObject(cl->scratch[slot]);
        cl->scratch[slot] = m;
        cl->scratch_bytes[slot] = nbytes;
    }
    *out = cl->scratch[slot];
    return CLCNN_OK;
}
