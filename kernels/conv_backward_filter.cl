/* conv_backward_filter.cl - the direct backward-filter convolution (dw and
 * db of the notebook's conv_backward): conv_backward_filter_<N> and
 * conv_backward_filter_small_<N>, the channel blocking of their inputs on
 * CPUs (conv_block_channels), the sum of their partial sums across runs
 * of rows, and the bias gradient alone. Built after prelude.cl (REAL, AT,
 * conv_shape, the width scheme, VEC_<N>, UNROLL), one program per width.
 *
 * Every kernel is a gather: each output element is summed by one work-item
 * in a fixed order (in fixed runs of output rows, then across runs), so
 * results are deterministic and no atomics are used. Padding is read as
 * zeros and multiplied like any other value, as the reference does. */

/* Backward filter: the output rows r = i*ho + oy, 0 <= r < n*ho, are cut
 * into `chunks` runs of `chunk_len` rows (one run when the reduction is
 * short); a work-item sums one run for FILTER_KB neighbouring input channels
 * times N neighbouring filters of one tap (fy, fx) (kernel
 * conv_backward_filter_<N>, N chosen by the host to divide cout; FILTER_KB a
 * build option), keeping FILTER_KB N-wide accumulators in registers: each dz
 * vector it loads serves FILTER_KB input values. With one run it writes dw
 * directly, else a partial sum that conv_backward_filter_sum adds up across
 * runs.
 * Work-item mapping: global id g = chunk*(fh*fw*kblocks*cblocks) + e with
 * e = ((fy*fw + fx)*kblocks + kb)*cblocks + cb, or with channel_first
 * e = ((fy*fw + fx)*cblocks + cb)*kblocks + kb (CPUs reading NHWC: the
 * work-items a core runs in a row then share each position's dz vector and
 * read neighbouring input channels, where cb first has each read a dz
 * slice of its own, positions 4*cout bytes apart; blocked copies keep cb
 * first, which is faster for them: docs/performance/kernel-choices.md),
 * kblocks = ceil(cin / FILTER_KB) and cblocks = cout / N, over at least
 * chunks*fh*fw*kblocks*
 * cblocks items. It writes out[chunk][fy][fx][k][cb*N .. cb*N + N) for k =
 * kb*FILTER_KB + j < cin (chunk `out_stride` elements after chunk - 1):
 * the sum over the positions (i, oy, ox) of its run,
 * ascending, of a_pad[i][oy*stride + fy][ox*stride + fx][k] *
 * dz[i][oy][ox][c]; with db_out, the work-items of tap (0, 0) and kb 0 also
 * write db_out[chunk*out_stride + db_offset + c], the sum of dz[i][oy][ox][c]
 * over the same positions, ascending. Padding is read as 0 and multiplied like any other
 * value, so a NaN or infinity in dz spreads as in the reference; the
 * positions whose input lies in the padding (whole rows, and the ends of a
 * row) are split off so that the inner loop has no test.
 * a and dz are a_prev and dz themselves (NHWC, blocked == 0) or, on CPUs,
 * their copies by conv_block_channels in blocks of KB channels and of N
 * filters (blocked == 1), where a work-item's values of neighbouring
 * positions lie KB (N) elements apart instead of cin (cout): in NHWC with
 * 128+ channels they are 512+ bytes apart, and one work-item's reads fall
 * in a few L1 sets. */
#ifndef FILTER_KB
#define FILTER_KB 8
#endif
/* conv_backward_filter_small_<N>: the same with FILTER_KB_SMALL (at most 3)
 * channels, for layers with fewer than FILTER_KB input channels (an RGB
 * image's 3), where most of a FILTER_KB block would be clamped copies. */
