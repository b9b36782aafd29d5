/* ref_pad.c - the notebook's zero_pad on double arrays. */
#include "ref.h"

void clcnn_ref_zero_pad(const double *x, clcnn_shape xs, int pad, double *x_pad)
{
    clcnn_shape ps = {xs.n, xs.h + 2 * pad, xs.w + 2 * pad, xs.c};
    size_t total = clcnn_ref_count(ps);
    for (size_t e = 0; e < total; e++)
        x_pad[e] = 0.0;
    for (int i = 0; i < xs.n; i++)
        for (int y = 0; y < xs.h; y++)
            for (int x0 = 0; x0 < xs.w; x0++)
                for (int k = 0; k < xs.c; k++)
                    x_pad[clcnn_ref_at(ps, i, y + pad, x0 + pad, k)] = x[clcnn_ref_at(xs, i, y, x0, k)];
}
