/* conv.cl - 2-D convolution of NHWC activations with HWIO weights: forward,
 * backward data, backward filter and backward bias (the notebook's
 * conv_forward and conv_backward).
 * Built after prelude.cl (REAL, AT, conv_shape, covering, the width
 * scheme, VEC_<N>, UNROLL).
 *
 * Every kernel is a gather: each output element is summed by one work-item
 * in the same fixed order as the reference path (backward-filter: in fixed
 * chunks, then across chunks), so results are deterministic and no atomics
 * are used. Padding is read as zeros and
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

/* What a program holds (build options): -DWIDTH=N the <N>-wide variants
 * only, -DWIDTH=0 the kernels without a width; without WIDTH, every variant
 * up to MAX_WIDTH. -DPART=1 the forward kernels only (which backward data
 * with stride 1 also runs), 2 the other backward-data kernels, 3 the
 * backward filter and bias, 4 conv_block_weights (kept out of the forward
 * programs: a program's binary holds a compiled copy of every kernel in it,
 * and this one cost a cold first forward call about 0.4 s where it is not
 * needed), 5 conv_forward_tiled (its tile sizes are build options too);
 * without PART, all. The host builds one small program per part and width
 * it uses, so a first call compiles only what it runs. */
#ifndef PART
#define PART 0
#endif
#define IN_PART(P) (PART == 0 || PART == (P))
#define FORWARD_PART IN_PART(1)
#define DATA_PART IN_PART(2)
#define FILTER_PART IN_PART(3)
#define WEIGHTS_PART IN_PART(4)
#define TILED_PART IN_PART(5)

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
 * for every work-item (PoCL, 4x14x14x256->256 3x3: 65-69 GFLOP/s in HWIO,
 * 77-111 with the weights read as if blocked). */
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

#if HAS_WIDTH(1) && FORWARD_PART
DEFINE_CONV_FORWARD(1)
#endif
#if HAS_WIDTH(2) && FORWARD_PART
DEFINE_CONV_FORWARD(2)
#endif
#if HAS_WIDTH(4) && FORWARD_PART
DEFINE_CONV_FORWARD(4)
#endif
#if HAS_WIDTH(8) && FORWARD_PART
DEFINE_CONV_FORWARD(8)
#endif
#if HAS_WIDTH(16) && FORWARD_PART
DEFINE_CONV_FORWARD(16)
#endif

#if FORWARD_PART
/* The direct forward's zero-padded input on CPUs (cl_conv.c, prepad): the
 * same copy as pad.cl's zero_pad, kept here so that the convolution
 * program does not depend on another file; in every forward program, so
 * that a first forward call builds one program. Work-item mapping: one
 * work-item per (padded row, run of up to `group` of its (w+2p)*c
 * elements), global id g = (i*(h+2p) + y)*runs + r, runs =
 * ceil((w+2p)*c / group); it writes those elements of x_pad[i][y]: zeros,
 * x[i][y-p] (when y-p lies inside), zeros. */
__kernel void conv_pad_input(__global const REAL *x, int n, int h, int w, int c, int pad, int group,
                             __global REAL *x_pad)
{
    const int hp = h + 2 * pad;
    const ulong row = ((ulong)w + 2 * (ulong)pad) * (ulong)c, runs = (row + (ulong)group - 1) / (ulong)group;
    const ulong g = get_global_id(0);
    if (g >= (ulong)n * (ulong)hp * runs)
        return;
    const ulong r = g / runs, e0 = (g % runs) * (ulong)group, e1 = min(row, e0 + (ulong)group);
    const int yy = (int)(r % (ulong)hp), i = (int)(r / (ulong)hp), y = yy - pad;
    const ulong lo = (ulong)pad * (ulong)c, hi = (y >= 0 && y < h) ? lo + (ulong)w * (ulong)c : lo;
    __global REAL *dst = x_pad + r * row;
    __global const REAL *src = x + AT(i, hi > lo ? y : 0, 0, 0, h, w, c); /* read only when hi > lo */
    ulong e = e0;
    for (; e < min(e1, lo); e++)
        dst[e] = (REAL)0;
    for (; e < min(e1, hi); e++)
        dst[e] = src[e - lo];
    for (; e < e1; e++)
        dst[e] = (REAL)0;
}

#endif

#if HAS_COMMON && WEIGHTS_PART
/* The forward's weights in blocks of nb output channels (WEIGHTS_AT with
 * wblock = nb), for the forward convolution of shape s: row (cb, fy, fx, k)
 * of the result holds the weights of (fy, fx, k, cb*nb + j), j < nb, which
 * are w[fy][fx][k][cb*nb + j], or with `flip` (backward data as a forward
 * convolution, stride 1: w holds the original HWIO weights
 * [fh][fw][cout][cin] of that forward's shape) w[fh-1-fy][fw-1-fx][cb*nb + j][k].
 * With nb == cout it is the HWIO layout (flipped: backward data's weights
 * on GPUs). Work-item mapping, with ktile == 0 (GPUs): one work-item per
 * run of up to `run` elements of a row, global id g = row*runs + r, runs =
 * ceil(nb / run), over at least rows*runs items, writing j = r*run ..
 * min(nb, r*run + run) - 1 of the row (row = ((cb*fh + fy)*fw + fx)*cin + k,
 * rows = fh*fw*cin*cout/nb; runs of 16 on CPUs with flip, where
 * neighbouring work-items read neighbouring k). With ktile > 0 (CPUs,
 * without flip): one work-item per tap and tile of ktile input channels,
 * global id g = (fy*fw + fx)*ktiles + kt, ktiles = ceil(cin / ktile), over
 * at least fh*fw*ktiles items, writing every block's rows of channels
 * k = kt*ktile .. kt*ktile + ktile - 1, so that it reads ktile whole rows
 * of w (cout each) and writes ktile consecutive rows per block: a row per
 * work-item read rows cout elements apart, a cache miss and a page each,
 * and took about as long as the convolution (4x7x7x512->2048 1x1: perf put
 * 41% of `clcnn-ab`'s time here, 24% with tiles). It sets *nonfinite
 * (unless NULL) if an element it copies is infinite or NaN. */
