/* pool.cl - max and average pooling of NHWC tensors over square f x f
 * windows without padding, forward and backward (the notebook's
 * pool_forward and pool_backward). Built after prelude.cl (REAL, AT, the
 * width scheme, VEC_<N>, UNROLL, covering), one program per width.
 *
 * Both kernels are gathers in the reference path's order: deterministic,
 * no atomics. */

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

/* Stores of both kernels' results: on CPUs (-DSTREAM_STORES=1, compilers
 * that are clang) non-temporal, so that writing a line does not first read
 * it into the cache, which is faster for both kernels on the CPUs
 * measured. The price: the result goes to memory, and a next layer reads it from there,
 * not from the last-level cache. The backward kernel's `stream` argument
 * can ask for plain stores (the host's choice: cl_ops.c).
 * The address must be aligned to the vector (it is: N divides c and
 * buffers are aligned). */
#ifndef STREAM_STORES
#define STREAM_STORES 0
#endif
#if STREAM_STORES && defined(__clang__)
#define STORE_STREAM_1(v, p) __builtin_nontemporal_store(v, p)
#define STORE_STREAM_2(v, p) __builtin_nontemporal_store(v, (__global VEC_2 *)(p))
#define STORE_STREAM_4(v, p) __builtin_nontemporal_store(v, (__global VEC_4 *)(p))
#define STORE_STREAM_8(v, p) __builtin_nontemporal_store(v, (__global VEC_8 *)(p))
#define STORE_STREAM_16(v, p) __builtin_nontemporal_store(v, (__global VEC_16 *)(p))
#else
#define STORE_STREAM_1(v, p) VSTORE_1(v, p)
#define STORE_STREAM_2(v, p) VSTORE_2(v, p)
#define STORE_STREAM_4(v, p) VSTORE_4(v, p)
#define STORE_STREAM_8(v, p) VSTORE_8(v, p)
#define STORE_STREAM_16(v, p) VSTORE_16(v, p)
#endif
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
 * A work-item with several channel blocks (CPUs) takes them ILP at a time,
 * as ILP independent vectors: one block's window is a chain of dependent
 * selects or adds, which left the core waiting; ILP chains side by side
 * overlap. Each vector is still scanned
 * in the same order, so the bits do not change.
 *
 * WINDOWS_<N>(a, s, i, y0, x0, c0, K, out): out[j], j < K, is the max (per
 * lane NaN if the window holds NaN, as np.max: the first NaN in row-major
 * order) or the mean of channels c0 + j*N .. c0 + j*N + N-1 of the window
 * whose top-left corner is (y0, x0). K is a constant (1 or ILP). */
