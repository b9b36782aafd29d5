/* cl_fault.c - the counting wrappers of cl_fault.h: each counts its site and
 * either fails it, as a driver out of resources would, or calls the real
 * function. Built only with CLCNN_FAULT_INJECTION. */
#define CLCNN_FAULT_WRAPPERS
#include "cl_backend.h"

#define FAIL_OBJECT(kind, name, code)                                                                        \
    do {                                                                                                     \
        if (clcnn__fault_hit(kind, name, code)) {                                                            \
            if (err)                                                                                         \
                *err = code;                                                                                 \
            return NULL;                                                                                     \
        }                                                                                                    \
    } while (0)
#define FAIL_CODE(kind, name, code)                                                                          \
    do {                                                                                                     \
        if (clcnn__fault_hit(kind, name, code))                                                              \
            return code;                                                                                     \
    } while (0)

cl_context clcnn__fault_clCreateContext(const cl_context_properties *props, cl_uint n,
                                        const cl_device_id *devs,
                                        void(CL_CALLBACK *notify)(const char *, const void *, size_t, void *),
                                        void *user, cl_int *err)
{
    FAIL_OBJECT(CLCNN_FAULT_OBJECT, "clCreateContext", CL_OUT_OF_HOST_MEMORY);
    return clCreateContext(props, n, devs, notify, user, err);
}

cl_command_queue clcnn__fault_clCreateCommandQueue(cl_context c, cl_device_id d,
                                                   cl_command_queue_properties p, cl_int *err)
{
    FAIL_OBJECT(CLCNN_FAULT_OBJECT, "clCreateCommandQueue", CL_OUT_OF_HOST_MEMORY);
    return clCreateCommandQueue(c, d, p, err);
}

cl_mem clcnn__fault_clCreateBuffer(cl_context c, cl_mem_flags flags, size_t size, void *host, cl_int *err)
{
    FAIL_OBJECT(CLCNN_FAULT_BUFFER, "clCreateBuffer", CL_MEM_OBJECT_ALLOCATION_FAILURE);
    return clCreateBuffer(c, flags, size, host, err);
}

cl_int clcnn__fault_clGetMemObjectInfo(cl_mem m, cl_mem_info what, size_t size, void *value, size_t *ret)
{
    FAIL_CODE(CLCNN_FAULT_OBJECT, "clGetMemObjectInfo", CL_OUT_OF_HOST_MEMORY);
    return clGetMemObjectInfo(m, what, size, value, ret);
}

cl_mem clcnn__fault_clCreateSubBuffer(cl_mem m, cl_mem_flags flags, cl_buffer_create_type type,
                                      const void *info, cl_int *err)
{
    FAIL_OBJECT(CLCNN_FAULT_BUFFER, "clCreateSubBuffer", CL_MEM_OBJECT_ALLOCATION_FAILURE);
    return clCreateSubBuffer(m, flags, type, info, err);
}

cl_int clcnn__fault_clEnqueueNDRangeKernel(cl_command_queue q, cl_kernel k, cl_uint dims,
                                           const size_t *offset, const size_t *global, const size_t *local,
                                           cl_uint n_wait, const cl_event *wait, cl_event *ev)
{
    FAIL_CODE(CLCNN_FAULT_ENQUEUE, "clEnqueueNDRangeKernel", CL_OUT_OF_RESOURCES);
    return clEnqueueNDRangeKernel(q, k, dims, offset, global, local, n_wait, wait, ev);
}

cl_int clcnn__fault_clEnqueueReadBuffer(cl_command_queue q, cl_mem m, cl_bool blocking, size_t offset,
                                        size_t size, void *dst, cl_uint n_wait, const cl_event *wait,
                                        cl_event *ev)
{
    FAIL_CODE(CLCNN_FAULT_ENQUEUE, "clEnqueueReadBuffer", CL_OUT_OF_RESOURCES);
    return clEnqueueReadBuffer(q, m, blocking, offset, size, dst, n_wait, wait, ev);
}

cl_int clcnn__fault_clEnqueueWriteBuffer(cl_command_queue q, cl_mem m, cl_bool blocking, size_t offset,
                                         size_t size, const void *src, cl_uint n_wait, const cl_event *wait,
                                         cl_event *ev)
{
    FAIL_CODE(CLCNN_FAULT_ENQUEUE, "clEnqueueWriteBuffer", CL_OUT_OF_RESOURCES);
    return clEnqueueWriteBuffer(q, m, blocking, offset, size, src, n_wait, wait, ev);
}

cl_int clcnn__fault_clEnqueueFillBuffer(cl_command_queue q, cl_mem m, const void *pattern,
                                        size_t pattern_size, size_t offset, size_t size, cl_uint n_wait,
                                        const cl_event *wait, cl_event *ev)
{
    FAIL_CODE(CLCNN_FAULT_ENQUEUE, "clEnqueueFillBuffer", CL_OUT_OF_RESOURCES);
    return clEnqueueFillBuffer(q, m, pattern, pattern_size, offset, size, n_wait, wait, ev);
}

cl_int clcnn__fault_clEnqueueCopyBuffer(cl_command_queue q, cl_mem src, cl_mem dst, size_t src_offset,
                                        size_t dst_offset, size_t size, cl_uint n_wait, const cl_event *wait,
                                        cl_event *ev)
{
    FAIL_CODE(CLCNN_FAULT_ENQUEUE, "clEnqueueCopyBuffer", CL_OUT_OF_RESOURCES);
    return clEnqueueCopyBuffer(q, src, dst, src_offset, dst_offset, size, n_wait, wait, ev);
}

