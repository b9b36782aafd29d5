/* ref_conv.c - the notebook's conv_forward and conv_backward on double
 * arrays: the same loops over (example, row, column, filter), the same
 * windows, the same accumulation order. */
#include "ref.h"

/* Offset of w[y][x][k][c] in HWIO weights of shape ws = {fh, fw, cin, cout}. */
static size_t w_at(clcnn_shape ws, int y, int x, int k, int c)
{
    return clcnn_ref_at(ws, y, x, k, c);
}

/* Copies the window a_pad[i][y0 : y0+fh][x0 : x0+fw][:] into slice, row-major
 * [fh][fw][cin]: the notebook's a_slice_prev. */
static void gather_slice(const double *a_pad, clcnn_shape ps, int i, int y0, int x0, int fh, int fw,
                         double *slice)
{
    size_t e = 0;
    for (int y = 0; y < fh; y++)
        for (int x = 0; x < fw; x++)
            for (int k = 0; k < ps.c; k++)
                slice[e++] = a_pad[clcnn_ref_at(ps, i, y0 + y, x0 + x, k)];
}

int clcnn_ref_conv_forward(const double *a_prev, clcnn_shape as, const double *w, clcnn_shape ws,
                           const double *b, int stride, int pad, double *z, clcnn_shape zs)
{
    const int fh = ws.n, fw = ws.h, cin = ws.w, cout = ws.c;
    const size_t win = (size_t)fh * (size_t)fw * (size_t)cin;
    clcnn_shape ps = {as.n, as.h + 2 * pad, as.w + 2 * pad, as.c};

    double *a_pad = clcnn__malloc(clcnn_ref_count(ps) * sizeof(double));
    double *slice = clcnn__malloc(win * sizeof(double));
    double *filters = clcnn__malloc(win * (size_t)cout * sizeof(double));
    if (!a_pad || !slice || !filters) {
        clcnn__free(a_pad);
        clcnn__free(slice);
        clcnn__free(filters);
        return -1;
    }
    clcnn_ref_zero_pad(a_prev, as, pad, a_pad);

    /* filters[c] = W[:, :, :, c], contiguous [fh][fw][cin]. */
    for (int c = 0; c < cout; c++) {
        size_t e = (size_t)c * win;
        for (int y = 0; y < fh; y++)
            for (int x = 0; x < fw; x++)
                for (int k = 0; k < cin; k++)
                    filters[e++] = w[w_at(ws, y, x, k, c)];
    }

    for (int i = 0; i < zs.n; i++)
        for (int h = 0; h < zs.h; h++)
            for (int x = 0; x < zs.w; x++) {
                gather_slice(a_pad, ps, i, h * stride, x * stride, fh, fw, slice);
                for (int c = 0; c < cout; c++) {
                    double bias = b ? b[c] : 0.0;
                    z[clcnn_ref_at(zs, i, h, x, c)] =
                        clcnn_conv_single_step(slice, filters + (size_t)c * win, bias, fh, fw, cin);
                }
            }

    clcnn__free(a_pad);
    clcnn__free(slice);
    clcnn__free(filters);
    return 0;
}

int clcnn_ref_conv_backward(const double *dz, clcnn_shape zs, const double *a_prev, clcnn_shape as,
                            const double *w, clcnn_shape ws, int stride, int pad, double *da_prev, double *dw,
                            double *db)
{
    const int fh = ws.n, fw = ws.h, cin = ws.w, cout = ws.c;
    const size_t win = (size_t)fh * (size_t)fw * (size_t)cin;
    clcnn_shape ps = {as.n, as.h + 2 * pad, as.w + 2 * pad, as.c};
    const size_t pad_count = clcnn_ref_count(ps);

    double *a_pad = clcnn__malloc(pad_count * sizeof(double));
    double *da_pad = da_prev ? clcnn__malloc(pad_count * sizeof(double)) : NULL;
    double *slice = clcnn__malloc(win * sizeof(double));
    if (!a_pad || !slice || (da_prev && !da_pad)) {
        clcnn__free(a_pad);
        clcnn__free(da_pad);
        clcnn__free(slice);
        return -1;
    }
    clcnn_ref_zero_pad(a_prev, as, pad, a_pad);
    if (da_pad)
        for (size_t e = 0; e < pad_count; e++)
            da_pad[e] = 0.0;
    if (dw)
        for (size_t e = 0; e < win * (size_t)cout; e++)
            dw[e] = 0.0;
    if (db)
        for (int c = 0; c < cout; c++)
            db[c] = 0.0;

    for (int i = 0; i < zs.n; i++)
        for (int h = 0; h < zs.h; h++)
            for (int x = 0; x < zs.w; x++) {
                const int y0 = h * stride, x0 = x * stride;
                gather_slice(a_pad, ps, i, y0, x0, fh, fw, slice);
                for (int c = 0; c < cout; c++) {
                    const double g = dz[clcnn_ref_at(zs, i, h, x, c)];
                    size_t e = 0;
                    for (int fy = 0; fy < fh; fy++)
                        for (int fx = 0; fx < fw; fx++)
                            for (int k = 0; k < cin; k++, e++) {
                                const size_t wi = w_at(ws, fy, fx, k, c);
                                /* da_prev_pad[window] += W[:, :, :, c] * dZ */
                                if (da_pad)
                                    da_pad[clcnn_ref_at(ps, i, y0 + fy, x0 + fx, k)] += w[wi] * g;
                                /* dW[:, :, :, c] += a_slice * dZ */
                                if (dw)
                                    dw[wi] += slice[e] * g;
                            }
                    /* db[:, :, :, c] += dZ */
                    if (db)
                        db[c] += g;
                }
            }

    /* dA_prev = da_prev_pad without its border. */
    if (da_prev)
        for (int i = 0; i < as.n; i++)
            for (int y = 0; y < as.h; y++)
                for (int x = 0; x < as.w; x++)
                    for (int k = 0; k < as.c; k++)
                        da_prev[clcnn_ref_at(as, i, y, x, k)] =
                            da_pad[clcnn_ref_at(ps, i, y + pad, x + pad, k)];

    clcnn__free(a_pad);
    clcnn__free(da_pad);
    clcnn__free(slice);
    return 0;
}
