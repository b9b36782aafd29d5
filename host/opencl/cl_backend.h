/* cl_backend.h - the OpenCL backend: device selection, programs built once
 * per context and dtype, tensors in device buffers, and the operations as
 * kernel launches on the context's in-order queue. */
#ifndef CLCNN_CL_BACKEND_H
#define CLCNN_CL_BACKEND_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

#include "cl_fault.h" /* CLCNN_FAULT_INJECTION builds: OpenCL and CLBlast calls that can be failed */
#include "internal.h"

/* The kernel programs (one per kernels/<file>.cl) and their kernels, in the
 * order of cl_kernels.def, the one list of both. */
typedef enum {
#define CLCNN_PROGRAM(id, file, builds) CLCNN_PROGRAM_##id,
#include "cl_kernels.def"
    CLCNN_N_PROGRAMS
} clcnn_program_id;

typedef enum {
#define CLCNN_KERNEL(id, name, program, width) CLCNN_KERNEL_##id,
#include "cl_kernels.def"
    CLCNN_N_KERNELS
} clcnn_kernel_id;

/* Program builds per source file and dtype: width slots 0-5 (cl_program.c). */
enum { CLCNN_WIDTH_SLOTS = 6, CLCNN_PROGRAM_SLOTS = CLCNN_WIDTH_SLOTS };
/* ... and per CONV_PX, 1 to CLCNN_MAX_PX: conv_forward.cl's programs are
 * built for the pixels per work-item that a shape takes (the other programs
 * ignore CONV_PX and are built for the context's conv_px alone). */
enum { CLCNN_MAX_PX = 8 };

/* A built kernel and the work-group size it is launched with (64 on GPUs,
 * 16 on CPUs, or less where the kernel allows less), found once when the
 * kernel is created. */
typedef struct {
    cl_kernel k;
    size_t local;
} clcnn_cl_kernel;

/* What a measured choice names (cl_tune.c, conv/conv_choice.c): an algorithm and,
 * for the direct kernel that takes one (forward, and backward data with
 * stride 1, which runs it), its work-item order (conv_forward.cl: channel-major or
 * pixel-major), or the tiled kernels (conv_forward_tiled for the forward
 * and stride-1 backward data, conv_backward_filter_tiled; the same sums in
 * the same order). DIRECT and GEMM are clcnn_conv_algo's
 * values; a plain DIRECT leaves the kernel and order to the heuristics. */
enum {
    CLCNN_VARIANT_DIRECT = CLCNN_CONV_DIRECT,
    CLCNN_VARIANT_GEMM = CLCNN_CONV_GEMM,
    CLCNN_VARIANT_CHANNEL_MAJOR,
    CLCNN_VARIANT_PIXEL_MAJOR,
    CLCNN_VARIANT_TILED, /* the tiled kernels (conv_forward_tiled, conv_backward_filter_tiled) */
    CLCNN_VARIANT_END
};

/* A measured choice (cl_tune.c): the key's hash and the variant. */
typedef struct {
    uint64_t key;
    int variant;
} clcnn_tune_entry;

/* The workspaces a call may use at once: partial sums of the direct
 * backward filter, transposed weights of the direct backward data, the GEMM
 * path's column matrix, CLBlast's temporary buffer, and the copies of
 * outputs that a call writes with several enqueues (restored if a later
 * enqueue fails; conv/conv_saved.c), the zero-padded input of the direct
 * forward convolution on CPUs, a flag set when some weight is not
 * finite (direct backward data on CPUs), and a_prev and dz in blocks of
 * channels (direct backward filter on CPUs). */
enum {
    CLCNN_SCRATCH_PARTIAL = 0,
    CLCNN_SCRATCH_WEIGHTS = 1,
    CLCNN_SCRATCH_COL = 2,
    CLCNN_SCRATCH_GEMM_TEMP = 3,
    CLCNN_SCRATCH_SAVED = 4,
    CLCNN_SCRATCH_PADDED = 5,
    CLCNN_SCRATCH_FLAG = 6,
    CLCNN_SCRATCH_BLOCKED_INPUT = 7,
    CLCNN_SCRATCH_BLOCKED_DZ = 8,
    CLCNN_SCRATCH_SLOTS = 9
};

/* The workspaces the current call has asked for: a bit per slot, and the
 * most it asked of each. */
typedef struct {
    unsigned slots;
    size_t need[CLCNN_SCRATCH_SLOTS];
} clcnn_cl_call;

