/* conv_forward.cl - the direct forward convolution of NHWC activations with
 * HWIO weights (the notebook's conv_forward): conv_forward_<N>, which
 * backward data with stride 1 also runs, on dz padded and the weights
 * flipped. Built after prelude.cl (REAL, AT, conv_shape, the width scheme,
 * VEC_<N>, UNROLL), one program per width and CONV_PX.
 *
 * Every kernel is a gather: each output element is summed by one work-item
 * in the same fixed order as the reference path, so results are
 * deterministic and no atomics are used. Padding is read as zeros and
 * multiplied like any other value, exactly as the notebook's padded array. */

/* Forward: register-blocked kernels. A work-item computes CONV_PX
 * neighbouring output pixels along W times N neighbouring output channels,
 * keeping the N-wide accumulators of its pixels in registers; each weight
 * vector w[fy][fx][k][c0 .. c0+N) (contiguous in HWIO) is loaded once and
 * used for all CONV_PX pixels. N is 1, 2, 4, 8 or 16 (kernel
 * conv_forward_<N>, chosen by the host to divide cout); CONV_PX is a build
 * option. Each output still sums its terms in the reference order
 * (fy, fx, k), then adds the bias. */
#ifndef CONV_PX
#define CONV_PX 4
#endif

/* The forward's inner loops (runtime trip counts) unrolled twice: PoCL's
 * LLVM then keeps the pixel offsets in registers instead of reloading them
 * from the stack every step. -DUNROLL_2= turns it off. */
#ifndef UNROLL_2
#define UNROLL_2 _Pragma("unroll 2")
#endif

/* Work-item mapping: one work-item per (i, y, x-block, c-group), global id
 * g = pb*groups + cg, or with pixel_major g = cg*pblocks + pb, where
 * pb = (i*ho + y)*xblocks + xb, xblocks = ceil(wo / CONV_PX), pblocks =
 * n*ho*xblocks, cblocks = cout / N and groups = ceil(cblocks / cgroup),
 * over at least pblocks*groups items; the work-item computes the channel
 * blocks cb = cg*cgroup .. min(cblocks, cg*cgroup + cgroup) - 1 one after
 * the other (cgroup > 1 on CPUs for short reductions: its index decoding
 * and pixel offsets serve several blocks, and the input pixels stay in L1).
 * Channel-major suits GPUs (a warp shares input pixels and reads neighbouring
 * weight vectors); pixel-major suits CPUs, where a work-group runs on one core
 * and its work-items then share one channel block's weights in cache. For
 * each cb it writes z[i][y][xb*CONV_PX + p][cb*N .. cb*N + N) for
 * p < CONV_PX within wo:
 * the sum over (fy, fx, k) of a_pad[i][y*stride + fy][x*stride + fx][k] *
 * w[fy][fx][k][c], plus b[c]. Neighbouring work-items share the input pixels
 * and read neighbouring weight vectors. A tap (fy, fx) whose CONV_PX input
 * pixels all lie inside a_prev runs a loop without any test; the others
 * (borders, the last block of a row) read each pixel through a test, and
 * padding as 0, which is multiplied like any other value; or, with
 * skip_padding, leave padding terms out (backward data reuses this kernel
 * on dz padded by f - 1 - pad: the reference sums only the products of
 * real dz elements, so that a weight that is infinite or NaN spreads to
 * the same elements). pad_h and pad_w may differ, and may exceed the
 * filter. With row_slack the input is a zero-padded copy (pad 0 here) that
 * can be read CONV_PX * stride pixels past any row's end, the last row
 * too: every tap then takes the test-free loop, and the pixels of a last
 * block beyond wo are computed from whatever lies there but not stored.
 * Backward data on CPUs also passes such a copy of dz as a_slack, and
 * nonfinite, a flag that conv_block_weights set if some weight is infinite
 * or NaN: when it is clear, the kernel reads the copy (row_slack, padding
 * multiplied) instead of skipping padding, with the same bits: a padding
 * term adds 0 * w = +-0, and x + (+-0) == x for every x but -0, which a
 * sum that starts at +0 never is (x + y is -0 only when both are). Forward
 * calls pass NULL for both. */
