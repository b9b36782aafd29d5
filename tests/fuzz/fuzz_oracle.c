/* fuzz_oracle.c - the fuzz target's oracle: the statuses a case's call may
 * return, by the API contract, and the naive loops, straight from the
 * header's formulas, that its results are compared with. */
#include "fuzz_ops.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* -------------------------------------------------- expected status ------ */

/* The conv output shape of a and w, or why not. */
void fuzz_conv_out(const int a[4], const int w[4], int stride, int pad, int *inv, int *shp, int z[4],
                   int *have_z)
{
    *have_z = 0;
    if (w[2] != a[3])
        *shp = 1;
    long long ph = (long long)a[1] + 2LL * pad, pw = (long long)a[2] + 2LL * pad;
    int ok = 1;
    if (w[0] > ph || w[1] > pw)
        *shp = 1, ok = 0;
    if (ph > INT_MAX || pw > INT_MAX)
        *inv = 1, ok = 0;
    if (ok) {
        /* the padded input's byte count must fit size_t */
        unsigned __int128 bytes = (unsigned __int128)a[0] * (unsigned long long)ph * (unsigned long long)pw *
                                  (unsigned long long)a[3] * sizeof(double);
        if (bytes > SIZE_MAX)
            *inv = 1, ok = 0;
    }
    if (ok && w[2] == a[3]) {
        set4(z, a[0], (int)((ph - w[0]) / stride + 1), (int)((pw - w[1]) / stride + 1), w[3]);
        *have_z = 1;
    }
}

/* The pool output shape of a, or why not. */
void fuzz_pool_out(const int a[4], int f, int stride, int *shp, int o[4], int *have_o)
{
    *have_o = 0;
    if (f > a[1] || f > a[2]) {
        *shp = 1;
        return;
    }
    set4(o, a[0], (a[1] - f) / stride + 1, (a[2] - f) / stride + 1, a[3]);
    *have_o = 1;
}

/* Which kinds of fault the call has: *inv (CLCNN_ERR_INVALID_ARGUMENT) and
 * *shp (CLCNN_ERR_SHAPE). Argument faults (NULL, context, dtype, aliasing)
 * and bad scalars come before shapes, so they alone decide. */
void fuzz_expect_tensor_op(const fcase *c, int *inv, int *shp)
{
    *inv = *shp = 0;
    if (c->fault == F_NULL_CTX)
        *inv = 1;
    for (int s = 0; s < c->nslots; s++) {
        if (!c->present[s]) {
            if (!c->optional[s])
                *inv = 1;
            continue;
        }
        if (c->foreign[c->owner[s]])
            *inv = 1;
        if (c->present[0] && c->dt[c->owner[s]] != c->dt[c->owner[0]])
            *inv = 1;
        if (c->out[s])
            for (int i = 0; i < c->nslots; i++)
                if (i != s && c->present[i] && c->owner[i] == c->owner[s])
                    *inv = 1;
    }
    if (*inv)
        return;
    int o[4], have = 0;
    switch (c->op) {
    case OP_PAD: {
        if (c->pad < 0) {
            *inv = 1;
            return;
        }
        const int *x = sh(c, 0);
        long long ph = (long long)x[1] + 2LL * c->pad, pw = (long long)x[2] + 2LL * c->pad;
        if (ph > INT_MAX || pw > INT_MAX) {
            *inv = 1;
            return;
        }
        set4(o, x[0], (int)ph, (int)pw, x[3]);
        if (!same4(sh(c, 1), o))
            *shp = 1;
        return;
    }
    case OP_CONV_FWD:
    case OP_CONV_BWD: {
        if (c->stride < 1 || c->pad < 0 || c->algo < 0 || c->algo > 2) {
            *inv = 1;
            return;
        }
        const int fwd = c->op == OP_CONV_FWD;
        const int *a = sh(c, fwd ? 0 : 1), *w = sh(c, fwd ? 1 : 2);
        int b[4] = {1, 1, 1, w[3]};
        fuzz_conv_out(a, w, c->stride, c->pad, inv, shp, o, &have);
        if (fwd) {
            if (c->present[2] && !same4(sh(c, 2), b))
                *shp = 1;
            if (have && !same4(sh(c, 3), o))
                *shp = 1;
        } else {
            if (have && !same4(sh(c, 0), o))
                *shp = 1;
            if ((c->present[3] && !same4(sh(c, 3), a)) || (c->present[4] && !same4(sh(c, 4), w)) ||
                (c->present[5] && !same4(sh(c, 5), b)))
                *shp = 1;
        }
        return;
    }
    default: {
        if (c->f < 1 || c->stride < 1 || c->mode < 0 || c->mode > 1) {
            *inv = 1;
            return;
        }
        const int fwd = c->op == OP_POOL_FWD;
        const int *a = sh(c, fwd ? 0 : 1);
        fuzz_pool_out(a, c->f, c->stride, shp, o, &have);
        if (have && !same4(sh(c, fwd ? 1 : 0), o))
            *shp = 1;
        if (!fwd && !same4(sh(c, 2), a))
            *shp = 1;
    }
    }
}