#define BLOCK_WEIGHTS_ROW(row)                                                                                 \
    do {                                                                                                       \
        const int k = (int)((row) % (ulong)s.cin);                                                             \
        ulong t = (row) / (ulong)s.cin;                                                                        \
        const int fx = (int)(t % (ulong)s.fw);                                                                 \
        t /= (ulong)s.fw;                                                                                      \
        const int fy = (int)(t % (ulong)s.fh), c0 = (int)(t / (ulong)s.fh) * nb;                               \
        __global REAL *dst = wb + (row) * (ulong)nb;                                                           \
        if (flip) {                                                                                            \
            __global const REAL *src = w + AT(s.fh - 1 - fy, s.fw - 1 - fx, c0, k, s.fw, s.cout, s.cin);       \
            for (int j = j0; j < j1; j++) {                                                                    \
                const REAL v = src[(ulong)j * (ulong)s.cin];                                                   \
                bad |= !isfinite(v);                                                                           \
                dst[j] = v;                                                                                    \
            }                                                                                                  \
        } else {                                                                                               \
            __global const REAL *src = w + AT(fy, fx, k, c0, s.fw, s.cin, s.cout);                             \
            for (int j = j0; j < j1; j++) {                                                                    \
                bad |= !isfinite(src[j]);                                                                      \
                dst[j] = src[j];                                                                               \
            }                                                                                                  \
        }                                                                                                      \
    } while (0)

__kernel void conv_block_weights(__global const REAL *w, const conv_shape s, int flip, int nb, int run,
                                 int ktile, __global volatile int *nonfinite, __global REAL *wb)
{
    const ulong g = get_global_id(0);
    int bad = 0;
    if (ktile > 0) {
        const int ktiles = (s.cin + ktile - 1) / ktile, kt = (int)(g % (ulong)ktiles);
        const ulong tap = g / (ulong)ktiles, taps = (ulong)s.fh * (ulong)s.fw, cblocks = (ulong)(s.cout / nb);
        if (tap >= taps)
            return;
        const int j0 = 0, j1 = nb, k1 = min(s.cin, kt * ktile + ktile);
        for (ulong cb = 0; cb < cblocks; cb++)
            for (int k = kt * ktile; k < k1; k++) {
                const ulong row = (cb * taps + tap) * (ulong)s.cin + (ulong)k;
                BLOCK_WEIGHTS_ROW(row);
            }
    } else {
        const ulong runs = (ulong)((nb + run - 1) / run);
        const ulong rows = (ulong)s.fh * (ulong)s.fw * (ulong)s.cin * (ulong)(s.cout / nb);
        if (g >= rows * runs)
            return;
        const ulong row = g / runs;
        const int j0 = (int)(g % runs) * run, j1 = min(nb, j0 + run);
        BLOCK_WEIGHTS_ROW(row);
    }
    if (bad && nonfinite) /* the host cleared it before; any such work-item sets it */
        atomic_or(nonfinite, 1);
}
#endif

#if HAS_COMMON && DATA_PART
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

#if HAS_WIDTH(1) && DATA_PART
DEFINE_CONV_BACKWARD_DATA(1)
#endif
#if HAS_WIDTH(2) && DATA_PART
DEFINE_CONV_BACKWARD_DATA(2)
#endif
#if HAS_WIDTH(4) && DATA_PART
DEFINE_CONV_BACKWARD_DATA(4)
#endif
#if HAS_WIDTH(8) && DATA_PART
DEFINE_CONV_BACKWARD_DATA(8)
#endif
#if HAS_WIDTH(16) && DATA_PART
DEFINE_CONV_BACKWARD_DATA(16)
#endif

#if HAS_COMMON && DATA_PART
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

/* DOT_K = 4 channels per work-item, or 3 (the host, cl_conv.c, picks the
 * one that computes fewer clamped channels: 3 for an RGB image's 3). */
DEFINE_CONV_BACKWARD_DATA_DOT(4, conv_backward_data_dot)
DEFINE_CONV_BACKWARD_DATA_DOT(3, conv_backward_data_dot3)
#endif

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
 * slice of its own, positions 4*cout bytes apart; PoCL, clcnn-ab,
 * 2026-11-27: 4x56x56x64->256 1x1 1.10-1.13x, peers a, d, e 0.96-1.02x;
 * blocked copies keep cb first: 0.92x on 4x7x7x512->2048), kblocks = ceil(cin /
 * FILTER_KB) and cblocks = cout / N, over at least chunks*fh*fw*kblocks*
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

#if HAS_WIDTH(1) && FILTER_PART
DEFINE_FILTER_KERNELS(1)
#endif
#if HAS_WIDTH(2) && FILTER_PART
DEFINE_FILTER_KERNELS(2)
#endif
#if HAS_WIDTH(4) && FILTER_PART
DEFINE_FILTER_KERNELS(4)
#endif
#if HAS_WIDTH(8) && FILTER_PART
DEFINE_FILTER_KERNELS(8)
#endif
#if HAS_WIDTH(16) && FILTER_PART
DEFINE_FILTER_KERNELS(16)
#endif

#if HAS_COMMON && FILTER_PART
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
 * additions; PoCL, the bias of 4x56x56x64->64: about a fifth of the
 * backward filter's time). */

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

#if HAS_COMMON && TILED_PART
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
#endif
