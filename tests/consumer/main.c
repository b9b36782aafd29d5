/* consumer/main.c - a program built against an installed clcnn (see
 * install_consumer.sh): a 3x3 convolution on the default backend.
 * `consumer opencl` also fails unless that backend was the OpenCL one, which
 * proves the installed library carries its kernels. */
#include <clcnn.h>

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    clcnn_context *ctx = NULL;
    clcnn_tensor *a = NULL, *w = NULL, *z = NULL;
    const float av[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, wv[4] = {1, 0, 0, -1};
    float zv[4] = {0};
    clcnn_status s = clcnn_context_create(NULL, &ctx);
    if (s == CLCNN_OK)
        s = clcnn_tensor_create(ctx, CLCNN_F32, 1, 3, 3, 1, &a);
    if (s == CLCNN_OK)
        s = clcnn_tensor_create(ctx, CLCNN_F32, 2, 2, 1, 1, &w);
    if (s == CLCNN_OK)
        s = clcnn_tensor_create(ctx, CLCNN_F32, 1, 2, 2, 1, &z);
    if (s == CLCNN_OK)
        s = clcnn_tensor_write(a, av, sizeof av);
    if (s == CLCNN_OK)
        s = clcnn_tensor_write(w, wv, sizeof wv);
    if (s == CLCNN_OK)
        s = clcnn_conv2d_forward(ctx, a, w, NULL, (clcnn_conv_params){1, 0, CLCNN_CONV_AUTO}, z);
    if (s == CLCNN_OK)
        s = clcnn_tensor_read(z, zv, sizeof zv);
    if (s != CLCNN_OK) {
        fprintf(stderr, "consumer: %s: %s\n", clcnn_status_string(s), clcnn_last_error(ctx));
        return 1;
    }
    printf("clcnn %s on %s: z = %g %g %g %g\n", clcnn_version(), clcnn_context_device_name(ctx), zv[0], zv[1],
           zv[2], zv[3]);
    int want_opencl = argc > 1 && strcmp(argv[1], "opencl") == 0;
    if (want_opencl && clcnn_context_backend(ctx) != CLCNN_BACKEND_OPENCL) {
        fprintf(stderr, "consumer: expected the OpenCL backend: %s\n", clcnn_last_error(ctx));
        return 1;
    }
    clcnn_tensor_destroy(a);
    clcnn_tensor_destroy(w);
    clcnn_tensor_destroy(z);
    clcnn_context_destroy(ctx);
    /* every output is a[y][x] - a[y+1][x+1] = -4 */
    return (zv[0] == -4 && zv[1] == -4 && zv[2] == -4 && zv[3] == -4) ? 0 : 1;
}
