/* prelude.cl - what every kernel program shares: the element type, the
 * NHWC offset, the width scheme, the vector helpers, the unroll pragma,
 * conv_shape and the window cover of the gathers. The host builds each
 * kernels/<file>.cl after this file (cl_program.c: the embedded copy, or
 * $CLCNN_KERNEL_DIR/prelude.cl when that variable is set), so no other file
 * repeats these lines. OpenCL C 1.2. */

/* The element type: REAL is float unless built with -DREAL=double
 * -DCLCNN_FP64. */
#ifdef CLCNN_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif
#ifndef REAL
#define REAL float
#endif

/* Offset of [i][y][x][k] in an NHWC array (or [fy][fx][k][c] in HWIO
 * weights) of extents (., H, W, C), in 64-bit arithmetic. */
#define AT(i, y, x, k, H, W, C) ((((ulong)(i) * (ulong)(H) + (ulong)(y)) * (ulong)(W) + (ulong)(x)) * (ulong)(C) + (ulong)(k))

/* What a program holds (build options): -DWIDTH=N the <N>-wide variants
 * only, -DWIDTH=0 the kernels without a width; without WIDTH, every variant
 * up to MAX_WIDTH. The host builds one small program per width it uses, so
 * a first call compiles only what it runs. */
#ifndef MAX_WIDTH
#define MAX_WIDTH 16
#endif
#ifndef WIDTH
#define WIDTH (-1)
#endif
#define HAS_WIDTH(N) (WIDTH == (N) || (WIDTH == -1 && (N) <= MAX_WIDTH))
#define HAS_COMMON (WIDTH <= 0)

/* N neighbouring elements as one vector: VEC_<N> its type, VLOAD_<N> and
 * VSTORE_<N> unaligned access at p (N = 1: the scalar itself). */
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define VEC_1 REAL
#define VEC_2 CAT(REAL, 2)
#define VEC_4 CAT(REAL, 4)
#define VEC_8 CAT(REAL, 8)
#define VEC_16 CAT(REAL, 16)
#define VLOAD_1(p) (*(p))
#define VLOAD_2(p) vload2(0, p)
#define VLOAD_4(p) vload4(0, p)
#define VLOAD_8(p) vload8(0, p)
#define VLOAD_16(p) vload16(0, p)
#define VSTORE_1(v, p) (*(p) = (v))
#define VSTORE_2(v, p) vstore2(v, 0, p)
#define VSTORE_4(v, p) vstore4(v, 0, p)
#define VSTORE_8(v, p) vstore8(v, 0, p)
#define VSTORE_16(v, p) vstore16(v, 0, p)

/* Loops over a work-item's private accumulators are unrolled, so that the
 * accumulators live in registers: PoCL's LLVM leaves such a loop rolled and
 * the array in memory otherwise, several times slower. -DUNROLL= turns it
 * off for a compiler that rejects the pragma. */
#ifndef UNROLL
#define UNROLL _Pragma("unroll")
#endif

/* The shapes of one convolution, passed by value to the convolution
 * kernels (conv_*.cl, gemm.cl). Mirrors clcnn_conv_shape in
 * host/opencl/cl_backend.h: change both together. */
typedef struct {
    int n, h, w, cin;   /* a_prev  [n][h][w][cin]        */
    int fh, fw, cout;   /* weights [fh][fw][cin][cout]   */
    int ho, wo;         /* z       [n][ho][wo][cout]     */
    int stride, pad_h, pad_w; /* forward calls have pad_h == pad_w */
} conv_shape;

/* The first and last output index o (x and y of the result) whose window,
 * o*stride .. o*stride + f - 1, covers (padded) position p, within [0, n):
 * empty when x > y. The ceiling of q / stride is the quotient plus one when
 * a remainder is left: no q + stride - 1 that could overflow with a stride
 * close to INT_MAX, and 32-bit division, which is cheaper than 64-bit
 * (the gathers of backward data and pool backward run it per pixel). */
inline int2 covering(int p, int f, int stride, int n)
{
    const int q = p - f + 1, first = q > 0 ? q / stride + (q % stride != 0) : 0;
    return (int2)(first, min(p / stride, n - 1));
}
