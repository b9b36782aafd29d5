/* clcnn.h - the public C API of clcnn, convolutional layer primitives on
 * OpenCL devices with a plain-C reference path.
 *
 * One header by design, past 500 lines: a user includes one file and reads
 * every symbol's contract (shapes, formulas, statuses, ownership) in one
 * place; the OpenCL types alone live apart, in clcnn_cl.h.
 *
 * Conventions used by every declaration below:
 *  - Tensors are 4-D, NHWC, row-major (C order), exactly like the numpy arrays
 *    of the "Convolutional Neural Networks: Step by Step" notebook:
 *      activations  [m][n_H][n_W][n_C]
 *      weights      [fh][fw][n_C_prev][n_C]   (HWIO; fh != fw is allowed;
 *                   [fh][fw][n_C_prev / groups][n_C] with clcnn_conv_desc)
 *      bias         [1][1][1][n_C]
 *  - Every fallible call returns a clcnn_status; CLCNN_OK is 0 and results
 *    come back through out-parameters.
 *  - A failing call changes nothing the caller can see: out-parameters and
 *    output tensors keep their contents and the context stays usable.  The
 *    reason is readable with clcnn_last_error().
 *  - Output tensors must already have the output shape; they are overwritten,
 *    never accumulated into.
 *
 * Threads: a context and the tensors made in it must not be used by two
 * threads at once, while separate contexts may be used concurrently from
 * separate threads.
 */
#ifndef CLCNN_H
#define CLCNN_H

#include <stddef.h>

#if defined(_WIN32)
#if defined(CLCNN_BUILDING)
#define CLCNN_API __declspec(dllexport)
#else
#define CLCNN_API
#endif
#elif defined(__GNUC__)
#define CLCNN_API __attribute__((visibility("default")))
#else
#define CLCNN_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Status codes                                                               */
/* ------------------------------------------------------------------------ */

/** Result of every fallible call. The values are fixed by the contract. */
typedef enum {
    CLCNN_OK = 0,
    /** NULL pointer, out-of-range scalar (stride < 1, pad < 0, f < 1, a
     *  dimension < 1), unknown enum value, dtype mismatch, tensor of another
     *  context, an output aliasing an input, wrong byte count, or an element
     *  or byte count that overflows size_t. */
    CLCNN_ERR_INVALID_ARGUMENT = 1,
    /** Shapes that do not fit together: channel counts, bias length, an
     *  output of the wrong shape, a window larger than the padded input. */
    CLCNN_ERR_SHAPE = 2,
    /** The operation is not available here (e.g. F64 on a device without
     *  cl_khr_fp64). */
    CLCNN_ERR_UNSUPPORTED = 3,
    /** A host or device allocation failed, or a tensor is larger than the
     *  backend can hold in one buffer. */
    CLCNN_ERR_OUT_OF_MEMORY = 4,
    /** Any other OpenCL failure; the message names the OpenCL error. */
    CLCNN_ERR_DEVICE = 5,
    /** A kernel failed to compile; the message holds the build log. */
    CLCNN_ERR_BUILD = 6,
    /** The OpenCL backend was demanded and no device matches. */
    CLCNN_ERR_NO_DEVICE = 7
} clcnn_status;

/** The enumerator's name, e.g. "CLCNN_ERR_SHAPE"; "CLCNN_STATUS_UNKNOWN" for
 *  a value outside the enum. The string is static: never free it. */
CLCNN_API const char *clcnn_status_string(clcnn_status s);

/** The library version, "MAJOR.MINOR.PATCH". Static string. */
CLCNN_API const char *clcnn_version(void);

/* ------------------------------------------------------------------------ */
/* Contexts                                                                   */
/* ------------------------------------------------------------------------ */

/** Element types. F64 on an OpenCL device needs cl_khr_fp64. */
typedef enum { CLCNN_F32 = 0, CLCNN_F64 = 1 } clcnn_dtype;

/** Which implementation runs the operations of a context. */
typedef enum {
    CLCNN_BACKEND_AUTO = 0, /**< best OpenCL device, else the host path    */
    CLCNN_BACKEND_OPENCL,   /**< an OpenCL device, or CLCNN_ERR_NO_DEVICE  */
    CLCNN_BACKEND_HOST      /**< the plain-C reference path                */
} clcnn_backend;

/** Options for clcnn_context_create. Zero-initialise, then set fields. */
typedef struct {
    clcnn_backend backend;
    /** NULL (any), "gpu", "cpu", a device index such as "0", or a substring
     *  of the device name. Ignored by the host backend. */
    const char *device;
} clcnn_options;

/** Opaque context: the backend, its device and queue, the compiled
 *  programs, and the last error message. */
typedef struct clcnn_context clcnn_context;

/** Opaque tensor: a 4-D NHWC array owned by one context. */
typedef struct clcnn_tensor clcnn_tensor;

