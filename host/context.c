/* context.c - creating and destroying contexts: choosing the backend from the
 * options or the environment, and recording why AUTO fell back. */
#include "internal.h"
#ifdef CLCNN_HAVE_OPENCL
#include "opencl/cl_backend.h"
#endif

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int same_word(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return 0;
    return *a == *b;
}

/* Reads CLCNN_BACKEND; unset or empty means AUTO. */
static clcnn_status backend_from_env(clcnn_backend *backend)
{
    const char *v = getenv("CLCNN_BACKEND");
    if (!v || !*v || same_word(v, "auto"))
        *backend = CLCNN_BACKEND_AUTO;
    else if (same_word(v, "opencl"))
        *backend = CLCNN_BACKEND_OPENCL;
    else if (same_word(v, "host"))
        *backend = CLCNN_BACKEND_HOST;
    else
        return clcnn__fail(NULL, CLCNN_ERR_INVALID_ARGUMENT,
                           "clcnn_context_create: the environment variable CLCNN_BACKEND is \"%.64s\"; "
                           "expected auto, opencl or host",
                           v);
    return CLCNN_OK;
}

clcnn_status clcnn_context_create(const clcnn_options *opts, clcnn_context **out)
{
    if (!out)
        return clcnn__fail(NULL, CLCNN_ERR_INVALID_ARGUMENT, "clcnn_context_create: out is NULL");

    clcnn_backend backend = CLCNN_BACKEND_AUTO;
    if (opts) {
        backend = opts->backend;
        if (backend != CLCNN_BACKEND_AUTO && backend != CLCNN_BACKEND_OPENCL && backend != CLCNN_BACKEND_HOST)
            return clcnn__fail(NULL, CLCNN_ERR_INVALID_ARGUMENT,
                               "clcnn_context_create: opts->backend is %d, not a clcnn_backend value",
                               (int)backend);
    } else {
        clcnn_status s = backend_from_env(&backend);
        if (s != CLCNN_OK)
            return s;
    }

    clcnn_context *ctx = clcnn__malloc(sizeof *ctx);
    if (!ctx)
        return clcnn__fail(NULL, CLCNN_ERR_OUT_OF_MEMORY,
                           "clcnn_context_create: out of host memory for the context (%zu bytes)",
                           sizeof *ctx);
    memset(ctx, 0, sizeof *ctx);
    ctx->backend = CLCNN_BACKEND_HOST;
    strcpy(ctx->device_name, "host reference");

    if (backend != CLCNN_BACKEND_HOST) {
        const char *spec = opts ? opts->device : getenv("CLCNN_DEVICE");
        char why[1024];
#ifdef CLCNN_HAVE_OPENCL
        clcnn_status s = clcnn__cl_open(ctx, spec, why, sizeof why);
#else
        clcnn_status s = CLCNN_ERR_NO_DEVICE;
        (void)spec;
        snprintf(why, sizeof why, "this build of clcnn has no OpenCL support (CLCNN_OPENCL=OFF)");
#endif
        if (s == CLCNN_OK) {
            ctx->backend = CLCNN_BACKEND_OPENCL;
        } else if (backend == CLCNN_BACKEND_OPENCL) {
            clcnn_context_destroy(ctx);
            return clcnn__fail(NULL, s, "clcnn_context_create: the OpenCL backend was requested but %s", why);
        } else {
            clcnn__fail(ctx, CLCNN_OK,
                        "clcnn_context_create: backend AUTO fell back to the host reference path: %s", why);
        }
    }
    *out = ctx;
    return CLCNN_OK;
}

void clcnn_context_destroy(clcnn_context *ctx)
{
    if (!ctx)
        return;
#ifdef CLCNN_HAVE_OPENCL
    clcnn__cl_close(ctx);
#endif
    clcnn__free(ctx->error);
    clcnn__free(ctx);
}

clcnn_backend clcnn_context_backend(const clcnn_context *ctx)
{
    return ctx ? ctx->backend : CLCNN_BACKEND_HOST;
}

const char *clcnn_context_device_name(const clcnn_context *ctx)
{
    return ctx ? ctx->device_name : "";
}

clcnn_status clcnn_finish(clcnn_context *ctx)
{
    if (!ctx)
        return clcnn__fail(NULL, CLCNN_ERR_INVALID_ARGUMENT, "clcnn_finish: ctx is NULL");
#ifdef CLCNN_HAVE_OPENCL
    if (ctx->cl)
        return clcnn__cl_finish(ctx);
#endif
    return CLCNN_OK; /* the host backend runs every call to completion */
}