/* What an OpenCL context holds (ctx->cl). */
struct clcnn_cl {
    cl_context context;
    cl_device_id device;
    cl_command_queue queue;
    int fp64;           /* the device has cl_khr_fp64 */
    int fp32_div_exact; /* it can divide F32 correctly rounded (build option asks for it) */
    int cpu;            /* a CPU device (PoCL): algorithm and blocking defaults differ */
    int wide_vectors;   /* CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT >= 16 (on x86 CPUs: AVX-512) */
    cl_ulong max_alloc; /* CL_DEVICE_MAX_MEM_ALLOC_SIZE */
    cl_uint units;      /* CL_DEVICE_MAX_COMPUTE_UNITS (at least 1) */
    size_t base_align;  /* CL_DEVICE_MEM_BASE_ADDR_ALIGN in bytes: where a sub-buffer may start */
    size_t gemm_index;  /* elements CLBlast may index from a matrix's offset (INT_MAX; cl_gemm.c) */
    int conv_px;        /* forward block: output pixels per work-item (CONV_PX), 1 to CLCNN_MAX_PX */
    int conv_px_shape;  /* ... or chosen per shape, 4 to 7 (CPUs with 16-wide float vectors) */
    int conv_max_oc;    /* most channels per work-item as a vector (F32; F64 half as many) */
    int filter_kb;      /* backward filter block: input channels per work-item (FILTER_KB) */
    int conv_blocked;   /* the direct forward reads its weights in blocks of N channels (CPUs) */
    int conv_order;     /* the direct forward's work-item order: -1 by heuristic, 0 channel-, 1 pixel-major */
    int conv_cgroup;    /* channel blocks per forward work-item: 0 by rule, else CLCNN_CONV_CGROUP */
    int filter_blocked; /* the backward filter reads a_prev in blocks: -1 by heuristic, 0 never, 1 always */
    int conv_flat;      /* 1x1 stride-1 unpadded layers as one row of pixels: 0 never (CLCNN_CONV_FLAT=0) */
    int conv_tiled;     /* the direct path's tiled kernels: -1 by heuristic, 0 never, 1 always */
    int conv_tile[6];   /* their TILE_M, TILE_N, TILE_K, REG_M, REG_N, TILE_VEC (CLCNN_CONV_TILE) */
    int tile_fits;      /* the device can run that tile's work-group and local memory */
    /* [program][dtype][width slot][CONV_PX - 1] and [kernel][dtype][CONV_PX - 1], made lazily */
    cl_program programs[CLCNN_N_PROGRAMS][2][CLCNN_PROGRAM_SLOTS][CLCNN_MAX_PX];
    clcnn_cl_kernel kernels[CLCNN_N_KERNELS][2][CLCNN_MAX_PX];
    cl_mem scratch[CLCNN_SCRATCH_SLOTS]; /* workspaces, grown on demand: CLCNN_SCRATCH_* */
    size_t scratch_bytes[CLCNN_SCRATCH_SLOTS];
    clcnn_cl_call call;       /* what the current call has asked for */
    char driver_version[128]; /* CL_DRIVER_VERSION, part of the tuning key */
    clcnn_tune_entry *tuned;  /* measured choices, from this context and the tune file */
    size_t n_tuned, cap_tuned;
    int tune_loaded; /* the tune file has been read */
};

/* Workspaces and the workspace limit. A call's workspaces are of two
 * kinds. Those it cannot do without (the GEMM path's column matrix and
 * CLBlast's buffer, the direct backward filter's partial sums, each sized
 * from the limit alone so that the results do not depend on anything else;
 * backward data's weights, a max-pool backward's window maxima, the saved
 * outputs and the flag) come from clcnn__cl_scratch. Copies that only
 * speed reads (padded inputs, blocked weights and channels) are made only
 * where clcnn__cl_scratch_room says they fit beside what the call already
 * holds; the kernels read the tensors themselves otherwise, with the same
 * bits. Whenever a request would take what the context holds above the
 * limit, the workspaces the current call has not asked for are released
 * first (commands already enqueued keep theirs alive: OpenCL frees a
 * buffer only when they are done). A call whose own workspaces exceed the
 * limit keeps them for the next call (releasing them would cost the same
 * call on repeat an allocation of each).
 *
 * clcnn__cl_call_begin: a call (or tuning run) starts: no slot asked for
 * yet. clcnn__cl_scratch: ctx's workspace `slot` of at least nbytes (kept for
 * later calls). clcnn__cl_scratch_room: the bytes `slot` may take within
 * the limit beside the call's other workspaces. clcnn__cl_workspace_bytes:
 * what the context holds now. clcnn__cl_release_idle: releases the slots
 * the current call has not asked for (every slot between calls). */
