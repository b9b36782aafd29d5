/* cl_gemm.c - the GEMM convolution path: im2col (kernels/gemm.cl), CLBlast's
 * GEMM, and col2im, with the batch cut into chunks of output pixels so that
 * the column matrix plus CLBlast's temporary buffer stay within the
 * context's workspace limit.
 *
 * With NHWC activations and HWIO weights (W as a row-major [K][cout] matrix,
 * K = fh*fw*cin) and the column matrix col[m][K] of output pixels m:
 *   forward          z[m][cout]   = col x W (+ bias rows, beta = 1)
 *   backward filter  dW[K][cout]  = sum over chunks of col^T x dZ (beta = 1
 *                                   after the first chunk)
 *   backward data    dcol[m][K]   = dZ x W^T, then col2im gathers dcol into
 *                                   da_prev image by image
 * A 1x1, stride-1, unpadded convolution needs no column matrix: col is the
 * input itself (and dcol is da_prev). Chunking and CLBlast's kernel choice
 * depend on the shape, device and limit only, so results are deterministic. */
#include "cl_backend.h"

#include <clblast_c.h>

typedef enum { DIR_FORWARD, DIR_DATA, DIR_FILTER } direction;

/* One row-major GEMM: C[m][n] = op(A)[m][k] op(B)[k][n] (+ beta C). */
typedef struct {
    CLBlastTranspose ta, tb;
    size_t m, n, k, lda, ldb, ldc;
} gemm_dims;

/* The GEMM of direction d over `rows` output pixels. */
static gemm_dims dims_of(direction d, const clcnn_conv_shape *cs, size_t rows)
{
    const size_t kk = (size_t)cs->fh * (size_t)cs->fw * (size_t)cs->cin, co = (size_t)cs->cout;
    switch (d) {
    case DIR_FORWARD: return (gemm_dims){CLBlastTransposeNo, CLBlastTransposeNo, rows, co, kk, kk, co, co};
    case DIR_DATA: return (gemm_dims){CLBlastTransposeNo, CLBlastTransposeYes, rows, kk, co, co, co, kk};
    default: return (gemm_dims){CLBlastTransposeYes, CLBlastTransposeNo, kk, co, rows, kk, co, co};
    }
}

static int pointwise(const clcnn_conv_shape *cs)
{
    return cs->fh == 1 && cs->fw == 1 && cs->stride == 1 && cs->pad_h == 0 && cs->pad_w == 0;
}

/* The name of a CLBlast-only status code (OpenCL's codes are named by
 * clcnn__cl_error_name). */
static const char *blast_name(CLBlastStatusCode c)
{
    switch (c) {
    case CLBlastNotImplemented: return "CLBlastNotImplemented";
    case CLBlastInvalidMatrixA: return "CLBlastInvalidMatrixA";
    case CLBlastInvalidMatrixB: return "CLBlastInvalidMatrixB";
    case CLBlastInvalidMatrixC: return "CLBlastInvalidMatrixC";
    case CLBlastInvalidDimension: return "CLBlastInvalidDimension";
    case CLBlastInvalidLeadDimA: return "CLBlastInvalidLeadDimA";
    case CLBlastInvalidLeadDimB: return "CLBlastInvalidLeadDimB";
    case CLBlastInvalidLeadDimC: return "CLBlastInvalidLeadDimC";
    case CLBlastInsufficientMemoryA: return "CLBlastInsufficientMemoryA";
    case CLBlastInsufficientMemoryB: return "CLBlastInsufficientMemoryB";
    case CLBlastInsufficientMemoryC: return "CLBlastInsufficientMemoryC";
    case CLBlastInsufficientMemoryTemp: return "CLBlastInsufficientMemoryTemp";
    case CLBlastInvalidLocalMemUsage: return "CLBlastInvalidLocalMemUsage";
    case CLBlastNoDoublePrecision: return "CLBlastNoDoublePrecision";
    case CLBlastDatabaseError: return "CLBlastDatabaseError";
    case CLBlastUnknownError: return "CLBlastUnknownError";
    case CLBlastUnexpectedError: return "CLBlastUnexpectedError";
    default: return "an unnamed CLBlast status";
    }
}