/* Whether s is a status the call may return with those kinds of fault. */
int fuzz_status_allowed(clcnn_status s, int inv, int shp)
{
    if (!inv && !shp)
        return s == CLCNN_OK;
    if (inv && shp)
        return s == CLCNN_ERR_INVALID_ARGUMENT || s == CLCNN_ERR_SHAPE;
    return s == (inv ? CLCNN_ERR_INVALID_ARGUMENT : CLCNN_ERR_SHAPE);
}

/* -------------------------------------------------------------- oracle --- */

/* Adds the term t to a. */
static void add(acc *a, double t)
{
    a->k++;
    a->sum += t;
    if (isnan(t))
        a->nan = 1;
    else if (isinf(t))
        *(t > 0 ? &a->pinf : &a->ninf) = 1;
    else
        a->fmag += fabs(t);
}

/* The term x * y: an infinity from finite factors is an overflow, not an
 * infinite term. */
static void add_prod(acc *a, double x, double y)
{
    const double t = x * y;
    if (isinf(t) && isfinite(x) && isfinite(y)) {
        a->ovf = 1;
        a->k++;
        a->sum += t;
        return;
    }
    add(a, t);
}

static size_t at(const int d[4], int i, int y, int x, int k)
{
    return (((size_t)i * (size_t)d[1] + (size_t)y) * (size_t)d[2] + (size_t)x) * (size_t)d[3] + (size_t)k;
}

/* Naive definitions, straight from the header's formulas. want[s] gets one
 * acc per element of each output slot s. */
