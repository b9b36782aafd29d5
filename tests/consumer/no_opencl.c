/* consumer/no_opencl.c - a program written against clcnn_cl.h, built against
 * an installed clcnn that has no OpenCL backend (see no_opencl.sh): every
 * clcnn_cl.h function links, clcnn_context_create_cl returns
 * CLCNN_ERR_UNSUPPORTED with a message naming it and the reason, whatever
 * its arguments, and leaves *out alone; the getters return NULL. */
#include <clcnn_cl.h>

#include <stdio.h>
#include <string.h>

static int failures;

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "no_opencl: %s\n", what);
        failures++;
    }
}

/* Stand-ins for OpenCL objects: the stubs must not look at them. */
static int fake_context, fake_device, fake_queue;

static void create_cl_is_unsupported(cl_context c, cl_device_id d, cl_command_queue q, const char *args)
{
    static int marker;
    clcnn_context *out = (clcnn_context *)(void *)&marker;
    const clcnn_status s = clcnn_context_create_cl(c, d, q, &out);
    const char *msg = clcnn_last_error(NULL);
    printf("clcnn_context_create_cl(%s): %s: %s\n", args, clcnn_status_string(s), msg);
    check(s == CLCNN_ERR_UNSUPPORTED, "clcnn_context_create_cl did not return CLCNN_ERR_UNSUPPORTED");
    check(out == (clcnn_context *)(void *)&marker, "clcnn_context_create_cl wrote *out");
    check(strstr(msg, "clcnn_context_create_cl") != NULL,
          "the message does not name clcnn_context_create_cl");
    check(strstr(msg, "built without OpenCL") != NULL,
          "the message does not say clcnn was built without OpenCL");
}

int main(void)
{
    create_cl_is_unsupported((cl_context)(void *)&fake_context, (cl_device_id)(void *)&fake_device,
                             (cl_command_queue)(void *)&fake_queue, "objects");
    create_cl_is_unsupported(NULL, NULL, NULL, "NULLs");

    clcnn_options o = {CLCNN_BACKEND_HOST, NULL};
    clcnn_context *ctx = NULL;
    clcnn_tensor *t = NULL;
    if (clcnn_context_create(&o, &ctx) != CLCNN_OK ||
        clcnn_tensor_create(ctx, CLCNN_F32, 1, 2, 2, 1, &t) != CLCNN_OK) {
        fprintf(stderr, "no_opencl: a host context and tensor: %s\n", clcnn_last_error(ctx));
        return 1;
    }
    check(clcnn_context_cl_context(ctx) == NULL, "clcnn_context_cl_context is not NULL");
    check(clcnn_context_cl_device(ctx) == NULL, "clcnn_context_cl_device is not NULL");
    check(clcnn_context_cl_queue(ctx) == NULL, "clcnn_context_cl_queue is not NULL");
    check(clcnn_tensor_cl_mem(t) == NULL, "clcnn_tensor_cl_mem is not NULL");
    check(clcnn_context_cl_context(NULL) == NULL && clcnn_tensor_cl_mem(NULL) == NULL,
          "a getter of NULL is not NULL");
    clcnn_tensor_destroy(t);
    clcnn_context_destroy(ctx);

    /* The OpenCL backend asked for by name: the status clcnn.h documents. */
    o.backend = CLCNN_BACKEND_OPENCL;
    ctx = NULL;
    check(clcnn_context_create(&o, &ctx) == CLCNN_ERR_NO_DEVICE && ctx == NULL,
          "clcnn_context_create(OPENCL) did not return CLCNN_ERR_NO_DEVICE");
    if (failures)
        return 1;
    printf("no_opencl: clcnn_cl.h's 5 functions answer as documented for a build without OpenCL\n");
    return 0;
}