/** Creates a context and stores it in *out (left unchanged on failure).
 *
 *  opts == NULL means defaults: backend AUTO and any device, overridden by
 *  the environment variables CLCNN_BACKEND ("auto", "opencl" or "host") and
 *  CLCNN_DEVICE (same syntax as opts->device).  With a non-NULL opts the
 *  environment is not read.
 *
 *  AUTO prefers a GPU, then an accelerator, then a CPU OpenCL device, then the
 *  host path; when it falls back to the host path it records why (no
 *  platform, no device matching opts->device, a failure opening it), readable
 *  with clcnn_last_error(*out).  OPENCL fails instead of falling back.  A
 *  library built with CLCNN_OPENCL=OFF has only the host path.
 *
 *  An OpenCL context builds each program the first time an operation needs
 *  it and keeps the binary in an on-disk cache ($CLCNN_CACHE_DIR, else
 *  $XDG_CACHE_HOME/clcnn, else ~/.cache/clcnn; CLCNN_CACHE=0 turns it off),
 *  so that later contexts and processes load it instead of compiling. A
 *  cache entry that is missing, damaged or rejected by the driver, or a
 *  folder that cannot be written, only costs that compile, never an error.
 *
 *  Ownership: the caller owns *out and frees it with clcnn_context_destroy.
 *  Errors: CLCNN_ERR_INVALID_ARGUMENT (out NULL, unknown backend, bad
 *  environment value), CLCNN_ERR_NO_DEVICE (OPENCL: no platform, or no device
 *  matches), CLCNN_ERR_OUT_OF_MEMORY, CLCNN_ERR_DEVICE (OPENCL: the device
 *  could not be opened; the message names the OpenCL error).  Since no
 *  context exists on failure, the message is read with clcnn_last_error(NULL)
 *  on the same thread. */
CLCNN_API clcnn_status clcnn_context_create(const clcnn_options *opts, clcnn_context **out);

/** Destroys a context. Its tensors must be destroyed first. NULL is a no-op. */
CLCNN_API void clcnn_context_destroy(clcnn_context *ctx);

/** The backend actually in use: CLCNN_BACKEND_OPENCL or CLCNN_BACKEND_HOST
 *  (never AUTO). CLCNN_BACKEND_HOST for a NULL ctx. */
CLCNN_API clcnn_backend clcnn_context_backend(const clcnn_context *ctx);

/** The device's name, "host reference" for the host backend. The string is
 *  owned by the context. "" for a NULL ctx. */
CLCNN_API const char *clcnn_context_device_name(const clcnn_context *ctx);

/** The message of the most recent failed call on ctx (a later successful call
 *  does not clear it), or of the context's fallback to the host path; "" when
 *  there is none.  With ctx == NULL: the most recent failure on this thread of
 *  a call that had no context to record it in (clcnn_context_create, the
 *  output-shape functions, calls given a NULL context or tensor).  The string
 *  stays valid until the next failing call on the same context (or thread). */
CLCNN_API const char *clcnn_last_error(const clcnn_context *ctx);

/** Sets how much device memory ctx may use as workspace (buffers a call
 *  needs beside its tensors; ctx keeps them for later calls), in bytes.
 *  The GEMM path's column matrix and CLBlast's temporary buffer fit it
 *  together: the batch is processed in chunks that fit, and where not even
 *  one row of the column matrix fits (one image of it for backward data),
 *  that part of the call runs on the direct path instead.  The direct
 *  backward filter's partial sums fit it too.  Both are sized from the
 *  limit alone, so results depend only on the inputs, the device and the
 *  limit.  Copies that only speed a kernel's reads (zero-padded inputs,
 *  re-blocked weights or channels) are made only where they fit beside the
 *  call's other workspaces.  Workspaces of earlier calls that a call does
 *  not use are released when keeping them would exceed the limit.  A call
 *  exceeds the limit only with what it cannot do without beyond the sized
 *  workspaces: copies of outputs it writes in several steps (to restore
 *  them if a step fails), backward data's weights copy (the size of w), a
 *  max-pool backward's window maxima (the size of da), or the GEMM path in
 *  one direction of a backward beside the direct path in the other; ctx
 *  keeps those for the next call.  Lowering the limit below what ctx holds
 *  releases it all.  The default is 256 MiB, or the environment variable
 *  CLCNN_WORKSPACE_LIMIT read at context creation ("268435456", "64k",
 *  "256M", "1G"; binary units).  The host backend keeps the value and
 *  needs no workspace.
 *  Errors: CLCNN_ERR_INVALID_ARGUMENT (ctx NULL, bytes 0). */
CLCNN_API clcnn_status clcnn_context_set_workspace_limit(clcnn_context *ctx, size_t bytes);

/** ctx's workspace limit in bytes; 0 for a NULL ctx. */
CLCNN_API size_t clcnn_context_workspace_limit(const clcnn_context *ctx);

/** The device memory ctx holds as workspace now, in bytes; 0 for a NULL
 *  ctx and for the host backend. */
CLCNN_API size_t clcnn_context_workspace_bytes(const clcnn_context *ctx);

