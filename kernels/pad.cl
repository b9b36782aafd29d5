/* pad.cl - zero padding of NHWC tensors (the notebook's zero_pad).
 * OpenCL C 1.2; REAL is float unless built with -DREAL=double -DCLCNN_FP64. */
#ifdef CLCNN_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif
#ifndef REAL
#define REAL float
#endif

/* Offset of [i][y][x][k] in an NHWC array of height H, width W, channels C,
 * in 64-bit arithmetic. */
#define AT(i, y, x, k, H, W, C) ((((ulong)(i) * (ulong)(H) + (ulong)(y)) * (ulong)(W) + (ulong)(x)) * (ulong)(C) + (ulong)(k))

/* Work-item mapping: one work-item per element of x_pad, global id
 * g = ((i*(h+2p) + y)*(w+2p) + x)*c + k over a 1-D range of at least
 * total = n*(h+2p)*(w+2p)*c items; it copies x[i][y-p][x-p][k] or writes 0. */
__kernel void zero_pad(__global const REAL *x, int n, int h, int w, int c, int pad, __global REAL *x_pad)
{
    const int hp = h + 2 * pad, wp = w + 2 * pad;
    const ulong g = get_global_id(0);
    if (g >= (ulong)n * (ulong)hp * (ulong)wp * (ulong)c)
        return;
    ulong t = g;
    const int k = (int)(t % (ulong)c);
    t /= (ulong)c;
    const int xx = (int)(t % (ulong)wp);
    t /= (ulong)wp;
    const int yy = (int)(t % (ulong)hp);
    const int i = (int)(t / (ulong)hp);
    const int y = yy - pad, x0 = xx - pad;
    x_pad[g] = (y >= 0 && y < h && x0 >= 0 && x0 < w) ? x[AT(i, y, x0, k, h, w, c)] : (REAL)0;
}
