/* conv_choice.c - which implementation runs each direction of a
 * convolution. Each direction has one ordered list of implementations (a
 * variant, cl_backend.h), each with the test of whether it applies to a
 * problem and the function that runs it. An explicit request
 * (clcnn_conv_params.algo, or CLCNN_CONV_ALGO for AUTO) runs GEMM where it
 * applies, the direct path otherwise; AUTO runs the first entry that
 * applies and whose rule takes the problem, else the direct path, which
 * picks its kernel and work-item order itself (conv_forward.c,
 * conv_tiled.c); with tuning on, an AUTO call measures the entries that
 * apply, in list order (cl_tune.c), and remembers the fastest. The rules'
 * figures: see docs/performance/conv-choice-rules.md. */
#include "conv_internal.h"

conv_problem clcnn__conv_problem(const char *fn, const clcnn_tensor *a_prev, const clcnn_tensor *w,
                                 const clcnn_tensor *b, const clcnn_tensor *dz, clcnn_shape zs,
                                 clcnn_conv_params p)
{
    const conv_shape cs = {a_prev->shape.n,
                           a_prev->shape.h,
                           a_prev->shape.w,
                           a_prev->shape.c,
                           w->shape.n,
                           w->shape.h,
                           w->shape.c,
                           zs.h,
                           zs.w,
                           p.stride,
                           p.pad,
                           p.pad};
    return (conv_problem){fn, cs, a_prev->dtype, p.algo, a_prev, w, b, dz};
}

clcnn_conv_algo clcnn__conv_algo_of(int variant)
{
    return variant == CLCNN_VARIANT_GEMM ? CLCNN_CONV_GEMM : CLCNN_CONV_DIRECT;
}

/* ---- what applies ----------------------------------------------------- */

/* Direction d runs the forward kernel: forward, and backward data with
 * stride 1. */
static int as_forward(const conv_problem *pb, conv_direction d)
{
    return d == CONV_FORWARD || (d == CONV_DATA && pb->cs.stride == 1);
}

/* The forward kernel has more than one channel block to order, and no
 * order is forced (CLCNN_CONV_PIXEL_MAJOR): both orders are candidates. */
static int has_orders(const conv_problem *pb, const struct clcnn_cl *cl, conv_direction d)
{
    const int channels = d == CONV_FORWARD ? pb->cs.cout : pb->cs.cin;
    const int blocks = channels >> vector_width_log2(channels, clcnn__cl_max_width(cl, pb->dt));
    return as_forward(pb, d) && blocks > 1 && cl->conv_order < 0;
}

/* The tiled kernels are candidates on GPUs (or with CLCNN_CONV_TILED=1;
 * never with 0) where the direction has one the device can run. */
static int has_tiled(const conv_problem *pb, const struct clcnn_cl *cl, conv_direction d)
{
    return (cl->conv_tiled == 1 || (cl->conv_tiled < 0 && !cl->cpu)) &&
           (as_forward(pb, d) ? clcnn__conv_tiled_allowed(cl, CLCNN_VARIANT_TILED)
                              : d == CONV_FILTER && clcnn__conv_tiled_filter(cl, CLCNN_VARIANT_TILED));
}

/* CHANNEL_MAJOR: the direct kernel in that order, or as such beside the
 * tiled kernel (a plain DIRECT could be the tiled kernel again). */
static int channel_major_applies(const conv_problem *pb, clcnn_context *ctx, conv_direction d)
{
    return has_orders(pb, ctx->cl, d) || has_tiled(pb, ctx->cl, d);
}

static int pixel_major_applies(const conv_problem *pb, clcnn_context *ctx, conv_direction d)
{
    return has_orders(pb, ctx->cl, d);
}

/* A plain DIRECT: the direct kernel as it is, where it has no order to
 * choose and no tiled kernel beside it. */
static int direct_applies(const conv_problem *pb, clcnn_context *ctx, conv_direction d)
{
    return !has_orders(pb, ctx->cl, d) && !has_tiled(pb, ctx->cl, d);
}

static int tiled_applies(const conv_problem *pb, clcnn_context *ctx, conv_direction d)
{
    return has_tiled(pb, ctx->cl, d);
}

/* GEMM where its workspace fits the limit. */
static int gemm_applies(const conv_problem *pb, clcnn_context *ctx, conv_direction d)
{
    return clcnn__cl_gemm_fits(ctx, &pb->cs, pb->dt, d == CONV_DATA);
}

/* ---- AUTO's rules ------------------------------------------------------ */

