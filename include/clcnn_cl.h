/* clcnn_cl.h - OpenCL interop for programs that already own OpenCL objects.
 * The only clcnn header that includes the OpenCL headers (CL/cl.h), which a
 * program including it needs in every build of clcnn; include clcnn.h's API
 * through it.
 *
 * A clcnn built without the OpenCL backend (CLCNN_OPENCL=OFF) still installs
 * this header and exports its functions where the OpenCL headers were found
 * when clcnn was built, so a program written against it links and runs:
 * clcnn_context_create_cl returns CLCNN_ERR_UNSUPPORTED, and the other
 * functions return NULL, as for the host contexts that are all such a build
 * makes.  Built without the OpenCL headers as well, clcnn does not install
 * this header. */
#ifndef CLCNN_CL_H
#define CLCNN_CL_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

#include "clcnn.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Creates a context of backend CLCNN_BACKEND_OPENCL that runs on the
 *  caller's OpenCL objects: `queue` must be an in-order queue of `context` on
 *  `device`.  The three are retained (clRetain*) and released at
 *  clcnn_context_destroy; the caller keeps its own references and remains
 *  their owner.  Operations are enqueued on `queue`, so they are ordered with
 *  the caller's own work on it.
 *  Ownership: the caller owns *out (clcnn_context_destroy).
 *  Errors: CLCNN_ERR_INVALID_ARGUMENT (a NULL argument, a queue that is not
 *  of context and device or is out-of-order), CLCNN_ERR_OUT_OF_MEMORY,
 *  CLCNN_ERR_UNSUPPORTED (a library built without OpenCL, whatever the
 *  arguments; *out is left as it was).  Messages go to clcnn_last_error(NULL). */
CLCNN_API clcnn_status clcnn_context_create_cl(cl_context context, cl_device_id device,
                                               cl_command_queue queue, clcnn_context **out);

/** The device buffer holding t's data (n*h*w*c elements of t's dtype, NHWC),
 *  valid until clcnn_tensor_destroy(t); NULL for a NULL t or a tensor of a
 *  host context.  clcnn keeps ownership: the caller may retain it, and may
 *  read or write it with work enqueued on the context's queue (or after
 *  clcnn_finish). */
CLCNN_API cl_mem clcnn_tensor_cl_mem(const clcnn_tensor *t);

/** The OpenCL objects an OpenCL context runs on, owned by the context (the
 *  caller may retain them): its cl_context, its device, and its in-order
 *  queue, on which every operation is enqueued, so that a caller's own work
 *  enqueued there is ordered with clcnn's (e.g. profiling markers).  NULL for
 *  a NULL ctx or a host context. */
CLCNN_API cl_context clcnn_context_cl_context(const clcnn_context *ctx);
CLCNN_API cl_device_id clcnn_context_cl_device(const clcnn_context *ctx);
CLCNN_API cl_command_queue clcnn_context_cl_queue(const clcnn_context *ctx);

#ifdef __cplusplus
}
#endif

#endif /* CLCNN_CL_H */
