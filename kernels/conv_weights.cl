/* conv_weights.cl - conv_block_weights, the direct forward's weights copied
 * into blocks of output channels (or flipped and transposed for backward
 * data as a forward convolution), with a flag for weights that are not
 * finite. A program of its own, built only by the calls that copy weights:
 * a program's binary holds a compiled copy of every kernel in it, so the
 * forward programs stay small. Built after prelude.cl (REAL, AT,
 * conv_shape). */

/* The forward's weights in blocks of nb output channels (the layout of
 * conv_forward.cl's WEIGHTS_AT with wblock = nb), for the forward convolution of shape s: row (cb, fy, fx, k)
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
 * and took about as long as the convolution of a 1x1 layer with many
 * channels. It sets *nonfinite
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
