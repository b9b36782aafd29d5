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

/* Work-item mapping: one work-item per (padded pixel, group of up to
 * `group` channels), global id g = ((i*(h+2p) + y)*(w+2p) + x)*groups + gi
 * with groups = ceil(c / group), over at least n*(h+2p)*(w+2p)*groups items;
 * it copies x[i][y-p][x-p][k] into x_pad[i][y][x][k], or writes 0, for the
 * channels k of its group (a contiguous run, which the compiler can
 * vectorise; the index decoding is paid once per run). The host passes 64
 * on CPUs and 1 on GPUs, where neighbouring work-items then write
 * neighbouring elements. */
__kernel void zero_pad(__global const REAL *x, int n, int h, int w, int c, int pad, int group,
                       __global REAL *x_pad)
{
    const int hp = h + 2 * pad, wp = w + 2 * pad, groups = (c + group - 1) / group;
    const ulong g = get_global_id(0);
    if (g >= (ulong)n * (ulong)hp * (ulong)wp * (ulong)groups)
        return;
    ulong t = g;
    const int k0 = (int)(t % (ulong)groups) * group, k1 = min(c, k0 + group);
    t /= (ulong)groups;
    const int xx = (int)(t % (ulong)wp);
    t /= (ulong)wp;
    const int yy = (int)(t % (ulong)hp);
    const int i = (int)(t / (ulong)hp);
    const int y = yy - pad, x0 = xx - pad;
    __global REAL *dst = x_pad + AT(i, yy, xx, 0, hp, wp, c);
    if (y >= 0 && y < h && x0 >= 0 && x0 < w) {
        __global const REAL *src = x + AT(i, y, x0, 0, h, w, c);
        for (int k = k0; k < k1; k++)
            dst[k] = src[k];
    } else {
        for (int k = k0; k < k1; k++)
            dst[k] = (REAL)0;
    }
}