/** Turns tuning on (1) or off (0). With tuning on, the first
 *  CLCNN_CONV_AUTO convolution of each device, dtype, direction and shape
 *  runs every candidate (each algorithm, and the direct kernel in each of
 *  its work-item orders where it has them; once to warm up, then timed
 *  within a budget of 1 s, or CLCNN_TUNE_BUDGET seconds) and keeps the
 *  fastest; later calls use it at once. The order never changes a result's
 *  bits; the algorithm may (in the last bits of F32 sums). Choices are kept
 *  in the context and in the program cache's folder (tune-v1.txt; see the
 *  README), so other contexts and processes on
 *  the same device and driver reuse them. The first call of a shape
 *  therefore costs several runs, and its results are those of the chosen
 *  algorithm. Off by default; the environment variable CLCNN_TUNE=1, read at
 *  context creation, turns it on. CLCNN_CONV_ALGO other than auto, and an
 *  explicit DIRECT or GEMM, bypass it. The host backend keeps the flag.
 *  Errors: CLCNN_ERR_INVALID_ARGUMENT (ctx NULL, on not 0 or 1). */
CLCNN_API clcnn_status clcnn_context_set_tuning(clcnn_context *ctx, int on);

/** 1 when tuning is on for ctx, else 0 (also for a NULL ctx). */
CLCNN_API int clcnn_context_tuning(const clcnn_context *ctx);

/** Waits until all work queued on ctx has finished.
 *  Errors: CLCNN_ERR_INVALID_ARGUMENT (NULL), CLCNN_ERR_DEVICE. */
CLCNN_API clcnn_status clcnn_finish(clcnn_context *ctx);

/* ------------------------------------------------------------------------ */
/* Tensors                                                                    */
/* ------------------------------------------------------------------------ */

/** Creates a zero-filled tensor of shape [n][h][w][c] in ctx: a device
 *  buffer on an OpenCL context, host memory on the host backend.
 *  Ownership: the caller owns *out and frees it with clcnn_tensor_destroy,
 *  before destroying ctx.
 *  Errors: CLCNN_ERR_INVALID_ARGUMENT (ctx or out NULL, a dimension < 1,
 *  unknown dtype, element or byte count overflowing size_t),
 *  CLCNN_ERR_OUT_OF_MEMORY (also when the tensor exceeds the device's
 *  CL_DEVICE_MAX_MEM_ALLOC_SIZE), CLCNN_ERR_DEVICE. */
CLCNN_API clcnn_status clcnn_tensor_create(clcnn_context *ctx, clcnn_dtype dtype, int n, int h, int w, int c,
                                           clcnn_tensor **out);

/** Destroys a tensor. NULL is a no-op. */
CLCNN_API void clcnn_tensor_destroy(clcnn_tensor *t);

/** Copies nbytes from src into t. nbytes must be exactly n*h*w*c times the
 *  element size (4 for F32, 8 for F64); src holds elements of t's dtype in
 *  NHWC order.  Errors: CLCNN_ERR_INVALID_ARGUMENT (NULL, wrong nbytes),
 *  CLCNN_ERR_DEVICE. */
CLCNN_API clcnn_status clcnn_tensor_write(clcnn_tensor *t, const void *src, size_t nbytes);

/** Copies t's contents into dst (nbytes exactly the tensor's size), after all
 *  queued work that writes t has finished (blocks).
 *  Errors: CLCNN_ERR_INVALID_ARGUMENT (NULL, wrong nbytes), CLCNN_ERR_DEVICE. */
CLCNN_API clcnn_status clcnn_tensor_read(const clcnn_tensor *t, void *dst, size_t nbytes);

/** Stores {n, h, w, c} in dims; {0, 0, 0, 0} for a NULL t. */
CLCNN_API void clcnn_tensor_shape(const clcnn_tensor *t, int dims[4]);

/** The tensor's element type (CLCNN_F32 for a NULL t). */
CLCNN_API clcnn_dtype clcnn_tensor_dtype(const clcnn_tensor *t);

/* ------------------------------------------------------------------------ */
/* Operations (the notebook's functions)                                      */
/* ------------------------------------------------------------------------ */

/** Convolution algorithm on an OpenCL device.
 *  DIRECT: register-blocked gather kernels (kernels/conv_*.cl).
 *  GEMM: im2col, CLBlast's GEMM and col2im (kernels/gemm.cl), the batch in
 *  chunks within the context's workspace limit; a 1x1, stride-1, unpadded
 *  convolution is a GEMM on the tensors themselves.
 *  AUTO: a choice per device type, shape and direction (forward, backward
 *  data, backward filter); the environment variable CLCNN_CONV_ALGO (auto,
 *  direct or gemm), read at context creation, makes AUTO mean one of the
 *  others, for testing a path everywhere.
 *  Both paths sum in a fixed order for a given shape and device, so repeated
 *  calls give identical bytes; they differ from each other by rounding only.
 *  The host backend has one algorithm and accepts all three values. */
typedef enum { CLCNN_CONV_AUTO = 0, CLCNN_CONV_DIRECT, CLCNN_CONV_GEMM } clcnn_conv_algo;

/** Convolution hyper-parameters: stride >= 1, pad >= 0 (zeros on all four
 *  sides), algo. */
