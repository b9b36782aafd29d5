/* cl_tensor.c - tensors of an OpenCL context: one device buffer each, zeroed
 * at creation, copied to and from caller memory with blocking transfers. */
#include "cl_backend.h"

/* Zeroes bytes [off, off + n) of mem: a fill with a
 * 128-byte pattern where off allows it, the tail written from a static zero
 * block. NVIDIA's driver (580, H200) fails or hangs a fill whose end,
 * counted in pattern copies, reaches 2^31 (a 1-byte pattern over 2 GiB, a
 * 4-byte one at 8 GiB), and the process then cannot open a context. */
static cl_int zero_fill(cl_command_queue q, cl_mem mem, size_t off, size_t n, const char **what)
{
    static const cl_uint zero[32] = {0};
    size_t p = sizeof zero;
    while (p > 4 && off % p)
        p /= 2;
    const size_t bulk = n / p * p;
    *what = "clEnqueueFillBuffer";
    cl_int err = bulk ? clEnqueueFillBuffer(q, mem, zero, p, off, bulk, 0, NULL, NULL) : CL_SUCCESS;
    if (err == CL_SUCCESS && n > bulk) { /* n - bulk < p: a non-blocking write from static storage */
        *what = "clEnqueueWriteBuffer (zeroing)";
        err = clEnqueueWriteBuffer(q, mem, CL_FALSE, off + bulk, n - bulk, zero, 0, NULL, NULL);
    }
    return err;
}

#ifdef CLCNN_CANARIES
#include <stdio.h>
#include <stdlib.h>

/* Canary builds: one buffer of guard + nbytes + guard bytes, the guards
 * filled with the tensor's pattern and the data zeroed, and t->mem a
 * sub-buffer on the data, so that every consumer of t->mem (kernels,
 * CLBlast, reads and writes, clcnn_tensor_cl_mem) sees a buffer of exactly
 * nbytes. Leaves t->mem NULL (no error) when the guarded buffer would exceed
 * CL_DEVICE_MAX_MEM_ALLOC_SIZE. */
static clcnn_status alloc_guarded(clcnn_context *ctx, clcnn_tensor *t)
{
    static const char fn[] = "clcnn_tensor_create";
    struct clcnn_cl *cl = ctx->cl;
    const size_t align = cl->base_align; /* where the sub-buffer may start */
    const size_t guard = (CLCNN_DEVICE_GUARD + align - 1) / align * align;
    cl_int err;
    if (cl->max_alloc && t->nbytes + 2 * guard > cl->max_alloc)
        return CLCNN_OK;
    cl_mem block = clCreateBuffer(cl->context, CL_MEM_READ_WRITE, t->nbytes + 2 * guard, NULL, &err);
    if (err != CL_SUCCESS)
        return clcnn__cl_fail(ctx, err, fn, "clCreateBuffer (guarded)");
    /* The guards are written from a block of the pattern (blocking: the
     * block is on the stack), not filled: a fill ending 2^31 pattern copies
     * or more into the buffer fails on NVIDIA's driver (zero_fill). */
    cl_uint pattern[256];
    for (size_t j = 0; j < sizeof pattern / sizeof pattern[0]; j++)
        pattern[j] = clcnn__guard_pattern(t);
    const char *what = "clEnqueueWriteBuffer (guards)";
    err = CL_SUCCESS;
    for (size_t j = 0; j < guard && err == CL_SUCCESS; j += sizeof pattern) {
        const size_t len = guard - j < sizeof pattern ? guard - j : sizeof pattern;
        err = clEnqueueWriteBuffer(cl->queue, block, CL_TRUE, j, len, pattern, 0, NULL, NULL);
        if (err == CL_SUCCESS)
            err = clEnqueueWriteBuffer(cl->queue, block, CL_TRUE, guard + t->nbytes + j, len, pattern, 0,
                                       NULL, NULL);
    }
    if (err == CL_SUCCESS)
        err = zero_fill(cl->queue, block, guard, t->nbytes, &what);
    cl_mem mem = NULL;
    if (err == CL_SUCCESS) {
        what = "clCreateSubBuffer";
        const cl_buffer_region region = {guard, t->nbytes};
        mem = clCreateSubBuffer(block, CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION, &region, &err);
    }
    if (err != CL_SUCCESS) {
        clReleaseMemObject(block);
        return clcnn__cl_fail(ctx, err, fn, what);
    }
    t->mem = mem;
    t->mem_block = block;
    t->guard = guard;
    return CLCNN_OK;
}

