/* status.c - status names, the version string, and the last-error messages
 * kept per context (or per thread when there is no context). */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#ifndef CLCNN_VERSION_STRING
#define CLCNN_VERSION_STRING "0.0.0"
#endif

/* Messages of failures that had no context to hold them. */
static _Thread_local char thread_error[1024];

const char *clcnn_version(void)
{
    return CLCNN_VERSION_STRING;
}

const char *clcnn_status_string(clcnn_status s)
{
    switch (s) {
    case CLCNN_OK: return "CLCNN_OK";
    case CLCNN_ERR_INVALID_ARGUMENT: return "CLCNN_ERR_INVALID_ARGUMENT";
    case CLCNN_ERR_SHAPE: return "CLCNN_ERR_SHAPE";
    case CLCNN_ERR_UNSUPPORTED: return "CLCNN_ERR_UNSUPPORTED";
    case CLCNN_ERR_OUT_OF_MEMORY: return "CLCNN_ERR_OUT_OF_MEMORY";
    case CLCNN_ERR_DEVICE: return "CLCNN_ERR_DEVICE";
    case CLCNN_ERR_BUILD: return "CLCNN_ERR_BUILD";
    case CLCNN_ERR_NO_DEVICE: return "CLCNN_ERR_NO_DEVICE";
    }
    return "CLCNN_STATUS_UNKNOWN";
}

/* Formats into the context's buffer, growing it to fit (a build log can be
 * long); if growing fails, the message is cut to what the buffer holds. */
static void record(clcnn_context *ctx, const char *fmt, va_list ap)
{
    if (!ctx) {
        vsnprintf(thread_error, sizeof thread_error, fmt, ap);
        return;
    }
    va_list again;
    va_copy(again, ap);
    int need = vsnprintf(NULL, 0, fmt, ap);
    if (need >= 0 && (size_t)need + 1 > ctx->error_cap) {
        char *bigger = clcnn__malloc((size_t)need + 1);
        if (bigger) {
            clcnn__free(ctx->error);
            ctx->error = bigger;
            ctx->error_cap = (size_t)need + 1;
        }
    }
    if (ctx->error_cap > 0)
        vsnprintf(ctx->error, ctx->error_cap, fmt, again);
    va_end(again);
}

clcnn_status clcnn__fail(clcnn_context *ctx, clcnn_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(ctx, fmt, ap);
    va_end(ap);
    return status;
}

const char *clcnn_last_error(const clcnn_context *ctx)
{
    if (!ctx)
        return thread_error;
    return ctx->error ? ctx->error : "";
}
