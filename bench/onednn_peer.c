/* onednn_peer.c - oneDNN on the CPU as a peer: convolution forward (with
 * bias), backward data, backward weights (with the bias gradient), and max
 * and average pooling forward and backward, F32. Activations are NHWC, as
 * clcnn's; weights are converted from HWIO to the layout oneDNN picks for
 * the primitive (format "any") outside the timed region, as the CLBlast
 * peer's NCHW copies are. Max-pool backward uses the workspace of indices
 * oneDNN's training forward writes (run once, untimed); clcnn's recomputes
 * the maxima from a_prev instead. Each call is timed on the host clock from
 * execute to the stream's completion. Every result is compared with clcnn's
 * for the same op, so that the figure is known to be for the same work. */
#include "measure.h"
#include "onednn_peer.h"

#include <oneapi/dnnl/dnnl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static dnnl_engine_t engine;
static dnnl_stream_t stream;

/* What one row makes, released together at its end (a row makes at most
 * 2 primitive descriptors, 2 primitives and 6 memories). */
enum { MAX_PD = 4, MAX_PRIM = 4, MAX_MEM = 10 };
typedef struct {
    dnnl_primitive_desc_t pd[MAX_PD];
    dnnl_primitive_t prim[MAX_PRIM];
    dnnl_memory_t mem[MAX_MEM];
    int n_pd, n_prim, n_mem;
    char why[120]; /* the first failure */
} row_state;

static int fail(row_state *s, const char *what, dnnl_status_t st)
{
    if (!s->why[0])
        snprintf(s->why, sizeof s->why, "oneDNN: %s failed with status %d", what, (int)st);
    return -1;
}

static void release(row_state *s)
{
    for (int i = 0; i < s->n_prim; i++)
        dnnl_primitive_destroy(s->prim[i]);
    for (int i = 0; i < s->n_pd; i++)
        dnnl_primitive_desc_destroy(s->pd[i]);
    for (int i = 0; i < s->n_mem; i++)
        dnnl_memory_destroy(s->mem[i]);
}

static int init_engine(row_state *s)
{
    dnnl_status_t st;
    if (!engine && (st = dnnl_engine_create(&engine, dnnl_cpu, 0)) != dnnl_success) {
        engine = NULL;
        return fail(s, "dnnl_engine_create", st);
    }
    if (!stream && (st = dnnl_stream_create(&stream, engine, dnnl_stream_default_flags)) != dnnl_success) {
        stream = NULL;
        return fail(s, "dnnl_stream_create", st);
    }
    return 0;
}

/* An NHWC (tag nhwc), HWIO (hwio) or vector (x) descriptor; dims in
 * oneDNN's order (N, C, H, W or O, I, H, W). */
static dnnl_memory_desc_t md_of(int ndims, const dnnl_dims_t dims, dnnl_format_tag_t tag)
{
    dnnl_memory_desc_t md;
    memset(&md, 0, sizeof md);
    dnnl_memory_desc_init_by_tag(&md, ndims, dims, dnnl_f32, tag);
    return md;
}

/* A primitive descriptor for op_desc (with a forward hint for backward
 * ones), and its primitive. */
static int make(row_state *s, const_dnnl_op_desc_t desc, const_dnnl_primitive_desc_t hint, const char *what,
                dnnl_primitive_desc_t *pd, dnnl_primitive_t *prim)
{
    if (s->n_pd == MAX_PD || s->n_prim == MAX_PRIM)
        return fail(s, "keeping a primitive (row_state is full)", dnnl_out_of_memory);
    dnnl_status_t st = dnnl_primitive_desc_create(pd, desc, NULL, engine, hint);
    if (st != dnnl_success)
        return fail(s, what, st);
    s->pd[s->n_pd++] = *pd;
    if (!prim)
        return 0;
    if ((st = dnnl_primitive_create(prim, *pd)) != dnnl_success)
        return fail(s, "dnnl_primitive_create", st);
    s->prim[s->n_prim++] = *prim;
    return 0;
}