/* On CPUs (PoCL) CLBlast's untuned GEMM loses to the direct kernels in
 * every direction, so no rule takes it there. On GPUs: the forward where
 * the reduction K = fh fw cin reaches about 1000 and the tiled kernel would
 * not run or have fewer than 3 tiles per compute unit; below that the
 * tiled kernel wins. */
static int gemm_takes_forward(const conv_problem *pb, const struct clcnn_cl *cl)
{
    const conv_shape *cs = &pb->cs;
    const double kk = (double)cs->fh * cs->fw * cs->cin;
    return !cl->cpu && kk >= 1000 &&
           (!clcnn__conv_tiled(cl, CLCNN_VARIANT_DIRECT, cs->cout) ||
            clcnn__conv_forward_tiles(cl, cs) < 3 * (size_t)cl->units);
}

/* On GPUs GEMM wins backward data on every shape measured but one. */
static int gemm_takes_data(const conv_problem *pb, const struct clcnn_cl *cl)
{
    (void)pb;
    return !cl->cpu;
}

/* On GPUs the backward filter once dW has 10^5 elements and 16 or more per
 * reduction step N Ho Wo: with fewer, CLBlast's GEMM has too few tiles for
 * the long reduction. */
static int gemm_takes_filter(const conv_problem *pb, const struct clcnn_cl *cl)
{
    const conv_shape *cs = &pb->cs;
    const double dw = (double)cs->fh * cs->fw * cs->cin * cs->cout, steps = (double)cs->n * cs->ho * cs->wo;
    return !cl->cpu && dw >= 1e5 && dw >= 16 * steps;
}

/* ---- the lists ---------------------------------------------------------- */

typedef struct {
    int variant; /* CLCNN_VARIANT_* */
    /* whether it can run pb (and differs from the entries before it) */
    int (*applies)(const conv_problem *pb, clcnn_context *ctx, conv_direction d);
    /* AUTO's rule (NULL: AUTO never picks it by itself) */
    int (*takes)(const conv_problem *pb, const struct clcnn_cl *cl);
    conv_run_fn run;
} conv_impl;

enum { N_IMPLS = 5 };

static const conv_impl forward_impls[N_IMPLS] = {
    {CLCNN_VARIANT_CHANNEL_MAJOR, channel_major_applies, NULL, clcnn__conv_forward_direct},
    {CLCNN_VARIANT_PIXEL_MAJOR, pixel_major_applies, NULL, clcnn__conv_forward_direct},
    {CLCNN_VARIANT_DIRECT, direct_applies, NULL, clcnn__conv_forward_direct},
    {CLCNN_VARIANT_TILED, tiled_applies, NULL, clcnn__conv_forward_direct},
    {CLCNN_VARIANT_GEMM, gemm_applies, gemm_takes_forward, clcnn__conv_forward_gemm},
};

static const conv_impl data_impls[N_IMPLS] = {
    {CLCNN_VARIANT_CHANNEL_MAJOR, channel_major_applies, NULL, clcnn__conv_data_direct},
    {CLCNN_VARIANT_PIXEL_MAJOR, pixel_major_applies, NULL, clcnn__conv_data_direct},
    {CLCNN_VARIANT_DIRECT, direct_applies, NULL, clcnn__conv_data_direct},
    {CLCNN_VARIANT_TILED, tiled_applies, NULL, clcnn__conv_data_direct},
    {CLCNN_VARIANT_GEMM, gemm_applies, gemm_takes_data, clcnn__conv_data_gemm},
};

/* The orders never apply to the filter kernel; remembered, they run it as
 * it is. */
static const conv_impl filter_impls[N_IMPLS] = {
    {CLCNN_VARIANT_CHANNEL_MAJOR, channel_major_applies, NULL, clcnn__conv_filter_direct},
    {CLCNN_VARIANT_PIXEL_MAJOR, pixel_major_applies, NULL, clcnn__conv_filter_direct},
    {CLCNN_VARIANT_DIRECT, direct_applies, NULL, clcnn__conv_filter_direct},
    {CLCNN_VARIANT_TILED, tiled_applies, NULL, clcnn__conv_filter_direct},
    {CLCNN_VARIANT_GEMM, gemm_applies, gemm_takes_filter, clcnn__conv_filter_gemm},
};

static const conv_impl *impls(conv_direction d)
{
    return d == CONV_FORWARD ? forward_impls : d == CONV_DATA ? data_impls : filter_impls;
}