int clcnn__cl_tensor_guards_ok(const clcnn_tensor *t, char *report, size_t report_len)
{
    unsigned char *bytes = malloc(t->guard);
    if (!bytes) {
        snprintf(report, report_len, "out of host memory for reading %zu guard bytes", t->guard);
        return -1;
    }
    int ok = 1;
    for (int after = 0; after < 2 && ok == 1; after++) {
        cl_int err = clEnqueueReadBuffer(t->ctx->cl->queue, t->mem_block, CL_TRUE,
                                         after ? t->guard + t->nbytes : 0, t->guard, bytes, 0, NULL, NULL);
        if (err != CL_SUCCESS) {
            snprintf(report, report_len, "clEnqueueReadBuffer of a guard failed with %s (%d)",
                     clcnn__cl_error_name(err), (int)err);
            ok = -1;
        } else {
            ok = clcnn__guard_compare(t, bytes, t->guard, "device", after, report, report_len);
        }
    }
    free(bytes);
    return ok;
}
#endif

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
#ifdef CLCNN_CANARIES
    clcnn_status gs = alloc_guarded(ctx, t);
    if (gs != CLCNN_OK || t->mem)
        return gs; /* else the guards did not fit one buffer: a plain one */
#endif
    cl_mem mem = clCreateBuffer(cl->context, CL_MEM_READ_WRITE, t->nbytes, NULL, &err);
    if (err != CL_SUCCESS)
        return clcnn__cl_fail(ctx, err, fn, "clCreateBuffer");
    const char *what;
    err = zero_fill(cl->queue, mem, 0, t->nbytes, &what);
    if (err != CL_SUCCESS) {
        clReleaseMemObject(mem);
        return clcnn__cl_fail(ctx, err, fn, what);
    }
    t->mem = mem;
    return CLCNN_OK;
}

void clcnn__cl_tensor_free(clcnn_tensor *t)
{
    if (t->mem)
        clReleaseMemObject(t->mem);
    if (t->mem_block)
        clReleaseMemObject(t->mem_block);
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

void clcnn__cl_call_begin(struct clcnn_cl *cl)
{
    cl->call = (clcnn_cl_call){0, {0}};
}

size_t clcnn__cl_workspace_bytes(const struct clcnn_cl *cl)
{
    size_t held = 0;
    for (int slot = 0; slot < CLCNN_SCRATCH_SLOTS; slot++)
        held += cl->scratch_bytes[slot];
    return held;
}

static void release_slot(struct clcnn_cl *cl, int slot)
{
    if (cl->scratch[slot])
        clReleaseMemObject(cl->scratch[slot]);
    cl->scratch[slot] = NULL;
    cl->scratch_bytes[slot] = 0;
}

void clcnn__cl_release_idle(struct clcnn_cl *cl)
{
    for (int slot = 0; slot < CLCNN_SCRATCH_SLOTS; slot++)
        if (!(cl->call.slots >> slot & 1u))
            release_slot(cl, slot);
}

size_t clcnn__cl_scratch_room(const clcnn_context *ctx, int slot)
{
    size_t used = 0;
    for (int s = 0; s < CLCNN_SCRATCH_SLOTS; s++)
        if (s != slot && (ctx->cl->call.slots >> s & 1u))
            used += ctx->cl->call.need[s];
    return used < ctx->workspace_limit ? ctx->workspace_limit - used : 0;
}

clcnn_status clcnn__cl_scratch(clcnn_context *ctx, const char *fn, int slot, size_t nbytes, cl_mem *out)
{
    struct clcnn_cl *cl = ctx->cl;
    const unsigned bit = 1u << slot;
    cl->call.slots |= bit;
    if (cl->call.need[slot] < nbytes)
        cl->call.need[slot] = nbytes;
    const size_t limit = ctx->workspace_limit, have = cl->scratch_bytes[slot];
    /* what the context would hold with this slot as it must be */
    const size_t held = clcnn__cl_workspace_bytes(cl) - have + (have > nbytes ? have : nbytes);
    if (held > limit)
        clcnn__cl_release_idle(cl);
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
