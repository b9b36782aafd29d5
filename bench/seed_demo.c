/* seed_demo.c - clcnn-seed-demo: runs the notebook's conv_forward case on the
 * default device and prints what the notebook prints, next to its expected
 * answer: the smallest end-to-end check that a device gives the notebook's
 * result.
 *
 * Usage: clcnn-seed-demo [f32|f64]   (backend and device: CLCNN_BACKEND,
 * CLCNN_DEVICE) */
#include "clcnn.h"
#include "np_random.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check(clcnn_status s, clcnn_context *ctx, const char *what)
{
    if (s == CLCNN_OK)
        return 0;
    fprintf(stderr, "clcnn-seed-demo: %s failed: %s: %s\n", what, clcnn_status_string(s),
            clcnn_last_error(ctx));
    return 1;
}

int main(int argc, char **argv)
{
    clcnn_dtype dtype = CLCNN_F64;
    if (argc > 1 && strcmp(argv[1], "f32") == 0)
        dtype = CLCNN_F32;
    else if (argc > 1 && strcmp(argv[1], "f64") != 0) {
        fprintf(stderr, "usage: %s [f32|f64]\n", argv[0]);
        return 2;
    }

    /* np.random.seed(1); A_prev = randn(10,5,7,4); W = randn(3,3,4,8); b = randn(1,1,1,8) */
    enum { NA = 10 * 5 * 7 * 4, NW = 3 * 3 * 4 * 8, NB = 8, NZ = 10 * 3 * 4 * 8 };
    static double a[NA], w[NW], b[NB], z[NZ];
    np_random r;
    np_random_seed(&r, 1);
    np_random_randn(&r, a, NA);
    np_random_randn(&r, w, NW);
    np_random_randn(&r, b, NB);

    clcnn_context *ctx = NULL;
    if (check(clcnn_context_create(NULL, &ctx), NULL, "clcnn_context_create"))
        return 1;
    printf("clcnn %s, backend %s, device \"%s\"\n", clcnn_version(),
           clcnn_context_backend(ctx) == CLCNN_BACKEND_OPENCL ? "OpenCL" : "host",
           clcnn_context_device_name(ctx));
    if (*clcnn_last_error(ctx))
        printf("note: %s\n", clcnn_last_error(ctx));

    /* Tensors hold the dtype; the data is converted on the way in and out. */
    size_t es = dtype == CLCNN_F64 ? sizeof(double) : sizeof(float);
    static unsigned char buf[NA * sizeof(double)];
    clcnn_tensor *ta = NULL, *tw = NULL, *tb = NULL, *tz = NULL;
    const struct {
        clcnn_tensor **t;
        int d[4];
        const double *v;
    } ts[] = {
        {&ta, {10, 5, 7, 4}, a}, {&tw, {3, 3, 4, 8}, w}, {&tb, {1, 1, 1, 8}, b}, {&tz, {10, 3, 4, 8}, NULL}};
    int failed = 0;
    for (int i = 0; i < 4 && !failed; i++) {
        failed =
            check(clcnn_tensor_create(ctx, dtype, ts[i].d[0], ts[i].d[1], ts[i].d[2], ts[i].d[3], ts[i].t),
                  ctx, "clcnn_tensor_create");
        size_t n = (size_t)ts[i].d[0] * ts[i].d[1] * ts[i].d[2] * ts[i].d[3];
        if (failed || !ts[i].v)
            continue;
        for (size_t k = 0; k < n; k++) {
            if (dtype == CLCNN_F64)
                ((double *)buf)[k] = ts[i].v[k];
            else
                ((float *)buf)[k] = (float)ts[i].v[k];
        }
        failed = check(clcnn_tensor_write(*ts[i].t, buf, n * es), ctx, "clcnn_tensor_write");
    }
    clcnn_conv_params p = {2, 1, CLCNN_CONV_AUTO}; /* hparameters = {"pad": 1, "stride": 2} */
    if (!failed)
        failed = check(clcnn_conv2d_forward(ctx, ta, tw, tb, p, tz), ctx, "clcnn_conv2d_forward");
    if (!failed)
        failed = check(clcnn_tensor_read(tz, buf, NZ * es), ctx, "clcnn_tensor_read");
    if (!failed) {
        double sum = 0.0;
        for (int k = 0; k < NZ; k++) {
            z[k] = dtype == CLCNN_F64 ? ((double *)buf)[k] : (double)((float *)buf)[k];
            sum += z[k];
        }
        printf("conv_forward, %s: A_prev (10, 5, 7, 4), W (3, 3, 4, 8), pad 1, stride 2 -> Z (10, 3, 4, 8)\n",
               dtype == CLCNN_F64 ? "F64" : "F32");
        printf("Z's mean =\n %.12g\n(notebook: 0.692360880758)\n", sum / NZ);
        printf("Z[3,2,1] =\n [");
        for (int c = 0; c < 8; c++)
            printf(" %.8f", z[((3 * 3 + 2) * 4 + 1) * 8 + c]);
        printf("]\n(notebook: [ -1.28912231 2.27650251 6.61941931 0.95527176 8.25132576 2.31329639 "
               "13.00689405 2.34576051])\n");
    }
    clcnn_tensor_destroy(ta);
    clcnn_tensor_destroy(tw);
    clcnn_tensor_destroy(tb);
    clcnn_tensor_destroy(tz);
    clcnn_context_destroy(ctx);
    return failed;
}