/* The entry of `variant` (a plain DIRECT's for one no list names). */
static const conv_impl *impl_of(conv_direction d, int variant)
{
    const conv_impl *list = impls(d);
    for (int i = 0; i < N_IMPLS; i++)
        if (list[i].variant == variant)
            return &list[i];
    return impl_of(d, CLCNN_VARIANT_DIRECT);
}

/* The variants that apply to pb, in list order, into out; returns how
 * many. */
static int candidates(clcnn_context *ctx, const conv_problem *pb, conv_direction d, int out[N_IMPLS])
{
    const conv_impl *list = impls(d);
    int n = 0;
    for (int i = 0; i < N_IMPLS; i++)
        if (list[i].applies(pb, ctx, d))
            out[n++] = list[i].variant;
    return n;
}

/* What runs without measuring: an explicit DIRECT the direct path; an
 * explicit GEMM that entry where it applies; AUTO the first entry whose
 * rule takes pb and which applies; else the direct path. */
static int unmeasured(clcnn_context *ctx, const conv_problem *pb, conv_direction d)
{
    const clcnn_conv_algo a = pb->algo == CLCNN_CONV_AUTO ? ctx->conv_algo : pb->algo;
    const conv_impl *list = impls(d);
    for (int i = 0; a != CLCNN_CONV_DIRECT && i < N_IMPLS; i++) {
        const int asked =
            a == CLCNN_CONV_AUTO ? list[i].takes && list[i].takes(pb, ctx->cl) : list[i].variant == (int)a;
        if (asked && list[i].applies(pb, ctx, d))
            return list[i].variant;
    }
    return CLCNN_VARIANT_DIRECT;
}

/* ---- planning, measuring, running -------------------------------------- */

/* The unmeasured choice, unless tuning is on for an AUTO call with more
 * than one candidate: then the variant remembered for the shape
 * (cl_tune.c), or CONV_PLAN_MEASURE where there is none. A remembered
 * variant that no longer applies for want of workspace (GEMM under a lower
 * limit) falls back to the unmeasured choice; one that names an order
 * where the kernel has none, or one is forced, runs the direct kernel as
 * it is. */
int clcnn__conv_plan(clcnn_context *ctx, const conv_problem *pb, conv_direction d)
{
    int c[N_IMPLS];
    if (!ctx->tuning || pb->algo != CLCNN_CONV_AUTO || ctx->conv_algo != CLCNN_CONV_AUTO ||
        candidates(ctx, pb, d, c) < 2)
        return unmeasured(ctx, pb, d);
    const int known = clcnn__cl_tune_lookup(ctx, clcnn__cl_tune_key(ctx, (int)d, &pb->cs, pb->dt));
    if (known == CLCNN_VARIANT_GEMM && !gemm_applies(pb, ctx, d))
        return unmeasured(ctx, pb, d);
    return known >= 0 ? known : CONV_PLAN_MEASURE;
}

int clcnn__conv_several_writes(int plan)
{
    return plan == CLCNN_VARIANT_GEMM || plan == CONV_PLAN_MEASURE;
}

clcnn_status clcnn__conv_run(clcnn_context *ctx, const conv_problem *pb, conv_direction d, int variant,
                             clcnn_tensor *out)
{
    ctx->conv_running[d] = clcnn__conv_algo_of(variant);
    return impl_of(d, variant)->run(ctx, pb, variant, out);
}

/* A tuning run: the call's own direction with a variant, writing only that
 * direction's output. The call saved its outputs before it began tuning,
 * so a run does not save them again: that would overwrite the copy of the
 * caller's values with an earlier run's results. */
typedef struct {
    const conv_problem *pb;
    conv_direction d;
    clcnn_tensor *out;
} tune_args;

static clcnn_status tune_run(clcnn_context *ctx, int variant, void *args)
{
    const tune_args *t = args;
    return clcnn__conv_run(ctx, t->pb, t->d, variant, t->out);
}

clcnn_status clcnn__conv_decide(clcnn_context *ctx, const conv_problem *pb, conv_direction d, int plan,
                                clcnn_tensor *out, int *variant)
{
    if (plan != CONV_PLAN_MEASURE) {
        *variant = plan;
        return CLCNN_OK;
    }
    int c[N_IMPLS];
    const int n = candidates(ctx, pb, d, c);
    tune_args t = {pb, d, out};
    return clcnn__cl_tune(ctx, clcnn__cl_tune_key(ctx, (int)d, &pb->cs, pb->dt), tune_run, &t, c, n, variant);
}
