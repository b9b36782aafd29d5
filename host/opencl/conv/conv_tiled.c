/* conv_tiled.c - the host side of the tiled kernels (kernels/conv_tiled.cl): conv_forward_tiled, for the
 * forward and for stride-1 backward data on the flipped weights, and when each of them and
 * conv_backward_filter_tiled runs. A work-group computes a tile of TILE_M x TILE_N outputs; the sums and
 * their order are those of the direct kernels. Measured figures behind the rules: see
 * docs/performance/conv-choice-rules.md. */
#include "conv_internal.h"

/* The tiled kernels are tuning's name for neither work-item order, so
 * naming an order (CHANNEL_MAJOR, PIXEL_MAJOR) runs the other kernels. */
int clcnn__conv_tiled_allowed(const struct clcnn_cl *cl, int variant)
{
    return cl->conv_tiled != 0 && cl->tile_fits && variant != CLCNN_VARIANT_CHANNEL_MAJOR &&
           variant != CLCNN_VARIANT_PIXEL_MAJOR;
}

/* Always with CLCNN_CONV_TILED=1 or as the variant TILED; for a plain
 * DIRECT on GPUs where the output channels fill a tile's TILE_N, since the
 * tiled kernel beats conv_forward_<N> there; never on CPUs by default,
 * where the work-group's barriers make it many times slower. */
int clcnn__conv_tiled(const struct clcnn_cl *cl, int variant, int channels)
{
    return clcnn__conv_tiled_allowed(cl, variant) && (cl->conv_tiled == 1 || variant == CLCNN_VARIANT_TILED ||
                                                      (!cl->cpu && channels >= cl->conv_tile[1]));
}

/* With CLCNN_CONV_TILED=1 or as the variant TILED only (not by default on
 * GPUs: it has not been measured on one), and where the work-group's
 * work-items are a multiple of TILE_M, which its staging of A^T wants. */
int clcnn__conv_tiled_filter(const struct clcnn_cl *cl, int variant)
{
    return clcnn__conv_tiled_allowed(cl, variant) &&
           clcnn__cl_tile_threads(cl->conv_tile) % (size_t)cl->conv_tile[0] == 0 &&
           (cl->conv_tiled == 1 || variant == CLCNN_VARIANT_TILED);
}

/* A kernel whose work-group the device cannot run has local size 0. */
clcnn_status clcnn__conv_tiled_kernel(clcnn_context *ctx, const char *fn, clcnn_kernel_id id, int want,
                                      clcnn_dtype dt, const clcnn_cl_kernel **k)
{
    *k = NULL;
    if (!want)
        return CLCNN_OK;
    clcnn_status s = clcnn__cl_kernel(ctx, fn, id, dt, k);
    if (!s && (*k)->local == 0)
        *k = NULL;
    return s;
}

size_t clcnn__conv_tile_count(const struct clcnn_cl *cl, size_t rows, size_t channels)
{
    const size_t tm = (size_t)cl->conv_tile[0], tn = (size_t)cl->conv_tile[1];
    return (rows + tm - 1) / tm * ((channels + tn - 1) / tn);
}

/* Output pixels by channels. */
size_t clcnn__conv_forward_tiles(const struct clcnn_cl *cl, const conv_shape *cs)
{
    return clcnn__conv_tile_count(cl, (size_t)cs->n * (size_t)cs->ho * (size_t)cs->wo, (size_t)cs->cout);
}

/* A work-group per tile, k->local work-items each. */
clcnn_status clcnn__conv_forward_tiled(clcnn_context *ctx, const conv_problem *pb, const clcnn_cl_kernel *k,
                                       clcnn_tensor *z)
{
    const clcnn_tensor *w = pb->w, *b = pb->b;
    const cl_int has_bias = b != NULL, skip_padding = 0;
    const cl_mem bias = b ? b->mem : w->mem, none = NULL; /* any valid buffer when there is no bias */
    const kernel_arg args[] = {ARG(pb->a_prev->mem), ARG(w->mem),       ARG(bias), ARG(has_bias),
                               ARG(pb->cs),          ARG(skip_padding), ARG(none), ARG(z->mem)};
    clcnn_status s = set_args(ctx, pb->fn, k, args, 8);
    return s ? s : launch(ctx, pb->fn, k, clcnn__conv_forward_tiles(ctx->cl, &pb->cs) * k->local);
}

/* The flipped, transposed weights in HWIO, with the flag of non-finite
 * weights, and the arguments set; out: the launch. */
clcnn_status clcnn__conv_data_tiled(clcnn_context *ctx, const conv_problem *pb, const conv_shape *ts,
                                    int log_n, const clcnn_cl_kernel *k, clcnn_tensor *da_prev,
                                    conv_launch *out)
{
    const cl_int skip_padding = 1, no_bias = 0;
    cl_int wblock = ts->cout;
    cl_mem flag = NULL, w_t = NULL;
    clcnn_status s;
    if (!(s = clcnn__conv_cleared_flag(ctx, pb->fn, &flag)) &&
        !(s = clcnn__conv_block_weights(ctx, pb->fn, pb->w, ts, 1, 0, log_n, flag, &w_t, &wblock))) {
        const kernel_arg args[] = {ARG(pb->dz->mem), ARG(w_t),          ARG(w_t),  ARG(no_bias),
                                   ARG(*ts),         ARG(skip_padding), ARG(flag), ARG(da_prev->mem)};
        s = set_args(ctx, pb->fn, k, args, 8);
    }
    *out = (conv_launch){k, clcnn__conv_forward_tiles(ctx->cl, ts) * k->local};
    return s;
}