typedef struct {
    int stride;
    int pad;
    clcnn_conv_algo algo;
} clcnn_conv_params;

typedef enum { CLCNN_POOL_MAX = 0, CLCNN_POOL_AVG } clcnn_pool_mode;

/** Pooling hyper-parameters: square window f x f (f >= 1), stride >= 1, no
 *  padding. */
typedef struct {
    int f;
    int stride;
    clcnn_pool_mode mode;
} clcnn_pool_params;

/** Output size of a convolution:
 *    out_dims = { m, (n_H_prev - fh + 2*pad) / stride + 1,
 *                    (n_W_prev - fw + 2*pad) / stride + 1, n_C }
 *  (integer division, i.e. floor) for a_prev_dims = {m, n_H_prev, n_W_prev,
 *  n_C_prev} and w_dims = {fh, fw, n_C_prev, n_C}.
 *  Errors: CLCNN_ERR_INVALID_ARGUMENT (NULL array, a dimension < 1, stride < 1,
 *  pad < 0, unknown algo, an output size that overflows int),
 *  CLCNN_ERR_SHAPE (w's n_C_prev differs from a_prev's, or the filter is
 *  larger than the padded input).  Messages go to clcnn_last_error(NULL). */
CLCNN_API clcnn_status clcnn_conv2d_output_shape(const int a_prev_dims[4], const int w_dims[4],
                                                 clcnn_conv_params p, int out_dims[4]);

/** Output size of pooling:
 *    out_dims = { m, (n_H_prev - f) / stride + 1, (n_W_prev - f) / stride + 1,
 *                 n_C_prev }.
 *  Errors: CLCNN_ERR_INVALID_ARGUMENT (NULL array, a dimension < 1, f < 1,
 *  stride < 1, unknown mode), CLCNN_ERR_SHAPE (f larger than n_H_prev or
 *  n_W_prev).  Messages go to clcnn_last_error(NULL). */
CLCNN_API clcnn_status clcnn_pool2d_output_shape(const int a_prev_dims[4], clcnn_pool_params p,
                                                 int out_dims[4]);

/** x_pad = x with `pad` zeros added on both sides of H and W.
 *  x: [m][n_H][n_W][n_C]; x_pad: [m][n_H + 2*pad][n_W + 2*pad][n_C].
 *  Errors: CLCNN_ERR_INVALID_ARGUMENT (NULL, pad < 0, dtype mismatch, tensor
 *  of another context, x_pad == x, size overflow), CLCNN_ERR_SHAPE (x_pad's
 *  shape), CLCNN_ERR_OUT_OF_MEMORY, CLCNN_ERR_DEVICE, CLCNN_ERR_BUILD,
 *  CLCNN_ERR_UNSUPPORTED. */
CLCNN_API clcnn_status clcnn_zero_pad(clcnn_context *ctx, const clcnn_tensor *x, int pad,
                                      clcnn_tensor *x_pad);

/** z = conv(a_prev, w) + b, the notebook's conv_forward:
 *    z[i][h][w][c] = b[c] + sum over (y, x, k) of
 *                    a_prev_pad[i][h*stride + y][w*stride + x][k] * w[y][x][k][c]
 *  a_prev: [m][n_H_prev][n_W_prev][n_C_prev]; w: [fh][fw][n_C_prev][n_C];
 *  b: [1][1][1][n_C] or NULL (no bias); z: [m][n_H][n_W][n_C] with n_H, n_W
 *  from clcnn_conv2d_output_shape.
 *  Errors: CLCNN_ERR_INVALID_ARGUMENT (NULL ctx/a_prev/w/z, stride < 1,
 *  pad < 0, unknown algo, dtype mismatch, tensor of another context, z the
 *  same tensor as an input), CLCNN_ERR_SHAPE (channels, bias, z's shape,
 *  filter larger than the padded input), CLCNN_ERR_OUT_OF_MEMORY,
 *  CLCNN_ERR_DEVICE, CLCNN_ERR_BUILD, CLCNN_ERR_UNSUPPORTED. */
CLCNN_API clcnn_status clcnn_conv2d_forward(clcnn_context *ctx, const clcnn_tensor *a_prev,
                                            const clcnn_tensor *w, const clcnn_tensor *b, clcnn_conv_params p,
                                            clcnn_tensor *z);

/** Gradients of the convolution, the notebook's conv_backward:
 *    da_prev [m][n_H_prev][n_W_prev][n_C_prev]: gradient of the un-padded
 *            input, sum over the windows covering each position of w * dz;
 *    dw      [fh][fw][n_C_prev][n_C]: sum over windows of a_prev_pad * dz;
 *    db      [1][1][1][n_C]: sum of dz over m, n_H and n_W.
 *  dz: [m][n_H][n_W][n_C], a_prev and w as in the forward call.  Each of
 *  da_prev, dw and db may be NULL to skip it; what is computed does not depend
 *  on which others are asked for.
 *  Errors: as clcnn_conv2d_forward, plus CLCNN_ERR_INVALID_ARGUMENT when two
 *  outputs are the same tensor or an output is an input, and CLCNN_ERR_SHAPE
 *  when dz, da_prev, dw or db has the wrong shape. */
