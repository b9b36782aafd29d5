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

/* What a program holds (build options): -DWIDTH=N the <N>-wide variants
 * only, -DWIDTH=0 the kernels without a width; without WIDTH, every variant
 * up to MAX_WIDTH. The host builds one small program per width it uses, so
 * a first call compiles only what it runs. */
#ifndef MAX_WIDTH
#define MAX_WIDTH 16
#endif
#ifndef WIDTH
#define WIDTH (-1)
#endif
#define HAS_WIDTH(N) (WIDTH == (N) || (WIDTH == -1 && (N) <= MAX_WIDTH))
#define HAS_COMMON (WIDTH <= 0)

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define VEC_1 REAL
#define VEC_2 CAT(REAL, 2)
#define VEC_4 CAT(REAL, 4)
#define VEC_8 CAT(REAL, 8)
#define VEC_16 CAT(REAL, 16)
#define VLOAD_1(p) (*(p))
#define VLOAD_2(p) vload2(0, p)
#define VLOAD_4(p) vload4(0, p)
#define VLOAD_8(p) vload8(0, p)
#define VLOAD_16(p) vload16(0, p)
#define VSTORE_1(v, p) (*(p) = (v))
#define VSTORE_2(v, p) vstore2(v, 0, p)
#define VSTORE_4(v, p) vstore4(v, 0, p)
#define VSTORE_8(v, p) vstore8(v, 0, p)
#define VSTORE_16(v, p) vstore16(v, 0, p)
/* b where c holds (per lane), else a; a scalar c is a plain truth value */
#define SELECT_1(a, b, c) ((c) ? (b) : (a))
#define SELECT_2(a, b, c) select(a, b, c)
#define SELECT_4(a, b, c) select(a, b, c)
#define SELECT_8(a, b, c) select(a, b, c)
#define SELECT_16(a, b, c) select(a, b, c)

/* Every kernel comes in widths N = 1, 2, 4, 8, 16 (pool_forward_<N>,
 * pool_backward_<N>): a work-item handles N neighbouring channels as one
 * vector, N chosen by the host to divide c. Lanes are independent, so each
 * channel is computed exactly as with N = 1.
 *
 * WINDOW_<N>(a, s, i, y0, x0, c0): the max (per lane NaN if the window holds
 * NaN, as np.max; scanned in row-major order) or the mean of channels
 * c0 .. c0+N of the window whose top-left corner is (y0, x0). */
#define DEFINE_WINDOW(N)                                                                                        \
    inline VEC_##N window_##N(__global const REAL *a, const pool_shape s, int i, int y0, int x0, int c0)       \
    {                                                                                                           \
        /* the window's top-left vector, then rows `row` and columns s.c apart */                              \
        __global const REAL *p = a + AT(i, y0, x0, c0, s.h, s.w, s.c);                                          \
        const ulong row = (ulong)s.w * (ulong)s.c;                                                              \
        if (s.mode == 0) {                                                                                      \
            VEC_##N m = VLOAD_##N(p);                                                                           \
            for (int y = 0; y < s.f; y++, p += row) {                                                           \
                __global const REAL *q = p;                                                                     \
                for (int x = 0; x < s.f; x++, q += s.c) {                                                       \
                    const VEC_##N v = VLOAD_##N(q);                                                             \
                    m = SELECT_##N(m, v, (isnan(v) || v > m) && !isnan(m));                                    \
                }                                                                                               \
            }                                                                                                   \
            return m;                                                                                           \
        }                                                                                                       \
        VEC_##N sum = (VEC_##N)0;                                                                               \
        for (int y = 0; y < s.f; y++, p += row) {                                                               \
            __global const REAL *q = p;                                                                         \
            for (int x = 0; x < s.f; x++, q += s.c)                                                             \
                sum += VLOAD_##N(q);                                                                            \
        }                                                                                                       \
        return sum / window_size(s);                                                                            \
    }

/* Both kernels give a work-item one pixel and a group of up to `group`
 * neighbouring N-channel blocks, looped over: the index decoding (64-bit
 * divisions) is paid once per group, not once per vector, while a large c
 * still spreads over many work-items. groups = ceil((c / N) / group). */

/* Work-item mapping: one work-item per (i, y, x, channel group) of a, global
 * id g = ((i*ho + y)*wo + x)*groups + gi, over at least n*ho*wo*groups items;
 * it writes a[i][y][x][cb*N .. cb*N + N) for the blocks cb of group gi. */