/* Records a failed CLBlast call and returns its clcnn status: OpenCL codes
 * map as everywhere else (CLCNN_ERR_OUT_OF_MEMORY for allocations, ...);
 * CLBlastNoDoublePrecision and CLBlastNotImplemented are
 * CLCNN_ERR_UNSUPPORTED, any other CLBlast code CLCNN_ERR_DEVICE. */
static clcnn_status blast_fail(clcnn_context *ctx, CLBlastStatusCode c, const char *fn, const char *what)
{
    if (c > -1000)
        return clcnn__cl_fail(ctx, (cl_int)c, fn, what);
    clcnn_status s = c == CLBlastNoDoublePrecision || c == CLBlastNotImplemented ? CLCNN_ERR_UNSUPPORTED
                                                                                 : CLCNN_ERR_DEVICE;
    return clcnn__fail(ctx, s, "%s: %s failed with CLBlast status %s (%d)", fn, what, blast_name(c), (int)c);
}

/* CLBlast's temporary-buffer bytes for g with element offsets o[3] of A, B
 * and C (0 when it needs none). The offsets count: CLBlast copies a matrix
 * that does not start at 0 into the temporary buffer, which it can use in
 * place otherwise (SGEMM 1024^3 on PoCL: 8 MiB with offsets 0, 12 MiB with
 * 1), so chunk sizes are planned with offsets that are not 0 (the most it
 * can ask) and each GEMM asks with its own. */
static CLBlastStatusCode temp_bytes(clcnn_context *ctx, clcnn_dtype dt, const gemm_dims *g, const size_t o[3],
                                    size_t *bytes)
{
    *bytes = 0;
    cl_command_queue q = ctx->cl->queue;
    if (dt == CLCNN_F64)
        return CLBlastDGemmTempBufferSize(CLBlastLayoutRowMajor, g->ta, g->tb, g->m, g->n, g->k, o[0], g->lda,
                                          o[1], g->ldb, o[2], g->ldc, &q, bytes);
    return CLBlastSGemmTempBufferSize(CLBlastLayoutRowMajor, g->ta, g->tb, g->m, g->n, g->k, o[0], g->lda,
                                      o[1], g->ldb, o[2], g->ldc, &q, bytes);
}

static const size_t ANY_OFFSETS[3] = {1, 1, 1};

/* Elements a matrix's kernel may index past its offset: CLBlast's kernels
 * compute indices in int, so a tensor past 2^31 elements is handed over as
 * sub-buffer views whose offset is below the base alignment (view below),
 * and chunks are cut so that no matrix spans more than the rest. */
static size_t index_room(const clcnn_context *ctx, size_t elem)
{
    const size_t slack = ctx->cl->base_align / elem;
    return ctx->cl->gemm_index > slack ? ctx->cl->gemm_index - slack : 0;
}

/* mem at element offset off as CLBlast may index it (span elements from
 * there): mem itself when off + span fits the index limit, else a
 * sub-buffer of mem's own buffer starting at the aligned byte at or below
 * the offset (*owned set; the caller releases it). */
static clcnn_status view(clcnn_context *ctx, const char *fn, cl_mem mem, size_t off, size_t span, size_t elem,
                         cl_mem *out, size_t *out_off, int *owned)
{
    *out = mem, *out_off = off, *owned = 0;
    if (off + span <= ctx->cl->gemm_index)
        return CLCNN_OK;
    cl_mem parent = NULL;
    size_t base = 0;
    cl_int err = clGetMemObjectInfo(mem, CL_MEM_ASSOCIATED_MEMOBJECT, sizeof parent, &parent, NULL);
    if (err == CL_SUCCESS && parent) /* a sub-buffer already (tensors of canary builds) */
        err = clGetMemObjectInfo(mem, CL_MEM_OFFSET, sizeof base, &base, NULL);
    if (err != CL_SUCCESS)
        return clcnn__cl_fail(ctx, err, fn, "clGetMemObjectInfo (GEMM view)");
    const size_t byte = base + off * elem, origin = byte / ctx->cl->base_align * ctx->cl->base_align;
    const cl_buffer_region region = {origin, byte - origin + span * elem};
    cl_mem sub = clCreateSubBuffer(parent ? parent : mem, 0, CL_BUFFER_CREATE_TYPE_REGION, &region, &err);
    if (err != CL_SUCCESS)
        return clcnn__cl_fail(ctx, err, fn, "clCreateSubBuffer (GEMM view)");
    *out = sub, *out_off = (byte - origin) / elem, *owned = 1;
    return CLCNN_OK;
}