/* A memory of descriptor md, holding a copy of src (count floats) when src
 * is given; NULL on failure. */
static dnnl_memory_t memory(row_state *s, const dnnl_memory_desc_t *md, const float *src, size_t count)
{
    dnnl_memory_t m = NULL;
    if (s->n_mem == MAX_MEM) {
        fail(s, "keeping a memory (row_state is full)", dnnl_out_of_memory);
        return NULL;
    }
    dnnl_status_t st = dnnl_memory_create(&m, md, engine, DNNL_MEMORY_ALLOCATE);
    if (st != dnnl_success) {
        fail(s, "dnnl_memory_create", st);
        return NULL;
    }
    s->mem[s->n_mem++] = m;
    void *p = NULL;
    dnnl_memory_get_data_handle(m, &p);
    if (src && dnnl_memory_desc_get_size(md) == count * sizeof(float))
        memcpy(p, src, count * sizeof(float));
    else if (src) {
        fail(s, "copying an input (size mismatch)", dnnl_invalid_arguments);
        return NULL;
    }
    return m;
}

static int reorder(row_state *s, dnnl_memory_t from, dnnl_memory_t to)
{
    const dnnl_memory_desc_t *fmd, *tmd;
    dnnl_memory_get_memory_desc(from, &fmd);
    dnnl_memory_get_memory_desc(to, &tmd);
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    dnnl_status_t st = dnnl_reorder_primitive_desc_create(&pd, fmd, engine, tmd, engine, NULL);
    if (st != dnnl_success)
        return fail(s, "a reorder", st);
    if ((st = dnnl_primitive_create(&prim, pd)) == dnnl_success) {
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
        st = dnnl_primitive_execute(prim, stream, 2, args);
        if (st == dnnl_success)
            st = dnnl_stream_wait(stream);
        dnnl_primitive_destroy(prim);
    }
    dnnl_primitive_desc_destroy(pd);
    return st == dnnl_success ? 0 : fail(s, "a reorder", st);
}

/* src (count floats in layout user) in a memory of layout want. */
static dnnl_memory_t converted(row_state *s, const dnnl_memory_desc_t *user, const float *src, size_t count,
                               const dnnl_memory_desc_t *want)
{
    dnnl_memory_t u = memory(s, user, src, count);
    if (!u || dnnl_memory_desc_equal(user, want))
        return u;
    dnnl_memory_t w = memory(s, want, NULL, 0);
    return w && reorder(s, u, w) == 0 ? w : NULL;
}

/* Largest |got - want| and |want| over count elements of m (converted to
 * layout user first when it differs), into *diff and *ref. */
