/* conv_saved.c - the outputs a convolution call saves before it writes them
 * with several enqueues: if an enqueue fails after some of them ran, the
 * saved bytes are copied back (behind them on the in-order queue), so that
 * a failing call changes no output. Cancelling the enqueued commands
 * instead (a user event that every command waits behind, set to an error
 * status on failure) is not an option: PoCL 3.1 aborts the process when
 * two commands wait behind a failed event. Restoring is itself an enqueue;
 * should it fail too, the first failure is the one reported. */
#include "conv_internal.h"

clcnn_status clcnn__conv_save(clcnn_context *ctx, const char *fn, conv_saved *sv)
{
    size_t total = 0, off = 0;
    const int n = sv->n;
    for (int i = 0; i < n; i++)
        total += sv->t[i]->nbytes;
    sv->n = 0;
    if (n == 0)
        return CLCNN_OK;
    clcnn_status s = clcnn__cl_scratch(ctx, fn, CLCNN_SCRATCH_SAVED, total, &sv->buf);
    for (int i = 0; !s && i < n; i++) {
        const cl_int err = clEnqueueCopyBuffer(ctx->cl->queue, sv->t[i]->mem, sv->buf, 0, off,
                                               sv->t[i]->nbytes, 0, NULL, NULL);
        if (err != CL_SUCCESS)
            return clcnn__cl_fail(ctx, err, fn, "clEnqueueCopyBuffer (saving an output)");
        off += sv->t[i]->nbytes;
        sv->n = i + 1;
    }
    return s;
}

clcnn_status clcnn__conv_restore(clcnn_context *ctx, const conv_saved *sv, clcnn_status s)
{
    size_t off = 0;
    for (int i = 0; s != CLCNN_OK && i < sv->n; i++) {
        (void)clEnqueueCopyBuffer(ctx->cl->queue, sv->buf, sv->t[i]->mem, off, 0, sv->t[i]->nbytes, 0, NULL,
                                  NULL);
        off += sv->t[i]->nbytes;
    }
    return s;
}
