/* conv_backward_data.cl - the direct backward-data convolution (da_prev
 * of the notebook's conv_backward) where it does not run as a forward
 * convolution (stride > 1): transpose_weights, conv_backward_data_<N> and
 * the dot kernels for few input channels. Built after prelude.cl (REAL,
 * AT, conv_shape, covering, the width scheme, VEC_<N>, UNROLL), one
 * program per width.
 *
 * Every kernel is a gather: each output element is summed by one work-item
 * in the same fixed order as the reference path, so results are
 * deterministic and no atomics are used. Padding is read as zeros and
 * multiplied like any other value, exactly as the notebook's padded array. */

/* (kb, x, y, i) from g = ((i*h + y)*w + x)*kblocks + kb: the work-item
 * mapping of the backward-data kernels, a pixel of a_prev and a block of
 * its channels. */
inline int4 pixel_and_block(ulong g, int kblocks, const conv_shape s)
{
    const int kb = (int)(g % (ulong)kblocks);
    g /= (ulong)kblocks;
    const int x = (int)(g % (ulong)s.w);
    g /= (ulong)s.w;
    return (int4)(kb, x, (int)(g % (ulong)s.h), (int)(g / (ulong)s.h));
}

#if HAS_COMMON
/* Work-item mapping: one work-item per element of w_t, the weights
 * transposed to [fh][fw][cout][cin]: global id g = ((fy*fw + fx)*cout + c)*cin
 * + k, over at least fh*fw*cin*cout items; w_t[g] = w[fy][fx][k][c]. It
 * makes the weights of neighbouring input channels contiguous for backward
 * data with stride > 1 (stride 1 runs as a forward convolution, on
 * conv_block_weights' flipped copy). */
__kernel void transpose_weights(__global const REAL *w, const conv_shape s, __global REAL *w_t)
{
    const ulong g = get_global_id(0);
    if (g >= (ulong)s.fh * (ulong)s.fw * (ulong)s.cin * (ulong)s.cout)
        return;
    ulong t = g;
    const int k = (int)(t % (ulong)s.cin);
    t /= (ulong)s.cin;
    const int c = (int)(t % (ulong)s.cout);
    t /= (ulong)s.cout;
    const int fx = (int)(t % (ulong)s.fw), fy = (int)(t / (ulong)s.fw);
    w_t[g] = w[AT(fy, fx, k, c, s.fw, s.cin, s.cout)];
}
#endif

/* Backward data: a work-item computes N neighbouring input channels of one
 * input position (kernel conv_backward_data_<N>, N chosen by the host to
 * divide cin), reading the transposed weights w_t as N-wide vectors.
 * Work-item mapping: global id g = ((i*h + y)*w + x)*kblocks + kb with
 * kblocks = cin / N, over at least n*h*w*kblocks items. It writes
 * da_prev[i][y][x][kb*N .. kb*N + N): the sum over the output positions
 * (oy, ox) whose window covers padded position (y + pad, x + pad), in
 * increasing oy, then ox, then over c, of w[fy][fx][k][c] * dz[i][oy][ox][c]
 * with fy = y + pad - oy*stride, fx = x + pad - ox*stride. Neighbouring
 * work-items share dz and read neighbouring weight vectors. */
