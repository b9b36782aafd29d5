/* ref_pool_desc.c - max and average pooling with a clcnn_pool_desc
 * (rectangular windows, per-axis strides, pads per side, dilation, ceil
 * mode, count_include_pad, both max rules) on double arrays.
 *
 * A window's taps inside the input form a rectangle in tap space (rows
 * [y.lo, y.hi) by columns [x.lo, x.hi)): it is gathered row-major, as the
 * notebook's a_prev_slice, and reduced with the step functions. */
#include "ref.h"

#include <math.h>

/* The taps of one window along one axis: tap t in [lo, hi) reads input
 * index start + t*dil; `counted` is the window's length within input and
 * pads (the count_include_pad divisor's factor, dilation 1). */
typedef struct {
    long long start;
    int lo, hi;
    int dil;
    long long counted;
} axis_taps;

static axis_taps taps_of(int o, int stride, int pad_begin, int pad_end, int f, int dil, int n)
{
    axis_taps t;
    t.start = (long long)o * stride - pad_begin;
    t.dil = dil;
    t.lo = t.start >= 0 ? 0 : (int)((-t.start + dil - 1) / dil);
    const long long last = (long long)n - 1 - t.start; /* >= 0: validated */
    t.hi = last / dil + 1 < f ? (int)(last / dil + 1) : f;
    const long long end = t.start + f, limit = (long long)n + pad_end;
    t.counted = (end < limit ? end : limit) - t.start;
    return t;
}

static axis_taps taps_h(const clcnn_pool_desc *d, clcnn_shape as, int o)
{
    return taps_of(o, d->stride_h, d->pad_top, d->pad_bottom, d->fh, d->dilation_h, as.h);
}

static axis_taps taps_w(const clcnn_pool_desc *d, clcnn_shape as, int o)
{
    return taps_of(o, d->stride_w, d->pad_left, d->pad_right, d->fw, d->dilation_w, as.w);
}

/* Input index of tap t along an axis. */
static int tap_index(axis_taps a, int t)
{
    return (int)(a.start + (long long)t * a.dil);
}

/* Copies channel k of image i under the window's inside taps into win,
 * row-major; returns their count. */
static size_t gather(const double *a, clcnn_shape s, int i, int k, axis_taps y, axis_taps x, double *win)
{
    size_t e = 0;
    for (int ty = y.lo; ty < y.hi; ty++)
        for (int tx = x.lo; tx < x.hi; tx++)
            win[e++] = a[clcnn_ref_at(s, i, tap_index(y, ty), tap_index(x, tx), k)];
    return e;
}

/* The average's divisor: the window's taps within input and pads, or its
 * taps inside the input. */
static double divisor(const clcnn_pool_desc *d, axis_taps y, axis_taps x, size_t inside)
{
    return d->count_include_pad ? (double)(y.counted * x.counted) : (double)inside;
}

/* Room for the inside taps of any window: at most min(f, n) per axis. */
static size_t window_room(const clcnn_pool_desc *d, clcnn_shape as)
{
    const size_t rows = (size_t)(d->fh < as.h ? d->fh : as.h), cols = (size_t)(d->fw < as.w ? d->fw : as.w);
    return rows * cols;
}

int clcnn_ref_pool_desc_forward(const double *a_prev, clcnn_shape as, const clcnn_pool_desc *d, double *a,
                                clcnn_shape os)
{
    double *win = clcnn__malloc(window_room(d, as) * sizeof(double));
    if (!win)
        return -1;
    for (int i = 0; i < os.n; i++)
        for (int h = 0; h < os.h; h++)
            for (int w = 0; w < os.w; w++)
                for (int k = 0; k < os.c; k++) {
                    const axis_taps y = taps_h(d, as, h), x = taps_w(d, as, w);
                    const size_t n = gather(a_prev, as, i, k, y, x, win);
                    double v;
                    if (d->mode == CLCNN_POOL_MAX) {
                        v = clcnn_ref_max(win, n);
                    } else {
                        double s = 0.0;
                        for (size_t e = 0; e < n; e++)
                            s += win[e];
                        v = s / divisor(d, y, x, n);
                    }
                    a[clcnn_ref_at(os, i, h, w, k)] = v;
                }
    clcnn__free(win);
    return 0;
}

/* FIRST_MAX: the index in win of the value the forward took, the first NaN
 * or else the first position equal to the maximum. */
static size_t first_max(const double *win, size_t n)
{
    const double m = clcnn_ref_max(win, n);
    size_t e = 0;
    while (e + 1 < n && !(isnan(m) ? isnan(win[e]) : win[e] == m))
        e++;
    return e;
}

/* Adds window (h, w)'s share of g into da_prev for max pooling. */
static void max_back(const double *a_prev, clcnn_shape as, const clcnn_pool_desc *d, int i, int k,
                     axis_taps y, axis_taps x, double g, double *win, unsigned char *mask, double *da_prev)
{
    const size_t n = gather(a_prev, as, i, k, y, x, win);
    const int cols = x.hi - x.lo;
    if (d->max_rule == CLCNN_POOL_FIRST_MAX) {
        const size_t e = first_max(win, n);
        const int ty = y.lo + (int)(e / (size_t)cols), tx = x.lo + (int)(e % (size_t)cols);
        da_prev[clcnn_ref_at(as, i, tap_index(y, ty), tap_index(x, tx), k)] += g;
        return;
    }
    clcnn_mask_from_window(win, y.hi - y.lo, cols, mask);
    size_t e = 0;
    for (int ty = y.lo; ty < y.hi; ty++)
        for (int tx = x.lo; tx < x.hi; tx++, e++)
            if (mask[e])
                da_prev[clcnn_ref_at(as, i, tap_index(y, ty), tap_index(x, tx), k)] += g;
}

int clcnn_ref_pool_desc_backward(const double *da, clcnn_shape os, const double *a_prev, clcnn_shape as,
                                 const clcnn_pool_desc *d, double *da_prev)
{
    const size_t room = window_room(d, as);
    double *win = clcnn__malloc(room * sizeof(double));
    unsigned char *mask = clcnn__malloc(room);
    if (!win || !mask) {
        clcnn__free(win);
        clcnn__free(mask);
        return -1;
    }
    for (size_t e = 0; e < clcnn_ref_count(as); e++)
        da_prev[e] = 0.0;
    for (int i = 0; i < os.n; i++)
        for (int h = 0; h < os.h; h++)
            for (int w = 0; w < os.w; w++)
                for (int k = 0; k < os.c; k++) {
                    const axis_taps y = taps_h(d, as, h), x = taps_w(d, as, w);
                    const double g = da[clcnn_ref_at(os, i, h, w, k)];
                    if (d->mode == CLCNN_POOL_MAX) {
                        max_back(a_prev, as, d, i, k, y, x, g, win, mask, da_prev);
                        continue;
                    }
                    const size_t inside = (size_t)(y.hi - y.lo) * (size_t)(x.hi - x.lo);
                    const double share = g / divisor(d, y, x, inside);
                    for (int ty = y.lo; ty < y.hi; ty++)
                        for (int tx = x.lo; tx < x.hi; tx++)
                            da_prev[clcnn_ref_at(as, i, tap_index(y, ty), tap_index(x, tx), k)] += share;
                }
    clcnn__free(win);
    clcnn__free(mask);
    return 0;
}
