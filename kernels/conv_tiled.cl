/* conv_tiled.cl - the convolution as a tiled GEMM in local memory, for
 * GPUs: conv_forward_tiled (the forward, and backward data with stride 1
 * as a forward convolution) and conv_backward_filter_tiled. Its tile sizes
 * are build options (TILE_M, TILE_N, TILE_K, REG_M, REG_N, TILE_VEC: the
 * context's CLCNN_CONV_TILE). Built after prelude.cl (REAL, AT,
 * conv_shape, UNROLL).
 *
 * Each output element is summed by one work-item in the same fixed order
 * as conv_forward_<N> and conv_backward_filter_<N>, so the results have
 * their bits; no atomics. */

/* Forward as a tiled implicit GEMM, for GPUs: z (M = n*ho*wo rows of cout)
 * is the product of the virtual matrix A[M][K] of input patches, K =
 * fh*fw*cin in the reference order (fy, fx, k), and the weights, which in
 * HWIO are already W[K][cout]. A work-group computes a TILE_M x TILE_N
 * tile of z; it walks K in steps of TILE_K, staging TILE_M x TILE_K of A
 * (zeros for padding, multiplied like any other value, and for rows and
 * terms past the ends) and TILE_K x TILE_N of W in local memory, so that
 * each value read from global memory serves TILE_N (or TILE_M) products.
 * Each output still sums its terms one after the other in the reference
 * order, then adds the bias: the same sums as conv_forward_<N>. Backward
 * data with stride 1 runs it as conv_forward_<N>: on dz, padded by f - 1 -
 * pad, with the weights flipped and transposed (HWIO of that convolution),
 * skip_padding and the flag of non-finite weights.
 * Work-item mapping: one work-group of TILE_THREADS = (TILE_M / REG_M) *
 * (TILE_N / REG_N) work-items per tile, group id g = mt*ntiles + nt (the
 * tiles of a row of z side by side, sharing its patches in cache),
 * ntiles = ceil(cout / TILE_N); local id t = ty*(TILE_N / REG_N) + tx
 * computes the REG_M x REG_N outputs z[m0 + ty + r*(TILE_M / REG_M)][n0 +
 * tx + c*(TILE_N / REG_N)] (strided, so that neighbouring work-items
 * store neighbouring channels). Staging: work-item t loads A's term kk =
 * t % TILE_K of rows t / TILE_K + j*(TILE_THREADS / TILE_K) (neighbouring
 * work-items read neighbouring channels of a pixel), and W's channel
 * t % TILE_N of terms t / TILE_N + j*(TILE_THREADS / TILE_N). The host
 * checks the divisibility this needs (cl_device.c). */
#ifndef TILE_M
#define TILE_M 64
#endif
#ifndef TILE_N
#define TILE_N 64
#endif
#ifndef TILE_K
#define TILE_K 16
#endif
#ifndef REG_M
#define REG_M 4
#endif
#ifndef REG_N
#define REG_N 4
#endif
#define TILE_TM (TILE_M / REG_M) /* work-items along m */
#define TILE_TN (TILE_N / REG_N) /* along n */
#define TILE_THREADS (TILE_TM * TILE_TN)
#define LOADS_A (TILE_M * TILE_K / TILE_THREADS)
#define LOADS_W (TILE_N * TILE_K / TILE_THREADS)

/* Where a work-item's REG_M x REG_N outputs lie in the tile (row ROW_OF(ty,
 * r), column COL_OF(tx, c)), and so what it reads from the staged tiles:
 * - TILE_VEC 0: strided, rows ty + r*TILE_TM and columns tx + c*TILE_TN:
 *   neighbouring work-items read neighbouring values, one scalar load of
 *   local memory per value.
 * - TILE_VEC 1: contiguous, rows ty*REG_M + r and columns tx*REG_N + c: a
 *   work-item reads its REG_M values of A and its REG_N weights of a term
 *   as one vector each (vector loads move more bytes per local-memory
 *   access: with 4 x 4 outputs, 16 products per term against 8 scalar
 *   loads). Rows of as then start at multiples of REG_M (PAD_A = REG_M).
 * Either way each output sums the same terms in the same order. */
