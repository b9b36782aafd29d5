/* conv_backward_filter.c - dw and db on the direct path, set up (kernels
 * built, workspaces filled, arguments set) for conv_backward.c to enqueue:
 * N filters per work-item of conv_backward_filter_<N> (or the tiled
 * kernel), in one pass or as a split reduction over runs of output rows
 * summed by conv_backward_filter_sum; db beside dw in the same runs, or by
 * conv_backward_bias alone. Measured figures behind the rules: see
 * docs/performance/conv-choice-rules.md. */
#include "conv_internal.h"

/* How many chunks the reduction over `positions` output positions is cut
 * into: runs of about FILTER_CHUNK_LEN positions, at most FILTER_MAX_CHUNKS
 * of them, and a partial-sum workspace of at most FILTER_MAX_WORKSPACE
 * bytes on GPUs, FILTER_MAX_WORKSPACE_CPU on CPUs, where the partial sums
 * go through memory (or the context's workspace limit, if lower). It
 * depends on the shape, the device type and that limit alone, so a call's
 * summation order, and so its bits, never change. */
enum { FILTER_CHUNK_LEN = 256, FILTER_MAX_CHUNKS = 512 };
#define FILTER_MAX_WORKSPACE ((size_t)64 << 20)
#define FILTER_MAX_WORKSPACE_CPU ((size_t)4 << 20)

static cl_int filter_chunks(size_t positions, size_t dw_count, size_t elem, size_t limit, int cpu)
{
    const size_t cap = cpu ? FILTER_MAX_WORKSPACE_CPU : FILTER_MAX_WORKSPACE;
    const size_t workspace = limit < cap ? limit : cap;
    size_t chunks = (positions + FILTER_CHUNK_LEN - 1) / FILTER_CHUNK_LEN;
    if (chunks > FILTER_MAX_CHUNKS)
        chunks = FILTER_MAX_CHUNKS;
    const size_t dw_bytes = dw_count * elem; /* a tensor's byte count: fits size_t */
    if (dw_bytes > workspace / chunks)
        chunks = workspace / dw_bytes;
    return chunks < 2 ? 1 : (cl_int)chunks;
}

/* Whether the backward filter reads blocked copies of a_prev and dz
 * (block_channels): on CPUs with more than one block of each, as
 * CLCNN_FILTER_BLOCKED forces, else where a pixel's channels span
 * FILTER_BLOCKED_MIN_CIN+ and the copies are cheap beside the reduction
 * (fh*fw*cout >= FILTER_BLOCKED_MIN_WORK multiply-adds per input value). */
enum { FILTER_BLOCKED_MIN_CIN = 128, FILTER_BLOCKED_MIN_WORK = 512 };

static int filter_blocked(const struct clcnn_cl *cl, const conv_shape *cs, size_t kb, size_t n)
{
    if (!cl->cpu || (size_t)cs->cin <= kb || (size_t)cs->cout <= n)
        return 0;
    if (cl->filter_blocked >= 0)
        return cl->filter_blocked;
    return cs->cin >= FILTER_BLOCKED_MIN_CIN && (long)cs->fh * cs->fw * cs->cout >= FILTER_BLOCKED_MIN_WORK;
}

/* The runs and blocks of one call. The runs depend on the shape (a
 * partial-sum row holds dw and db), the device type and the limit only,
 * not on which outputs are asked for: db sums in the same runs whether the
 * filter kernel writes it beside dw or conv_backward_bias alone does. */
typedef struct {
    int log_n;       /* 2^log_n filters per work-item */
    int small;       /* FILTER_KB_SMALL (3) input channels per work-item */
    size_t fkb;      /* input channels per work-item */
    size_t dw_elems; /* fh fw cin cout */
    cl_long chunk_len;
    cl_int chunks;  /* runs of output rows, none empty */
    size_t items;   /* work-items of conv_backward_filter_<N> per run */
    cl_int sum_run; /* elements per work-item of the sums across runs and of the bias */
} filter_geometry;