static int compare(row_state *s, dnnl_memory_t m, const dnnl_memory_desc_t *user, const float *want,
                   size_t count, double *diff, double *ref)
{
    if (!want)
        return 0;
    const dnnl_memory_desc_t *md;
    dnnl_memory_get_memory_desc(m, &md);
    if (!dnnl_memory_desc_equal(md, user)) {
        dnnl_memory_t u = memory(s, user, NULL, 0);
        if (!u || reorder(s, m, u) != 0)
            return -1;
        m = u;
    }
    void *p = NULL;
    dnnl_memory_get_data_handle(m, &p);
    const float *got = p;
    for (size_t i = 0; i < count; i++) {
        double d = fabs((double)got[i] - (double)want[i]);
        const double r = fabs((double)want[i]);
        if (isnan(d)) /* a NaN on one side only counts as the largest difference */
            d = isnan((double)got[i]) && isnan((double)want[i]) ? 0 : INFINITY;
        if (d > *diff)
            *diff = d;
        if (r > *ref)
            *ref = r;
    }
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of up to reps calls after a warm-up, timed while the budget lasts
 * (bench_time_more), and the minimum into *min. */
static double time_calls(row_state *s, dnnl_primitive_t prim, int nargs, const dnnl_exec_arg_t *args,
                         int reps, double budget_s, double *min)
{
    double times[64];
    dnnl_status_t st = dnnl_primitive_execute(prim, stream, nargs, args);
    if (st == dnnl_success)
        st = dnnl_stream_wait(stream);
    if (st != dnnl_success)
        return fail(s, "dnnl_primitive_execute", st);
    const int max_reps = reps < 1 ? 1 : reps > 64 ? 64 : reps;
    const double start = bench_now();
    for (reps = 0; bench_time_more(reps, max_reps, start, budget_s); reps++) {
        const double t = bench_now();
        dnnl_primitive_execute(prim, stream, nargs, args);
        dnnl_stream_wait(stream);
        times[reps] = bench_now() - t;
    }
    qsort(times, (size_t)reps, sizeof times[0], cmp_double);
    *min = times[0];
    return reps % 2 ? times[reps / 2] : 0.5 * (times[reps / 2 - 1] + times[reps / 2]);
}

/* The shapes of one layer in oneDNN's terms. */
typedef struct {
    dnnl_memory_desc_t src, dst, w_user, w_any, bias;
    dnnl_dims_t strides, kernel, pad_l, pad_r;
    size_t n_src, n_dst, n_w, n_bias;
} layer_mds;

static layer_mds mds_of(const bench_layer *l, int ho, int wo)
{
    layer_mds m;
    memset(&m, 0, sizeof m);
    const int conv = l->kind == LAYER_CONV, cout = conv ? l->cout : l->c;
    const int fh = conv ? l->fh : l->f, fw = conv ? l->fw : l->f, pad = conv ? l->pad : 0;
    const dnnl_dims_t src = {l->n, l->c, l->h, l->w}, dst = {l->n, cout, ho, wo};
    const dnnl_dims_t w = {l->cout, l->c, l->fh, l->fw}, bias = {l->cout};
    m.src = md_of(4, src, dnnl_nhwc);
    m.dst = md_of(4, dst, dnnl_nhwc);
    m.n_src = (size_t)l->n * l->c * l->h * l->w;
    m.n_dst = (size_t)l->n * cout * ho * wo;
    if (conv) {
        m.w_user = md_of(4, w, dnnl_hwio);
        m.w_any = md_of(4, w, dnnl_format_tag_any);
        m.bias = md_of(1, bias, dnnl_x);
        m.n_w = (size_t)l->cout * l->c * l->fh * l->fw;
        m.n_bias = (size_t)l->cout;
    }
    /* Right padding: what the last window reaches past the input (the
     * output size is floor((h + 2 pad - f) / stride) + 1, so it is at most
     * pad), at least 0. */
    const int pr_h = (ho - 1) * l->stride + fh - l->h - pad, pr_w = (wo - 1) * l->stride + fw - l->w - pad;
    m.strides[0] = m.strides[1] = l->stride;
    m.kernel[0] = fh, m.kernel[1] = fw;
    m.pad_l[0] = m.pad_l[1] = pad;
    m.pad_r[0] = pr_h > 0 ? pr_h : 0;
    m.pad_r[1] = pr_w > 0 ? pr_w : 0;
    return m;
}

/* The primitive of op, its arguments and the memories to check; 0 or -1. */
typedef struct {
    dnnl_primitive_t prim;
    dnnl_exec_arg_t args[5];
    int nargs;
    dnnl_memory_t check[2];
    const dnnl_memory_desc_t *check_md[2];
    size_t check_n[2];
} prepared;

static int prepare_conv(row_state *s, const layer_mds *m, bench_op op, const onednn_data *d, prepared *p)
{
    dnnl_convolution_desc_t fd, bd;
    dnnl_primitive_desc_t fpd, bpd;
    dnnl_status_t st =
        dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_auto, &m->src,
                                           &m->w_any, &m->bias, &m->dst, m->strides, m->pad_l, m->pad_r);
    if (st != dnnl_success)
        return fail(s, "dnnl_convolution_forward_desc_init", st);
    if (make(s, &fd, NULL, "the forward primitive descriptor", &fpd, op == OP_CONV_FWD ? &p->prim : NULL))
        return -1;
    if (op == OP_CONV_FWD) {
        dnnl_memory_t src = memory(s, &m->src, d->a, m->n_src), bias = memory(s, &m->bias, d->b, m->n_bias);
        dnnl_memory_t w = converted(s, &m->w_user, d->w, m->n_w,
                                    dnnl_primitive_desc_query_md(fpd, dnnl_query_weights_md, 0));
        dnnl_memory_t dst = memory(s, &m->dst, NULL, 0);
        if (!src || !bias || !w || !dst)
            return -1;
        *p = (prepared){
            p->prim,
            {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_BIAS, bias}, {DNNL_ARG_DST, dst}},
            4,
            {dst, NULL},
            {&m->dst, NULL},
            {m->n_dst, 0}};
        return 0;
    }
    if (op == OP_CONV_BWD_DATA) {
        st = dnnl_convolution_backward_data_desc_init(&bd, dnnl_convolution_auto, &m->src, &m->w_any, &m->dst,
                                                      m->strides, m->pad_l, m->pad_r);
        if (st != dnnl_success)
            return fail(s, "dnnl_convolution_backward_data_desc_init", st);
        if (make(s, &bd, fpd, "the backward-data primitive descriptor", &bpd, &p->prim))
            return -1;
        dnnl_memory_t dz = memory(s, &m->dst, d->dout, m->n_dst), da = memory(s, &m->src, NULL, 0);
        dnnl_memory_t w = converted(s, &m->w_user, d->w, m->n_w,
                                    dnnl_primitive_desc_query_md(bpd, dnnl_query_weights_md, 0));
        if (!dz || !da || !w)
            return -1;
        *p = (prepared){p->prim,
                        {{DNNL_ARG_DIFF_DST, dz}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DIFF_SRC, da}},
                        3,
                        {da, NULL},
                        {&m->src, NULL},
                        {m->n_src, 0}};
        return 0;
    }
    st = dnnl_convolution_backward_weights_desc_init(&bd, dnnl_convolution_auto, &m->src, &m->w_any, &m->bias,
                                                     &m->dst, m->strides, m->pad_l, m->pad_r);
    if (st != dnnl_success)
        return fail(s, "dnnl_convolution_backward_weights_desc_init", st);
    if (make(s, &bd, fpd, "the backward-weights primitive descriptor", &bpd, &p->prim))
        return -1;
    dnnl_memory_t a = memory(s, &m->src, d->a, m->n_src), dz = memory(s, &m->dst, d->dout, m->n_dst);
    dnnl_memory_t dw = memory(s, dnnl_primitive_desc_query_md(bpd, dnnl_query_diff_weights_md, 0), NULL, 0);
    dnnl_memory_t db = memory(s, &m->bias, NULL, 0);
    if (!a || !dz || !dw || !db)
        return -1;
    *p = (prepared){
        p->prim,
        {{DNNL_ARG_SRC, a}, {DNNL_ARG_DIFF_DST, dz}, {DNNL_ARG_DIFF_WEIGHTS, dw}, {DNNL_ARG_DIFF_BIAS, db}},
        4,
        {dw, db},
        {&m->w_user, &m->bias},
        {m->n_w, m->n_bias}};
    return 0;
}