#ifndef TILE_VEC
#define TILE_VEC 0
#endif
#if TILE_VEC
#define PAD_A REG_M
#define ROW_OF(ty, r) ((ty) * REG_M + (r))
#define COL_OF(tx, c) ((tx) * REG_N + (c))
/* VEC_<REG_M>, VEC_<REG_N> (another pasting macro: VEC_<n> itself expands to CAT) */
#define PASTE_(a, b) a##b
#define PASTE(a, b) PASTE_(a, b)
#define VEC_RM PASTE(VEC_, REG_M)
#define VEC_RN PASTE(VEC_, REG_N)
/* a vector read whole from local memory, its lanes as an array */
typedef union {
    VEC_RM v;
    REAL s[REG_M];
} lanes_m;
typedef union {
    VEC_RN v;
    REAL s[REG_N];
} lanes_n;
#define READ_REGS(av, wv, kk)                                                                                  \
    do {                                                                                                       \
        lanes_m la;                                                                                            \
        lanes_n lw;                                                                                            \
        la.v = *(__local const VEC_RM *)&as[kk][ty * REG_M];                                                   \
        lw.v = *(__local const VEC_RN *)&ws[kk][tx * REG_N];                                                   \
        UNROLL for (int r = 0; r < REG_M; r++) av[r] = la.s[r];                                                \
        UNROLL for (int c = 0; c < REG_N; c++) wv[c] = lw.s[c];                                                \
    } while (0)
#else
#define PAD_A 1 /* the staging stores, TILE_M + 1 apart, hit different banks */
#define ROW_OF(ty, r) ((ty) + (r) * TILE_TM)
#define COL_OF(tx, c) ((tx) + (c) * TILE_TN)
#define READ_REGS(av, wv, kk)                                                                                  \
    do {                                                                                                       \
        UNROLL for (int r = 0; r < REG_M; r++) av[r] = as[kk][ROW_OF(ty, r)];                                  \
        UNROLL for (int c = 0; c < REG_N; c++) wv[c] = ws[kk][COL_OF(tx, c)];                                  \
    } while (0)
#endif
/* the local tiles: as[TILE_K][TILE_M + PAD_A], ws[TILE_K][TILE_N], aligned
 * for READ_REGS's vectors */
#define LOCAL_TILES                                                                                            \
    __local REAL as[TILE_K][TILE_M + PAD_A] __attribute__((aligned(sizeof(REAL) * 16)));                      \
    __local REAL ws[TILE_K][TILE_N] __attribute__((aligned(sizeof(REAL) * 16)))

/* One step of TILE_K terms from the staged tiles as and ws into acc; a
 * term of row r counts where OK (an expression of kk and r) holds. */
#define TILE_PRODUCTS(OK)                                                                                      \
    UNROLL for (int kk = 0; kk < TILE_K; kk++)                                                                 \
    {                                                                                                          \
        REAL av[REG_M], wv[REG_N];                                                                             \
        int ok[REG_M];                                                                                         \
        READ_REGS(av, wv, kk);                                                                                 \
        UNROLL for (int r = 0; r < REG_M; r++) ok[r] = (OK);                                                   \
        UNROLL for (int r = 0; r < REG_M; r++) UNROLL for (int c = 0; c < REG_N; c++) acc[r][c] =              \
            ok[r] ? acc[r][c] + av[r] * wv[c] : acc[r][c];                                                     \
    }

/* The work-item's outputs: row m = ROW0 + ROW_OF(ty, r) below ROWS and
 * channel n = n0 + COL_OF(tx, c) below cout, each written by STORE (an
 * expression of m, n and acc[r][c]). */
#define TILE_STORE(ROW0, ROWS, STORE)                                                                          \
    UNROLL for (int r = 0; r < REG_M; r++)                                                                     \
    {                                                                                                          \
        const ulong m = (ROW0) + (ulong)ROW_OF(ty, r);                                                         \
        UNROLL for (int c = 0; c < REG_N; c++)                                                                 \
        {                                                                                                      \
            const long n = (long)n0 + COL_OF(tx, c);                                                           \
            if (m < (ROWS) && n < s.cout)                                                                      \
                STORE;                                                                                         \
        }                                                                                                      \
    }