static filter_geometry geometry(const clcnn_context *ctx, const conv_problem *pb)
{
    const struct clcnn_cl *cl = ctx->cl;
    const conv_shape *cs = &pb->cs;
    filter_geometry g;
    g.log_n = vector_width_log2(pb->w->shape.c, clcnn__cl_max_width(cl, pb->dt));
    const size_t positions = (size_t)pb->dz->shape.n * (size_t)pb->dz->shape.h * (size_t)pb->dz->shape.w;
    const size_t rows = (size_t)pb->dz->shape.n * (size_t)pb->dz->shape.h; /* runs are whole output rows */
    g.dw_elems = (size_t)cs->fh * (size_t)cs->fw * (size_t)cs->cin * (size_t)cs->cout;
    size_t n_chunks = filter_chunks(positions, g.dw_elems + (size_t)cs->cout, clcnn__dtype_size(pb->dt),
                                    ctx->workspace_limit, cl->cpu);
    if (n_chunks > rows)
        n_chunks = rows;
    g.chunk_len = (cl_long)((rows + n_chunks - 1) / n_chunks);
    g.chunks = (cl_int)((rows + (size_t)g.chunk_len - 1) / (size_t)g.chunk_len);
    /* FILTER_KB_SMALL for layers with fewer channels than FILTER_KB, whose
     * blocks would be mostly clamped copies (conv_backward_filter.cl) */
    g.small = cs->cin < cl->filter_kb && cl->filter_kb > 3;
    g.fkb = g.small ? 3 : (size_t)cl->filter_kb;
    g.items = (size_t)cs->fh * (size_t)cs->fw * (((size_t)cs->cin + g.fkb - 1) / g.fkb) *
              ((size_t)cs->cout >> g.log_n);
    g.sum_run = cl->cpu ? 16 : 1;
    return g;
}

/* Where the filter kernel writes: dw and db, or a partial-sum row per run
 * (CLCNN_SCRATCH_PARTIAL) that conv_backward_filter_sum adds up. */
typedef struct {
    cl_mem out, db_out;
    cl_long db_offset, dw_count, bias_count, out_stride;
    cl_mem partial;
} filter_outputs;

/* The arguments of conv_backward_filter_<N>, on a_prev and dz or on their
 * copies in blocks (both copies or neither: the kernel has one flag). */
static clcnn_status set_direct_args(clcnn_context *ctx, const conv_problem *pb, const filter_geometry *g,
                                    const filter_outputs *o, const clcnn_cl_kernel *kw)
{
    cl_mem a_in = pb->a_prev->mem, dz_in = pb->dz->mem, a_blk = NULL, dz_blk = NULL;
    clcnn_status s = CLCNN_OK;
    if (filter_blocked(ctx->cl, &pb->cs, g->fkb, (size_t)1 << g->log_n) &&
        !(s = clcnn__conv_block_channels(ctx, pb->fn, pb->a_prev, g->fkb, CLCNN_SCRATCH_BLOCKED_INPUT,
                                         &a_blk)) &&
        a_blk)
        s = clcnn__conv_block_channels(ctx, pb->fn, pb->dz, (size_t)1 << g->log_n, CLCNN_SCRATCH_BLOCKED_DZ,
                                       &dz_blk);
    const cl_int blocked = a_blk && dz_blk;
    if (blocked)
        a_in = a_blk, dz_in = dz_blk;
    /* kb before cb in the work-item order on CPUs reading NHWC (conv_backward_filter.cl) */
    const cl_int channel_first = ctx->cl->cpu && !blocked;
    const kernel_arg args[] = {ARG(dz_in),         ARG(a_in),      ARG(pb->cs),        ARG(g->chunks),
                               ARG(g->chunk_len),  ARG(blocked),   ARG(channel_first), ARG(o->out),
                               ARG(o->out_stride), ARG(o->db_out), ARG(o->db_offset)};
    return s ? s : set_args(ctx, pb->fn, kw, args, 11);
}

/* dw's kernels: kft (the tiled kernel) or conv_backward_filter_<N>, and
 * the sum across runs where there are several; with db (fused) the filter
 * kernel's work-items of tap (0, 0) sum it from the dz vectors they have
 * just read, instead of conv_backward_bias reading dz once more. */
