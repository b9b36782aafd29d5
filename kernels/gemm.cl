/* gemm.cl - the data movement around the GEMM convolution path (the GEMMs
 * themselves run in CLBlast): im2col, col2im and the bias rows.
 * Built after prelude.cl (REAL, conv_shape).
 *
 * The column matrix of a chunk of output pixels m0 .. m0 + rows holds, in
 * row r (output pixel m = m0 + r, i.e. [i][oy][ox]) and column
 * q = (fy*fw + fx)*cin + k, the padded input a_prev[i][oy*s + fy - p]
 * [ox*s + fx - p][k]: with NHWC activations and HWIO weights flattened to
 * [fh*fw*cin][cout], forward is col x W, backward filter col^T x dZ and
 * backward data dZ x W^T followed by col2im.
 *
 * Every kernel runs over a 2-D range: dimension 0 walks the channels (k or
 * the output channel), contiguous in memory, so neighbouring work-items read
 * and write neighbouring addresses; dimension 1 walks rows. Ids past the
 * extents return at once. */

/* Work-item mapping: (k, t) with k < cin and t < rows*fh*fw, t = r*fh*fw +
 * fy*fw + fx; it writes col[r][(fy*fw + fx)*cin + k] for output pixel
 * m0 + r: the input element under tap (fy, fx), or 0 in the padding. */
__kernel void im2col(__global const REAL *a, const conv_shape s, long m0, long rows, __global REAL *col)
{
    const int k = (int)get_global_id(0);
    const ulong t = get_global_id(1);
    const int taps = s.fh * s.fw;
    if (k >= s.cin || t >= (ulong)rows * (ulong)taps)
        return;
    const ulong r = t / (ulong)taps;
    const int tap = (int)(t % (ulong)taps);
    const int fy = tap / s.fw, fx = tap % s.fw;
    const ulong m = (ulong)m0 + r;
    const int ox = (int)(m % (ulong)s.wo);
    const ulong iy = m / (ulong)s.wo;
    const int oy = (int)(iy % (ulong)s.ho);
    const ulong i = iy / (ulong)s.ho;
    /* 64-bit: the stride may be close to INT_MAX */
    const long y = (long)oy * s.stride + fy - s.pad_h, x = (long)ox * s.stride + fx - s.pad_w;
    REAL v = (REAL)0;
    if (y >= 0 && y < s.h && x >= 0 && x < s.w)
        v = a[((i * (ulong)s.h + (ulong)y) * (ulong)s.w + (ulong)x) * (ulong)s.cin + (ulong)k];
    col[t * (ulong)s.cin + (ulong)k] = v;
}

/* Work-item mapping: (k, t) with k < cin and t < images*h*w, the input
 * element [i0 + t / (h*w)][y][x][k]; it sums, in the fixed order (fy, fx),
 * the column entries of every output pixel of image chunk i0 .. whose window
 * covers it (dcol holds the rows of those images only), and stores the sum
 * in da_prev: a gather, so deterministic and free of atomics. */
__kernel void col2im(__global const REAL *dcol, const conv_shape s, int i0, int images,
                     __global REAL *da_prev)
{
    const int k = (int)get_global_id(0);
    const ulong t = get_global_id(1);
    const ulong plane = (ulong)s.h * (ulong)s.w;
    if (k >= s.cin || t >= (ulong)images * plane)
        return;
    const ulong li = t / plane;
    const int y = (int)((t % plane) / (ulong)s.w), x = (int)(t % (ulong)s.w);
    const ulong q_stride = (ulong)s.fh * (ulong)s.fw * (ulong)s.cin;
    REAL sum = (REAL)0;
    for (int fy = 0; fy < s.fh; fy++) {
        const long ty = (long)y + s.pad_h - fy; /* oy * stride */
        if (ty < 0 || ty % s.stride != 0 || ty / s.stride >= s.ho)
            continue;
        const ulong oy = (ulong)(ty / s.stride);
        for (int fx = 0; fx < s.fw; fx++) {
            const long tx = (long)x + s.pad_w - fx;
            if (tx < 0 || tx % s.stride != 0 || tx / s.stride >= s.wo)
                continue;
            const ulong row = (li * (ulong)s.ho + oy) * (ulong)s.wo + (ulong)(tx / s.stride);
            sum += dcol[row * q_stride + (ulong)((fy * s.fw + fx) * s.cin + k)];
        }
    }
    da_prev[((ulong)i0 * plane + t) * (ulong)s.cin + (ulong)k] = sum;
}

/* Work-item mapping: (c, m) with c < cout and m < pixels; z[m][c] = b[c], the
 * rows that the forward GEMM then adds col x W to (beta = 1). */
__kernel void bias_rows(__global const REAL *b, int cout, long pixels, __global REAL *z)
{
    const int c = (int)get_global_id(0);
    const ulong m = get_global_id(1);
    if (c >= cout || m >= (ulong)pixels)
        return;
    z[m * (ulong)cout + (ulong)c] = b[c];
}
