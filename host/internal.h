/* internal.h - clcnn's private structures and helpers shared by host/ files.
 * Nothing here is part of the public API. */
#ifndef CLCNN_INTERNAL_H
#define CLCNN_INTERNAL_H

#include "clcnn.h"

#include <stddef.h>

/* A 4-D NHWC shape. */
typedef struct {
    int n, h, w, c;
} clcnn_shape;

/* The OpenCL backend's part of a context (host/opencl/cl_backend.h). */
struct clcnn_cl;

struct clcnn_context {
    clcnn_backend backend; /* HOST or OPENCL, never AUTO */
    char device_name[256];
    char *error; /* last failure message, heap, grown as needed */
    size_t error_cap;
    struct clcnn_cl *cl;             /* OPENCL: device, queue, programs; NULL for HOST */
    size_t workspace_limit;          /* largest device workspace of a call, bytes */
    clcnn_conv_algo conv_algo;       /* what CLCNN_CONV_AUTO means (CLCNN_CONV_ALGO) */
    int tuning;                      /* measure AUTO's choice per shape (CLCNN_TUNE) */
    double tune_budget_s;            /* time for the timed runs of one tuning (CLCNN_TUNE_BUDGET) */
    clcnn_conv_algo conv_ran[3];     /* per direction, what the last successful convolution ran */
    clcnn_conv_algo conv_running[3]; /* the same for the call in progress (backends fill it in) */
};

/* The default of clcnn_context_workspace_limit: 256 MiB. */
#define CLCNN_DEFAULT_WORKSPACE_LIMIT ((size_t)256 << 20)

/* Sets ctx's workspace limit, algorithm override and tuning from their
 * defaults and the environment (CLCNN_WORKSPACE_LIMIT, CLCNN_CONV_ALGO,
 * CLCNN_TUNE, CLCNN_TUNE_BUDGET); a bad value
 * fails naming the variable, for the function fn. */
clcnn_status clcnn__context_env(clcnn_context *ctx, const char *fn);

struct clcnn_tensor {
    clcnn_context *ctx;
    clcnn_dtype dtype;
    clcnn_shape shape;
    size_t count;        /* n*h*w*c, checked against overflow at creation */
    size_t nbytes;       /* count * element size */
    void *host;          /* HOST: the data */
    struct _cl_mem *mem; /* OPENCL: the device buffer (a cl_mem) */
    /* CLCNN_CANARIES builds: guard regions of `guard` bytes (0: none) before
     * and after the data, filled with clcnn__guard_pattern(t). host then
     * points `guard` bytes into host_block (the allocation), and mem is a
     * sub-buffer at offset `guard` of mem_block (the buffer). */
    size_t guard;
    void *host_block;
    struct _cl_mem *mem_block;
};

#ifdef CLCNN_CANARIES
#include <stdint.h>

/* Guard bytes on each side of a host tensor's data; a device tensor's are
 * CLCNN_DEVICE_GUARD rounded up to CL_DEVICE_MEM_BASE_ADDR_ALIGN (the
 * sub-buffer's origin must be a multiple of it). */
#define CLCNN_HOST_GUARD 256
#define CLCNN_DEVICE_GUARD 4096

/* The 32-bit word repeated through t's guards (byte j of a guard holds byte
 * j % 4 of it in memory order): 0xFFF in the top bits, so that an F32 or
 * F64 read from a guard is a NaN and poisons what uses it; the rest from
 * t's address, so that guards of different tensors differ and an
 * out-of-bounds copy from one guard into another is seen. */
static inline uint32_t clcnn__guard_pattern(const clcnn_tensor *t)
{
    return 0xFFF00000u | ((uint32_t)((uintptr_t)t >> 4) & 0xFFFFFu) | 1u;
}

/* Checks every byte of t's guards. Returns 1 when all hold the pattern (or
 * t has none), 0 when some do not, with a sentence in report saying which
 * side, how many bytes, and where the first changed byte lies relative to
 * the data; -1 when the guards could not be read (the OpenCL error in
 * report). Exported in canary builds so that the tests can call it after
 * every operation. */
CLCNN_API int clcnn__tensor_guards_ok(const clcnn_tensor *t, char *report, size_t report_len);

/* t's host data (NULL for a device tensor): lets the canary test write into
 * a host tensor's guards on purpose. */
CLCNN_API void *clcnn__tensor_host_data(clcnn_tensor *t);

/* Compares the n guard bytes at `bytes` with t's pattern; see
 * clcnn__tensor_guards_ok. `where` is "host" or "device", after is 0 for the
 * guard before the data. Returns 1 when intact, else 0 with report set. */
int clcnn__guard_compare(const clcnn_tensor *t, const unsigned char *bytes, size_t n, const char *where,
                         int after, char *report, size_t report_len);

#ifdef CLCNN_HAVE_OPENCL
/* The device side of clcnn__tensor_guards_ok (host/opencl/cl_tensor.c). */
int clcnn__cl_tensor_guards_ok(const clcnn_tensor *t, char *report, size_t report_len);
#endif
#endif /* CLCNN_CANARIES */

/* Records a printf-style message as ctx's last error (or this thread's when
 * ctx is NULL) and returns status, so that validation reads
 *   return clcnn__fail(ctx, CLCNN_ERR_SHAPE, "...", ...); */
clcnn_status clcnn__fail(clcnn_context *ctx, clcnn_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Host allocation, the one place every library allocation goes through. */
void *clcnn__malloc(size_t nbytes);
void clcnn__free(void *p);

/* Size in bytes of one element of dtype (0 for an unknown dtype). */
size_t clcnn__dtype_size(clcnn_dtype dtype);

/* a * b into *out; 0 when it overflows size_t, 1 otherwise. */
int clcnn__mul_size(size_t a, size_t b, size_t *out);

#endif /* CLCNN_INTERNAL_H */
