/* test_gradcheck_conv.c - conv2d_backward's da_prev, dw and db against
 * central finite differences of conv2d_forward (test_gradcheck.c says how
 * and within what), and its outputs independent of which are asked for. */
#include "gradcheck.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONV(why, m, h, w, cin, cout, fh, fw, stride, pad)                                                   \
    {                                                                                                        \
        why,                                                                                                 \
        {                                                                                                    \
            m, h, w, cin, cout, fh, fw, stride, pad, 1, 0, CLCNN_POOL_MAX, CLCNN_CONV_AUTO                   \
        }                                                                                                    \
    }

/* Always present, whatever the seed. */
static const named_shape conv_special[] = {
    CONV("stride > f", 1, 7, 6, 2, 3, 2, 2, 3, 0),
    CONV("stride > f, non-square filter, padded", 2, 7, 7, 1, 2, 1, 2, 3, 1),
    CONV("f = 1", 1, 4, 5, 3, 2, 1, 1, 1, 0),
    CONV("f = 1, stride 2, pad 1", 2, 5, 5, 2, 3, 1, 1, 2, 1),
    CONV("pad > f", 1, 3, 4, 2, 2, 2, 2, 1, 3),
    CONV("pad > f, f = 1 (border outputs see only zeros)", 1, 2, 3, 1, 2, 1, 1, 1, 2),
    CONV("pad > f, stride > f, non-square filter", 1, 4, 3, 2, 2, 1, 2, 3, 3),
    CONV("non-square input", 1, 3, 7, 2, 2, 3, 3, 1, 0),
    CONV("non-square filter, fh > fw", 1, 6, 5, 2, 3, 3, 1, 1, 1),
    CONV("non-square filter, fh < fw, stride 2", 2, 5, 6, 1, 2, 2, 4, 2, 0),
    CONV("single channel in and out", 1, 5, 5, 1, 1, 3, 3, 1, 1),
    CONV("single channel, 1x1 input, padded", 1, 1, 1, 1, 1, 2, 3, 1, 1),
    CONV("filter as large as the padded input (1x1 output)", 2, 3, 4, 2, 3, 5, 6, 2, 1),
    CONV("stride leaves trailing rows unused", 1, 7, 6, 2, 2, 2, 3, 3, 0),
};

/* A random small shape (tc_small_limits) whose window fits its padded
 * input. */
static named_shape draw_conv_case(np_random *r)
{
    named_shape c = {NULL, tc_draw(tc_op_of(TC_CONV_FORWARD), &tc_small_limits, r, NULL)};
    return c;
}

static void conv_describe(const named_shape *c, int index, char *buf, size_t len)
{
    const tc_shape *s = &c->s;
    snprintf(buf, len,
             "conv case %d (%s): a_prev [m=%d][H=%d][W=%d][C=%d], w [fh=%d][fw=%d][%d][%d], "
             "stride %d, pad %d",
             index, c->why ? c->why : "random", s->n, s->h, s->w, s->c, s->fh, s->fw, s->c, s->cout,
             s->stride, s->pad);
}

/* The output shape, checked against the documented formula. */
static void conv_out_dims(const named_shape *c, const char *desc, int zd[4])
{
    const tc_shape *k = &c->s;
    const int ad[4] = {k->n, k->h, k->w, k->c}, wd[4] = {k->fh, k->fw, k->c, k->cout};
    const clcnn_conv_params p = {k->stride, k->pad, CLCNN_CONV_AUTO};
    clcnn_status s = clcnn_conv2d_output_shape(ad, wd, p, zd);
    if (s != CLCNN_OK)
        fail_msg("%s: clcnn_conv2d_output_shape: %s: %s", desc, clcnn_status_string(s),
                 clcnn_last_error(NULL));
    const int want[4] = {k->n, (k->h - k->fh + 2 * k->pad) / k->stride + 1,
                         (k->w - k->fw + 2 * k->pad) / k->stride + 1, k->cout};
    if (memcmp(zd, want, sizeof want) != 0)
        fail_msg("%s: clcnn_conv2d_output_shape gives [%d][%d][%d][%d], want [%d][%d][%d][%d]", desc, zd[0],
                 zd[1], zd[2], zd[3], want[0], want[1], want[2], want[3]);
}

typedef struct {
    clcnn_context *ctx;
    clcnn_conv_params p;
    const char *desc;
    size_t na, nw, nb, nz;
    double *a, *w, *b, *g, *z;
    clcnn_tensor *ta, *tw, *tb, *tz;
} conv_problem;

/* L = sum(G * conv_forward(a, w, b)) for the current arrays. */
static double conv_loss(void *problem)
{
    conv_problem *P = problem;
    write_f64(P->ta, P->a, P->na, P->desc);
    write_f64(P->tw, P->w, P->nw, P->desc);
    write_f64(P->tb, P->b, P->nb, P->desc);
    clcnn_status s = clcnn_conv2d_forward(P->ctx, P->ta, P->tw, P->tb, P->p, P->tz);
    if (s != CLCNN_OK)
        fail_msg("%s: clcnn_conv2d_forward: %s: %s", P->desc, clcnn_status_string(s),
                 clcnn_last_error(P->ctx));
    read_f64(P->tz, P->z, P->nz, P->desc);
    return dot(P->g, P->z, P->nz);
}

