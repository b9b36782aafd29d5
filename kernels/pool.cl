/* pool.cl - max and average pooling of NHWC tensors over square f x f
 * windows without padding, forward and backward (the notebook's
 * pool_forward and pool_backward).
 * OpenCL C 1.2; REAL is float unless built with -DREAL=double -DCLCNN_FP64.
 * Both kernels are gathers in the reference path's order: deterministic, no
 * atomics. */
#ifdef CLCNN_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif
#ifndef REAL
#define REAL float
#endif

#define AT(i, y, x, k, H, W, C) ((((ulong)(i) * (ulong)(H) + (ulong)(y)) * (ulong)(W) + (ulong)(x)) * (ulong)(C) + (ulong)(k))

/* The shapes of one pooling: a_prev [n][h][w][c] -> a [n][ho][wo][c]. */
typedef struct {
    int n, h, w, c;
    int ho, wo;
    int f, stride;
    int mode; /* 0 max, 1 average (clcnn_pool_mode) */
} pool_shape;

/* f*f as REAL, multiplied in 64 bits (f may exceed 46340). */
inline REAL window_size(const pool_shape s)
{
    return (REAL)((long)s.f * (long)s.f);
}

/* Max (NaN if the window holds NaN, as np.max) or mean of channel k of the
 * window whose top-left corner is (y0, x0), in row-major order. */
inline REAL window_value(__global const REAL *a, const pool_shape s, int i, int y0, int x0, int k)
{
    if (s.mode == 0) {
        REAL m = a[AT(i, y0, x0, k, s.h, s.w, s.c)];
        for (int y = 0; y < s.f && !isnan(m); y++)
            for (int x = 0; x < s.f; x++) {
                const REAL v = a[AT(i, y0 + y, x0 + x, k, s.h, s.w, s.c)];
                if (isnan(v) || v > m) {
                    m = v;
                    if (isnan(m))
                        break;
                }
            }
        return m;
    }
    REAL sum = (REAL)0;
    for (int y = 0; y < s.f; y++)
        for (int x = 0; x < s.f; x++)
            sum += a[AT(i, y0 + y, x0 + x, k, s.h, s.w, s.c)];
    return sum / window_size(s);
}

/* Work-item mapping: one work-item per element of a, global id
 * g = ((i*ho + y)*wo + x)*c + k, over at least n*ho*wo*c items. */
__kernel void pool_forward(__global const REAL *a_prev, const pool_shape s, __global REAL *a)
{
    const ulong g = get_global_id(0);
    if (g >= (ulong)s.n * (ulong)s.ho * (ulong)s.wo * (ulong)s.c)
        return;
    ulong t = g;
    const int k = (int)(t % (ulong)s.c);
    t /= (ulong)s.c;
    const int x = (int)(t % (ulong)s.wo);
    t /= (ulong)s.wo;
    const int y = (int)(t % (ulong)s.ho);
    const int i = (int)(t / (ulong)s.ho);
    a[g] = window_value(a_prev, s, i, y * s.stride, x * s.stride, k);
}

/* Work-item mapping: one work-item per element of da_prev, global id
 * g = ((i*h + y)*w + x)*c + k, over at least n*h*w*c items. It sums, over
 * the windows (oy, ox) that cover (y, x) in increasing oy then ox: for max,
 * da[i][oy][ox][k] when a_prev[i][y][x][k] equals the window's max (ties all
 * receive it; a NaN max matches nothing); for average, da / (f*f). */
__kernel void pool_backward(__global const REAL *da, __global const REAL *a_prev, const pool_shape s,
                            __global REAL *da_prev)
{
    const ulong g = get_global_id(0);
    if (g >= (ulong)s.n * (ulong)s.h * (ulong)s.w * (ulong)s.c)
        return;
    ulong t = g;
    const int k = (int)(t % (ulong)s.c);
    t /= (ulong)s.c;
    const int x = (int)(t % (ulong)s.w);
    t /= (ulong)s.w;
    const int y = (int)(t % (ulong)s.h);
    const int i = (int)(t / (ulong)s.h);
    /* oy*stride <= y < oy*stride + f, within [0, ho); the ceiling division
     * in 64 bits, since stride may be close to INT_MAX */
    const int oy0 = y - s.f + 1 > 0 ? (int)(((long)y - s.f + s.stride) / s.stride) : 0;
    const int oy1 = min(y / s.stride, s.ho - 1);
    const int ox0 = x - s.f + 1 > 0 ? (int)(((long)x - s.f + s.stride) / s.stride) : 0;
    const int ox1 = min(x / s.stride, s.wo - 1);
    const REAL v = a_prev[g];
    REAL acc = (REAL)0;
    for (int oy = oy0; oy <= oy1; oy++)
        for (int ox = ox0; ox <= ox1; ox++) {
            const REAL d = da[AT(i, oy, ox, k, s.ho, s.wo, s.c)];
            if (s.mode == 0) {
                if (v == window_value(a_prev, s, i, oy * s.stride, ox * s.stride, k))
                    acc += d;
            } else {
                acc += d / window_size(s);
            }
        }
    da_prev[g] = acc;
}
