/* cl_fault.h - fault injection into the OpenCL backend (CLCNN_FAULT_INJECTION
 * builds only; see host/fault.h): the OpenCL and CLBlast calls that can fail
 * for want of resources are renamed to counting wrappers (cl_fault.c) that
 * fail the armed site with the error a driver would give, so that no call
 * site changes. Included by cl_backend.h; the CL and CLBlast headers come
 * first so that their declarations keep the real names. */
#ifndef CLCNN_CL_FAULT_H
#define CLCNN_CL_FAULT_H

#ifdef CLCNN_FAULT_INJECTION

#include <CL/cl.h>
#include <clblast_c.h>

#include "fault.h"

cl_context clcnn__fault_clCreateContext(const cl_context_properties *props, cl_uint n,
                                        const cl_device_id *devs,
                                        void(CL_CALLBACK *notify)(const char *, const void *, size_t, void *),
                                        void *user, cl_int *err);
cl_command_queue clcnn__fault_clCreateCommandQueue(cl_context c, cl_device_id d,
                                                   cl_command_queue_properties p, cl_int *err);
cl_mem clcnn__fault_clCreateBuffer(cl_context c, cl_mem_flags flags, size_t size, void *host, cl_int *err);
cl_int clcnn__fault_clGetMemObjectInfo(cl_mem m, cl_mem_info what, size_t size, void *value, size_t *ret);
cl_mem clcnn__fault_clCreateSubBuffer(cl_mem m, cl_mem_flags flags, cl_buffer_create_type type,
                                      const void *info, cl_int *err);
cl_int clcnn__fault_clEnqueueNDRangeKernel(cl_command_queue q, cl_kernel k, cl_uint dims,
                                           const size_t *offset, const size_t *global, const size_t *local,
                                           cl_uint n_wait, const cl_event *wait, cl_event *ev);
cl_int clcnn__fault_clEnqueueReadBuffer(cl_command_queue q, cl_mem m, cl_bool blocking, size_t offset,
                                        size_t size, void *dst, cl_uint n_wait, const cl_event *wait,
                                        cl_event *ev);
cl_int clcnn__fault_clEnqueueWriteBuffer(cl_command_queue q, cl_mem m, cl_bool blocking, size_t offset,
                                         size_t size, const void *src, cl_uint n_wait, const cl_event *wait,
                                         cl_event *ev);
cl_int clcnn__fault_clEnqueueFillBuffer(cl_command_queue q, cl_mem m, const void *pattern,
                                        size_t pattern_size, size_t offset, size_t size, cl_uint n_wait,
                                        const cl_event *wait, cl_event *ev);
cl_int clcnn__fault_clEnqueueCopyBuffer(cl_command_queue q, cl_mem src, cl_mem dst, size_t src_offset,
                                        size_t dst_offset, size_t size, cl_uint n_wait, const cl_event *wait,
                                        cl_event *ev);
cl_int clcnn__fault_clEnqueueMarkerWithWaitList(cl_command_queue q, cl_uint n_wait, const cl_event *wait,
                                                cl_event *ev);
cl_int clcnn__fault_clEnqueueBarrierWithWaitList(cl_command_queue q, cl_uint n_wait, const cl_event *wait,
                                                 cl_event *ev);
cl_program clcnn__fault_clCreateProgramWithSource(cl_context c, cl_uint count, const char **strings,
                                                  const size_t *lengths, cl_int *err);
cl_program clcnn__fault_clCreateProgramWithBinary(cl_context c, cl_uint n, const cl_device_id *devs,
                                                  const size_t *lengths, const unsigned char **binaries,
                                                  cl_int *binary_status, cl_int *err);
cl_int clcnn__fault_clBuildProgram(cl_program p, cl_uint n, const cl_device_id *devs, const char *options,
                                   void(CL_CALLBACK *notify)(cl_program, void *), void *user);