/* Checks one shape on f's host context. Returns 0, or 1 with a message in
 * failure (the case's arrays freed; its tensors are the fixture's). */
static int check_conv_case(th_fixture *f, np_random *r, const named_shape *c, int index, gc_stats *st,
                           char *failure, size_t failure_len)
{
    char desc[320];
    conv_describe(c, index, desc, sizeof desc);
    const tc_op *fwd = tc_op_of(TC_CONV_FORWARD), *bwd = tc_op_of(TC_CONV_BACKWARD);
    if (!tc_fits(fwd, &c->s))
        fail_msg("%s: the filter does not fit the padded input (bad test case)", desc);
    int zd[4];
    conv_out_dims(c, desc, zd);
    int ad[4], wd[4], bd[4], fz[4];
    tc_dims(fwd, &c->s, 0, ad), tc_dims(fwd, &c->s, 1, wd), tc_dims(fwd, &c->s, 2, bd),
        tc_dims(fwd, &c->s, 3, fz);
    if (memcmp(zd, fz, sizeof fz) != 0)
        fail_msg("%s: the descriptor's z shape [%d][%d][%d][%d] is not the library's", desc, fz[0], fz[1],
                 fz[2], fz[3]);

    conv_problem P;
    P.ctx = th_host(f);
    P.p = (clcnn_conv_params){c->s.stride, c->s.pad, CLCNN_CONV_AUTO};
    P.desc = desc;
    P.na = count4(ad), P.nw = count4(wd), P.nb = count4(bd), P.nz = count4(zd);
    P.a = randn_array(r, P.na);
    P.w = randn_array(r, P.nw);
    P.b = randn_array(r, P.nb);
    P.g = randn_array(r, P.nz);
    P.z = xmalloc(P.nz);
    tc_tensors ft, bt;
    th_case_make(f, P.ctx, fwd, &c->s, CLCNN_F64, (double *const[TC_MAX_IN]){P.a, P.w, P.b}, &ft);
    P.ta = ft.in[0], P.tw = ft.in[1], P.tb = ft.in[2], P.tz = ft.out[0];

    /* The analytic gradients, into outputs prefilled with junk. */
    th_case_make(f, P.ctx, bwd, &c->s, CLCNN_F64, (double *const[TC_MAX_IN]){P.g, P.a, P.w}, &bt);
    junk_outputs(&bt);
    clcnn_status s = tc_run(&bt);
    if (s != CLCNN_OK)
        fail_msg("%s: clcnn_conv2d_backward: %s: %s", desc, clcnn_status_string(s), clcnn_last_error(P.ctx));
    double *da = th_read(bt.out[0]), *dw = th_read(bt.out[1]), *db = th_read(bt.out[2]);

    /* The tolerance of the header comment. */
    const double eps = LINEAR_EPS;
    const double amax = max_abs(P.a, P.na) + eps, wmax = max_abs(P.w, P.nw) + eps,
                 bmax = max_abs(P.b, P.nb) + eps, gsum = sum_abs(P.g, P.nz);
    const double window = (double)c->s.fh * c->s.fw * c->s.c;
    const double k = window + 1.0 + (double)P.nz + 1.0;
    const double sum_terms = gsum * (bmax + window * amax * wmax);
    const double tol = fd_tolerance(k, sum_terms, eps, gsum * fmax(1.0, fmax(amax, wmax)));

    int bad = fd_check(conv_loss, &P, P.a, ad, da, eps, tol, desc, "da_prev", st, failure, failure_len) ||
              fd_check(conv_loss, &P, P.w, wd, dw, eps, tol, desc, "dw", st, failure, failure_len) ||
              fd_check(conv_loss, &P, P.b, bd, db, eps, tol, desc, "db", st, failure, failure_len);
    st->cases++;

    free(da), free(dw), free(db);
    th_case_free(f, &bt);
    th_case_free(f, &ft);
    free(P.a), free(P.w), free(P.b), free(P.g), free(P.z);
    return bad;
}

void conv_backward_special_shapes_stride_gt_f_pad_gt_f_1x1_one_channel(void **state)
{
    th_fixture *f = th_fx(state);
    const size_t n = sizeof conv_special / sizeof conv_special[0];
    /* The list covers what it claims to, whatever later edits do to it. */
    int stride_gt_f = 0, f1 = 0, pad_gt_f = 0, nonsquare_in = 0, nonsquare_f = 0, one_ch = 0;
    for (size_t i = 0; i < n; i++) {
        const tc_shape *c = &conv_special[i].s;
        int fmax_ = c->fh > c->fw ? c->fh : c->fw;
        stride_gt_f |= c->stride > fmax_;
        f1 |= c->fh == 1 && c->fw == 1;
        pad_gt_f |= c->pad > fmax_;
        nonsquare_in |= c->h != c->w;
        nonsquare_f |= c->fh != c->fw;
        one_ch |= c->c == 1 && c->cout == 1;
    }
    assert_true(stride_gt_f && f1 && pad_gt_f && nonsquare_in && nonsquare_f && one_ch);

    np_random r;
    np_random_seed(&r, 1001);
    gc_stats st = gc_stats_init();
    char failure[800] = "";
    for (size_t i = 0; i < n && !failure[0]; i++)
        check_conv_case(f, &r, &conv_special[i], (int)i, &st, failure, sizeof failure);
    if (failure[0])
        fail_msg("%s", failure);
    gc_stats_print("conv special shapes", &st);
}