#define DEFINE_CONV_BACKWARD_DATA(N)                                                                           \
    __kernel void conv_backward_data_##N(__global const REAL *dz, __global const REAL *w_t, const conv_shape s, \
                                         __global REAL *da_prev)                                               \
    {                                                                                                          \
        const int kblocks = s.cin / N;                                                                         \
        const ulong g = get_global_id(0);                                                                      \
        if (g >= (ulong)s.n * (ulong)s.h * (ulong)s.w * (ulong)kblocks)                                        \
            return;                                                                                            \
        const int4 at = pixel_and_block(g, kblocks, s);                                                        \
        const int k0 = at.x * N, x = at.y, y = at.z, i = at.w;                                                 \
        const int py = y + s.pad_h, px = x + s.pad_w;                                                              \
        const int2 oy = covering(py, s.fh, s.stride, s.ho), ox = covering(px, s.fw, s.stride, s.wo);          \
        const int oy0 = oy.x, oy1 = oy.y, ox0 = ox.x, ox1 = ox.y;                                              \
        VEC_##N acc = (VEC_##N)0;                                                                              \
        for (int oy = oy0; oy <= oy1; oy++)                                                                    \
            for (int ox = ox0; ox <= ox1; ox++) {                                                              \
                const int fy = py - oy * s.stride, fx = px - ox * s.stride;                                    \
                __global const REAL *wp = w_t + AT(fy, fx, 0, k0, s.fw, s.cout, s.cin);                        \
                __global const REAL *dp = dz + AT(i, oy, ox, 0, s.ho, s.wo, s.cout);                           \
                for (int c = 0; c < s.cout; c++)                                                               \
                    acc += VLOAD_##N(wp + (ulong)c * (ulong)s.cin) * (VEC_##N)dp[c];                           \
            }                                                                                                  \
        VSTORE_##N(acc, da_prev + AT(i, y, x, k0, s.h, s.w, s.cin));                                           \
    }

#if HAS_WIDTH(1)
DEFINE_CONV_BACKWARD_DATA(1)
#endif
#if HAS_WIDTH(2)
DEFINE_CONV_BACKWARD_DATA(2)
#endif
#if HAS_WIDTH(4)
DEFINE_CONV_BACKWARD_DATA(4)
#endif
#if HAS_WIDTH(8)
DEFINE_CONV_BACKWARD_DATA(8)
#endif
#if HAS_WIDTH(16)
DEFINE_CONV_BACKWARD_DATA(16)
#endif

#if HAS_COMMON
/* Backward data for few input channels with a stride above 1 (conv1: 3
 * channels, 7x7, stride 2), where one channel per work-item leaves a long
 * scalar chain: a work-item computes DOT_K neighbouring input channels of
 * one pixel (each dz vector it loads serves all of them; DOT_K is K of
 * conv_backward_data_dot and conv_backward_data_dot3), and the reduction
 * over c runs in 2 independent 8-lane vectors per channel (DOT_K x 2
 * chains, so that the FMAs do not wait on each other's latency), reading dz
 * and the weights w[fy][fx][k][.] (contiguous in c) as vectors.
 * Summation order per channel: vector q, lane j sums the terms of
 * c = 16m + 8q + j (then those of c = 8m + j past the last multiple of 16,
 * into vector 0) in the reference order; then v0 + v1, its lanes pairwise
 * (halves, then halves again), then the scalar tail past the last multiple
 * of 8: fixed, so deterministic, though not the reference's.
 * Work-item mapping: one work-item per run of `run` pixels along a row (1
 * on GPUs; on CPUs several, so that decoding the work-item's indices, three
 * 64-bit divisions, is paid once per run) and run of DOT_K channels, global
 * id g = ((i*h + y)*runs + xr)*kblocks + kb, runs = ceil(w / run),
 * kblocks = ceil(cin / DOT_K), over at least n*h*runs*kblocks items; it
 * writes da_prev[i][y][x][k] for the x of run xr and k = kb*DOT_K + j < cin
 * (channels past cin are computed on channel cin - 1 and not stored). */