static int prepare_pool(row_state *s, const layer_mds *m, const bench_layer *l, bench_op op,
                        const onednn_data *d, prepared *p)
{
    const dnnl_alg_kind_t alg =
        l->mode == CLCNN_POOL_MAX ? dnnl_pooling_max : dnnl_pooling_avg_exclude_padding;
    dnnl_pooling_desc_t fd, bd;
    dnnl_primitive_desc_t fpd, bpd;
    dnnl_primitive_t fwd;
    const dnnl_prop_kind_t kind = op == OP_POOL_FWD ? dnnl_forward_inference : dnnl_forward_training;
    dnnl_status_t st = dnnl_pooling_forward_desc_init(&fd, kind, alg, &m->src, &m->dst, m->strides, m->kernel,
                                                      m->pad_l, m->pad_r);
    if (st != dnnl_success)
        return fail(s, "dnnl_pooling_forward_desc_init", st);
    if (make(s, &fd, NULL, "the pooling primitive descriptor", &fpd, &fwd))
        return -1;
    dnnl_memory_t src = memory(s, &m->src, d->a, m->n_src), dst = memory(s, &m->dst, NULL, 0);
    if (!src || !dst)
        return -1;
    if (op == OP_POOL_FWD) {
        *p = (prepared){
            fwd, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}}, 2, {dst, NULL}, {&m->dst, NULL}, {m->n_dst, 0}};
        return 0;
    }
    /* The training forward's workspace (max: where each maximum lies). */
    const dnnl_memory_desc_t *ws_md = dnnl_primitive_desc_query_md(fpd, dnnl_query_workspace_md, 0);
    dnnl_memory_t ws = ws_md && dnnl_memory_desc_get_size(ws_md) > 0 ? memory(s, ws_md, NULL, 0) : NULL;
    dnnl_exec_arg_t fargs[3] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}, {DNNL_ARG_WORKSPACE, ws}};
    if ((st = dnnl_primitive_execute(fwd, stream, ws ? 3 : 2, fargs)) != dnnl_success ||
        (st = dnnl_stream_wait(stream)) != dnnl_success)
        return fail(s, "the pooling forward", st);
    if ((st = dnnl_pooling_backward_desc_init(&bd, alg, &m->src, &m->dst, m->strides, m->kernel, m->pad_l,
                                              m->pad_r)) != dnnl_success)
        return fail(s, "dnnl_pooling_backward_desc_init", st);
    if (make(s, &bd, fpd, "the pooling backward primitive descriptor", &bpd, &p->prim))
        return -1;
    dnnl_memory_t dz = memory(s, &m->dst, d->dout, m->n_dst), da = memory(s, &m->src, NULL, 0);
    if (!dz || !da)
        return -1;
    *p = (prepared){
        p->prim,         {{DNNL_ARG_DIFF_DST, dz}, {DNNL_ARG_DIFF_SRC, da}, {DNNL_ARG_WORKSPACE, ws}},
        ws ? 3 : 2,      {da, NULL},
        {&m->src, NULL}, {m->n_src, 0}};
    return 0;
}