#ifndef ILP
#define ILP 4
#endif
#define WINDOWS(N, a, s, i, y0, x0, c0, K, out)                                                                 \
    do {                                                                                                        \
        /* the window's top-left vector, then rows `row` and columns s.c apart */                               \
        __global const REAL *p = (a) + AT(i, y0, x0, c0, (s).h, (s).w, (s).c);                                  \
        const ulong row = (ulong)(s).w * (ulong)(s).c;                                                          \
        if ((s).mode == 0) {                                                                                    \
            /* the max in a chain of one compare and select per vector (strict >: the first of equal            \
             * values, -0 and +0 too; a NaN never replaces it), and beside it the first NaN: fn follows v       \
             * until v is NaN, then stays (faster than the two compares of (isnan(v) || v > m) &&               \
             * !isnan(m) in one chain) */                                                                       \
            VEC_##N fn[K];                                                                                      \
            UNROLL for (int j = 0; j < (K); j++) out[j] = fn[j] = VLOAD_##N(p + j * N);                         \
            for (int y = 0; y < (s).f; y++, p += row) {                                                         \
                __global const REAL *q = p;                                                                     \
                for (int x = 0; x < (s).f; x++, q += (s).c) {                                                   \
                    UNROLL for (int j = 0; j < (K); j++)                                                        \
                    {                                                                                           \
                        const VEC_##N v = VLOAD_##N(q + j * N);                                                 \
                        out[j] = SELECT_##N(out[j], v, v > out[j]);                                             \
                        fn[j] = SELECT_##N(fn[j], v, fn[j] == fn[j]);                                           \
                    }                                                                                           \
                }                                                                                               \
            }                                                                                                   \
            UNROLL for (int j = 0; j < (K); j++) out[j] = SELECT_##N(out[j], fn[j], fn[j] != fn[j]);            \
        } else {                                                                                                \
            UNROLL for (int j = 0; j < (K); j++) out[j] = (VEC_##N)0;                                           \
            for (int y = 0; y < (s).f; y++, p += row) {                                                         \
                __global const REAL *q = p;                                                                     \
                for (int x = 0; x < (s).f; x++, q += (s).c)                                                     \
                    UNROLL for (int j = 0; j < (K); j++) out[j] += VLOAD_##N(q + j * N);                        \
            }                                                                                                   \
            UNROLL for (int j = 0; j < (K); j++) out[j] /= window_size(s);                                      \
        }                                                                                                       \
    } while (0)

/* a / b rounded up, for 0 <= a and 0 < b, without a + b - 1 (which could
 * pass INT_MAX) */
#define CEIL_DIV(a, b) ((a) / (b) + ((a) % (b) != 0))

/* Both kernels give a work-item a run of up to `run` pixels along a row
 * and a group of up to `group` neighbouring N-channel blocks, looped over:
 * the index decoding (64-bit divisions, about as costly as the loads of a
 * pixel) is paid once per run and group, not once per vector, while a large
 * c still spreads over many work-items. groups = ceil((c / N) / group),
 * runs = ceil(width / run) (width: wo forward, w backward). */

/* Work-item mapping: one work-item per (i, y, run of x, channel group) of
 * a, global id g = ((i*ho + y)*runs + xr)*groups + gi, over at least
 * n*ho*runs*groups items; it writes a[i][y][x][cb*N .. cb*N + N) for the
 * x of run xr and the blocks cb of group gi. */
#define DEFINE_POOL_FORWARD(N)                                                                                  \
    __kernel void pool_forward_##N(__global const REAL *a_prev, const pool_shape s, int group, int run,         \
                                   __global REAL *a)                                                            \
    {                                                                                                           \
        const int cblocks = s.c / N, groups = CEIL_DIV(cblocks, group), runs = CEIL_DIV(s.wo, run);             \
        const ulong g = get_global_id(0);                                                                       \
        if (g >= (ulong)s.n * (ulong)s.ho * (ulong)runs * (ulong)groups)                                        \
            return;                                                                                             \
        ulong t = g;                                                                                            \
        const int cb0 = (int)(t % (ulong)groups) * group, cb1 = cb0 + min(group, cblocks - cb0);                \
        t /= (ulong)groups;                                                                                     \
        const int x0 = (int)(t % (ulong)runs) * run, x1 = x0 + min(run, s.wo - x0);                             \
        t /= (ulong)runs;                                                                                       \
        const int y = (int)(t % (ulong)s.ho), i = (int)(t / (ulong)s.ho);                                       \
        for (int x = x0; x < x1; x++) {                                                                         \
            __global REAL *out = a + AT(i, y, x, 0, s.ho, s.wo, s.c);                                           \
            int cb = cb0;                                                                                       \
            for (; cb + ILP <= cb1; cb += ILP) {                                                                \
                VEC_##N r[ILP];                                                                                 \
                WINDOWS(N, a_prev, s, i, y * s.stride, x * s.stride, cb * N, ILP, r);                           \
                UNROLL for (int j = 0; j < ILP; j++) STORE_STREAM_##N(r[j], out + (cb + j) * N);                \
            }                                                                                                   \
            for (; cb < cb1; cb++) {                                                                            \
                VEC_##N r[1];                                                                                   \
                WINDOWS(N, a_prev, s, i, y * s.stride, x * s.stride, cb * N, 1, r);                             \
                STORE_STREAM_##N(r[0], out + cb * N);                                                           \
            }                                                                                                   \
        }                                                                                                       \
    }

/* Work-item mapping: one work-item per (i, y, run of x, channel group) of
 * da_prev, global id g = ((i*h + y)*runs + xr)*groups + gi, over at least
 * n*h*runs*groups items. Per channel it sums, over the windows (oy, ox)
 * that cover (y, x) in increasing oy then ox: for max, da[i][oy][ox][c]
 * when a_prev[i][y][x][c] equals the window's max, read from amax (the
 * forward result, computed into a workspace by pool_forward_<N> just
 * before; ties all receive it; a NaN max matches nothing); for average,
 * da / (f*f), and a_prev is not read: divided here, or with `divided`
 * read from amax, where pool_share_<N> stored each window's quotient (the
 * same quotient, so the same bits; where an input pixel lies in many
 * windows, each would otherwise be divided again for every pixel it
 * covers: the host passes it where f >= 3*stride). BACKWARD_BLOCKS sums K
 * blocks from c0 on (K constant) as K independent vectors, and stores them
 * non-temporal where `stream` is set and the build has STREAM_STORES. */