/* Enqueues C = A B (+ beta C) per g, element offsets a0, b0, c0. */
static clcnn_status gemm(clcnn_context *ctx, const char *fn, clcnn_dtype dt, const gemm_dims *g, cl_mem a,
                         size_t a0, cl_mem b, size_t b0, double beta, cl_mem c, size_t c0)
{
    clcnn_status s = CLCNN_OK;
    CLBlastStatusCode st = CLBlastSuccess;
    /* What each matrix spans from its offset (row-major, op() transposes). */
    const size_t elem = clcnn__dtype_size(dt);
    const size_t span[3] = {(g->ta == CLBlastTransposeNo ? g->m : g->k) * g->lda,
                            (g->tb == CLBlastTransposeNo ? g->k : g->n) * g->ldb, g->m * g->ldc};
    const cl_mem mems[3] = {a, b, c};
    const size_t offs[3] = {a0, b0, c0};
    cl_mem v[3] = {NULL, NULL, NULL};
    size_t o[3] = {0, 0, 0};
    int owned[3] = {0, 0, 0};
    for (int j = 0; j < 3 && !s; j++) {
        s = view(ctx, fn, mems[j], offs[j], span[j], elem, &v[j], &o[j], &owned[j]);
        if (!s && o[j] + span[j] > ctx->cl->gemm_index) /* chunk_rows keeps this from happening */
            s = clcnn__fail(
                ctx, CLCNN_ERR_DEVICE,
                "%s: a GEMM matrix would span elements %zu to %zu, past the %zu CLBlast can index", fn, o[j],
                o[j] + span[j], ctx->cl->gemm_index);
    }
    size_t tb = 0;
    cl_mem temp = NULL;
    if (!s && (st = temp_bytes(ctx, dt, g, o, &tb)) != CLBlastSuccess)
        s = blast_fail(ctx, st, fn,
                       dt == CLCNN_F64 ? "CLBlastDGemmTempBufferSize" : "CLBlastSGemmTempBufferSize");
    if (!s)
        s = clcnn__cl_scratch(ctx, fn, CLCNN_SCRATCH_GEMM_TEMP, tb ? tb : 64, &temp);
    if (!s) {
        cl_command_queue q = ctx->cl->queue;
        if (dt == CLCNN_F64)
            st = CLBlastDgemmWithTempBuffer(CLBlastLayoutRowMajor, g->ta, g->tb, g->m, g->n, g->k, 1.0, v[0],
                                            o[0], g->lda, v[1], o[1], g->ldb, beta, v[2], o[2], g->ldc, &q,
                                            NULL, temp);
        else
            st = CLBlastSgemmWithTempBuffer(CLBlastLayoutRowMajor, g->ta, g->tb, g->m, g->n, g->k, 1.0f, v[0],
                                            o[0], g->lda, v[1], o[1], g->ldb, (float)beta, v[2], o[2], g->ldc,
                                            &q, NULL, temp);
        if (st != CLBlastSuccess)
            s = blast_fail(ctx, st, fn, dt == CLCNN_F64 ? "CLBlastDgemm" : "CLBlastSgemm");
    }
    for (int j = 0; j < 3; j++) /* the enqueued GEMM keeps what it uses */
        if (owned[j])
            clReleaseMemObject(v[j]);
    return s;
}

/* The most output pixels per chunk, a multiple of `unit` (pixels of one
 * image for backward data, else 1), such that the column matrix (none when
 * pointwise) plus CLBlast's temporary buffer fit the workspace limit; 0 when
 * not even one unit fits, or when CLBlast's size query fails (its status in
 * *st, else CLBlastSuccess). */