void fuzz_oracle(const fcase *c, acc *want[MAX_SLOTS])
{
    /* every output the call could have, in its proper shape, requested or not */
    for (int s = 0; s < c->nslots; s++)
        if (c->out[s]) {
            const int *d = c->dims[s];
            if (c->op == OP_CONV_BWD)
                d = s == 3 ? sh(c, 1) : s == 4 ? sh(c, 2) : (const int[4]){1, 1, 1, sh(c, 2)[3]};
            want[s] = calloc((size_t)count4(d) + 1, sizeof(acc));
            if (!want[s])
                abort();
        }
    const int P = c->pad, S = c->stride;
    switch (c->op) {
    case OP_PAD: {
        const int *xd = sh(c, 0), *pd = c->dims[1];
        const double *x = c->val[c->owner[0]];
        for (int i = 0; i < pd[0]; i++)
            for (int y = 0; y < pd[1]; y++)
                for (int xx = 0; xx < pd[2]; xx++)
                    for (int k = 0; k < pd[3]; k++) {
                        int sy = y - P, sx = xx - P;
                        int in = sy >= 0 && sy < xd[1] && sx >= 0 && sx < xd[2];
                        add(&want[1][at(pd, i, y, xx, k)], in ? x[at(xd, i, sy, sx, k)] : 0.0);
                    }
        break;
    }
    case OP_CONV_FWD:
    case OP_CONV_BWD: {
        const int fwd = c->op == OP_CONV_FWD;
        const int *ad = sh(c, fwd ? 0 : 1), *wd = sh(c, fwd ? 1 : 2);
        const double *a = c->val[c->owner[fwd ? 0 : 1]], *w = c->val[c->owner[fwd ? 1 : 2]];
        const double *b = fwd && c->present[2] ? c->val[c->owner[2]] : NULL;
        const double *dz = fwd ? NULL : c->val[c->owner[0]];
        int zd[4];
        set4(zd, ad[0], (ad[1] + 2 * P - wd[0]) / S + 1, (ad[2] + 2 * P - wd[1]) / S + 1, wd[3]);
        for (int i = 0; i < zd[0]; i++)
            for (int h = 0; h < zd[1]; h++)
                for (int x = 0; x < zd[2]; x++)
                    for (int co = 0; co < zd[3]; co++) {
                        acc *z = fwd ? &want[3][at(zd, i, h, x, co)] : NULL;
                        const double g = fwd ? 0.0 : dz[at(zd, i, h, x, co)];
                        for (int fy = 0; fy < wd[0]; fy++)
                            for (int fx = 0; fx < wd[1]; fx++)
                                for (int k = 0; k < wd[2]; k++) {
                                    const int y = h * S + fy - P, xx = x * S + fx - P;
                                    const int in = y >= 0 && y < ad[1] && xx >= 0 && xx < ad[2];
                                    const double av = in ? a[at(ad, i, y, xx, k)] : 0.0; /* zero padding */
                                    const double wv = w[at(wd, fy, fx, k, co)];
                                    if (fwd) {
                                        add_prod(z, av, wv);
                                        continue;
                                    }
                                    if (in)
                                        add_prod(&want[3][at(ad, i, y, xx, k)], wv, g);
                                    add_prod(&want[4][at(wd, fy, fx, k, co)], av, g);
                                }
                        if (fwd && b)
                            add(z, b[co]);
                        if (!fwd)
                            add(&want[5][co], g);
                    }
        break;
    }
    default: {
        const int fwd = c->op == OP_POOL_FWD, F = c->f;
        const int *ad = sh(c, fwd ? 0 : 1);
        const double *a = c->val[c->owner[fwd ? 0 : 1]];
        const double *da = fwd ? NULL : c->val[c->owner[0]];
        const double n = (double)F * F;
        int od[4];
        set4(od, ad[0], (ad[1] - F) / S + 1, (ad[2] - F) / S + 1, ad[3]);
        for (int i = 0; i < od[0]; i++)
            for (int h = 0; h < od[1]; h++)
                for (int x = 0; x < od[2]; x++)
                    for (int k = 0; k < od[3]; k++) {
                        /* max as numpy: NaN when the window holds NaN */
                        double m = -INFINITY, sum = 0.0;
                        int has_nan = 0;
                        for (int y = 0; y < F; y++)
                            for (int xx = 0; xx < F; xx++) {
                                double v = a[at(ad, i, h * S + y, x * S + xx, k)];
                                has_nan |= isnan(v);
                                if (v > m)
                                    m = v;
                                sum += v;
                            }
                        if (fwd) {
                            acc *o = &want[1][at(od, i, h, x, k)];
                            if (c->mode == CLCNN_POOL_MAX) {
                                o->sum = has_nan ? NAN : m;
                                o->nan = has_nan;
                            } else {
                                for (int y = 0; y < F; y++)
                                    for (int xx = 0; xx < F; xx++)
                                        add(o, a[at(ad, i, h * S + y, x * S + xx, k)]);
                                /* the OpenCL kernels sum the window in the dtype before
                                 * dividing: a sum past its range may overflow there */
                                if (o->fmag > (c->dtype == CLCNN_F64 ? DBL_MAX : FLT_MAX) / 4)
                                    o->ovf = 1;
                                o->sum = sum / n;
                                o->fmag /= n;
                            }
                            continue;
                        }
                        const double g = da[at(od, i, h, x, k)];
                        for (int y = 0; y < F; y++)
                            for (int xx = 0; xx < F; xx++) {
                                const size_t e = at(ad, i, h * S + y, x * S + xx, k);
                                if (c->mode == CLCNN_POOL_AVG)
                                    add(&want[2][e], g / n);
                                else if (!has_nan && a[e] == m)
                                    add(&want[2][e], g);
                            }
                    }
    }
    }
}

/* Whether got is right for an element with terms a, compared with ref (the
 * oracle's value or the host's result). */
int fuzz_close_enough(double got, double ref, const acc *a, int exact, clcnn_dtype dt)
{
    const double limit = dt == CLCNN_F64 ? DBL_MAX : FLT_MAX;
    const double u = dt == CLCNN_F64 ? 0x1p-53 : 0x1p-24, tiny = dt == CLCNN_F64 ? 0x1p-1074 : 0x1p-149;
    if (a->nan || (a->pinf && a->ninf))
        return isnan(got) != 0;
    if (a->ovf || a->fmag > limit / 4) /* a product or partial sum may overflow: anything goes */
        return 1;
    if (a->pinf || a->ninf)
        return got == (a->pinf ? INFINITY : -INFINITY);
    if (got == ref)
        return 1;
    if (exact || isnan(got) || isnan(ref))
        return 0;
    return fabs(got - ref) <= 2.0 * (a->k + 3) * (u * a->fmag + tiny);
}

/* Whether slot s's results are exact for this case. against_host: an
 * OpenCL result compared with the host's. */
int fuzz_exact_results(const fcase *c, int s, int against_host)
{
    (void)s;
    if (c->op == OP_PAD || (c->op == OP_POOL_FWD && c->mode == CLCNN_POOL_MAX))
        return 1;
    if ((c->op == OP_POOL_FWD || c->op == OP_POOL_BWD) && c->mode == CLCNN_POOL_AVG)
        return 0;
    if (c->vmode == V_INT || c->vmode == V_SPECIAL)
        return 1;
    return c->vmode == V_FIXED && (!against_host || c->dtype == CLCNN_F64);
}