/* The forward's weights: w[fy][fx][k][c] in blocks of `wblock` output
 * channels, element (fy, fx, k, c) at
 * ((c/wblock*fh + fy)*fw + fx)*cin*wblock + k*wblock + c%wblock, and
 * WEIGHTS_AT(fy, fx) the offset of (fy, fx, 0, c0). wblock == cout is HWIO
 * itself (GPUs: neighbouring work-items read neighbouring vectors);
 * wblock == N, the layout conv_block_weights makes on CPUs, puts each
 * work-item's weights in one contiguous run. In HWIO the run's vectors lie
 * cout elements apart: 1 KB for 256 channels, a stride that maps them all
 * to 4 of a 32 KB 8-way L1 cache's 64 sets, so they stream from L2 again
 * for every work-item, and the blocked layout runs faster. */
#define WEIGHTS_AT(fy, fx)                                                                                     \
    ((((ulong)(c0 / wblock) * (ulong)s.fh + (ulong)(fy)) * (ulong)s.fw + (ulong)(fx)) * (ulong)s.cin *         \
         (ulong)wblock +                                                                                       \
     (ulong)(c0 % wblock))

/* The forward's inner loop: `len` terms, the weight vectors at wp (cout
 * apart) times the input values at ap (consecutive) of CONV_PX pixels
 * `step` apart, into acc; no tests, so every address must be readable. */