CLCNN_API clcnn_status clcnn_conv2d_backward(clcnn_context *ctx, const clcnn_tensor *dz,
                                             const clcnn_tensor *a_prev, const clcnn_tensor *w,
                                             clcnn_conv_params p, clcnn_tensor *da_prev, clcnn_tensor *dw,
                                             clcnn_tensor *db);

/** What ctx's last successful convolution call ran, per direction:
 *  algos[0] the forward, algos[1] backward data, algos[2] backward filter,
 *  each CLCNN_CONV_DIRECT or CLCNN_CONV_GEMM, or CLCNN_CONV_AUTO for a
 *  direction that call did not compute (a forward call leaves [1] and [2]
 *  AUTO, a backward call [0], and [1] or [2] where da_prev or dw was NULL;
 *  db is always summed by a direct kernel). Tells which
 *  algorithm AUTO chose, and where an explicit GEMM ran DIRECT instead (its
 *  workspace or CLBlast's index range did not fit). All AUTO before the
 *  first; a failed call leaves them as they were. The host backend reports
 *  DIRECT for what it computed.
 *  Errors: CLCNN_ERR_INVALID_ARGUMENT (ctx or algos NULL). */
CLCNN_API clcnn_status clcnn_context_last_conv_algos(const clcnn_context *ctx, clcnn_conv_algo algos[3]);

/* ------------------------------------------------------------------------ */
/* Convolution with general layer parameters (descriptor entry points)        */
/* ------------------------------------------------------------------------ */

/** Convolution parameters of real networks' layers, beside the notebook's
 *  clcnn_conv_params (whose entry points above stay as they are):
 *    pad_top, pad_bottom, pad_left, pad_right  zeros added on each side, >= 0;
 *    stride_h, stride_w      window step per axis, >= 1;
 *    dilation_h, dilation_w  distance between a window's taps, >= 1 (1: taps
 *                            next to each other);
 *    groups                  >= 1, dividing both n_C_prev and n_C: the input
 *                            channels split into `groups` equal slices and
 *                            output channel o reads only slice
 *                            g = o / (n_C / groups);
 *    algo                    as in clcnn_conv_params.
 *  With groups, the weights are [fh][fw][n_C_prev / groups][n_C]: w[y][x][k][o]
 *  multiplies input channel g * (n_C_prev / groups) + k.  Depthwise
 *  convolution is groups = n_C_prev, with n_C = n_C_prev * multiplier (output
 *  channels o = c * multiplier ... c * multiplier + multiplier - 1 read input
 *  channel c) and weights [fh][fw][1][n_C].
 *  The notebook's form is pads all equal, stride_h == stride_w, dilation 1 and
 *  groups 1 (clcnn_conv_desc_from_params). */
typedef struct {
    int pad_top, pad_bottom, pad_left, pad_right;
    int stride_h, stride_w;
    int dilation_h, dilation_w;
    int groups;
    clcnn_conv_algo algo;
} clcnn_conv_desc;

/** The descriptor of the notebook's form: every pad p.pad, both strides
 *  p.stride, dilation 1, groups 1, algo p.algo.  Copies the values without
 *  checking them; the calls taking the descriptor check them. */
CLCNN_API clcnn_conv_desc clcnn_conv_desc_from_params(clcnn_conv_params p);

/** Output size of a convolution described by d, per axis
 *    n_H = floor((n_H_prev + pad_top + pad_bottom - dilation_h*(fh-1) - 1)
 *                / stride_h) + 1
 *    n_W = floor((n_W_prev + pad_left + pad_right - dilation_w*(fw-1) - 1)
 *                / stride_w) + 1
 *  out_dims = {m, n_H, n_W, n_C} for a_prev_dims = {m, n_H_prev, n_W_prev,
 *  n_C_prev} and w_dims = {fh, fw, n_C_prev / groups, n_C}.  For the
 *  notebook's form it equals clcnn_conv2d_output_shape.
 *  Errors: CLCNN_ERR_INVALID_ARGUMENT (NULL array or d, a dimension < 1, a
 *  pad < 0, a stride or dilation < 1, groups < 1, unknown algo, a padded
 *  input size or element count that overflows int resp. size_t),
 *  CLCNN_ERR_SHAPE (groups not dividing n_C_prev or n_C, w's input channels
 *  not n_C_prev / groups, or the dilated window dilation*(f-1)+1 larger than
 *  the padded input).  Messages go to clcnn_last_error(NULL). */
CLCNN_API clcnn_status clcnn_conv2d_output_shape_desc(const int a_prev_dims[4], const int w_dims[4],
                                                      const clcnn_conv_desc *d, int out_dims[4]);