void clcnn__cl_call_begin(struct clcnn_cl *cl);
clcnn_status clcnn__cl_scratch(clcnn_context *ctx, const char *fn, int slot, size_t nbytes, cl_mem *out);
size_t clcnn__cl_scratch_room(const clcnn_context *ctx, int slot);
size_t clcnn__cl_workspace_bytes(const struct clcnn_cl *cl);
void clcnn__cl_release_idle(struct clcnn_cl *cl);

/* The name of an OpenCL error code, e.g. "CL_OUT_OF_RESOURCES". */
const char *clcnn__cl_error_name(cl_int err);

/* The work-items of a tiled kernel's work-group: (TILE_M / REG_M) x
 * (TILE_N / REG_N) of the context's tile. */
static inline size_t clcnn__cl_tile_threads(const int tile[6])
{
    return (size_t)(tile[0] / tile[3]) * (size_t)(tile[1] / tile[4]);
}

/* The widest channel vector a work-item uses for dtype: conv_max_oc for F32
 * and half as many (the same bytes) for F64, at least 1. */
static inline int clcnn__cl_max_width(const struct clcnn_cl *cl, clcnn_dtype dtype)
{
    const int w = dtype == CLCNN_F64 ? cl->conv_max_oc / 2 : cl->conv_max_oc;
    return w < 1 ? 1 : w;
}

/* The clcnn status an OpenCL error maps to: CLCNN_ERR_OUT_OF_MEMORY for
 * allocation failures, CLCNN_ERR_BUILD for build failures, else
 * CLCNN_ERR_DEVICE. */
clcnn_status clcnn__cl_status(cl_int err);

/* Records "<fn>: <what> failed with <CL error name> (<code>)" and returns
 * the mapped status: CLCNN_ERR_OUT_OF_MEMORY for allocation failures,
 * CLCNN_ERR_BUILD for build failures, CLCNN_ERR_DEVICE otherwise. */
clcnn_status clcnn__cl_fail(clcnn_context *ctx, cl_int err, const char *fn, const char *what);

/* Opens the device that spec selects (NULL or "": the best one) for ctx.
 * On failure returns the status, writes the reason into why, and leaves
 * ctx->cl NULL. */
clcnn_status clcnn__cl_open(clcnn_context *ctx, const char *spec, char *why, size_t why_len);

/* Uses the caller's OpenCL objects (retained) for ctx. */
clcnn_status clcnn__cl_wrap(clcnn_context *ctx, cl_context context, cl_device_id device,
                            cl_command_queue queue);

/* Releases everything ctx->cl holds (NULL is a no-op). */
void clcnn__cl_close(clcnn_context *ctx);

/* The kernel for dtype, building its program on first use; _px: a kernel
 * of conv_forward.cl (conv_forward_<N>) built with
 * CONV_PX = px (1 to CLCNN_MAX_PX), the plain call with the context's. */
clcnn_status clcnn__cl_kernel(clcnn_context *ctx, const char *fn, clcnn_kernel_id id, clcnn_dtype dtype,
                              const clcnn_cl_kernel **out);
clcnn_status clcnn__cl_kernel_px(clcnn_context *ctx, const char *fn, clcnn_kernel_id id, clcnn_dtype dtype,
                                 int px, const clcnn_cl_kernel **out);

/* Device buffers of tensors. */
clcnn_status clcnn__cl_tensor_alloc(clcnn_context *ctx, clcnn_tensor *t);
void clcnn__cl_tensor_free(clcnn_tensor *t);
clcnn_status clcnn__cl_tensor_write(clcnn_tensor *t, const void *src);
clcnn_status clcnn__cl_tensor_read(const clcnn_tensor *t, void *dst);
clcnn_status clcnn__cl_finish(clcnn_context *ctx);

/* Mirrors conv_shape in kernels/prelude.cl, which every convolution kernel
 * takes by value: change both together. */
typedef struct {
    cl_int n, h, w, cin;
    cl_int fh, fw, cout;
    cl_int ho, wo;
    cl_int stride, pad_h, pad_w; /* equal, except in backward data as a forward convolution */
} clcnn_conv_shape;

/* One kernel argument: its size and the address of its value. */
typedef struct {
    size_t size;
    const void *value;
} clcnn_kernel_arg;
#define CLCNN_ARG(v)                                                                                         \
    {                                                                                                        \
        sizeof(v), &(v)                                                                                      \
    }

/* log2 of the widest of 16, 8, 4, 2, 1 that divides channels and is at
 * most max_width: how many channels one work-item handles. */
int clcnn__cl_vector_width_log2(int channels, int max_width);

/* Sets k's first n arguments. */
clcnn_status clcnn__cl_set_args(clcnn_context *ctx, const char *fn, const clcnn_cl_kernel *k,
                                const clcnn_kernel_arg *args, int n);

