/* backend_host.c - the host backend: tensors in host memory, operations run
 * by the reference path (host/ref) in double precision.
 *
 * Every call follows the same steps: view each input as doubles (F64 data is
 * used in place, F32 data is widened into a copy), allocate a double buffer
 * for each output, run the reference, and only when everything succeeded
 * store the outputs (rounded once to F32 where needed). So an allocation
 * failure leaves every output as it was. */
#include "backend.h"
#include "ref/ref.h"

#include <string.h>

/* Scratch of one call: up to 4 input views and 3 output buffers, and
 * whether any of them could not be allocated. */
typedef struct {
    double *owned[8];
    int n_owned;
    int oom;
} scratch;

static void scratch_free(scratch *s)
{
    for (int i = 0; i < s->n_owned; i++)
        clcnn__free(s->owned[i]);
    s->n_owned = 0;
}

static double *scratch_alloc(scratch *s, size_t count)
{
    double *p = clcnn__malloc(count * sizeof(double));
    if (p)
        s->owned[s->n_owned++] = p;
    return p;
}

/* t's data as doubles: in place for F64, a widened copy for F32. NULL for a
 * NULL t, and also NULL (with s->oom set) when the copy cannot be allocated. */
static const double *view(scratch *s, const clcnn_tensor *t)
{
    if (!t)
        return NULL;
    if (t->dtype == CLCNN_F64)
        return (const double *)t->host;
    double *d = scratch_alloc(s, t->count);
    if (!d) {
        s->oom = 1;
        return NULL;
    }
    const float *f = (const float *)t->host;
    for (size_t i = 0; i < t->count; i++)
        d[i] = (double)f[i];
    return d;
}

/* A double buffer for output t (NULL for a NULL t; sets s->oom on failure). */
static double *out_buffer(scratch *s, const clcnn_tensor *t)
{
    if (!t)
        return NULL;
    double *d = scratch_alloc(s, t->count);
    if (!d)
        s->oom = 1;
    return d;
}

/* Stores a double result into output t, rounding once for F32. */
static void store(clcnn_tensor *t, const double *d)
{
    if (!t)
        return;
    if (t->dtype == CLCNN_F64) {
        memcpy(t->host, d, t->nbytes);
        return;
    }
    float *f = (float *)t->host;
    for (size_t i = 0; i < t->count; i++)
        f[i] = (float)d[i];
}

/* The end of a call whose outputs are stored. */
static clcnn_status done(scratch *s)
{
    scratch_free(s);
    return CLCNN_OK;
}

static clcnn_status oom(clcnn_context *ctx, scratch *s, const char *fn)
{
    scratch_free(s);
    return clcnn__fail(ctx, CLCNN_ERR_OUT_OF_MEMORY,
                       "%s: out of host memory for the reference path's double-precision buffers", fn);
}

clcnn_status clcnn__host_zero_pad(clcnn_context *ctx, const clcnn_tensor *x, int pad, clcnn_tensor *x_pad)
{
    scratch s = {0};
    const double *xd = view(&s, x);
    double *pd = out_buffer(&s, x_pad);
    if (s.oom)
        return oom(ctx, &s, "clcnn_zero_pad");
    clcnn_ref_zero_pad(xd, x->shape, pad, pd);
    store(x_pad, pd);
    return done(&s);
}

clcnn_status clcnn__host_conv_forward(clcnn_context *ctx, const clcnn_tensor *a_prev, const clcnn_tensor *w,
                                      const clcnn_tensor *b, clcnn_conv_params p, clcnn_tensor *z)
{
    static const char fn[] = "clcnn_conv2d_forward";
    scratch s = {0};
    const double *ad = view(&s, a_prev);
    const double *wd = view(&s, w);
    const double *bd = view(&s, b);
    double *zd = out_buffer(&s, z);
    if (s.oom ||
        clcnn_ref_conv_forward(ad, a_prev->shape, wd, w->shape, bd, p.stride, p.pad, zd, z->shape) != 0)
        return oom(ctx, &s, fn);
    store(z, zd);
    return done(&s);
}

clcnn_status clcnn__host_conv_backward(clcnn_context *ctx, const clcnn_tensor *dz, const clcnn_tensor *a_prev,
                                       const clcnn_tensor *w, clcnn_conv_params p, clcnn_tensor *da_prev,
                                       clcnn_tensor *dw, clcnn_tensor *db)
{
    static const char fn[] = "clcnn_conv2d_backward";
    scratch s = {0};
    const double *dzd = view(&s, dz);
    const double *ad = view(&s, a_prev);
    const double *wd = view(&s, w);
    double *dad = out_buffer(&s, da_prev);
    double *dwd = out_buffer(&s, dw);
    double *dbd = out_buffer(&s, db);
    if (s.oom || clcnn_ref_conv_backward(dzd, dz->shape, ad, a_prev->shape, wd, w->shape, p.stride, p.pad,
                                         dad, dwd, dbd) != 0)
        return oom(ctx, &s, fn);
    store(da_prev, dad);
    store(dw, dwd);
    store(db, dbd);
    return done(&s);
}