void conv_backward_matches_finite_differences_on_random_shapes(void **state)
{
    th_fixture *f = th_fx(state);
    np_random r;
    np_random_seed(&r, 1002);
    gc_stats st = gc_stats_init();
    char failure[800] = "";
    for (int i = 0; i < N_RANDOM_SHAPES && !failure[0]; i++) {
        named_shape c = draw_conv_case(&r);
        check_conv_case(f, &r, &c, i, &st, failure, sizeof failure);
    }
    if (failure[0])
        fail_msg("%s", failure);
    gc_stats_print("conv random shapes", &st);
}

/* da_prev, dw and db computed alone or in any combination are bitwise those
 * computed all together (and the full call is deterministic). */
void conv_backward_outputs_do_not_depend_on_which_others_are_requested(void **state)
{
    th_fixture *f = th_fx(state);
    np_random r;
    np_random_seed(&r, 1003);
    clcnn_context *ctx = th_host(f);
    const tc_op *op = tc_op_of(TC_CONV_BACKWARD);
    const size_t n_special = sizeof conv_special / sizeof conv_special[0];
    const int n_cases = (int)n_special + 12;
    static const char *const names[3] = {"da_prev", "dw", "db"};

    for (int ci = 0; ci < n_cases; ci++) {
        named_shape c = ci < (int)n_special ? conv_special[ci] : draw_conv_case(&r);
        char desc[320];
        conv_describe(&c, ci, desc, sizeof desc);
        int zd[4], ad[4], wd[4];
        conv_out_dims(&c, desc, zd);
        tc_dims(op, &c.s, 1, ad), tc_dims(op, &c.s, 2, wd);
        double *a = randn_array(&r, count4(ad)), *w = randn_array(&r, count4(wd)),
               *g = randn_array(&r, count4(zd));
        double *const in[TC_MAX_IN] = {g, a, w};

        /* All three together. */
        tc_tensors full;
        unsigned char *snap[3];
        size_t snap_n[3];
        th_case_make(f, ctx, op, &c.s, CLCNN_F64, in, &full);
        junk_outputs(&full);
        clcnn_status s = tc_run(&full);
        if (s != CLCNN_OK)
            fail_msg("%s: clcnn_conv2d_backward (all outputs): %s: %s", desc, clcnn_status_string(s),
                     clcnn_last_error(ctx));
        for (int o = 0; o < 3; o++)
            snap[o] = th_snapshot(full.out[o], &snap_n[o]);

        /* Every non-empty subset, the full one again included. */
        char failure[600] = "";
        for (int mask = 1; mask < 8 && !failure[0]; mask++) {
            tc_shape sub = c.s;
            sub.omit = 7 & ~mask;
            tc_tensors t;
            th_case_make(f, ctx, op, &sub, CLCNN_F64, in, &t);
            clcnn_tensor *const *out = t.out;
            for (int o = 0; o < 3; o++)
                if (out[o]) /* Different junk than the full call's, so stale data shows. */
                    th_fill(out[o], -7.25 * mask, 0.0);
            s = tc_run(&t);
            if (s != CLCNN_OK)
                snprintf(failure, sizeof failure,
                         "%s: clcnn_conv2d_backward with da_prev %s, dw %s, db %s: %s: %s", desc,
                         out[0] ? "requested" : "NULL", out[1] ? "requested" : "NULL",
                         out[2] ? "requested" : "NULL", clcnn_status_string(s), clcnn_last_error(ctx));
            for (int o = 0; o < 3 && !failure[0]; o++) {
                if (!out[o])
                    continue;
                size_t nb;
                unsigned char *got = th_snapshot(out[o], &nb);
                if (nb != snap_n[o] || memcmp(got, snap[o], nb) != 0)
                    snprintf(failure, sizeof failure,
                             "%s: %s computed with da_prev %s, dw %s, db %s differs bitwise from %s "
                             "computed with all three",
                             desc, names[o], out[0] ? "requested" : "NULL", out[1] ? "requested" : "NULL",
                             out[2] ? "requested" : "NULL", names[o]);
                free(got);
            }
            th_case_free(f, &t);
        }

        for (int o = 0; o < 3; o++)
            free(snap[o]);
        th_case_free(f, &full);
        free(a), free(w), free(g);
        if (failure[0])
            fail_msg("%s", failure);
    }
}
