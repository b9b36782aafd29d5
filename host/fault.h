/* fault.h - fault injection for tests (CMake option CLCNN_FAULT_INJECTION,
 * off by default): every host allocation and every OpenCL or CLBlast call
 * that can fail for want of resources is a numbered "site", and a test can
 * make the N-th site fail. Not part of the public API; in a build without
 * the option none of this exists. The test API is exported from the shared
 * library (default visibility) only in fault builds. */
#ifndef CLCNN_FAULT_H
#define CLCNN_FAULT_H

#include "clcnn.h"

#ifdef CLCNN_FAULT_INJECTION

/* The kinds of sites, and the error each one fails with. */
typedef enum {
    CLCNN_FAULT_ALLOC,   /* clcnn__malloc: returns NULL */
    CLCNN_FAULT_BUFFER,  /* clCreateBuffer, clCreateSubBuffer: CL_MEM_OBJECT_ALLOCATION_FAILURE */
    CLCNN_FAULT_ENQUEUE, /* clEnqueue*: CL_OUT_OF_RESOURCES */
    CLCNN_FAULT_PROGRAM, /* clCreateProgramWith{Source,Binary}, clCreateKernel: CL_OUT_OF_HOST_MEMORY;
                            clBuildProgram: CL_BUILD_PROGRAM_FAILURE */
    CLCNN_FAULT_GEMM,    /* CLBlast[SD]gemmWithTempBuffer, CLBlast[SD]GemmTempBufferSize: CL_OUT_OF_RESOURCES,
                            or the code clcnn_fault_set_gemm_code set */
    CLCNN_FAULT_OBJECT, /* clCreateContext, clCreateCommandQueue, clGetMemObjectInfo: CL_OUT_OF_HOST_MEMORY */
    CLCNN_FAULT_KINDS
} clcnn_fault_kind;

/* Any kind, for clcnn_fault_arm and clcnn_fault_count. */
#define CLCNN_FAULT_ANY (-1)

/* Sets every counter to 0 and disarms. */
CLCNN_API void clcnn_fault_reset(void);

/* Resets the counters, then makes the n-th site (n >= 1) of `kind`
 * (CLCNN_FAULT_ANY: of any kind) reached from now on fail, once; n = 0
 * only counts. */
CLCNN_API void clcnn_fault_arm(int kind, long n);

/* Sites of `kind` (CLCNN_FAULT_ANY: all) reached since the last reset or arm. */
CLCNN_API long clcnn_fault_count(int kind);

/* The function whose call was failed since the last reset or arm (e.g.
 * "clEnqueueNDRangeKernel", "malloc"), or NULL; *code gets the error it
 * returned (0 for malloc) when code is not NULL. */
CLCNN_API const char *clcnn_fault_failed(int *code);

/* The status CLBlast sites fail with from now on (kept across reset and
 * arm); 0 restores the default, CLBlastOpenCLOutOfResources. For testing
 * how CLBlast's own codes (-1024 and below) are reported. */
CLCNN_API void clcnn_fault_set_gemm_code(int code);

/* The algorithm tuning takes after measuring both (kept across reset and
 * arm): CLCNN_CONV_DIRECT or CLCNN_CONV_GEMM; 0 restores the faster. So
 * that a tuned call reaches the same sites whatever the timings were. */
CLCNN_API void clcnn_fault_set_tune_pick(int algo);

/* The status a failing CLBlast site returns (see clcnn_fault_set_gemm_code). */
int clcnn__fault_gemm_code(void);

/* The algorithm set by clcnn_fault_set_tune_pick, or 0. */
int clcnn__fault_tune_pick(void);

/* Counts a site of `kind` named `what`; 1 when it must fail. */
int clcnn__fault_hit(clcnn_fault_kind kind, const char *what, int code);

#endif /* CLCNN_FAULT_INJECTION */

#endif /* CLCNN_FAULT_H */