static size_t chunk_rows(clcnn_context *ctx, direction d, const clcnn_conv_shape *cs, clcnn_dtype dt,
                         CLBlastStatusCode *st)
{
    *st = CLBlastSuccess;
    const size_t elem = clcnn__dtype_size(dt);
    const size_t pixels = (size_t)cs->n * (size_t)cs->ho * (size_t)cs->wo;
    const size_t unit = d == DIR_DATA && !pointwise(cs) ? (size_t)cs->ho * (size_t)cs->wo : 1;
    const size_t row_bytes = pointwise(cs) ? 0 : (size_t)cs->fh * (size_t)cs->fw * (size_t)cs->cin * elem;
    size_t limit = ctx->workspace_limit;
    if (limit > ctx->cl->max_alloc)
        limit = (size_t)ctx->cl->max_alloc; /* each workspace is one buffer */
    size_t rows = row_bytes ? limit / row_bytes / unit * unit : pixels;
    if (rows > pixels)
        rows = pixels;
    /* CLBlast's int indices: no matrix may span more than index_room
     * elements (rows of kk or cout, and W), nor its temporary buffer. */
    const size_t kk = (size_t)cs->fh * (size_t)cs->fw * (size_t)cs->cin, co = (size_t)cs->cout;
    const size_t room = index_room(ctx, elem), per_row = kk > co ? kk : co;
    if (kk * co > room)
        return 0;
    if (rows > room / per_row)
        rows = room / per_row / unit * unit;
    while (rows >= unit && rows > 0) {
        const gemm_dims g = dims_of(d, cs, rows);
        size_t tb = 0;
        if ((*st = temp_bytes(ctx, dt, &g, ANY_OFFSETS, &tb)) != CLBlastSuccess)
            return 0;
        if (tb <= limit && rows * row_bytes <= limit - tb && tb / elem <= room)
            return rows;
        rows = rows / 2 / unit * unit; /* the temporary buffer grows with rows */
    }
    return 0;
}

int clcnn__cl_gemm_fits(clcnn_context *ctx, const clcnn_conv_shape *cs, clcnn_dtype dt, int backward_data)
{
    CLBlastStatusCode st;
    return chunk_rows(ctx, backward_data ? DIR_DATA : DIR_FORWARD, cs, dt, &st) > 0 &&
           (backward_data || chunk_rows(ctx, DIR_FILTER, cs, dt, &st) > 0);
}

/* CLCNN_ERR_UNSUPPORTED for F64 on a device without cl_khr_fp64, worded as
 * the kernels' check: a GEMM on the tensors themselves builds no kernel. */
static clcnn_status check_dtype(clcnn_context *ctx, const char *fn, clcnn_dtype dt)
{
    if (dt == CLCNN_F64 && !ctx->cl->fp64)
        return clcnn__fail(
            ctx, CLCNN_ERR_UNSUPPORTED,
            "%s: the device \"%s\" lacks cl_khr_fp64, so F64 operations are not supported on it", fn,
            ctx->device_name);
    return CLCNN_OK;
}

/* The chunk size of direction d into *rows, or the failure: F64 on a
 * device without fp64, a failed CLBlast size query, or a limit that fits
 * no chunk (the caller checked clcnn__cl_gemm_fits, so only a query that
 * fails now gets there). */
static clcnn_status plan(clcnn_context *ctx, const char *fn, direction d, const clcnn_conv_shape *cs,
                         clcnn_dtype dt, size_t *rows)
{
    CLBlastStatusCode st;
    *rows = chunk_rows(ctx, d, cs, dt, &st);
    if (check_dtype(ctx, fn, dt))
        return CLCNN_ERR_UNSUPPORTED;
    if (st != CLBlastSuccess)
        return blast_fail(ctx, st, fn,
                          dt == CLCNN_F64 ? "CLBlastDGemmTempBufferSize" : "CLBlastSGemmTempBufferSize");
    if (!*rows)
        return clcnn__fail(ctx, CLCNN_ERR_OUT_OF_MEMORY, "%s: the GEMM path does not fit the workspace limit",
                           fn);
    return CLCNN_OK;
}

