/* cl_interop.c - the entry points of include/clcnn_cl.h. */
#include "cl_backend.h"
#include "clcnn_cl.h"

#include <string.h>

clcnn_status clcnn_context_create_cl(cl_context context, cl_device_id device, cl_command_queue queue,
                                     clcnn_context **out)
{
    static const char fn[] = "clcnn_context_create_cl";
    if (!out || !context || !device || !queue)
        return clcnn__fail(NULL, CLCNN_ERR_INVALID_ARGUMENT, "%s: %s is NULL", fn,
                           !out       ? "out"
                           : !context ? "context"
                           : !device  ? "device"
                                      : "queue");
    clcnn_context *ctx = clcnn__malloc(sizeof *ctx);
    if (!ctx)
        return clcnn__fail(NULL, CLCNN_ERR_OUT_OF_MEMORY, "%s: out of host memory for the context", fn);
    memset(ctx, 0, sizeof *ctx);
    clcnn_status s = clcnn__context_env(ctx, fn);
    if (s == CLCNN_OK)
        s = clcnn__cl_wrap(ctx, context, device, queue);
    if (s != CLCNN_OK) {
        clcnn__free(ctx);
        return s;
    }
    ctx->backend = CLCNN_BACKEND_OPENCL;
    *out = ctx;
    return CLCNN_OK;
}

cl_mem clcnn_tensor_cl_mem(const clcnn_tensor *t)
{
    return t ? t->mem : NULL;
}

cl_context clcnn_context_cl_context(const clcnn_context *ctx)
{
    return ctx && ctx->cl ? ctx->cl->context : NULL;
}

cl_device_id clcnn_context_cl_device(const clcnn_context *ctx)
{
    return ctx && ctx->cl ? ctx->cl->device : NULL;
}

cl_command_queue clcnn_context_cl_queue(const clcnn_context *ctx)
{
    return ctx && ctx->cl ? ctx->cl->queue : NULL;
}