#define TERMS_WITHOUT_TESTS(N, len)                                                                            \
    UNROLL_2 for (long j = 0; j < (len); j++, wp += wblock, ap++)                                              \
    {                                                                                                          \
        const VEC_##N wv = VLOAD_##N(wp);                                                                      \
        UNROLL for (int p = 0; p < CONV_PX; p++) acc[p] += (VEC_##N)ap[p * step] * wv;                         \
    }

#define DEFINE_CONV_FORWARD(N)                                                                                 \
    __kernel void conv_forward_##N(__global const REAL *a, __global const REAL *w, __global const REAL *b,     \
                                   int has_bias, conv_shape s, int pixel_major, int cgroup, int skip_padding,  \
                                   int row_slack, int wblock, __global const REAL *a_slack,                    \
                                   __global const int *nonfinite, __global REAL *z)                            \
    {                                                                                                          \
        if (a_slack && !*nonfinite) { /* backward data, every weight finite: read the padded copy */           \
            a = a_slack;                                                                                       \
            s.h += 2 * s.pad_h, s.w += 2 * s.pad_w, s.pad_h = s.pad_w = 0;                                     \
            row_slack = 1, skip_padding = 0;                                                                   \
        }                                                                                                      \
        /* ceilings without cblocks + cgroup - 1 or wo + CONV_PX - 1, which could pass INT_MAX */            \
        const int cblocks = s.cout / N, groups = cblocks / cgroup + (cblocks % cgroup != 0);                   \
        const int xblocks = s.wo / CONV_PX + (s.wo % CONV_PX != 0);                                            \
        const ulong pblocks = (ulong)s.n * (ulong)s.ho * (ulong)xblocks;                                       \
        const ulong g = get_global_id(0);                                                                      \
        if (g >= pblocks * (ulong)groups)                                                                      \
            return;                                                                                            \
        ulong t = pixel_major ? g % pblocks : g / (ulong)groups;                                               \
        const int cb0 = (int)(pixel_major ? g / pblocks : g % (ulong)groups) * cgroup;                         \
        const int x0 = (int)(t % (ulong)xblocks) * CONV_PX;                                                    \
        t /= (ulong)xblocks;                                                                                   \
        const int y = (int)(t % (ulong)s.ho), i = (int)(t / (ulong)s.ho);                                      \
        const ulong step = (ulong)s.stride * (ulong)s.cin; /* from one output pixel's input to the next */     \
        for (int c0 = cb0 * N; c0 < (cb0 + min(cgroup, cblocks - cb0)) * N; c0 += N) {                         \
            VEC_##N acc[CONV_PX];                                                                              \
            UNROLL for (int p = 0; p < CONV_PX; p++) acc[p] = (VEC_##N)0;                                      \
            for (int fy = 0; fy < s.fh; fy++) {                                                                \
                const long iy = (long)y * s.stride + fy - s.pad_h;                                             \
                const int row_inside = iy >= 0 && iy < s.h;                                                    \
                /* A row of taps whose pixels all lie inside (or in the slack): its fw*cin terms, in the       \
                 * reference order (fx, k), are one run of input (the pixels' channels side by side) and       \
                 * of weights (cout apart), so one loop without tests takes them all. */                       \
                const long ixa = (long)x0 * s.stride - s.pad_w;                                                \
                const long ixb = ((long)x0 + CONV_PX - 1) * s.stride + s.fw - 1 - s.pad_w;                     \
                if (row_inside && ixa >= 0 && (row_slack || (x0 <= s.wo - CONV_PX && ixb < s.w))) {            \
                    __global const REAL *wp = w + WEIGHTS_AT(fy, 0);                                           \
                    __global const REAL *ap = a + AT(i, iy, ixa, 0, s.h, s.w, s.cin);                          \
                    const long terms = (long)s.fw * (long)s.cin;                                               \
                    TERMS_WITHOUT_TESTS(N, terms);                                                             \
                    continue;                                                                                  \
                }                                                                                              \
                for (int fx = 0; fx < s.fw; fx++) {                                                            \
                    __global const REAL *wp = w + WEIGHTS_AT(fy, fx);                                          \
                    const long ix0 = (long)x0 * s.stride + fx - s.pad_w;                                       \
                    const long ix1 = ((long)x0 + CONV_PX - 1) * s.stride + fx - s.pad_w;                       \
                    if (row_inside && ix0 >= 0 && (row_slack || (x0 <= s.wo - CONV_PX && ix1 < s.w))) {        \
                        __global const REAL *ap = a + AT(i, iy, ix0, 0, s.h, s.w, s.cin);                      \
                        TERMS_WITHOUT_TESTS(N, s.cin);                                                         \
                        continue;                                                                              \
                    }                                                                                          \
                    ulong offset[CONV_PX];                                                                     \
                    int inside[CONV_PX];                                                                       \
                    UNROLL for (int p = 0; p < CONV_PX; p++)                                                   \
                    {                                                                                          \
                        const long ix = ix0 + (long)p * s.stride;                                              \
                        inside[p] = row_inside && p < s.wo - x0 && ix >= 0 && ix < s.w;                        \
                        offset[p] = inside[p] ? AT(i, iy, ix, 0, s.h, s.w, s.cin) : 0;                         \
                    }                                                                                          \
                    /* offset 0 outside: a valid address, so that the load needs no branch */                  \
                    for (int k = 0; k < s.cin; k++, wp += wblock) {                                            \
                        const VEC_##N wv = VLOAD_##N(wp);                                                      \
                        UNROLL for (int p = 0; p < CONV_PX; p++)                                               \
                        {                                                                                      \
                            const REAL v = a[offset[p] + (ulong)k];                                            \
                            const VEC_##N sum = acc[p] + (VEC_##N)(inside[p] ? v : (REAL)0) * wv;              \
                            acc[p] = skip_padding && !inside[p] ? acc[p] : sum;                                \
                        }                                                                                      \
                    }                                                                                          \
                }                                                                                              \
            }                                                                                                  \
            const VEC_##N bias = has_bias ? VLOAD_##N(b + c0) : (VEC_##N)0;                                    \
            UNROLL for (int p = 0; p < CONV_PX; p++)                                                           \
            {                                                                                                  \
                if (p < s.wo - x0)                                                                             \
                    VSTORE_##N(acc[p] + bias, z + AT(i, y, x0 + p, c0, s.ho, s.wo, s.cout));                   \
            }                                                                                                  \
        }                                                                                                      \
    }

#if HAS_WIDTH(1)
DEFINE_CONV_FORWARD(1)
#endif
#if HAS_WIDTH(2)
DEFINE_CONV_FORWARD(2)
#endif
#if HAS_WIDTH(4)
DEFINE_CONV_FORWARD(4)
#endif
#if HAS_WIDTH(8)
DEFINE_CONV_FORWARD(8)
#endif
#if HAS_WIDTH(16)
DEFINE_CONV_FORWARD(16)
#endif