/* Enqueues im2col for output pixels m0 .. m0 + rows into col. */
static clcnn_status im2col(clcnn_context *ctx, const char *fn, const clcnn_conv_shape *cs,
                           const clcnn_tensor *a, size_t m0, size_t rows, cl_mem col)
{
    const clcnn_cl_kernel *k;
    clcnn_status s = clcnn__cl_kernel(ctx, fn, CLCNN_KERNEL_IM2COL, a->dtype, &k);
    if (s)
        return s;
    const cl_long lm0 = (cl_long)m0, lrows = (cl_long)rows;
    const clcnn_kernel_arg args[] = {CLCNN_ARG(a->mem), CLCNN_ARG(*cs), CLCNN_ARG(lm0), CLCNN_ARG(lrows),
                                     CLCNN_ARG(col)};
    if ((s = clcnn__cl_set_args(ctx, fn, k, args, 5)))
        return s;
    return clcnn__cl_launch_2d(ctx, fn, k, (size_t)cs->cin, rows * (size_t)cs->fh * (size_t)cs->fw);
}

/* The column matrix's buffer for chunks of `rows` output pixels: a
 * workspace, or a_prev itself for a pointwise convolution. */
static clcnn_status column_buffer(clcnn_context *ctx, const char *fn, const clcnn_conv_shape *cs,
                                  const clcnn_tensor *a_prev, size_t rows, cl_mem *col)
{
    *col = a_prev->mem;
    if (pointwise(cs))
        return CLCNN_OK;
    const size_t kk = (size_t)cs->fh * (size_t)cs->fw * (size_t)cs->cin;
    return clcnn__cl_scratch(ctx, fn, CLCNN_SCRATCH_COL, rows * kk * clcnn__dtype_size(a_prev->dtype), col);
}

/* The columns of output pixels m0 .. m0 + rows in col, at element offset
 * *at: im2col into the workspace (at 0), or a_prev's rows in place. */
static clcnn_status columns(clcnn_context *ctx, const char *fn, const clcnn_conv_shape *cs,
                            const clcnn_tensor *a_prev, size_t m0, size_t rows, cl_mem col, size_t *at)
{
    *at = pointwise(cs) ? m0 * (size_t)cs->cin : 0;
    return pointwise(cs) ? CLCNN_OK : im2col(ctx, fn, cs, a_prev, m0, rows, col);
}

clcnn_status clcnn__cl_gemm_forward(clcnn_context *ctx, const clcnn_conv_shape *cs,
                                    const clcnn_tensor *a_prev, const clcnn_tensor *w, const clcnn_tensor *b,
                                    clcnn_tensor *z)
{
    static const char fn[] = "clcnn_conv2d_forward";
    const clcnn_dtype dt = a_prev->dtype;
    const size_t pixels = (size_t)cs->n * (size_t)cs->ho * (size_t)cs->wo, co = (size_t)cs->cout;
    size_t rows, at;
    cl_mem col;
    clcnn_status s = plan(ctx, fn, DIR_FORWARD, cs, dt, &rows);
    if (!s)
        s = column_buffer(ctx, fn, cs, a_prev, rows, &col);
    if (!s && b) { /* z = bias rows, then += col x W */
        const clcnn_cl_kernel *k;
        const cl_int cout = cs->cout;
        const cl_long lp = (cl_long)pixels;
        if (!(s = clcnn__cl_kernel(ctx, fn, CLCNN_KERNEL_BIAS_ROWS, dt, &k))) {
            const clcnn_kernel_arg args[] = {CLCNN_ARG(b->mem), CLCNN_ARG(cout), CLCNN_ARG(lp),
                                             CLCNN_ARG(z->mem)};
            if (!(s = clcnn__cl_set_args(ctx, fn, k, args, 4)))
                s = clcnn__cl_launch_2d(ctx, fn, k, co, pixels);
        }
    }
    for (size_t m0 = 0; !s && m0 < pixels; m0 += rows) {
        const size_t r = pixels - m0 < rows ? pixels - m0 : rows;
        const gemm_dims g = dims_of(DIR_FORWARD, cs, r);
        if (!(s = columns(ctx, fn, cs, a_prev, m0, r, col, &at)))
            s = gemm(ctx, fn, dt, &g, col, at, w->mem, 0, b ? 1.0 : 0.0, z->mem, m0 * co);
    }
    return s;
}