#define BACKWARD_BLOCKS(N, K, c0)                                                                               \
    do {                                                                                                        \
        VEC_##N v[K], acc[K];                                                                                   \
        __global const REAL *ap = a_prev + AT(i, y, x, c0, s.h, s.w, s.c);                                      \
        UNROLL for (int j = 0; j < (K); j++)                                                                    \
        {                                                                                                       \
            v[j] = s.mode == 0 ? VLOAD_##N(ap + j * N) : (VEC_##N)0;                                            \
            acc[j] = (VEC_##N)0;                                                                                \
        }                                                                                                       \
        for (int oy = oy0; oy <= oy1; oy++)                                                                     \
            for (int ox = ox0; ox <= ox1; ox++) {                                                               \
                const ulong o = AT(i, oy, ox, c0, s.ho, s.wo, s.c);                                             \
                UNROLL for (int j = 0; j < (K); j++)                                                            \
                {                                                                                               \
                    if (s.mode == 0)                                                                            \
                        acc[j] += SELECT_##N((VEC_##N)0, VLOAD_##N(da + o + j * N),                             \
                                             v[j] == VLOAD_##N(amax + o + j * N));                              \
                    else if (divided) /* amax holds the shares */                                               \
                        acc[j] += VLOAD_##N(amax + o + j * N);                                                  \
                    else                                                                                        \
                        acc[j] += VLOAD_##N(da + o + j * N) / window_size(s);                                   \
                }                                                                                               \
            }                                                                                                   \
        __global REAL *dp = da_prev + AT(i, y, x, c0, s.h, s.w, s.c);                                           \
        UNROLL for (int j = 0; j < (K); j++)                                                                    \
        {                                                                                                       \
            if (stream)                                                                                         \
                STORE_STREAM_##N(acc[j], dp + j * N);                                                           \
            else                                                                                                \
                VSTORE_##N(acc[j], dp + j * N);                                                                 \
        }                                                                                                       \
    } while (0)

#define DEFINE_POOL_BACKWARD(N)                                                                                 \
    __kernel void pool_backward_##N(__global const REAL *da, __global const REAL *a_prev,                       \
                                    __global const REAL *amax, const pool_shape s, int group, int run,          \
                                    int divided, int stream, __global REAL *da_prev)                            \
    {                                                                                                           \
        const int cblocks = s.c / N, groups = CEIL_DIV(cblocks, group), runs = CEIL_DIV(s.w, run);              \
        const ulong g = get_global_id(0);                                                                       \
        if (g >= (ulong)s.n * (ulong)s.h * (ulong)runs * (ulong)groups)                                         \
            return;                                                                                             \
        ulong t = g;                                                                                            \
        const int cb0 = (int)(t % (ulong)groups) * group, cb1 = cb0 + min(group, cblocks - cb0);                \
        t /= (ulong)groups;                                                                                     \
        const int x0 = (int)(t % (ulong)runs) * run, x1 = x0 + min(run, s.w - x0);                              \
        t /= (ulong)runs;                                                                                       \
        const int y = (int)(t % (ulong)s.h), i = (int)(t / (ulong)s.h);                                         \
        const int2 oy = covering(y, s.f, s.stride, s.ho);                                                       \
        const int oy0 = oy.x, oy1 = oy.y;                                                                       \
        for (int x = x0; x < x1; x++) {                                                                         \
            const int2 ox = covering(x, s.f, s.stride, s.wo);                                                   \
            const int ox0 = ox.x, ox1 = ox.y;                                                                   \
            int cb = cb0;                                                                                       \
            for (; cb + ILP <= cb1; cb += ILP)                                                                  \
                BACKWARD_BLOCKS(N, ILP, cb * N);                                                                \
            for (; cb < cb1; cb++)                                                                              \
                BACKWARD_BLOCKS(N, 1, cb * N);                                                                  \
        }                                                                                                       \
    }

/* Each window's share of the average-pool gradient, da / (f*f), for
 * pool_backward_<N> with `divided`.
 * Work-item mapping: one work-item per N-vector of da, global id g <
 * vectors = da's element count / N; it writes share[g*N .. g*N + N). */
#define DEFINE_POOL_SHARE(N)                                                                                    \
    __kernel void pool_share_##N(__global const REAL *da, const pool_shape s, ulong vectors,                    \
                                 __global REAL *share)                                                          \
    {                                                                                                           \
        const ulong g = get_global_id(0);                                                                       \
        if (g < vectors)                                                                                        \
            VSTORE_##N(VLOAD_##N(da + g * N) / window_size(s), share + g * N);                                  \
    }

#define DEFINE_POOL(N) DEFINE_POOL_FORWARD(N) DEFINE_POOL_BACKWARD(N) DEFINE_POOL_SHARE(N)
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
