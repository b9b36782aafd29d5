/* conv_forward.c - the forward convolution on an OpenCL context: the entry
 * point (plan, saved output, run), the direct path's conv_forward_<N>
 * (kernels/conv_forward.cl) and the geometry it shares with backward data as a
 * forward convolution. The tiled kernel is conv_tiled.c, the GEMM path
 * cl_gemm.c. Measured figures behind the rules: see
 * docs/performance/conv-choice-rules.md. */
#include "conv_internal.h"

#include <limits.h>

/* On CPUs, where a work-group runs on one core, pixel-major lets a
 * work-group's work-items share one channel block's weights but reads the
 * input once per channel block, channel-major the reverse: so pixel-major
 * once the weights outgrow half of a core's L2 (256 KB), channel-major
 * below; a tuned order (the variant) or CLCNN_CONV_PIXEL_MAJOR decides
 * first. The order never changes a result's bits. */
cl_int clcnn__conv_pixel_major(const struct clcnn_cl *cl, int cblocks, size_t weight_bytes, int variant)
{
    if (cl->conv_order >= 0) /* CLCNN_CONV_PIXEL_MAJOR, for tests */
        return cl->conv_order;
    if (variant == CLCNN_VARIANT_CHANNEL_MAJOR || variant == CLCNN_VARIANT_PIXEL_MAJOR)
        return variant == CLCNN_VARIANT_PIXEL_MAJOR;
    return cl->cpu && cblocks > 1 && weight_bytes >= ((size_t)256 << 10);
}

/* Channel blocks per forward work-item: on a CPU, the largest power of two
 * whose blocks sum at most CGROUP_TERMS terms in all (fh*fw*cin each), at
 * most the blocks there are, and leaving at least CGROUP_MIN_ITEMS
 * work-items, since a CPU gains from reusing each input read; 1 on a GPU,
 * which wants the work-items. CLCNN_CONV_CGROUP sets it. */
enum { CGROUP_TERMS = 4096, CGROUP_MIN_ITEMS = 256 };

cl_int clcnn__conv_forward_cgroup(const struct clcnn_cl *cl, const conv_shape *fs, int log_n, size_t px)
{
    const size_t cblocks = (size_t)fs->cout >> log_n, reduction = (size_t)fs->fh * fs->fw * fs->cin;
    const size_t pblocks = (size_t)fs->n * fs->ho * (((size_t)fs->wo + px - 1) / px);
    size_t g = cl->conv_cgroup > 0 ? (size_t)cl->conv_cgroup : 1;
    if (cl->conv_cgroup <= 0 && cl->cpu)
        while (2 * g <= cblocks && 2 * g * reduction <= CGROUP_TERMS &&
               pblocks * ((cblocks + 2 * g - 1) / (2 * g)) >= CGROUP_MIN_ITEMS)
            g *= 2;
    return (cl_int)(g < cblocks ? g : cblocks > 0 ? cblocks : 1);
}

/* The context's CONV_PX, or on a CPU with 16-wide float vectors the px
 * from 4 to 7 whose blocks leave the fewest unused pixels at a row's end
 * (the smallest among equals; 8 never leaves fewer than 4), since an
 * unused pixel costs what a used one does. */
size_t clcnn__conv_forward_px(const struct clcnn_cl *cl, int wo)
{
    if (!cl->conv_px_shape)
        return (size_t)cl->conv_px;
    const size_t width = (size_t)wo;
    size_t best = 4;
    for (size_t px = 5; px <= 7; px++)
        if ((width + px - 1) / px * px < (width + best - 1) / best * best)
            best = px;
    return best;
}

size_t clcnn__conv_forward_items(const conv_shape *fs, int log_n, size_t px, cl_int cgroup)
{
    const size_t cblocks = (size_t)fs->cout >> log_n;
    return (size_t)fs->n * (size_t)fs->ho * (((size_t)fs->wo + px - 1) / px) *
           ((cblocks + (size_t)cgroup - 1) / (size_t)cgroup);
}

/* A 1x1, stride-1, unpadded layer reads and writes pixel p at p*cin and
 * p*cout whatever the image, row and column: where rows are not a multiple
 * of px pixels, the forward kernel takes all n*h*w pixels as one row (or
 * each image's h*w, where all of them pass INT_MAX), so that no block of px
 * pixels straddles a row's end, sparing the padded copy and the unused
 * pixels such a block would cost. The sums, and so the bits, are
 * unchanged. */
void clcnn__conv_flatten_pointwise(const struct clcnn_cl *cl, conv_shape *s, size_t px)
{
    if (cl->conv_flat == 0 || s->fh != 1 || s->fw != 1 || s->stride != 1 || s->pad_h || s->pad_w ||
        (size_t)s->wo % px == 0)
        return;
    /* the kernel computes wo + px - 1 in int */
    const size_t plane = (size_t)s->h * (size_t)s->w, all = plane * (size_t)s->n, most = INT_MAX - px;
    if (all <= most)
        s->n = 1, s->h = s->ho = 1, s->w = s->wo = (cl_int)all;
    else if (plane <= most)
        s->h = s->ho = 1, s->w = s->wo = (cl_int)plane;
}

