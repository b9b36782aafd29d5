/* ref_steps.c - the notebook's step functions (conv_single_step,
 * create_mask_from_window, distribute_value), public, in double precision. */
#include "ref.h"

#include <math.h>

double clcnn_ref_max(const double *x, size_t n)
{
    double m = x[0];
    for (size_t i = 1; i < n; i++) {
        if (isnan(m))
            break;
        if (isnan(x[i]) || x[i] > m)
            m = x[i];
    }
    return m;
}

double clcnn_conv_single_step(const double *a_slice, const double *w, double b, int fh, int fw, int c)
{
    if (!a_slice || !w || fh < 1 || fw < 1 || c < 1)
        return NAN;
    size_t n = (size_t)fh * (size_t)fw * (size_t)c;
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += a_slice[i] * w[i];
    return s + b;
}

void clcnn_mask_from_window(const double *x, int rows, int cols, unsigned char *mask)
{
    if (!x || !mask || rows < 1 || cols < 1)
        return;
    size_t n = (size_t)rows * (size_t)cols;
    double m = clcnn_ref_max(x, n);
    for (size_t i = 0; i < n; i++)
        mask[i] = (unsigned char)(x[i] == m);
}

void clcnn_distribute_value(double dz, int rows, int cols, double *out)
{
    if (!out || rows < 1 || cols < 1)
        return;
    size_t n = (size_t)rows * (size_t)cols;
    double average = dz / (double)n;
    for (size_t i = 0; i < n; i++)
        out[i] = average;
}