/** z = conv(a_prev, w) + b with the parameters of d:
 *    z[i][y][x][o] = b[o] + sum over (fy, fx, k) of
 *        a_prev_pad[i][y*stride_h + fy*dilation_h - pad_top]
 *                     [x*stride_w + fx*dilation_w - pad_left][g*cpg + k]
 *        * w[fy][fx][k][o]
 *  with cpg = n_C_prev / groups, g = o / (n_C / groups), k < cpg, and
 *  a_prev_pad reading 0 outside a_prev.  a_prev: [m][n_H_prev][n_W_prev]
 *  [n_C_prev]; w: [fh][fw][n_C_prev / groups][n_C]; b: [1][1][1][n_C] or NULL
 *  (no bias); z: [m][n_H][n_W][n_C] from clcnn_conv2d_output_shape_desc.
 *  The host backend sums in the order (fy, fx, k) and adds b last, in
 *  double precision, so the notebook's form gives exactly the bytes of
 *  clcnn_conv2d_forward.  An OpenCL context runs the notebook's form with
 *  clcnn_conv2d_forward's kernels (the same bytes as that call); any other
 *  form fails with CLCNN_ERR_UNSUPPORTED, its message naming the parameter
 *  ("clcnn_conv2d_forward_desc: d->groups 2 is not yet supported on the
 *  OpenCL backend; use a host context"), and z untouched.
 *  Errors: CLCNN_ERR_INVALID_ARGUMENT (NULL ctx/a_prev/w/z/d, a bad value in
 *  d as for clcnn_conv2d_output_shape_desc, dtype mismatch, tensor of
 *  another context, z the same tensor as an input), CLCNN_ERR_SHAPE (as for
 *  clcnn_conv2d_output_shape_desc, plus b's and z's shapes),
 *  CLCNN_ERR_UNSUPPORTED, CLCNN_ERR_OUT_OF_MEMORY, CLCNN_ERR_DEVICE,
 *  CLCNN_ERR_BUILD. */
CLCNN_API clcnn_status clcnn_conv2d_forward_desc(clcnn_context *ctx, const clcnn_tensor *a_prev,
                                                 const clcnn_tensor *w, const clcnn_tensor *b,
                                                 const clcnn_conv_desc *d, clcnn_tensor *z);

/** Gradients of clcnn_conv2d_forward_desc, the exact adjoints of its sum:
 *    da_prev [m][n_H_prev][n_W_prev][n_C_prev]: each a_prev element gets
 *            w[fy][fx][k][o] * dz[i][y][x][o] for every (y, x, fy, fx, o)
 *            whose tap reads it (pad positions dropped);
 *    dw      [fh][fw][n_C_prev / groups][n_C]: sum over (i, y, x) of
 *            a_prev_pad[...tap...][g*cpg + k] * dz[i][y][x][o];
 *    db      [1][1][1][n_C]: sum of dz over m, n_H and n_W.
 *  dz: [m][n_H][n_W][n_C]; a_prev, w and d as in the forward call.  Each of
 *  da_prev, dw and db may be NULL to skip it; what is computed does not
 *  depend on which others are asked for.  The host backend accumulates over
 *  (i, y, x, o, fy, fx, k) in that nesting, as clcnn_conv2d_backward does,
 *  so the notebook's form gives exactly its bytes; an OpenCL context runs
 *  the notebook's form with clcnn_conv2d_backward's kernels and fails any
 *  other form with CLCNN_ERR_UNSUPPORTED (outputs untouched), as the forward.
 *  Errors: as clcnn_conv2d_forward_desc, plus CLCNN_ERR_INVALID_ARGUMENT
 *  when two outputs are the same tensor or an output is an input, and
 *  CLCNN_ERR_SHAPE when dz, da_prev, dw or db has the wrong shape. */
CLCNN_API clcnn_status clcnn_conv2d_backward_desc(clcnn_context *ctx, const clcnn_tensor *dz,
                                                  const clcnn_tensor *a_prev, const clcnn_tensor *w,
                                                  const clcnn_conv_desc *d, clcnn_tensor *da_prev,
                                                  clcnn_tensor *dw, clcnn_tensor *db);

/** a = max or mean of each f x f window of a_prev, the notebook's
 *  pool_forward.  a_prev: [m][n_H_prev][n_W_prev][n_C]; a: [m][n_H][n_W][n_C]
 *  from clcnn_pool2d_output_shape.  A window holding NaN has NaN as its max.
 *  The mean is the window's sum divided by f*f; the OpenCL backend sums in
 *  the tensor's dtype (as cuDNN and PyTorch do), so a window whose sum
 *  exceeds the dtype's range gives +-inf there although the mean would fit,
 *  while the host path sums in double.
 *  Errors: CLCNN_ERR_INVALID_ARGUMENT (NULL, f < 1, stride < 1, unknown mode,
 *  dtype mismatch, another context, a == a_prev), CLCNN_ERR_SHAPE (window
 *  larger than the input, a's shape), CLCNN_ERR_OUT_OF_MEMORY,
 *  CLCNN_ERR_DEVICE, CLCNN_ERR_BUILD, CLCNN_ERR_UNSUPPORTED. */
CLCNN_API clcnn_status clcnn_pool2d_forward(clcnn_context *ctx, const clcnn_tensor *a_prev,
                                            clcnn_pool_params p, clcnn_tensor *a);