/* z by conv_forward_<N>: N output channels per work-item, the largest of
 * 16, 8, 4, 2, 1 that divides cout and the device's limit allows. */
static clcnn_status forward_blocked(clcnn_context *ctx, const conv_problem *pb, int variant, clcnn_tensor *z)
{
    static const clcnn_kernel_id by_width[5] = {CLCNN_KERNEL_CONV_FORWARD_1, CLCNN_KERNEL_CONV_FORWARD_2,
                                                CLCNN_KERNEL_CONV_FORWARD_4, CLCNN_KERNEL_CONV_FORWARD_8,
                                                CLCNN_KERNEL_CONV_FORWARD_16};
    const struct clcnn_cl *cl = ctx->cl;
    const clcnn_tensor *w = pb->w, *b = pb->b;
    const int log_n = vector_width_log2(w->shape.c, clcnn__cl_max_width(cl, pb->dt));
    const size_t px = clcnn__conv_forward_px(cl, z->shape.w);
    const clcnn_cl_kernel *k;
    clcnn_status s = clcnn__cl_kernel_px(ctx, pb->fn, by_width[log_n], pb->dt, (int)px, &k);
    if (s)
        return s;
    conv_shape cs = pb->cs;
    clcnn__conv_flatten_pointwise(cl, &cs, px);
    cl_mem input = pb->a_prev->mem, weights = w->mem;
    cl_int row_slack = 0, wblock = cs.cout;
    if ((s = clcnn__conv_prepad(ctx, pb->fn, pb->a_prev, px, &cs, &input, &row_slack)) ||
        (s = clcnn__conv_block_weights(ctx, pb->fn, w, &cs, 0, cl->conv_blocked, log_n, NULL, &weights,
                                       &wblock)))
        return s;
    const cl_int has_bias = b != NULL;
    const cl_mem bias = b ? b->mem : w->mem, none = NULL; /* any valid buffer when there is no bias */
    const cl_int pixel_major = clcnn__conv_pixel_major(cl, z->shape.c >> log_n, w->nbytes, variant),
                 skip_padding = 0, cgroup = clcnn__conv_forward_cgroup(cl, &cs, log_n, px);
    const kernel_arg args[] = {ARG(input),       ARG(weights), ARG(bias),         ARG(has_bias),  ARG(cs),
                               ARG(pixel_major), ARG(cgroup),  ARG(skip_padding), ARG(row_slack), ARG(wblock),
                               ARG(none),        ARG(none),    ARG(z->mem)};
    if ((s = set_args(ctx, pb->fn, k, args, 13)))
        return s;
    return launch(ctx, pb->fn, k, clcnn__conv_forward_items(&cs, log_n, px, cgroup));
}

/* The tiled kernel where the variant and the device take it (it needs a
 * built kernel to know), else conv_forward_<N>. */
clcnn_status clcnn__conv_forward_direct(clcnn_context *ctx, const conv_problem *pb, int variant,
                                        clcnn_tensor *z)
{
    const clcnn_cl_kernel *kt;
    clcnn_status s =
        clcnn__conv_tiled_kernel(ctx, pb->fn, CLCNN_KERNEL_CONV_FORWARD_TILED,
                                 clcnn__conv_tiled(ctx->cl, variant, pb->w->shape.c), pb->dt, &kt);
    if (s || kt)
        return s ? s : clcnn__conv_forward_tiled(ctx, pb, kt, z);
    return forward_blocked(ctx, pb, variant, z);
}

clcnn_status clcnn__conv_forward_gemm(clcnn_context *ctx, const conv_problem *pb, int variant,
                                      clcnn_tensor *z)
{
    (void)variant;
    return clcnn__cl_gemm_forward(ctx, &pb->cs, pb->a_prev, pb->w, pb->b, z);
}

/* The GEMM path writes z with several enqueues (bias rows, a GEMM per
 * chunk), and so do tuning runs before the call's own: z is saved first
 * where either may happen. */
clcnn_status clcnn__cl_conv_forward(clcnn_context *ctx, const clcnn_tensor *a_prev, const clcnn_tensor *w,
                                    const clcnn_tensor *b, clcnn_conv_params p, clcnn_tensor *z)
{
    const conv_problem pb = clcnn__conv_problem("clcnn_conv2d_forward", a_prev, w, b, NULL, z->shape, p);
    const int plan = clcnn__conv_plan(ctx, &pb, CONV_FORWARD);
    conv_saved sv = {{z}, clcnn__conv_several_writes(plan), NULL};
    int variant;
    clcnn_status s = clcnn__conv_save(ctx, pb.fn, &sv);
    if (!s)
        s = clcnn__conv_decide(ctx, &pb, CONV_FORWARD, plan, z, &variant);
    if (!s)
        s = clcnn__conv_run(ctx, &pb, CONV_FORWARD, variant, z);
    return clcnn__conv_restore(ctx, &sv, s);
}