cl_int clcnn__fault_clEnqueueMarkerWithWaitList(cl_command_queue q, cl_uint n_wait, const cl_event *wait,
                                                cl_event *ev)
{
    FAIL_CODE(CLCNN_FAULT_ENQUEUE, "clEnqueueMarkerWithWaitList", CL_OUT_OF_RESOURCES);
    return clEnqueueMarkerWithWaitList(q, n_wait, wait, ev);
}

cl_int clcnn__fault_clEnqueueBarrierWithWaitList(cl_command_queue q, cl_uint n_wait, const cl_event *wait,
                                                 cl_event *ev)
{
    FAIL_CODE(CLCNN_FAULT_ENQUEUE, "clEnqueueBarrierWithWaitList", CL_OUT_OF_RESOURCES);
    return clEnqueueBarrierWithWaitList(q, n_wait, wait, ev);
}

cl_program clcnn__fault_clCreateProgramWithSource(cl_context c, cl_uint count, const char **strings,
                                                  const size_t *lengths, cl_int *err)
{
    FAIL_OBJECT(CLCNN_FAULT_PROGRAM, "clCreateProgramWithSource", CL_OUT_OF_HOST_MEMORY);
    return clCreateProgramWithSource(c, count, strings, lengths, err);
}

cl_program clcnn__fault_clCreateProgramWithBinary(cl_context c, cl_uint n, const cl_device_id *devs,
                                                  const size_t *lengths, const unsigned char **binaries,
                                                  cl_int *binary_status, cl_int *err)
{
    FAIL_OBJECT(CLCNN_FAULT_PROGRAM, "clCreateProgramWithBinary", CL_OUT_OF_HOST_MEMORY);
    return clCreateProgramWithBinary(c, n, devs, lengths, binaries, binary_status, err);
}

cl_int clcnn__fault_clBuildProgram(cl_program p, cl_uint n, const cl_device_id *devs, const char *options,
                                   void(CL_CALLBACK *notify)(cl_program, void *), void *user)
{
    FAIL_CODE(CLCNN_FAULT_PROGRAM, "clBuildProgram", CL_BUILD_PROGRAM_FAILURE);
    return clBuildProgram(p, n, devs, options, notify, user);
}

cl_kernel clcnn__fault_clCreateKernel(cl_program p, const char *name, cl_int *err)
{
    FAIL_OBJECT(CLCNN_FAULT_PROGRAM, "clCreateKernel", CL_OUT_OF_HOST_MEMORY);
    return clCreateKernel(p, name, err);
}

CLBlastStatusCode clcnn__fault_CLBlastSgemmWithTempBuffer(CLBlastLayout layout, CLBlastTranspose ta,
                                                          CLBlastTranspose tb, size_t m, size_t n, size_t k,
                                                          float alpha, cl_mem a, size_t a0, size_t lda,
                                                          cl_mem b, size_t b0, size_t ldb, float beta,
                                                          cl_mem c, size_t c0, size_t ldc,
                                                          cl_command_queue *q, cl_event *ev, cl_mem temp)
{
    FAIL_CODE(CLCNN_FAULT_GEMM, "CLBlastSgemm", (CLBlastStatusCode)clcnn__fault_gemm_code());
    return CLBlastSgemmWithTempBuffer(layout, ta, tb, m, n, k, alpha, a, a0, lda, b, b0, ldb, beta, c, c0,
                                      ldc, q, ev, temp);
}

CLBlastStatusCode clcnn__fault_CLBlastDgemmWithTempBuffer(CLBlastLayout layout, CLBlastTranspose ta,
                                                          CLBlastTranspose tb, size_t m, size_t n, size_t k,
                                                          double alpha, cl_mem a, size_t a0, size_t lda,
                                                          cl_mem b, size_t b0, size_t ldb, double beta,
                                                          cl_mem c, size_t c0, size_t ldc,
                                                          cl_command_queue *q, cl_event *ev, cl_mem temp)
{
    FAIL_CODE(CLCNN_FAULT_GEMM, "CLBlastDgemm", (CLBlastStatusCode)clcnn__fault_gemm_code());
    return CLBlastDgemmWithTempBuffer(layout, ta, tb, m, n, k, alpha, a, a0, lda, b, b0, ldb, beta, c, c0,
                                      ldc, q, ev, temp);
}

CLBlastStatusCode clcnn__fault_CLBlastSGemmTempBufferSize(CLBlastLayout layout, CLBlastTranspose ta,
                                                          CLBlastTranspose tb, size_t m, size_t n, size_t k,
                                                          size_t a0, size_t lda, size_t b0, size_t ldb,
                                                          size_t c0, size_t ldc, cl_command_queue *q,
                                                          size_t *bytes)
{
    FAIL_CODE(CLCNN_FAULT_GEMM, "CLBlastSGemmTempBufferSize", (CLBlastStatusCode)clcnn__fault_gemm_code());
    return CLBlastSGemmTempBufferSize(layout, ta, tb, m, n, k, a0, lda, b0, ldb, c0, ldc, q, bytes);
}

CLBlastStatusCode clcnn__fault_CLBlastDGemmTempBufferSize(CLBlastLayout layout, CLBlastTranspose ta,
                                                          CLBlastTranspose tb, size_t m, size_t n, size_t k,
                                                          size_t a0, size_t lda, size_t b0, size_t ldb,
                                                          size_t c0, size_t ldc, cl_command_queue *q,
                                                          size_t *bytes)
{
    FAIL_CODE(CLCNN_FAULT_GEMM, "CLBlastDGemmTempBufferSize", (CLBlastStatusCode)clcnn__fault_gemm_code());
    return CLBlastDGemmTempBufferSize(layout, ta, tb, m, n, k, a0, lda, b0, ldb, c0, ldc, q, bytes);
}