cl_kernel clcnn__fault_clCreateKernel(cl_program p, const char *name, cl_int *err);
CLBlastStatusCode clcnn__fault_CLBlastSgemmWithTempBuffer(CLBlastLayout layout, CLBlastTranspose ta,
                                                          CLBlastTranspose tb, size_t m, size_t n, size_t k,
                                                          float alpha, cl_mem a, size_t a0, size_t lda,
                                                          cl_mem b, size_t b0, size_t ldb, float beta,
                                                          cl_mem c, size_t c0, size_t ldc,
                                                          cl_command_queue *q, cl_event *ev, cl_mem temp);
CLBlastStatusCode clcnn__fault_CLBlastDgemmWithTempBuffer(CLBlastLayout layout, CLBlastTranspose ta,
                                                          CLBlastTranspose tb, size_t m, size_t n, size_t k,
                                                          double alpha, cl_mem a, size_t a0, size_t lda,
                                                          cl_mem b, size_t b0, size_t ldb, double beta,
                                                          cl_mem c, size_t c0, size_t ldc,
                                                          cl_command_queue *q, cl_event *ev, cl_mem temp);
CLBlastStatusCode clcnn__fault_CLBlastSGemmTempBufferSize(CLBlastLayout layout, CLBlastTranspose ta,
                                                          CLBlastTranspose tb, size_t m, size_t n, size_t k,
                                                          size_t a0, size_t lda, size_t b0, size_t ldb,
                                                          size_t c0, size_t ldc, cl_command_queue *q,
                                                          size_t *bytes);
CLBlastStatusCode clcnn__fault_CLBlastDGemmTempBufferSize(CLBlastLayout layout, CLBlastTranspose ta,
                                                          CLBlastTranspose tb, size_t m, size_t n, size_t k,
                                                          size_t a0, size_t lda, size_t b0, size_t ldb,
                                                          size_t c0, size_t ldc, cl_command_queue *q,
                                                          size_t *bytes);

/* cl_fault.c defines CLCNN_FAULT_WRAPPERS: it calls the real functions. */
#ifndef CLCNN_FAULT_WRAPPERS
#define clCreateContext clcnn__fault_clCreateContext
#define clCreateCommandQueue clcnn__fault_clCreateCommandQueue
#define clCreateBuffer clcnn__fault_clCreateBuffer
#define clCreateSubBuffer clcnn__fault_clCreateSubBuffer
#define clGetMemObjectInfo clcnn__fault_clGetMemObjectInfo
#define clEnqueueNDRangeKernel clcnn__fault_clEnqueueNDRangeKernel
#define clEnqueueReadBuffer clcnn__fault_clEnqueueReadBuffer
#define clEnqueueWriteBuffer clcnn__fault_clEnqueueWriteBuffer
#define clEnqueueFillBuffer clcnn__fault_clEnqueueFillBuffer
#define clEnqueueCopyBuffer clcnn__fault_clEnqueueCopyBuffer
#define clEnqueueMarkerWithWaitList clcnn__fault_clEnqueueMarkerWithWaitList
#define clEnqueueBarrierWithWaitList clcnn__fault_clEnqueueBarrierWithWaitList
#define clCreateProgramWithSource clcnn__fault_clCreateProgramWithSource
#define clCreateProgramWithBinary clcnn__fault_clCreateProgramWithBinary
#define clBuildProgram clcnn__fault_clBuildProgram
#define clCreateKernel clcnn__fault_clCreateKernel
#define CLBlastSgemmWithTempBuffer clcnn__fault_CLBlastSgemmWithTempBuffer
#define CLBlastDgemmWithTempBuffer clcnn__fault_CLBlastDgemmWithTempBuffer
#define CLBlastSGemmTempBufferSize clcnn__fault_CLBlastSGemmTempBufferSize
#define CLBlastDGemmTempBufferSize clcnn__fault_CLBlastDGemmTempBufferSize
#endif

#endif /* CLCNN_FAULT_INJECTION */

#endif /* CLCNN_CL_FAULT_H */
