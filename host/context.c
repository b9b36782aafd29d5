/* context.c - creating and destroying contexts: choosing the backend from the
 * options or the environment, and recording why AUTO fell back. */
#include "internal.h"
#ifdef CLCNN_HAVE_OPENCL
#include "opencl/cl_backend.h"
#endif

#include <ctype.h>
#include <stdint.h>
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

/* Reads a byte count such as "1048576", "64k", "256M" or "2G" (binary
 * units); 0 when v is not one. */
static size_t parse_bytes(const char *v)
{
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    if (end == v || *v == '-')
        return 0;
    int shift = 0;
    switch (tolower((unsigned char)*end)) {
    case 'k': shift = 10, end++; break;
    case 'm': shift = 20, end++; break;
    case 'g': shift = 30, end++; break;
    default: break;
    }
    if (*end || n > (SIZE_MAX >> shift))
        return 0;
    return (size_t)n << shift;
}

clcnn_status clcnn__context_env(clcnn_context *ctx, const char *fn)
{
    ctx->workspace_limit = CLCNN_DEFAULT_WORKSPACE_LIMIT;
    ctx->conv_algo = CLCNN_CONV_AUTO;
    ctx->tuning = 0;
    ctx->tune_budget_s = 1.0;
    const char *v = getenv("CLCNN_TUNE");
    if (v && *v && !(ctx->tuning = strcmp(v, "1") == 0) && strcmp(v, "0") != 0)
        return clcnn__fail(NULL, CLCNN_ERR_INVALID_ARGUMENT,
                           "%s: the environment variable CLCNN_TUNE is \"%.64s\"; expected 0 or 1", fn, v);
    v = getenv("CLCNN_TUNE_BUDGET");
    if (v && *v) {
        char *end;
        const double b = strtod(v, &end);
        if (*end || !(b >= 0.0 && b <= 3600.0))
            return clcnn__fail(
                NULL, CLCNN_ERR_INVALID_ARGUMENT,
                "%s: the environment variable CLCNN_TUNE_BUDGET is \"%.64s\"; expected seconds "
                "from 0 to 3600",
                fn, v);
        ctx->tune_budget_s = b;
    }
    v = getenv("CLCNN_WORKSPACE_LIMIT");
    if (v && *v && !(ctx->workspace_limit = parse_bytes(v)))
        return clcnn__fail(NULL, CLCNN_ERR_INVALID_ARGUMENT,
                           "%s: the environment variable CLCNN_WORKSPACE_LIMIT is \"%.64s\"; expected a "
                           "byte count of at least 1 such as 268435456, 64k, 256M or 1G",
                           fn, v);
    v = getenv("CLCNN_CONV_ALGO");
    if (!v || !*v || same_word(v, "auto"))
        ctx->conv_algo = CLCNN_CONV_AUTO;
    else if (same_word(v, "direct"))
        ctx->conv_algo = CLCNN_CONV_DIRECT;
    else if (same_word(v, "gemm"))
        ctx->conv_algo = CLCNN_CONV_GEMM;
    else
        return clcnn__fail(NULL, CLCNN_ERR_INVALID_ARGUMENT,
                           "%s: the environment variable CLCNN_CONV_ALGO is \"%.64s\"; expected auto, direct "
                           "or gemm",
                           fn, v);
    return CLCNN_OK;
}

clcnn_status clcnn_context_set_workspace_limit(clcnn_context *ctx, size_t bytes)
{
    if (!ctx)
        return clcnn__fail(NULL, CLCNN_ERR_INVALID_ARGUMENT,
                           "clcnn_context_set_workspace_limit: ctx is NULL");
    if (bytes == 0)
        return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT,
                           "clcnn_context_set_workspace_limit: bytes is 0; the limit must be at least 1");
    ctx->workspace_limit = bytes;
#ifdef CLCNN_HAVE_OPENCL
    if (ctx->cl && clcnn__cl_workspace_bytes(ctx->cl) > bytes) {
        clcnn__cl_call_begin(ctx->cl); /* between calls: every workspace is idle */
        clcnn__cl_release_idle(ctx->cl);
    }
#endif
    return CLCNN_OK;
}

clcnn_status clcnn_context_set_tuning(clcnn_context *ctx, int on)
{
    if (!ctx)
        return clcnn__fail(NULL, CLCNN_ERR_INVALID_ARGUMENT, "clcnn_context_set_tuning: ctx is NULL");
    if (on != 0 && on != 1)
        return clcnn__fail(ctx, CLCNN_ERR_INVALID_ARGUMENT,
                           "clcnn_context_set_tuning: on is %d; expected 0 or 1", on);
    ctx->tuning = on;
    return CLCNN_OK;
}

int clcnn_context_tuning(const clcnn_context *ctx)
{
    return ctx ? ctx->tuning : 0;
}

size_t clcnn_context_workspace_limit(const clcnn_context *ctx)
{
    return ctx ? ctx->workspace_limit : 0;
}

size_t clcnn_context_workspace_bytes(const clcnn_context *ctx)
{
#ifdef CLCNN_HAVE_OPENCL
    if (ctx && ctx->cl)
        return clcnn__cl_workspace_bytes(ctx->cl);
#endif
    (void)ctx;
    return 0;
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
    if (clcnn__context_env(ctx, "clcnn_context_create") != CLCNN_OK) {
        clcnn__free(ctx);
        return CLCNN_ERR_INVALID_ARGUMENT;
    }

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