/** da_prev = gradient of pooling, the notebook's pool_backward.
 *  Max: each da value goes to every position of its window whose value equals
 *  the window's maximum (the notebook's x == max(x) mask, so ties all receive
 *  it; a window holding NaN passes nothing back).  Average: each da value is
 *  spread as da / (f*f) over its window.  Overlapping windows (stride < f) add
 *  up.  da: [m][n_H][n_W][n_C] (the forward output's shape); a_prev and
 *  da_prev: [m][n_H_prev][n_W_prev][n_C].
 *  Errors: as clcnn_pool2d_forward, plus CLCNN_ERR_SHAPE for da's shape. */
CLCNN_API clcnn_status clcnn_pool2d_backward(clcnn_context *ctx, const clcnn_tensor *da,
                                             const clcnn_tensor *a_prev, clcnn_pool_params p,
                                             clcnn_tensor *da_prev);

/* ------------------------------------------------------------------------ */
/* Pooling with general parameters                                            */
/* ------------------------------------------------------------------------ */

/** Which positions of a max-pooling window receive its gradient.
 *  ALL_TIES: every position whose value equals the window's maximum (the
 *  notebook's x == max(x) mask; a window whose maximum is NaN passes
 *  nothing back).  FIRST_MAX: only the position the forward took the
 *  maximum from, the first in row-major window order that equals it (the
 *  tie rule of PyTorch, cuDNN and ONNX), or the first NaN when the window
 *  holds one.  The two agree wherever every window has a single maximum. */
typedef enum { CLCNN_POOL_ALL_TIES = 0, CLCNN_POOL_FIRST_MAX } clcnn_pool_max_rule;

/** Pooling hyper-parameters, passed by const pointer.
 *
 *  Shapes: a_prev [m][n_H_prev][n_W_prev][n_C], a [m][n_H][n_W][n_C].  The
 *  window of output (h, w) has fh x fw taps; tap (y, x), y < fh, x < fw,
 *  reads a_prev row h*stride_h - pad_top + y*dilation_h and column
 *  w*stride_w - pad_left + x*dilation_w.  Taps outside a_prev fall in the
 *  padding.  Per axis, with n the input size, pb and pe the pads before and
 *  after, f the window, s the stride and e = dilation*(f-1) + 1 the window's
 *  extent:
 *    floor mode (ceil_mode 0):  out = floor((n + pb + pe - e) / s) + 1
 *    ceil mode  (ceil_mode 1):  out = ceil((n + pb + pe - e) / s) + 1, less
 *        one when the last window would start at or past n + pb, i.e.
 *        entirely in the end padding (PyTorch's rule).
 *
 *  Max: padding never wins; a window's maximum is over its taps inside
 *  a_prev only (every window has at least one: a desc whose dilation lets a
 *  window skip over the input entirely is rejected).  A window holding NaN
 *  has NaN as its maximum (the first NaN in row-major order).
 *  Average (dilation 1): the sum of the window's taps inside a_prev,
 *  divided with count_include_pad 1 by the window's taps within the padded
 *  input (fh*fw, except that a ceil-mode window running past the end
 *  padding counts only its taps within input and pads, PyTorch's rule), and
 *  with count_include_pad 0 by its taps inside a_prev.
 *  Backward: each da value goes to the window's taps inside a_prev (max:
 *  per max_rule; average: da / the forward's divisor each); overlapping
 *  windows add up, in the order of the windows.  Padding takes no gradient.
 *
 *  Fields (clcnn_pool2d_output_shape_desc lists what it rejects):
 *    fh, fw               window, >= 1
 *    stride_h, stride_w   >= 1
 *    pad_top, pad_bottom, pad_left, pad_right
 *                         zeros per side, >= 0 and below the window on
 *                         that axis (fh for top and bottom, fw for left and
 *                         right)
 *    dilation_h, dilation_w  >= 1: taps dilation apart; > 1 only for max
 *    ceil_mode            0 floor, 1 ceil
 *    count_include_pad    0 or 1, read only by average pooling
 *    mode                 CLCNN_POOL_MAX or CLCNN_POOL_AVG
 *    max_rule             read only by a max pooling's backward
 *
 *  The OpenCL backend runs the notebook's form: fh == fw, stride_h ==
 *  stride_w, no padding, dilation 1, floor mode, and for a max backward
 *  ALL_TIES (count_include_pad does not matter without padding), on the
 *  kernels of clcnn_pool2d_forward and clcnn_pool2d_backward, with their
 *  results bit for bit.  Any other desc gives CLCNN_ERR_UNSUPPORTED there
 *  ("<function>: <what> is not yet supported on the OpenCL backend; use a
 *  host context"); the host backend runs every valid desc. */
typedef struct {
    int fh, fw;
    int stride_h, stride_w;
    int pad_top, pad_bottom, pad_left, pad_right;
    int dilation_h, dilation_w;
    int ceil_mode;
    int count_include_pad;
    clcnn_pool_mode mode;
    clcnn_pool_max_rule max_rule;
} clcnn_pool_desc;

