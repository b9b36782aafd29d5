/* ref_conv_desc.c - convolution with a clcnn_conv_desc's parameters
 * (per-side pads, per-axis strides, dilation, groups) on double arrays: the
 * defining sums written out, with the padding read as zeros in place rather
 * than copied.
 *
 * Summation order: forward, for each output the products over (fy, fx, k)
 * in that nesting from 0.0, then + b; backward, one pass over (i, y, x, o),
 * each adding its terms over (fy, fx, k). For the notebook's form these are
 * the additions of ref_conv.c in the same order, pad taps included as 0.0
 * products, so both give the same bits. */
#include "ref.h"

/* The input row that tap fy of output row y reads (may lie in the padding,
 * so below 0 or past the input), and the same for columns. */
static long long tap_h(const clcnn_conv_desc *d, int y, int fy)
{
    return (long long)y * d->stride_h - d->pad_top + (long long)fy * d->dilation_h;
}

static long long tap_w(const clcnn_conv_desc *d, int x, int fx)
{
    return (long long)x * d->stride_w - d->pad_left + (long long)fx * d->dilation_w;
}

/* 1 when position (py, px) lies inside a_prev of shape as. */
static int inside(clcnn_shape as, long long py, long long px)
{
    return py >= 0 && py < as.h && px >= 0 && px < as.w;
}

void clcnn_ref_conv_forward_desc(const double *a_prev, clcnn_shape as, const double *w, clcnn_shape ws,
                                 const double *b, const clcnn_conv_desc *d, double *z, clcnn_shape zs)
{
    const int fh = ws.n, fw = ws.h, cpg = ws.w, opg = ws.c / d->groups;
    for (int i = 0; i < zs.n; i++)
        for (int y = 0; y < zs.h; y++)
            for (int x = 0; x < zs.w; x++)
                for (int o = 0; o < zs.c; o++) {
                    const int c0 = (o / opg) * cpg; /* the group's first input channel */
                    double s = 0.0;
                    for (int fy = 0; fy < fh; fy++)
                        for (int fx = 0; fx < fw; fx++) {
                            const long long py = tap_h(d, y, fy), px = tap_w(d, x, fx);
                            const int in = inside(as, py, px);
                            for (int k = 0; k < cpg; k++) {
                                const double a =
                                    in ? a_prev[clcnn_ref_at(as, i, (int)py, (int)px, c0 + k)] : 0.0;
                                s += a * w[clcnn_ref_at(ws, fy, fx, k, o)];
                            }
                        }
                    z[clcnn_ref_at(zs, i, y, x, o)] = s + (b ? b[o] : 0.0);
                }
}

void clcnn_ref_conv_backward_desc(const double *dz, clcnn_shape zs, const double *a_prev, clcnn_shape as,
                                  const double *w, clcnn_shape ws, const clcnn_conv_desc *d, double *da_prev,
                                  double *dw, double *db)
{
    const int fh = ws.n, fw = ws.h, cpg = ws.w, opg = ws.c / d->groups;
    if (da_prev)
        for (size_t e = 0; e < clcnn_ref_count(as); e++)
            da_prev[e] = 0.0;
    if (dw)
        for (size_t e = 0; e < clcnn_ref_count(ws); e++)
            dw[e] = 0.0;
    if (db)
        for (int o = 0; o < ws.c; o++)
            db[o] = 0.0;

    for (int i = 0; i < zs.n; i++)
        for (int y = 0; y < zs.h; y++)
            for (int x = 0; x < zs.w; x++)
                for (int o = 0; o < zs.c; o++) {
                    const double g = dz[clcnn_ref_at(zs, i, y, x, o)];
                    const int c0 = (o / opg) * cpg;
                    for (int fy = 0; fy < fh; fy++)
                        for (int fx = 0; fx < fw; fx++) {
                            const long long py = tap_h(d, y, fy), px = tap_w(d, x, fx);
                            const int in = inside(as, py, px);
                            for (int k = 0; k < cpg; k++) {
                                const size_t wi = clcnn_ref_at(ws, fy, fx, k, o);
                                const size_t ai = in ? clcnn_ref_at(as, i, (int)py, (int)px, c0 + k) : 0;
                                /* a tap in the padding reads 0 and passes nothing back */
                                if (da_prev && in)
                                    da_prev[ai] += w[wi] * g;
                                if (dw)
                                    dw[wi] += (in ? a_prev[ai] : 0.0) * g;
                            }
                        }
                    if (db)
                        db[o] += g;
                }
}