#define DEFINE_POOL_FORWARD(N)                                                                                  \
    __kernel void pool_forward_##N(__global const REAL *a_prev, const pool_shape s, int group,                 \
                                   __global REAL *a)                                                            \
    {                                                                                                           \
        const int cblocks = s.c / N, groups = (cblocks + group - 1) / group;                                    \
        const ulong g = get_global_id(0);                                                                       \
        if (g >= (ulong)s.n * (ulong)s.ho * (ulong)s.wo * (ulong)groups)                                        \
            return;                                                                                             \
        ulong t = g;                                                                                            \
        const int cb0 = (int)(t % (ulong)groups) * group, cb1 = min(cblocks, cb0 + group);                      \
        t /= (ulong)groups;                                                                                     \
        const int x = (int)(t % (ulong)s.wo);                                                                   \
        t /= (ulong)s.wo;                                                                                       \
        const int y = (int)(t % (ulong)s.ho), i = (int)(t / (ulong)s.ho);                                       \
        for (int cb = cb0; cb < cb1; cb++)                                                                      \
            VSTORE_##N(window_##N(a_prev, s, i, y * s.stride, x * s.stride, cb * N),                           \
                       a + AT(i, y, x, cb * N, s.ho, s.wo, s.c));                                               \
    }

/* Work-item mapping: one work-item per (i, y, x, channel group) of
 * da_prev, global id g = ((i*h + y)*w + x)*groups + gi, over at least
 * n*h*w*groups items. Per channel it sums, over the windows (oy, ox) that
 * cover (y, x) in increasing oy then ox: for max, da[i][oy][ox][c] when
 * a_prev[i][y][x][c] equals the window's max, read from amax (the forward
 * result, computed into a workspace by pool_forward_<N> just before; ties
 * all receive it; a NaN max matches nothing); for average, da / (f*f), and
 * amax is not read. */
#define DEFINE_POOL_BACKWARD(N)                                                                                 \
    __kernel void pool_backward_##N(__global const REAL *da, __global const REAL *a_prev,                      \
                                    __global const REAL *amax, const pool_shape s, int group,                   \
                                    __global REAL *da_prev)                                                     \
    {                                                                                                           \
        const int cblocks = s.c / N, groups = (cblocks + group - 1) / group;                                    \
        const ulong g = get_global_id(0);                                                                       \
        if (g >= (ulong)s.n * (ulong)s.h * (ulong)s.w * (ulong)groups)                                          \
            return;                                                                                             \
        ulong t = g;                                                                                            \
        const int cb0 = (int)(t % (ulong)groups) * group, cb1 = min(cblocks, cb0 + group);                      \
        t /= (ulong)groups;                                                                                     \
        const int x = (int)(t % (ulong)s.w);                                                                    \
        t /= (ulong)s.w;                                                                                        \
        const int y = (int)(t % (ulong)s.h), i = (int)(t / (ulong)s.h);                                         \
        /* oy*stride <= y < oy*stride + f, within [0, ho); the ceiling division                                \
         * in 64 bits, since stride may be close to INT_MAX */                                                  \
        const int oy0 = y - s.f + 1 > 0 ? (int)(((long)y - s.f + s.stride) / s.stride) : 0;                     \
        const int oy1 = min(y / s.stride, s.ho - 1);                                                            \
        const int ox0 = x - s.f + 1 > 0 ? (int)(((long)x - s.f + s.stride) / s.stride) : 0;                     \
        const int ox1 = min(x / s.stride, s.wo - 1);                                                            \
        for (int cb = cb0; cb < cb1; cb++) {                                                                    \
            const int c0 = cb * N;                                                                              \
            const VEC_##N v = VLOAD_##N(a_prev + AT(i, y, x, c0, s.h, s.w, s.c));                               \
            VEC_##N acc = (VEC_##N)0;                                                                           \
            for (int oy = oy0; oy <= oy1; oy++)                                                                 \
                for (int ox = ox0; ox <= ox1; ox++) {                                                           \
                    const ulong o = AT(i, oy, ox, c0, s.ho, s.wo, s.c);                                         \
                    const VEC_##N d = VLOAD_##N(da + o);                                                        \
                    if (s.mode == 0)                                                                            \
                        acc += SELECT_##N((VEC_##N)0, d, v == VLOAD_##N(amax + o));                             \
                    else                                                                                        \
                        acc += d / window_size(s);                                                              \
                }                                                                                               \
            VSTORE_##N(acc, da_prev + AT(i, y, x, c0, s.h, s.w, s.c));                                          \
        }                                                                                                       \
    }

#define DEFINE_POOL(N) DEFINE_WINDOW(N) DEFINE_POOL_FORWARD(N) DEFINE_POOL_BACKWARD(N)
#if HAS_WIDTH(1)
DEFINE_POOL(1)
#endif
#if HAS_WIDTH(2)
DEFINE_POOL(2)
#endif
#if HAS_WIDTH(4)
DEFINE_POOL(4)
#endif
#if HAS_WIDTH(8)
DEFINE_POOL(8)
#endif
#if HAS_WIDTH(16)
DEFINE_POOL(16)
#endif