/** The desc of the notebook's pooling p: an f x f window, both strides
 *  p.stride, no padding, dilation 1, floor mode, count_include_pad 1,
 *  p.mode, ALL_TIES; it gives clcnn_pool2d_forward's and
 *  clcnn_pool2d_backward's results bit for bit.  p is copied unchecked:
 *  the calls taking the desc validate it. */
CLCNN_API clcnn_pool_desc clcnn_pool_desc_from_params(clcnn_pool_params p);

/** The desc of global pooling over inputs of shape a_prev_dims = {m,
 *  n_H_prev, n_W_prev, n_C}: an n_H_prev x n_W_prev window, strides 1, no
 *  padding, dilation 1, floor mode, count_include_pad 1, mode, ALL_TIES;
 *  the output is [m][1][1][n_C].  A NULL a_prev_dims gives a 0 x 0 window,
 *  which the calls taking the desc reject, as they do bad dimensions. */
CLCNN_API clcnn_pool_desc clcnn_pool_desc_global(const int a_prev_dims[4], clcnn_pool_mode mode);

/** Output size of pooling with desc d: out_dims = {m, n_H, n_W, n_C} for
 *  a_prev_dims = {m, n_H_prev, n_W_prev, n_C}, n_H and n_W by the formulas
 *  of clcnn_pool_desc.
 *  Errors: CLCNN_ERR_INVALID_ARGUMENT (a_prev_dims, d or out_dims NULL, a
 *  dimension < 1, fh, fw, a stride or a dilation < 1, a dilation > 1 with
 *  average pooling, a pad < 0 or not below its axis's window, ceil_mode or
 *  count_include_pad not 0 or 1, unknown mode or max_rule, a padded input
 *  size that overflows int), CLCNN_ERR_SHAPE (the window's extent larger
 *  than the padded input, or a dilated window with no tap inside the
 *  input).  Messages go to clcnn_last_error(NULL). */
CLCNN_API clcnn_status clcnn_pool2d_output_shape_desc(const int a_prev_dims[4], const clcnn_pool_desc *d,
                                                      int out_dims[4]);

/** a = the max or average of each window of a_prev, as clcnn_pool_desc
 *  defines them.  a_prev: [m][n_H_prev][n_W_prev][n_C]; a: [m][n_H][n_W][n_C]
 *  from clcnn_pool2d_output_shape_desc.
 *  Errors: CLCNN_ERR_INVALID_ARGUMENT (NULL ctx, a_prev, d or a, dtype
 *  mismatch, another context, a == a_prev, any value that
 *  clcnn_pool2d_output_shape_desc rejects with it), CLCNN_ERR_SHAPE (as
 *  clcnn_pool2d_output_shape_desc, a's shape), CLCNN_ERR_UNSUPPORTED (on
 *  an OpenCL context, a desc beyond the notebook's form, or F64 without
 *  cl_khr_fp64), CLCNN_ERR_OUT_OF_MEMORY, CLCNN_ERR_DEVICE, CLCNN_ERR_BUILD. */
CLCNN_API clcnn_status clcnn_pool2d_forward_desc(clcnn_context *ctx, const clcnn_tensor *a_prev,
                                                 const clcnn_pool_desc *d, clcnn_tensor *a);

/** da_prev = the gradient of clcnn_pool2d_forward_desc (clcnn_pool_desc
 *  says where each da value goes).  da: [m][n_H][n_W][n_C] (the forward
 *  output's shape); a_prev and da_prev: [m][n_H_prev][n_W_prev][n_C].
 *  Errors: as clcnn_pool2d_forward_desc, plus CLCNN_ERR_INVALID_ARGUMENT
 *  when da_prev is da or a_prev, and CLCNN_ERR_SHAPE for da's and
 *  da_prev's shapes. */
CLCNN_API clcnn_status clcnn_pool2d_backward_desc(clcnn_context *ctx, const clcnn_tensor *da,
                                                  const clcnn_tensor *a_prev, const clcnn_pool_desc *d,
                                                  clcnn_tensor *da_prev);

/* ------------------------------------------------------------------------ */
/* The notebook's step functions (host, plain arrays, double precision)        */
/* ------------------------------------------------------------------------ */

/** sum(a_slice * w) + b over row-major [fh][fw][c] arrays: conv_single_step.
 *  Returns NaN when a pointer is NULL or a dimension < 1. */
CLCNN_API double clcnn_conv_single_step(const double *a_slice, const double *w, double b, int fh, int fw,
                                        int c);

/** mask[i] = (x[i] == max(x)) over a row-major [rows][cols] window:
 *  create_mask_from_window.  Ties all get 1; a window holding NaN gets all 0.
 *  Does nothing when a pointer is NULL or a dimension < 1. */
CLCNN_API void clcnn_mask_from_window(const double *x, int rows, int cols, unsigned char *mask);

/** out[i] = dz / (rows*cols) over a row-major [rows][cols] array:
 *  distribute_value.  Does nothing when out is NULL or a dimension < 1. */
CLCNN_API void clcnn_distribute_value(double dz, int rows, int cols, double *out);

#ifdef __cplusplus
}
#endif

#endif /* CLCNN_H */