/* Enqueues k over `items` work-items in work-groups of its fixed size,
 * rounding the range up (kernels ignore ids past their extent). */
clcnn_status clcnn__cl_launch(clcnn_context *ctx, const char *fn, const clcnn_cl_kernel *k, size_t items);

/* Enqueues k over a 2-D range of at least d0 x d1 work-items: dimension 0 in
 * groups of the smallest power of two >= d0 up to the kernel's size, and
 * dimension 1 filling the rest of the group. */
clcnn_status clcnn__cl_launch_2d(clcnn_context *ctx, const char *fn, const clcnn_cl_kernel *k, size_t d0,
                                 size_t d1);

/* The GEMM path (cl_gemm.c). clcnn__cl_gemm_fits: whether the path can run
 * this convolution within ctx's workspace limit (some rows of the column
 * matrix must fit, whole images of it for backward data). */
int clcnn__cl_gemm_fits(clcnn_context *ctx, const clcnn_conv_shape *cs, clcnn_dtype dt, int backward_data);
clcnn_status clcnn__cl_gemm_forward(clcnn_context *ctx, const clcnn_conv_shape *cs,
                                    const clcnn_tensor *a_prev, const clcnn_tensor *w, const clcnn_tensor *b,
                                    clcnn_tensor *z);
clcnn_status clcnn__cl_gemm_backward_data(clcnn_context *ctx, const clcnn_conv_shape *cs,
                                          const clcnn_tensor *dz, const clcnn_tensor *w,
                                          clcnn_tensor *da_prev);
clcnn_status clcnn__cl_gemm_backward_filter(clcnn_context *ctx, const clcnn_conv_shape *cs,
                                            const clcnn_tensor *dz, const clcnn_tensor *a_prev,
                                            clcnn_tensor *dw);

/* Measured choice (cl_tune.c). clcnn__cl_tune_key: the hash of device,
 * driver, library version, dtype, direction (0 forward, 1 backward data, 2
 * backward filter) and shape. clcnn__cl_tune_lookup: the remembered
 * variant for key, or -1. clcnn__cl_tune: runs `run` with each of the n
 * candidate variants (a warm-up, then timed runs within
 * ctx->tune_budget_s), keeps the fastest in *chosen, remembers it in memory
 * and in the tune file. */
typedef clcnn_status (*clcnn__cl_tune_run)(clcnn_context *ctx, int variant, void *args);
uint64_t clcnn__cl_tune_key(const clcnn_context *ctx, int direction, const clcnn_conv_shape *cs,
                            clcnn_dtype dt);
int clcnn__cl_tune_lookup(clcnn_context *ctx, uint64_t key);
clcnn_status clcnn__cl_tune(clcnn_context *ctx, uint64_t key, clcnn__cl_tune_run run, void *args,
                            const int *candidates, int n, int *chosen);

/* The operations (arguments already validated). */
clcnn_status clcnn__cl_zero_pad(clcnn_context *ctx, const clcnn_tensor *x, int pad, clcnn_tensor *x_pad);
clcnn_status clcnn__cl_conv_forward(clcnn_context *ctx, const clcnn_tensor *a_prev, const clcnn_tensor *w,
                                    const clcnn_tensor *b, clcnn_conv_params p, clcnn_tensor *z);
clcnn_status clcnn__cl_conv_backward(clcnn_context *ctx, const clcnn_tensor *dz, const clcnn_tensor *a_prev,
                                     const clcnn_tensor *w, clcnn_conv_params p, clcnn_tensor *da_prev,
                                     clcnn_tensor *dw, clcnn_tensor *db);
clcnn_status clcnn__cl_pool_forward(clcnn_context *ctx, const clcnn_tensor *a_prev, clcnn_pool_params p,
                                    clcnn_tensor *a);
clcnn_status clcnn__cl_pool_backward(clcnn_context *ctx, const clcnn_tensor *da, const clcnn_tensor *a_prev,
                                     clcnn_pool_params p, clcnn_tensor *da_prev);

/* Pooling with a desc: the notebook's form on the kernels above, else
 * CLCNN_ERR_UNSUPPORTED naming what is beyond it (cl_ops.c). */
clcnn_status clcnn__cl_pool_forward_desc(clcnn_context *ctx, const clcnn_tensor *a_prev,
                                         const clcnn_pool_desc *d, clcnn_tensor *a);
clcnn_status clcnn__cl_pool_backward_desc(clcnn_context *ctx, const clcnn_tensor *da,
                                          const clcnn_tensor *a_prev, const clcnn_pool_desc *d,
                                          clcnn_tensor *da_prev);

#endif /* CLCNN_CL_BACKEND_H */