__kernel __attribute__((reqd_work_group_size(TILE_THREADS, 1, 1))) void
conv_forward_tiled(__global const REAL *a, __global const REAL *w, __global const REAL *b, int has_bias,
                   const conv_shape s, int skip_padding, __global const int *nonfinite, __global REAL *z)
{
    LOCAL_TILES;
    __local char inside[TILE_K][TILE_M + PAD_A]; /* A's staged value is not padding (skip mode) */
    /* Backward data (skip_padding) leaves padding terms out where some
     * weight is not finite (the flag conv_block_weights set; none: assume
     * so); with finite weights a padding term adds +-0, which changes no
     * bit (see conv_forward_<N>), and the loop without tests runs. */
    const int skip = skip_padding && (!nonfinite || *nonfinite);
    const int t = (int)get_local_id(0), tx = t % TILE_TN, ty = t / TILE_TN;
    const int ntiles = s.cout / TILE_N + (s.cout % TILE_N != 0); /* no cout + TILE_N - 1 to overflow */
    const ulong g = get_group_id(0), m0 = g / (ulong)ntiles * TILE_M;
    const int n0 = (int)(g % (ulong)ntiles) * TILE_N;
    const ulong rows = (ulong)s.n * (ulong)s.ho * (ulong)s.wo, kterms = (ulong)s.fh * s.fw * s.cin;

    /* This work-item's staged rows of A: image, the top-left input pixel
     * of the window (before the tap's offset), and that pixel's offset in
     * a (signed: it may lie in the padding); i < 0 past the end. */
    const int ka = t % TILE_K;
    /* (y0, x0 fit an int: validation keeps the padded input, which holds
     * y*stride, within INT_MAX; 64-bit copies would cost GPU registers) */
    int img[LOADS_A], y0[LOADS_A], x0[LOADS_A];
    long base[LOADS_A];
    UNROLL for (int j = 0; j < LOADS_A; j++)
    {
        const ulong m = m0 + (ulong)(t / TILE_K + j * (TILE_THREADS / TILE_K));
        const int x = (int)(m % (ulong)s.wo);
        const ulong q = m / (ulong)s.wo;
        img[j] = m < rows ? (int)(q / (ulong)s.ho) : -1;
        y0[j] = (int)(q % (ulong)s.ho) * s.stride - s.pad_h;
        x0[j] = x * s.stride - s.pad_w;
        base[j] = (((long)max(img[j], 0) * s.h + y0[j]) * s.w + x0[j]) * s.cin;
    }
    /* Its term of A, k = k0 + ka: tap (fy, fx) and channel ch, and tap_off,
     * the term's offset from the window's top-left pixel, (fy*w + fx)*cin +
     * ch. Decoded once here, then moved TILE_K terms on each step: adding
     * TILE_K to ch, and dividing only where the channels (or the taps of a
     * row) wrap, in 32 bits (64-bit division is a long routine on GPUs). */
    int ch = ka % s.cin, fx = ka / s.cin % s.fw;
    long fy = ka / s.cin / s.fw, tap_off = ((long)fy * s.w + fx) * s.cin + ch;
    /* its staged weights: term kw (+ j*(TILE_THREADS / TILE_N)) of channel nw */
    const long nw = (long)n0 + t % TILE_N; /* long: n0 + TILE_N - 1 may pass INT_MAX */
    const int kw = t / TILE_N;
    ulong w_off = (ulong)kw * (ulong)s.cout + (ulong)nw;

    REAL acc[REG_M][REG_N];
    UNROLL for (int r = 0; r < REG_M; r++) UNROLL for (int c = 0; c < REG_N; c++) acc[r][c] = (REAL)0;

    for (ulong k0 = 0; k0 < kterms; k0 += TILE_K) {
        const ulong k = k0 + (ulong)ka;
        UNROLL for (int j = 0; j < LOADS_A; j++)
        {
            const long y = (long)y0[j] + fy, x = (long)x0[j] + fx;
            const int row = t / TILE_K + j * (TILE_THREADS / TILE_K);
            const int in = k < kterms && img[j] >= 0 && y >= 0 && y < s.h && x >= 0 && x < s.w;
            as[ka][row] = in ? a[base[j] + tap_off] : (REAL)0;
            if (skip)
                inside[ka][row] = (char)in;
        }
        UNROLL for (int j = 0; j < LOADS_W; j++)
        {
            const ulong kk = k0 + (ulong)(kw + j * (TILE_THREADS / TILE_N));
            ws[kw + j * (TILE_THREADS / TILE_N)][t % TILE_N] =
                kk < kterms && nw < s.cout ? w[w_off + (ulong)j * (TILE_THREADS / TILE_N) * (ulong)s.cout]
                                           : (REAL)0;
        }
        w_off += (ulong)TILE_K * (ulong)s.cout;
        /* the next step's term: ch + TILE_K < cin + TILE_K, which passes cin
         * q times (q = 1 where cin >= TILE_K; else a 32-bit quotient of a
         * number below 2*TILE_K); likewise fx + q and fw */
        const long c2 = (long)ch + TILE_K;
        if (c2 < s.cin) {
            ch = (int)c2;
            tap_off += TILE_K;
        } else {
            const int q = s.cin >= TILE_K ? 1 : (int)c2 / s.cin;
            const long f2 = (long)fx + q;
            const int qx = f2 < s.fw ? 0 : s.fw >= TILE_K ? 1 : (int)f2 / s.fw;
            ch = (int)(c2 - (long)q * s.cin);
            fx = (int)(f2 - (long)qx * s.fw);
            fy += qx;
            tap_off = ((long)fy * s.w + fx) * s.cin + ch;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        if (skip) { /* the terms whose input is padding left out */
            TILE_PRODUCTS(inside[kk][ROW_OF(ty, r)]);
        } else {
            TILE_PRODUCTS(1);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    TILE_STORE(m0, rows, z[m * (ulong)s.cout + (ulong)n] = acc[r][c] + (has_bias ? b[n] : (REAL)0));
}
/* Backward filter as a tiled GEMM: dW[K][cout] (K = fh*fw*cin, HWIO) is
 * the product of the transposed patches A^T[K][P] and dz[P][cout] over
 * the output positions P of a run of output rows, ascending (the runs of
 * conv_backward_filter_<N>, which conv_backward_filter_sum adds up). A
 * work-group computes a TILE_M x TILE_N tile of one run's dW, walking the
 * run's positions TILE_K at a time with TILE_K x TILE_M of A^T (padding
 * read as 0 and multiplied, as the reference does) and TILE_K x TILE_N of
 * dz staged in local memory. Each element sums its terms one after the
 * other, positions ascending, as conv_backward_filter_<N> does.
 * Work-item mapping: group id g = (chunk*ktiles + kt)*ntiles + nt, ktiles
 * = ceil(K / TILE_M), ntiles = ceil(cout / TILE_N); local id t = ty*(TILE_N
 * / REG_N) + tx computes dW[k0 + ty + r*(TILE_M / REG_M)][n0 + tx +
 * c*(TILE_N / REG_N)] (strided, as the forward). Staging: work-item t loads
 * A^T's term k0 + t % TILE_M (one tap and channel, decoded once) at the
 * positions t / TILE_M + j*(TILE_THREADS / TILE_M) of each step
 * (neighbouring work-items read neighbouring channels of a pixel), and
 * dz's channel t % TILE_N at positions t / TILE_N + j*(TILE_THREADS /
 * TILE_N). It writes out[chunk*out_stride + k*cout + n]. */
#define LOADS_AT (TILE_M * TILE_K / TILE_THREADS)

__kernel __attribute__((reqd_work_group_size(TILE_THREADS, 1, 1))) void
conv_backward_filter_tiled(__global const REAL *dz, __global const REAL *a, const conv_shape s, long chunk_len,
                           __global REAL *out, long out_stride)
{
    LOCAL_TILES; /* as: A^T, [position][term]; ws: dz, [position][channel] */
    const int t = (int)get_local_id(0), tx = t % TILE_TN, ty = t / TILE_TN;
    const ulong kterms = (ulong)s.fh * s.fw * s.cin;
    const ulong ktiles = kterms / TILE_M + (kterms % TILE_M != 0);
    const int ntiles = s.cout / TILE_N + (s.cout % TILE_N != 0);
    ulong g = get_group_id(0);
    const int n0 = (int)(g % (ulong)ntiles) * TILE_N;
    g /= (ulong)ntiles;
    const ulong k0 = g % ktiles * TILE_M, chunk = g / ktiles;
    const ulong rows = (ulong)s.n * (ulong)s.ho, r0 = chunk * (ulong)chunk_len;
    const ulong r1 = min(rows, r0 + (ulong)chunk_len), p0 = r0 * (ulong)s.wo, p1 = r1 * (ulong)s.wo;
    if (r0 >= rows) /* past the last run (the same for the whole work-group, before any barrier) */
        return;
    /* this work-item's term of A^T: tap (fy, fx), channel ch */
    const ulong ka = k0 + (ulong)(t % TILE_M), tap = ka / (ulong)s.cin;
    const int ch = (int)(ka % (ulong)s.cin), fy = (int)(tap / (ulong)s.fw), fx = (int)(tap % (ulong)s.fw);
    const long nw = (long)n0 + t % TILE_N;
    /* and its staged positions, p0 + t / TILE_M + j*(TILE_THREADS / TILE_M):
     * column ox, row oy, image i, decoded once here, then moved TILE_K
     * positions on each step: adding TILE_K to ox, and dividing only where
     * the columns (or rows) wrap, in 32 bits (division is a long routine
     * on GPUs, 64-bit division longer, and it ran four times a staged
     * value) */
    int ox[LOADS_AT], oy[LOADS_AT];
    long img[LOADS_AT];
    UNROLL for (int j = 0; j < LOADS_AT; j++)
    {
        const ulong off = (ulong)(t / TILE_M + j * (TILE_THREADS / TILE_M)), row = r0 + off / (ulong)s.wo;
        ox[j] = (int)(off % (ulong)s.wo), oy[j] = (int)(row % (ulong)s.ho), img[j] = (long)(row / (ulong)s.ho);
    }

    REAL acc[REG_M][REG_N];
    UNROLL for (int r = 0; r < REG_M; r++) UNROLL for (int c = 0; c < REG_N; c++) acc[r][c] = (REAL)0;

    for (ulong q0 = p0; q0 < p1; q0 += TILE_K) {
        UNROLL for (int j = 0; j < LOADS_AT; j++)
        {
            const int pl = t / TILE_M + j * (TILE_THREADS / TILE_M);
            const long y = (long)oy[j] * s.stride - s.pad_h + fy, x = (long)ox[j] * s.stride - s.pad_w + fx;
            const int in = q0 + (ulong)pl < p1 && ka < kterms && y >= 0 && y < s.h && x >= 0 && x < s.w;
            as[pl][t % TILE_M] = in ? a[AT(img[j], y, x, ch, s.h, s.w, s.cin)] : (REAL)0;
            /* the next step's position: ox + TILE_K passes wo q times (q = 1
             * where wo >= TILE_K, else a 32-bit quotient below 2*TILE_K);
             * likewise oy + q and ho */
            const long o2 = (long)ox[j] + TILE_K;
            if (o2 >= s.wo) {
                const int q = s.wo >= TILE_K ? 1 : (int)o2 / s.wo;
                const long y2 = (long)oy[j] + q;
                const int qi = y2 < s.ho ? 0 : s.ho >= TILE_K ? 1 : (int)y2 / s.ho;
                ox[j] = (int)(o2 - (long)q * s.wo);
                oy[j] = (int)(y2 - (long)qi * s.ho);
                img[j] += qi;
            } else {
                ox[j] = (int)o2;
            }
        }
        UNROLL for (int j = 0; j < LOADS_W; j++)
        {
            const int pl = t / TILE_N + j * (TILE_THREADS / TILE_N);
            const ulong p = q0 + (ulong)pl;
            ws[pl][t % TILE_N] = p < p1 && nw < s.cout ? dz[p * (ulong)s.cout + (ulong)nw] : (REAL)0;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        TILE_PRODUCTS(1);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    TILE_STORE(k0, kterms, out[chunk * (ulong)out_stride + m * (ulong)s.cout + (ulong)n] = acc[r][c]);
}
