/* interop_none.c - the entry points of include/clcnn_cl.h in a build without
 * the OpenCL backend (CLCNN_OPENCL=OFF), so that a program written against
 * that header still links and learns at run time why it cannot interoperate. */
#include "clcnn_cl.h"
#include "internal.h"

clcnn_status clcnn_context_create_cl(cl_context context, cl_device_id device, cl_command_queue queue,
                                     clcnn_context **out)
{
    (void)context, (void)device, (void)queue, (void)out;
    return clcnn__fail(NULL, CLCNN_ERR_UNSUPPORTED,
                       "clcnn_context_create_cl: this clcnn was built without OpenCL (CLCNN_OPENCL=OFF), "
                       "so it cannot run on the caller's OpenCL objects");
}

/* Every context of such a build is a host context: as documented for one. */
cl_mem clcnn_tensor_cl_mem(const clcnn_tensor *t)
{
    (void)t;
    return NULL;
}

cl_context clcnn_context_cl_context(const clcnn_context *ctx)
{
    (void)ctx;
    return NULL;
}

cl_device_id clcnn_context_cl_device(const clcnn_context *ctx)
{
    (void)ctx;
    return NULL;
}

cl_command_queue clcnn_context_cl_queue(const clcnn_context *ctx)
{
    (void)ctx;
    return NULL;
}
