/* ref_pool.c - the notebook's pool_forward and pool_backward (max and
 * average) on double arrays, built from the step functions. */
#include "ref.h"

/* Copies channel k of the window a[i][y0 : y0+f][x0 : x0+f] into win, row-major
 * [f][f]: the notebook's a_prev_slice. */
static void gather_window(const double *a, clcnn_shape s, int i, int y0, int x0, int k, int f, double *win)
{
    size_t e = 0;
    for (int y = 0; y < f; y++)
        for (int x = 0; x < f; x++)
            win[e++] = a[clcnn_ref_at(s, i, y0 + y, x0 + x, k)];
}

int clcnn_ref_pool_forward(const double *a_prev, clcnn_shape as, int f, int stride, clcnn_pool_mode mode,
                           double *a, clcnn_shape os)
{
    const size_t n = (size_t)f * (size_t)f;
    double *win = clcnn__malloc(n * sizeof(double));
    if (!win)
        return -1;
    for (int i = 0; i < os.n; i++)
        for (int h = 0; h < os.h; h++)
            for (int x = 0; x < os.w; x++)
                for (int k = 0; k < os.c; k++) {
                    gather_window(a_prev, as, i, h * stride, x * stride, k, f, win);
                    double v;
                    if (mode == CLCNN_POOL_MAX) {
                        v = clcnn_ref_max(win, n); /* np.max */
                    } else {
                        double s = 0.0; /* np.mean */
                        for (size_t e = 0; e < n; e++)
                            s += win[e];
                        v = s / (double)n;
                    }
                    a[clcnn_ref_at(os, i, h, x, k)] = v;
                }
    clcnn__free(win);
    return 0;
}

int clcnn_ref_pool_backward(const double *da, clcnn_shape os, const double *a_prev, clcnn_shape as, int f,
                            int stride, clcnn_pool_mode mode, double *da_prev)
{
    const size_t n = (size_t)f * (size_t)f;
    double *win = clcnn__malloc(n * sizeof(double));
    double *spread = clcnn__malloc(n * sizeof(double));
    unsigned char *mask = clcnn__malloc(n);
    if (!win || !spread || !mask) {
        clcnn__free(win);
        clcnn__free(spread);
        clcnn__free(mask);
        return -1;
    }
    for (size_t e = 0; e < clcnn_ref_count(as); e++)
        da_prev[e] = 0.0;

    for (int i = 0; i < os.n; i++)
        for (int h = 0; h < os.h; h++)
            for (int x = 0; x < os.w; x++)
                for (int k = 0; k < os.c; k++) {
                    const int y0 = h * stride, x0 = x * stride;
                    const double g = da[clcnn_ref_at(os, i, h, x, k)];
                    if (mode == CLCNN_POOL_MAX) {
                        gather_window(a_prev, as, i, y0, x0, k, f, win);
                        clcnn_mask_from_window(win, f, f, mask);
                        for (int y = 0; y < f; y++)
                            for (int xx = 0; xx < f; xx++)
                                if (mask[(size_t)y * (size_t)f + (size_t)xx])
                                    da_prev[clcnn_ref_at(as, i, y0 + y, x0 + xx, k)] += g;
                    } else {
                        clcnn_distribute_value(g, f, f, spread);
                        for (int y = 0; y < f; y++)
                            for (int xx = 0; xx < f; xx++)
                                da_prev[clcnn_ref_at(as, i, y0 + y, x0 + xx, k)] +=
                                    spread[(size_t)y * (size_t)f + (size_t)xx];
                    }
                }

    clcnn__free(win);
    clcnn__free(spread);
    clcnn__free(mask);
    return 0;
}