void bench_onednn(const bench_layer *l, bench_op op, int ho, int wo, const onednn_data *d, int reps,
                  double budget_s, bench_row *row)
{
    row->onednn_s = row->onednn_min_s = row->onednn_rel_err = BENCH_NONE;
    if (op == OP_PAD)
        return;
    row_state s;
    memset(&s, 0, sizeof s);
    const layer_mds m = mds_of(l, ho, wo);
    prepared p;
    memset(&p, 0, sizeof p);
    double min = 0, diff = 0, ref = 0;
    if (init_engine(&s) == 0 &&
        (l->kind == LAYER_CONV ? prepare_conv(&s, &m, op, d, &p) : prepare_pool(&s, &m, l, op, d, &p)) == 0) {
        const double med = time_calls(&s, p.prim, p.nargs, p.args, reps, budget_s, &min);
        int bad = med < 0;
        for (int i = 0; i < 2 && !bad; i++)
            if (p.check[i])
                bad = compare(&s, p.check[i], p.check_md[i], d->expected[i], p.check_n[i], &diff, &ref) != 0;
        if (!bad) {
            row->onednn_s = med;
            row->onednn_min_s = min;
            if (d->expected[0])
                row->onednn_rel_err = ref > 0 ? diff / ref : diff;
        }
    }
    if (s.why[0] && !row->error[0])
        snprintf(row->error, sizeof row->error, "%s", s.why);
    release(&s);
}

int bench_onednn_describe(char *buf, size_t len)
{
    const dnnl_version_t *v = dnnl_version();
    snprintf(buf, len, "oneDNN %d.%d.%d on the CPU", v->major, v->minor, v->patch);
    return 1;
}

void bench_onednn_release(void)
{
    if (stream)
        dnnl_stream_destroy(stream);
    if (engine)
        dnnl_engine_destroy(engine);
    stream = NULL, engine = NULL;
}
