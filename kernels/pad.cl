/* pad.cl - zero padding of NHWC tensors (the notebook's zero_pad), which
 * the direct forward convolution also runs for its padded copy of the
 * input on CPUs (host/opencl/conv/conv_copies.c). Built after prelude.cl (REAL, AT). */

/* Work-item mapping: a padded row x_pad[i][y] is (w+2p)*c contiguous
 * elements: p*c zeros, x[i][y-p] (w*c elements, or zeros when y-p lies
 * outside), p*c zeros. One work-item per (padded row, run of up to `group`
 * of its elements), global id g = (i*(h+2p) + y)*runs + r with runs =
 * ceil((w+2p)*c / group), over at least n*(h+2p)*runs items; it writes
 * elements r*group .. min((r+1)*group, (w+2p)*c) - 1 of the row, as up to
 * three contiguous loops (zeros, copy, zeros) the compiler can vectorise,
 * whatever c is. The index decoding is paid once per run. The host passes
 * 256 on CPUs and 1 on GPUs, where neighbouring work-items then write
 * neighbouring elements. */
__kernel void zero_pad(__global const REAL *x, int n, int h, int w, int c, int pad, int group,
                       __global REAL *x_pad)
{
    const int hp = h + 2 * pad;
    const ulong row = ((ulong)w + 2 * (ulong)pad) * (ulong)c, runs = (row + (ulong)group - 1) / (ulong)group;
    const ulong g = get_global_id(0);
    if (g >= (ulong)n * (ulong)hp * runs)
        return;
    const ulong r = g / runs, e0 = (g % runs) * (ulong)group, e1 = min(row, e0 + (ulong)group);
    const int yy = (int)(r % (ulong)hp), i = (int)(r / (ulong)hp), y = yy - pad;
    /* the row's copied elements: [lo, hi), none when y is outside */
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