static clcnn_status setup_filter(clcnn_context *ctx, const conv_problem *pb, const filter_geometry *g,
                                 const clcnn_cl_kernel *kft, clcnn_tensor *dw, clcnn_tensor *db,
                                 conv_filter_setup *out)
{
    const int fused = db && !kft;
    filter_outputs o = {dw->mem, fused ? db->mem : NULL, 0, (cl_long)dw->count, 0, 0, NULL};
    o.bias_count = fused ? (cl_long)pb->cs.cout : 0, o.out_stride = o.dw_count + o.bias_count;
    const clcnn_cl_kernel *kw = kft, *ks = NULL;
    clcnn_status s = CLCNN_OK;
    if (!kft)
        s = clcnn__cl_kernel(
            ctx, pb->fn,
            (g->small ? CLCNN_KERNEL_CONV_BACKWARD_FILTER_SMALL_1 : CLCNN_KERNEL_CONV_BACKWARD_FILTER_1) +
                g->log_n,
            pb->dt, &kw);
    if (s)
        return s;
    if (g->chunks > 1 &&
        !(s = clcnn__cl_kernel(ctx, pb->fn, CLCNN_KERNEL_CONV_BACKWARD_FILTER_SUM, pb->dt, &ks)))
        s = clcnn__cl_scratch(ctx, pb->fn, CLCNN_SCRATCH_PARTIAL,
                              (size_t)g->chunks * (size_t)o.out_stride * clcnn__dtype_size(pb->dt),
                              &o.partial);
    if (o.partial)
        o.out = o.partial, o.db_out = fused ? o.partial : NULL, o.db_offset = o.dw_count;
    const cl_mem sum_db = fused ? db->mem : dw->mem; /* any valid buffer when there is no bias */
    const kernel_arg sargs[] = {ARG(o.partial),  ARG(g->chunks), ARG(o.dw_count),   ARG(o.out_stride),
                                ARG(g->sum_run), ARG(dw->mem),   ARG(o.bias_count), ARG(sum_db)};
    const kernel_arg targs[] = {ARG(pb->dz->mem),  ARG(pb->a_prev->mem), ARG(pb->cs),
                                ARG(g->chunk_len), ARG(o.out),           ARG(o.out_stride)};
    if (!s && !(s = kft ? set_args(ctx, pb->fn, kw, targs, 6) : set_direct_args(ctx, pb, g, &o, kw)) && ks)
        s = set_args(ctx, pb->fn, ks, sargs, 8);
    /* per run of rows: the tiled kernel's tiles of dW, or g->items */
    const size_t per_run =
        kft ? clcnn__conv_tile_count(ctx->cl, g->dw_elems / (size_t)pb->cs.cout, (size_t)pb->cs.cout) *
                  kft->local
            : g->items;
    out->filter = (conv_launch){kw, (ks ? (size_t)g->chunks : 1) * per_run};
    out->sum = (conv_launch){ks, ((size_t)o.out_stride + (size_t)g->sum_run - 1) / (size_t)g->sum_run};
    return s;
}

/* dw on conv_backward_filter_tiled (tiled_filter), db then alone. */
clcnn_status clcnn__conv_filter_setup(clcnn_context *ctx, const conv_problem *pb, int variant,
                                      clcnn_tensor *dw, clcnn_tensor *db, conv_filter_setup *out)
{
    const filter_geometry g = geometry(ctx, pb);
    const clcnn_cl_kernel *kft = NULL, *kb = NULL;
    *out = (conv_filter_setup){{NULL, 0}, {NULL, 0}, {NULL, 0}};
    clcnn_status s = clcnn__conv_tiled_kernel(ctx, pb->fn, CLCNN_KERNEL_CONV_BACKWARD_FILTER_TILED,
                                              dw && clcnn__conv_tiled_filter(ctx->cl, variant), pb->dt, &kft);
    if (!s && dw)
        s = setup_filter(ctx, pb, &g, kft, dw, db, out);
    const int fused = dw && db && !kft;
    if (!s && db && !fused &&
        !(s = clcnn__cl_kernel(ctx, pb->fn, CLCNN_KERNEL_CONV_BACKWARD_BIAS, pb->dt, &kb))) {
        const kernel_arg args[] = {ARG(pb->dz->mem), ARG(pb->cs), ARG(g.sum_run), ARG(g.chunk_len),
                                   ARG(db->mem)};
        s = set_args(ctx, pb->fn, kb, args, 5);
        out->bias = (conv_launch){kb, (db->count + (size_t)g.sum_run - 1) / (size_t)g.sum_run};
    }
    return s;
}