#define DEFINE_CONV_BACKWARD_DATA_DOT(K, NAME)                                                                 \
    __kernel void NAME(__global const REAL *dz, __global const REAL *w, const conv_shape s, int run,           \
                       __global REAL *da_prev)                                                                 \
    {                                                                                                          \
        /* ceilings without cin + K - 1 or w + run - 1, which could pass INT_MAX */                           \
        const int kblocks = s.cin / K + (s.cin % K != 0), runs = s.w / run + (s.w % run != 0);                 \
        const ulong g = get_global_id(0);                                                                      \
        if (g >= (ulong)s.n * (ulong)s.h * (ulong)runs * (ulong)kblocks)                                       \
            return;                                                                                            \
        ulong t = g / (ulong)kblocks;                                                                          \
        const int k0 = (int)(g % (ulong)kblocks) * K, x0 = (int)(t % (ulong)runs) * run;                       \
        t /= (ulong)runs;                                                                                      \
        const int y = (int)(t % (ulong)s.h), i = (int)(t / (ulong)s.h);                                        \
        const int py = y + s.pad_h;                                                                            \
        const int2 oy = covering(py, s.fh, s.stride, s.ho);                                                    \
        const int oy0 = oy.x, oy1 = oy.y;                                                                      \
        /* channel j's weights from channel k0's: s.cout apart, clamped to cin - 1 */                          \
        const int kmax = min(K, s.cin - k0);                                                                   \
        ulong wofs[K];                                                                                         \
        UNROLL for (int j = 0; j < K; j++) wofs[j] = (ulong)min(j, kmax - 1) * (ulong)s.cout;                  \
        const ulong wstep = (ulong)s.stride * (ulong)s.cin * (ulong)s.cout;                                   \
        for (int x = x0; x < s.w && x - x0 < run; x++) { /* no x0 + run, which could pass INT_MAX */          \
            const int px = x + s.pad_w;                                                                        \
            const int2 ox = covering(px, s.fw, s.stride, s.wo);                                                \
            const int ox0 = ox.x, ox1 = ox.y;                                                                  \
            VEC_8 v0[K], v1[K];                                                                                \
            REAL tail[K];                                                                                      \
            UNROLL for (int j = 0; j < K; j++)                                                                 \
            {                                                                                                  \
                v0[j] = v1[j] = (VEC_8)0;                                                                      \
                tail[j] = (REAL)0;                                                                             \
            }                                                                                                  \
            for (int oy = oy0; oy <= oy1; oy++) {                                                              \
                const int fy = py - oy * s.stride, fx0 = px - ox0 * s.stride;                                  \
                __global const REAL *wp = w + AT(fy, fx0, k0, 0, s.fw, s.cin, s.cout);                         \
                __global const REAL *dp = dz + AT(i, oy, ox0, 0, s.ho, s.wo, s.cout);                          \
                for (int ox = ox0; ox <= ox1; ox++, wp -= wstep, dp += s.cout) {                               \
                    int c = 0;                                                                                 \
                    for (; c + 16 <= s.cout; c += 16) {                                                        \
                        const VEC_8 d0 = VLOAD_8(dp + c), d1 = VLOAD_8(dp + c + 8);                            \
                        UNROLL for (int j = 0; j < K; j++)                                                     \
                        {                                                                                      \
                            v0[j] += d0 * VLOAD_8(wp + wofs[j] + c);                                           \
                            v1[j] += d1 * VLOAD_8(wp + wofs[j] + c + 8);                                       \
                        }                                                                                      \
                    }                                                                                          \
                    for (; c + 8 <= s.cout; c += 8) {                                                          \
                        const VEC_8 d0 = VLOAD_8(dp + c);                                                      \
                        UNROLL for (int j = 0; j < K; j++) v0[j] += d0 * VLOAD_8(wp + wofs[j] + c);            \
                    }                                                                                          \
                    for (; c < s.cout; c++)                                                                    \
                        UNROLL for (int j = 0; j < K; j++) tail[j] += dp[c] * wp[wofs[j] + c];                 \
                }                                                                                              \
            }                                                                                                  \
            __global REAL *out = da_prev + AT(i, y, x, k0, s.h, s.w, s.cin);                                   \
            UNROLL for (int j = 0; j < K; j++)                                                                 \
            {                                                                                                  \
                const VEC_8 acc8 = v0[j] + v1[j];                                                              \
                const VEC_4 a4 = acc8.lo + acc8.hi;                                                            \
                const VEC_2 a2 = a4.lo + a4.hi;                                                                \
                if (j < kmax)                                                                                  \
                    out[j] = (a2.x + a2.y) + tail[j];                                                          \
            }                                                                                                  \
        }                                                                                                      \
    }

/* DOT_K = 4 channels per work-item, or 3 (the host, host/opencl/conv/, picks the
 * one that computes fewer clamped channels: 3 for an RGB image's 3). */
DEFINE_CONV_BACKWARD_DATA_DOT(4, conv_backward_data_dot)
DEFINE_CONV_BACKWARD_DATA_DOT(3, conv_backward_data_dot3)
#endif