clcnn_status clcnn__host_pool_forward(clcnn_context *ctx, const clcnn_tensor *a_prev, clcnn_pool_params p,
                                      clcnn_tensor *a)
{
    scratch s = {0};
    const double *ad = view(&s, a_prev);
    double *od = out_buffer(&s, a);
    if (s.oom || clcnn_ref_pool_forward(ad, a_prev->shape, p.f, p.stride, p.mode, od, a->shape) != 0)
        return oom(ctx, &s, "clcnn_pool2d_forward");
    store(a, od);
    return done(&s);
}

clcnn_status clcnn__host_pool_backward(clcnn_context *ctx, const clcnn_tensor *da, const clcnn_tensor *a_prev,
                                       clcnn_pool_params p, clcnn_tensor *da_prev)
{
    scratch s = {0};
    const double *dad = view(&s, da);
    const double *ad = view(&s, a_prev);
    double *od = out_buffer(&s, da_prev);
    if (s.oom || clcnn_ref_pool_backward(dad, da->shape, ad, a_prev->shape, p.f, p.stride, p.mode, od) != 0)
        return oom(ctx, &s, "clcnn_pool2d_backward");
    store(da_prev, od);
    return done(&s);
}

clcnn_status clcnn__host_pool_forward_desc(clcnn_context *ctx, const clcnn_tensor *a_prev,
                                           const clcnn_pool_desc *d, clcnn_tensor *a)
{
    scratch s = {0};
    const double *ad = view(&s, a_prev);
    double *od = out_buffer(&s, a);
    if (s.oom || clcnn_ref_pool_desc_forward(ad, a_prev->shape, d, od, a->shape) != 0)
        return oom(ctx, &s, "clcnn_pool2d_forward_desc");
    store(a, od);
    return done(&s);
}

clcnn_status clcnn__host_pool_backward_desc(clcnn_context *ctx, const clcnn_tensor *da,
                                            const clcnn_tensor *a_prev, const clcnn_pool_desc *d,
                                            clcnn_tensor *da_prev)
{
    scratch s = {0};
    const double *dad = view(&s, da);
    const double *ad = view(&s, a_prev);
    double *od = out_buffer(&s, da_prev);
    if (s.oom || clcnn_ref_pool_desc_backward(dad, da->shape, ad, a_prev->shape, d, od) != 0)
        return oom(ctx, &s, "clcnn_pool2d_backward_desc");
    store(da_prev, od);
    return done(&s);
}

/* ---- convolutions described by a clcnn_conv_desc ------------------------ */

clcnn_status clcnn__host_conv_forward_desc(clcnn_context *ctx, const clcnn_tensor *a_prev,
                                           const clcnn_tensor *w, const clcnn_tensor *b,
                                           const clcnn_conv_desc *d, clcnn_tensor *z)
{
    scratch s = {0};
    const double *ad = view(&s, a_prev);
    const double *wd = view(&s, w);
    const double *bd = view(&s, b);
    double *zd = out_buffer(&s, z);
    if (s.oom)
        return oom(ctx, &s, "clcnn_conv2d_forward_desc");
    clcnn_ref_conv_forward_desc(ad, a_prev->shape, wd, w->shape, bd, d, zd, z->shape);
    store(z, zd);
    return done(&s);
}

clcnn_status clcnn__host_conv_backward_desc(clcnn_context *ctx, const clcnn_tensor *dz,
                                            const clcnn_tensor *a_prev, const clcnn_tensor *w,
                                            const clcnn_conv_desc *d, clcnn_tensor *da_prev, clcnn_tensor *dw,
                                            clcnn_tensor *db)
{
    scratch s = {0};
    const double *dzd = view(&s, dz);
    const double *ad = view(&s, a_prev);
    const double *wd = view(&s, w);
    double *dad = out_buffer(&s, da_prev);
    double *dwd = out_buffer(&s, dw);
    double *dbd = out_buffer(&s, db);
    if (s.oom)
        return oom(ctx, &s, "clcnn_conv2d_backward_desc");
    clcnn_ref_conv_backward_desc(dzd, dz->shape, ad, a_prev->shape, wd, w->shape, d, dad, dwd, dbd);
    store(da_prev, dad);
    store(dw, dwd);
    store(db, dbd);
    return done(&s);
}