#define FILTER_KB_SMALL (FILTER_KB < 3 ? FILTER_KB : 3)
#define DEFINE_FILTER_KERNELS(N)                                                                               \
    DEFINE_CONV_BACKWARD_FILTER(N, FILTER_KB, conv_backward_filter_##N)                                        \
    DEFINE_CONV_BACKWARD_FILTER(N, FILTER_KB_SMALL, conv_backward_filter_small_##N)
#define DEFINE_CONV_BACKWARD_FILTER(N, KB, NAME)                                                               \
    __kernel void NAME(__global const REAL *dz, __global const REAL *a, const conv_shape s,                     \
                       int chunks, long chunk_len, int blocked, int channel_first, __global REAL *out,  \
                       long out_stride,                                                                        \
                       __global REAL *db_out, long db_offset)                                                  \
    {                                                                                                          \
        const int cblocks = s.cout / N, kblocks = (s.cin + KB - 1) / KB;                         \
        const ulong size = (ulong)s.fh * (ulong)s.fw * (ulong)kblocks * (ulong)cblocks;                        \
        const ulong g = get_global_id(0);                                                                      \
        if (g >= (ulong)chunks * size)                                                                         \
            return;                                                                                            \
        const ulong chunk = g / size;                                                                          \
        ulong t = g % size;                                                                                    \
        /* cb, kb: kb varies fastest with channel_first, else cb */                                          \
        const ulong inner = channel_first ? (ulong)kblocks : (ulong)cblocks;                                   \
        const int b0 = (int)(t % inner), b1 = (int)(t / inner % (channel_first ? cblocks : kblocks));         \
        t /= (ulong)kblocks * (ulong)cblocks;                                                                  \
        const int c0 = (channel_first ? b1 : b0) * N, k0 = (channel_first ? b0 : b1) * KB;                    \
        const int fx = (int)(t % (ulong)s.fw), fy = (int)(t / (ulong)s.fw);                                    \
        /* ak: channel k0 of pixel 0; pixels a_pixel elements apart. Channel j reads k0 + j, clamped      \
         * in NHWC (zero-filled in blocks): the clamped copies are computed and not stored */                 \
        const ulong a_pixel = blocked ? (ulong)KB : (ulong)s.cin;                                              \
        __global const REAL *ak = blocked ? a + (ulong)(k0 / KB) * (ulong)s.n * s.h * s.w * KB : a + k0;      \
        int kofs[KB];                                                                                   \
        UNROLL for (int j = 0; j < KB; j++) kofs[j] = blocked ? j : min(j, s.cin - 1 - k0);             \
        /* the output columns whose input column lies inside a_prev: ox in [lo, hi] */                         \
        const long lead = (long)s.pad_w - fx; /* ox*stride >= lead */                                          \
        const long lo = lead > 0 ? (lead + s.stride - 1) / s.stride : 0;                                       \
        const long tail = (long)s.w - 1 + lead; /* ox*stride <= tail; none when negative */                   \
        const long hi = tail < 0 ? -1 : min((long)s.wo - 1, tail / s.stride);                                  \
        const ulong rows = (ulong)s.n * (ulong)s.ho;                                                           \
        /* dc: filter c0 of position 0; positions dz_pixel elements apart */                                   \
        const ulong dz_pixel = blocked ? (ulong)N : (ulong)s.cout;                                             \
        __global const REAL *dc = blocked ? dz + (ulong)(c0 / N) * rows * s.wo * N : dz + c0;                 \
        const ulong r0 = chunk * (ulong)chunk_len, r1 = min(rows, r0 + (ulong)chunk_len);                      \
        VEC_##N acc[KB];                                                                                \
        UNROLL for (int j = 0; j < KB; j++) acc[j] = (VEC_##N)0;                                        \
        for (ulong r = r0; r < r1; r++) {                                                                      \
            const int oy = (int)(r % (ulong)s.ho), i = (int)(r / (ulong)s.ho);                                 \
            const long iy = (long)oy * s.stride + fy - s.pad_h;                                                \
            __global const REAL *dp = dc + r * (ulong)s.wo * dz_pixel;                                         \
            const int row_inside = iy >= 0 && iy < s.h;                                                        \
            const long in_lo = row_inside ? lo : s.wo, in_hi = row_inside ? hi : (long)s.wo - 1;               \
            for (long ox = 0; ox < min(in_lo, (long)s.wo); ox++) { /* padding: 0 * dz */                       \
                const VEC_##N d = VLOAD_##N(dp + (ulong)ox * dz_pixel);                                        \
                UNROLL for (int j = 0; j < KB; j++) acc[j] += (VEC_##N)(REAL)0 * d;                     \
            }                                                                                                  \
            if (row_inside && lo <= hi) {                                                                      \
                const ulong step = (ulong)s.stride * a_pixel;                                                  \
                __global const REAL *ap = ak + AT(i, iy, lo * s.stride + fx - s.pad_w, 0, s.h, s.w, a_pixel);  \
                __global const REAL *dq = dp + (ulong)lo * dz_pixel;                                           \
                for (long ox = lo; ox <= hi; ox++, ap += step, dq += dz_pixel) {                               \
                    const VEC_##N d = VLOAD_##N(dq);                                                           \
                    UNROLL for (int j = 0; j < KB; j++) acc[j] += (VEC_##N)ap[kofs[j]] * d;             \
                }                                                                                              \
            }                                                                                                  \
            for (long ox = max(in_hi + 1, min(in_lo, (long)s.wo)); ox < s.wo; ox++) { /* padding: 0 * dz */   \
                const VEC_##N d = VLOAD_##N(dp + (ulong)ox * dz_pixel);                                        \
                UNROLL for (int j = 0; j < KB; j++) acc[j] += (VEC_##N)(REAL)0 * d;                     \
            }                                                                                                  \
        }                                                                                                      \
        __global REAL *o = out + chunk * (ulong)out_stride;                                                    \
        UNROLL for (int j = 0; j < KB; j++)                                                                    \
        {                                                                                                      \
            if (k0 + j < s.cin)                                                                                \
                VSTORE_##N(acc[j], o + AT(fy, fx, k0 + j, c0, s.fw, s.cin, s.cout));                           \
        }                                                                                                      \
        /* The bias gradient of this run of rows, by the work-item of tap (0, 0) and the first channel       \
         * block of each filter block: a second pass over its dz vectors, just read and still in cache,    \
         * in the same ascending (i, oy, ox) order. */                                                        \
        if (db_out && fy == 0 && fx == 0 && k0 == 0) {                                                         \
            VEC_##N accb = (VEC_##N)0;                                                                         \
            for (ulong r = r0; r < r1; r++) {                                                                  \
                __global const REAL *dp = dc + r * (ulong)s.wo * dz_pixel;                                     \
                for (int ox = 0; ox < s.wo; ox++)                                                              \
                    accb += VLOAD_##N(dp + (ulong)ox * dz_pixel);                                              \
            }                                                                                                  \
            VSTORE_##N(accb, db_out + chunk * (ulong)out_stride + (ulong)db_offset + (ulong)c0);               \
        }                                                                                                      \
    }

#if HAS_WIDTH(1)
DEFINE_FILTER_KERNELS(1)
#endif
#if HAS_WIDTH(2)
DEFINE_FILTER_KERNELS(2)
#endif
#if HAS_WIDTH(4)
DEFINE_FILTER_KERNELS(4)
#endif
#if HAS_WIDTH(8)
DEFINE_FILTER_KERNELS(8)
#endif
#if HAS_WIDTH(16)
DEFINE_FILTER_KERNELS(16)
#endif

#if HAS_COMMON
/* a_prev (or dz) in blocks of kb channels for the backward filter on
 * CPUs: out[blk][p][j] = x[p][blk*kb + j] for the pixels p < pixels, and 0
 * where blk*kb + j >= c (the last block's channels past c, which the
 * filter kernel computes and does not store).
 * Work-item mapping: one work-item per pixel p = global id, over at least
 * `pixels` items: it reads the pixel's c channels in order and writes its
 * kb elements of each block (4-wide when kb is a multiple of 4 dividing c,
 * as dz's blocks of N filters are). */
__kernel void conv_block_channels(__global const REAL *x, long pixels, int c, int kb, __global REAL *out)
{
    const ulong p = get_global_id(0);
    if (p >= (ulong)pixels)
        return;
    const int kblocks = (c + kb - 1) / kb;
    __global const REAL *src = x + p * (ulong)c;
    __global REAL *dst = out + p * (ulong)kb;
    const ulong block_step = (ulong)pixels * (ulong)kb;
    if (kb % 4 == 0 && c % kb == 0) {
        for (int blk = 0; blk < kblocks; blk++, src += kb, dst += block_step)
            for (int j = 0; j < kb; j += 4)
                VSTORE_4(VLOAD_4(src + j), dst + j);
        return;
    }
    for (int blk = 0; blk < kblocks; blk++, dst += block_step)
        for (int j = 0; j < kb; j++) {
            const int k = blk * kb + j;
            dst[j] = k < c ? src[k] : (REAL)0;
        }
}

/* Both kernels below give each work-item `run` neighbouring elements (1 on
 * GPUs, 16 on CPUs): each element is still one chain of additions in the
 * order given, but on a CPU sixteen of them advance together as two
 * vectors (one element per work-item was a chain of dependent scalar
 * additions, and the bias alone a large share of the backward filter's
 * time). */

/* Work-item mapping: one work-item per run of `run` elements of the
 * partial sums' rows, global id g, elements e = g*run .. min(total, g*run +
 * run) - 1 with total = size + bias, over at least ceil(total / run) items:
 * the sum over chunk = 0 .. chunks-1, in that order, of
 * partial[chunk*stride + e], written to dw[e] for e < size and to
 * db[e - size] for the bias elements after them (bias 0: no db). */
__kernel void conv_backward_filter_sum(__global const REAL *partial, int chunks, long size, long stride,
                                       int run, __global REAL *dw, long bias, __global REAL *db)
{
    const ulong e0 = get_global_id(0) * (ulong)run, total = (ulong)size + (ulong)bias;
    if (e0 >= total)
        return;
    if (run == 16 && (e0 + 16 <= (ulong)size || (e0 >= (ulong)size && e0 + 16 <= total))) {
        VEC_16 acc = (VEC_16)0;
        for (int chunk = 0; chunk < chunks; chunk++)
            acc += VLOAD_16(partial + (ulong)chunk * (ulong)stride + e0);
        VSTORE_16(acc, e0 < (ulong)size ? dw + e0 : db + (e0 - (ulong)size));
        return;
    }
    for (ulong e = e0; e < min(total, e0 + (ulong)run); e++) {
        REAL acc = (REAL)0;
        for (int chunk = 0; chunk < chunks; chunk++)
            acc += partial[(ulong)chunk * (ulong)stride + e];
        if (e < (ulong)size)
            dw[e] = acc;
        else
            db[e - (ulong)size] = acc;
    }
}

/* The bias gradient alone (when dw is not computed by the direct kernel,
 * which otherwise writes it): in the backward filter's order, so that db has
 * the same bits either way. Work-item mapping: one work-item per run of
 * `run` filters, global id g, filters c = g*run .. min(cout, g*run + run) - 1,
 * over at least ceil(cout / run) items: db[c] = the sum over the runs of
 * chunk_len output rows (r = i*ho + oy), in order, of each run's sum over
 * its positions (i, oy, ox), ascending, of dz[i][oy][ox][c]. */
__kernel void conv_backward_bias(__global const REAL *dz, const conv_shape s, int run, long chunk_len,
                                 __global REAL *db)
{
    const ulong c0 = get_global_id(0) * (ulong)run, rows = (ulong)s.n * (ulong)s.ho, wo = (ulong)s.wo;
    if (c0 >= (ulong)s.cout)
        return;
    if (run == 16 && c0 + 16 <= (ulong)s.cout) {
        VEC_16 acc = (VEC_16)0;
        for (ulong r0 = 0; r0 < rows; r0 += (ulong)chunk_len) {
            VEC_16 part = (VEC_16)0;
            for (ulong e = r0 * wo; e < min(rows, r0 + (ulong)chunk_len) * wo; e++)
                part += VLOAD_16(dz + e * (ulong)s.cout + c0);
            acc += part;
        }
        VSTORE_16(acc, db + c0);
        return;
    }
    for (ulong c = c0; c < min((ulong)s.cout, c0 + (ulong)run); c++) {
        REAL acc = (REAL)0;
        for (ulong r0 = 0; r0 < rows; r0 += (ulong)chunk_len) {
            REAL part = (REAL)0;
            for (ulong e = r0 * wo; e < min(rows, r0 + (ulong)chunk_len) * wo; e++)
                part += dz[e * (ulong)s.cout + c];
            acc += part;
        }
        db[c] = acc;
    }
}
#endif