clcnn_status clcnn__cl_gemm_backward_filter(clcnn_context *ctx, const clcnn_conv_shape *cs,
                                            const clcnn_tensor *dz, const clcnn_tensor *a_prev,
                                            clcnn_tensor *dw)
{
    static const char fn[] = "clcnn_conv2d_backward";
    const clcnn_dtype dt = dz->dtype;
    const size_t pixels = (size_t)cs->n * (size_t)cs->ho * (size_t)cs->wo, co = (size_t)cs->cout;
    size_t rows, at;
    cl_mem col;
    clcnn_status s = plan(ctx, fn, DIR_FILTER, cs, dt, &rows);
    if (!s)
        s = column_buffer(ctx, fn, cs, a_prev, rows, &col);
    /* dW = col^T dZ summed chunk after chunk: a fixed order */
    for (size_t m0 = 0; !s && m0 < pixels; m0 += rows) {
        const size_t r = pixels - m0 < rows ? pixels - m0 : rows;
        const gemm_dims g = dims_of(DIR_FILTER, cs, r);
        const double beta = m0 ? 1.0 : 0.0;
        if (!(s = columns(ctx, fn, cs, a_prev, m0, r, col, &at)))
            s = gemm(ctx, fn, dt, &g, col, at, dz->mem, m0 * co, beta, dw->mem, 0);
    }
    return s;
}

clcnn_status clcnn__cl_gemm_backward_data(clcnn_context *ctx, const clcnn_conv_shape *cs,
                                          const clcnn_tensor *dz, const clcnn_tensor *w,
                                          clcnn_tensor *da_prev)
{
    static const char fn[] = "clcnn_conv2d_backward";
    const clcnn_dtype dt = dz->dtype;
    const size_t plane = (size_t)cs->ho * (size_t)cs->wo, pixels = (size_t)cs->n * plane;
    const size_t co = (size_t)cs->cout, kk = (size_t)cs->fh * (size_t)cs->fw * (size_t)cs->cin;
    size_t rows;
    clcnn_status s0 = plan(ctx, fn, DIR_DATA, cs, dt, &rows);
    if (s0)
        return s0;
    if (pointwise(cs)) { /* da_prev = dZ W^T, in place */
        clcnn_status s = CLCNN_OK;
        for (size_t m0 = 0; !s && m0 < pixels; m0 += rows) {
            const size_t r = pixels - m0 < rows ? pixels - m0 : rows;
            const gemm_dims g = dims_of(DIR_DATA, cs, r);
            s = gemm(ctx, fn, dt, &g, dz->mem, m0 * co, w->mem, 0, 0.0, da_prev->mem, m0 * kk);
        }
        return s;
    }
    cl_mem dcol;
    const clcnn_cl_kernel *k;
    clcnn_status s = clcnn__cl_kernel(ctx, fn, CLCNN_KERNEL_COL2IM, dt, &k);
    if (!s)
        s = clcnn__cl_scratch(ctx, fn, CLCNN_SCRATCH_COL, rows * kk * clcnn__dtype_size(dt), &dcol);
    for (size_t m0 = 0; !s && m0 < pixels; m0 += rows) {
        const size_t r = pixels - m0 < rows ? pixels - m0 : rows;
        const gemm_dims g = dims_of(DIR_DATA, cs, r);
        const cl_int i0 = (cl_int)(m0 / plane), images = (cl_int)(r / plane);
        const clcnn_kernel_arg args[] = {CLCNN_ARG(dcol), CLCNN_ARG(*cs), CLCNN_ARG(i0), CLCNN_ARG(images),
                                         CLCNN_ARG(da_prev->mem)};
        if (!(s = gemm(ctx, fn, dt, &g, dz->mem, m0 * co, w->mem, 0, 0.0, dcol, 0)) &&
            !(s = clcnn__cl_set_args(ctx, fn, k, args, 5)))
            s = clcnn__cl_launch_2d(ctx, fn, k, (size_t)cs->cin,
                                    (size_t)images * (size_t)cs->h * (size_t)cs->w);
    }
    return s;
}
