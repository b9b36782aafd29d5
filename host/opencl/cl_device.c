/* cl_device.c - choosing an OpenCL device (AUTO: GPU, then accelerator, then
 * CPU; or what the device string names), opening a context and queue on it,
 * adopting a caller's objects, and releasing everything. */
#include "cl_backend.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_DEVICES = 64 };

typedef struct {
    cl_platform_id platform;
    cl_device_id device;
    cl_device_type type;
    char name[256];
} device_entry;

static const char *type_name(cl_device_type t)
{
    if (t & CL_DEVICE_TYPE_GPU)
        return "GPU";
    if (t & CL_DEVICE_TYPE_ACCELERATOR)
        return "accelerator";
    if (t & CL_DEVICE_TYPE_CPU)
        return "CPU";
    return "other";
}

/* AUTO's preference: lower is better. */
static int type_rank(cl_device_type t)
{
    if (t & CL_DEVICE_TYPE_GPU)
        return 0;
    if (t & CL_DEVICE_TYPE_ACCELERATOR)
        return 1;
    if (t & CL_DEVICE_TYPE_CPU)
        return 2;
    return 3;
}

/* Every device of every platform, in platform then device order. */
static cl_int list_devices(device_entry *out, int *count)
{
    cl_platform_id platforms[16];
    cl_uint np = 0;
    *count = 0;
    cl_int err = clGetPlatformIDs(16, platforms, &np);
    if (err != CL_SUCCESS)
        return err;
    for (cl_uint p = 0; p < np && p < 16; p++) {
        cl_device_id ids[MAX_DEVICES];
        cl_uint nd = 0;
        if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, MAX_DEVICES, ids, &nd) != CL_SUCCESS)
            continue;
        for (cl_uint d = 0; d < nd && d < MAX_DEVICES && *count < MAX_DEVICES; d++) {
            device_entry *e = &out[(*count)++];
            e->platform = platforms[p];
            e->device = ids[d];
            e->type = 0;
            clGetDeviceInfo(ids[d], CL_DEVICE_TYPE, sizeof e->type, &e->type, NULL);
            e->name[0] = '\0';
            clGetDeviceInfo(ids[d], CL_DEVICE_NAME, sizeof e->name, e->name, NULL);
            e->name[sizeof e->name - 1] = '\0';
        }
    }
    return CL_SUCCESS;
}

static int contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return 1;
    }
    return n == 0;
}

static int equals_nocase(const char *a, const char *b)
{
    return strlen(a) == strlen(b) && contains_nocase(a, b);
}

/* The index of the device a non-empty spec selects ("gpu", "cpu",
 * "accelerator", an index, or part of the name), or -1. */
static int select_device(const device_entry *d, int n, const char *spec)
{
    cl_device_type want = 0;
    if (equals_nocase(spec, "gpu"))
        want = CL_DEVICE_TYPE_GPU;
    else if (equals_nocase(spec, "cpu"))
        want = CL_DEVICE_TYPE_CPU;
    else if (equals_nocase(spec, "accelerator"))
        want = CL_DEVICE_TYPE_ACCELERATOR;
    if (want) {
        for (int i = 0; i < n; i++)
            if (d[i].type & want)
                return i;
        return -1;
    }
    int digits = 1;
    for (const char *c = spec; *c; c++)
        digits &= isdigit((unsigned char)*c) != 0;
    if (digits) {
        long idx = strtol(spec, NULL, 10);
        return idx < n ? (int)idx : -1;
    }
    for (int i = 0; i < n; i++)
        if (contains_nocase(d[i].name, spec))
            return i;
    return -1;
}

/* A development switch: 1 or 0 when environment variable `name` is "1" or
 * "0", else -1 (unset or anything else: the default applies). */
static int env_switch(const char *name)
{
    const char *v = getenv(name);
    return v && (strcmp(v, "0") == 0 || strcmp(v, "1") == 0) ? v[0] - '0' : -1;
}

/* The tiled kernels' TILE_M, TILE_N, TILE_K, REG_M, REG_N and TILE_VEC
 * (conv_tiled.cl): 64, 64, 16, 4, 4, 0, or
 * CLCNN_CONV_TILE="M:N:K:RM:RN[:V]" where those are powers of two that the
 * kernel's staging can share out and the device can run: RM and RN divide
 * the tile, RM x RN at most 64 accumulators, the work-items (M/RM x N/RN) a
 * multiple of TILE_K and TILE_N that divides TILE_M*TILE_K and
 * TILE_N*TILE_K (the backward filter's staging of A^T also wants a
 * multiple of TILE_M: clcnn__conv_tiled_filter), at most 1024 and the device's
 * work-group limit, and the staged tiles of F64 within its local memory
 * (tile_fits); V, 0 or 1 (0 when left out), with 1 RM and RN at most 16,
 * the widest vector. Anything else leaves the defaults; where those do not
 * fit the device either, the tiled kernel is not used. */
static int tile_fits(const struct clcnn_cl *cl, const int v[6])
{
    size_t max_group = 0;
    cl_ulong local_mem = 0;
    clGetDeviceInfo(cl->device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof max_group, &max_group, NULL);
    clGetDeviceInfo(cl->device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof local_mem, &local_mem, NULL);
    /* as[K][M + PAD_A] and ws[K][N] of doubles, inside[K][M + PAD_A] of
     * chars; PAD_A is RM with V, else 1; each array aligned to 128 bytes */
    const cl_ulong row_a = (cl_ulong)v[0] + (cl_ulong)(v[5] ? v[3] : 1);
    const cl_ulong staged = (cl_ulong)v[2] * (row_a * 9 + (cl_ulong)v[1] * 8) + 3 * 128;
    return clcnn__cl_tile_threads(v) <= max_group && staged <= local_mem;
}

static void tile_sizes(struct clcnn_cl *cl)
{
    static const int defaults[6] = {64, 64, 16, 4, 4, 0};
    int v[6] = {0, 0, 0, 0, 0, 0};
    const char *e = getenv("CLCNN_CONV_TILE");
    memcpy(cl->conv_tile, defaults, sizeof defaults);
    cl->tile_fits = tile_fits(cl, defaults);
    int five = -1, six = -1; /* characters read after 5 and after 6 fields */
    if (!e || sscanf(e, "%d:%d:%d:%d:%d%n:%d%n", &v[0], &v[1], &v[2], &v[3], &v[4], &five, &v[5], &six) < 5 ||
        !(six >= 0 ? e[six] == '\0' : five >= 0 && e[five] == '\0'))
        return;
    for (int i = 0; i < 5; i++)
        if (v[i] < 1 || v[i] > 256 || (v[i] & (v[i] - 1)))
            return;
    if (v[3] > v[0] || v[4] > v[1] || v[3] * v[4] > 64 || v[5] < 0 || v[5] > 1 ||
        (v[5] && (v[3] > 16 || v[4] > 16)))
        return;
    const int threads = (int)clcnn__cl_tile_threads(v);
    if (threads > 1024 || threads % v[2] || threads % v[1] || (v[0] * v[2]) % threads ||
        (v[1] * v[2]) % threads)
        return;
    if (tile_fits(cl, v))
        memcpy(cl->conv_tile, v, sizeof v), cl->tile_fits = 1;
}

/* The device's name, driver version and floating-point support. */
static void describe_identity(clcnn_context *ctx)
{
    struct clcnn_cl *cl = ctx->cl;
    ctx->device_name[0] = '\0';
    clGetDeviceInfo(cl->device, CL_DEVICE_NAME, sizeof ctx->device_name, ctx->device_name, NULL);
    ctx->device_name[sizeof ctx->device_name - 1] = '\0';
    cl->driver_version[0] = '\0';
    clGetDeviceInfo(cl->device, CL_DRIVER_VERSION, sizeof cl->driver_version, cl->driver_version, NULL);
    cl->driver_version[sizeof cl->driver_version - 1] = '\0';
    char ext[8192] = "";
    size_t len = 0;
    if (clGetDeviceInfo(cl->device, CL_DEVICE_EXTENSIONS, sizeof ext - 1, ext, &len) == CL_SUCCESS)
        ext[len < sizeof ext ? len : sizeof ext - 1] = '\0';
    cl_device_fp_config fp64 = 0;
    clGetDeviceInfo(cl->device, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof fp64, &fp64, NULL);
    cl->fp64 = strstr(ext, "cl_khr_fp64") != NULL || fp64 != 0;
    /* OpenCL lets F32 division be 2.5 ulp off unless the program is built
     * with -cl-fp32-correctly-rounded-divide-sqrt, which a device offers
     * with this bit; average pooling divides, and must match the reference
     * (NVIDIA's driver does divide inexactly without the option). */
    cl_device_fp_config fp32 = 0;
    clGetDeviceInfo(cl->device, CL_DEVICE_SINGLE_FP_CONFIG, sizeof fp32, &fp32, NULL);
    cl->fp32_div_exact = (fp32 & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) != 0;
    /* For testing the F64-unsupported path on devices that have fp64. */
    const char *no_fp64 = getenv("CLCNN_DISABLE_FP64");
    if (no_fp64 && *no_fp64 && strcmp(no_fp64, "0") != 0)
        cl->fp64 = 0;
}

/* Blocking defaults by device type: CPUs have wide vector units and few
 * threads, GPUs many threads with fewer registers each. */
static void describe_defaults(struct clcnn_cl *cl)
{
    cl_device_type type = 0;
    clGetDeviceInfo(cl->device, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    /* CLCNN_DEVICE_PROFILE=gpu: take the GPU defaults and heuristics on any
     * device, so that the GPU code paths run (and are tested) on PoCL. */
    const char *profile = getenv("CLCNN_DEVICE_PROFILE");
    if (profile && strcmp(profile, "gpu") == 0)
        type = CL_DEVICE_TYPE_GPU;
    cl->cpu = (type & CL_DEVICE_TYPE_CPU) != 0;
    cl->conv_px = (type & CL_DEVICE_TYPE_CPU) ? 4 : 2;
    /* With 16-wide float vectors (AVX-512, 32 vector registers), a CPU
     * takes 4 to 7 pixels per work-item, chosen per shape
     * (conv/conv_forward.c); with 8 (AVX2, 16 registers) 7 pixels'
     * accumulators would not fit, and it keeps 4. */
    cl_uint native = 0;
    clGetDeviceInfo(cl->device, CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT, sizeof native, &native, NULL);
    cl->wide_vectors = native >= 16;
    cl->conv_px_shape = cl->cpu && cl->wide_vectors;
    cl->conv_max_oc = (type & CL_DEVICE_TYPE_CPU) ? 16 : 4;
    /* Backward filter: 6 input channels x N filters per work-item on CPUs
     * (12 of the 16 AVX registers hold accumulators; each dz vector, read
     * from L2 once per position, serves 6 channels), 8 with 16-wide
     * vectors (16 of 32 registers; measured: see
     * docs/performance/conv-choice-rules.md), 4 on GPUs. */
    cl->filter_kb = cl->cpu ? (cl->wide_vectors ? 8 : 6) : 4;
    /* The direct forward's weights in blocks of N channels, each work-item's
     * weights one contiguous run (conv_forward.cl, WEIGHTS_AT), on CPUs; GPUs read
     * HWIO, where neighbouring work-items read neighbouring vectors. */
    cl->conv_blocked = cl->cpu;
}

/* Kernel-development overrides (README: environment variables). */
static void read_overrides(struct clcnn_cl *cl)
{
    const int blocked = env_switch("CLCNN_CONV_BLOCKED");
    if (blocked >= 0)
        cl->conv_blocked = blocked;
    cl->conv_order = env_switch("CLCNN_CONV_PIXEL_MAJOR");
    cl->filter_blocked = env_switch("CLCNN_FILTER_BLOCKED");
    cl->conv_flat = env_switch("CLCNN_CONV_FLAT");
    cl->conv_tiled = env_switch("CLCNN_CONV_TILED");
    tile_sizes(cl);
    const char *px = getenv("CLCNN_CONV_PX"), *oc = getenv("CLCNN_CONV_OC");
    if (px && strcmp(px, "shape") == 0) /* the per-shape choice on any device (tests) */
        cl->conv_px_shape = 1;
    else if (px && atoi(px) >= 1 && atoi(px) <= CLCNN_MAX_PX)
        cl->conv_px = atoi(px), cl->conv_px_shape = 0;
    if (oc && atoi(oc) >= 1 && atoi(oc) <= 16)
        cl->conv_max_oc = atoi(oc);
    const char *cg = getenv("CLCNN_CONV_CGROUP");
    cl->conv_cgroup = cg && atoi(cg) >= 1 && atoi(cg) <= 1024 ? atoi(cg) : 0;
    const char *kb = getenv("CLCNN_FILTER_KB");
    if (kb && atoi(kb) >= 1 && atoi(kb) <= 16)
        cl->filter_kb = atoi(kb);
}

/* The device's allocation, compute-unit and alignment limits. */
static void describe_limits(struct clcnn_cl *cl)
{
    cl->max_alloc = 0;
    clGetDeviceInfo(cl->device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof cl->max_alloc, &cl->max_alloc, NULL);
    cl->units = 1;
    clGetDeviceInfo(cl->device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cl->units, &cl->units, NULL);
    if (cl->units < 1)
        cl->units = 1;
    cl_uint align_bits = 0;
    clGetDeviceInfo(cl->device, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof align_bits, &align_bits, NULL);
    cl->base_align = align_bits >= 64 ? align_bits / 8 : 8;
    /* CLBlast's kernels index with int: at most INT_MAX elements from a
     * matrix's offset. CLCNN_GEMM_INDEX_LIMIT lowers it (at least 1024), so
     * that tests of ordinary size take the paths of tensors past 2^31
     * elements (sub-buffer views, smaller chunks). */
    const char *gi = getenv("CLCNN_GEMM_INDEX_LIMIT");
    const long gl = gi ? atol(gi) : 0;
    cl->gemm_index = gl >= 1024 && gl <= INT_MAX ? (size_t)gl : (size_t)INT_MAX;
}

/* Reads the device's name, fp64 support, defaults, the overrides of them,
 * and its limits into ctx. */
static void describe_device(clcnn_context *ctx)
{
    describe_identity(ctx);
    describe_defaults(ctx->cl);
    read_overrides(ctx->cl);
    describe_limits(ctx->cl);
}

static struct clcnn_cl *new_state(void)
{
    struct clcnn_cl *cl = clcnn__malloc(sizeof *cl);
    if (cl)
        memset(cl, 0, sizeof *cl);
    return cl;
}

/* Whether the device can run clcnn: available, with a compiler. */
static int usable(const device_entry *d)
{
    cl_bool available = CL_FALSE, compiler = CL_FALSE;
    clGetDeviceInfo(d->device, CL_DEVICE_AVAILABLE, sizeof available, &available, NULL);
    clGetDeviceInfo(d->device, CL_DEVICE_COMPILER_AVAILABLE, sizeof compiler, &compiler, NULL);
    return available && compiler;
}

/* Opens a context and an in-order profiling queue on device d (index idx)
 * into ctx->cl; on failure writes the reason into why. */
static clcnn_status open_device(clcnn_context *ctx, const device_entry *d, int idx, char *why, size_t why_len)
{
    struct clcnn_cl *cl = new_state();
    if (!cl) {
        snprintf(why, why_len, "out of host memory");
        return CLCNN_ERR_OUT_OF_MEMORY;
    }
    const cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)d->platform, 0};
    cl_int err;
    cl->device = d->device;
    const char *what = "clCreateContext";
    cl->context = clCreateContext(props, 1, &cl->device, NULL, NULL, &err);
    if (err == CL_SUCCESS) {
        what = "clCreateCommandQueue";
        cl->queue = clCreateCommandQueue(cl->context, cl->device, CL_QUEUE_PROFILING_ENABLE, &err);
    }
    if (err != CL_SUCCESS) {
        snprintf(why, why_len, "opening OpenCL device %d \"%s\": %s failed with %s (%d)", idx, d->name, what,
                 clcnn__cl_error_name(err), (int)err);
        if (cl->context)
            clReleaseContext(cl->context);
        clcnn__free(cl);
        return clcnn__cl_status(err);
    }
    ctx->cl = cl;
    describe_device(ctx);
    return CLCNN_OK;
}

clcnn_status clcnn__cl_open(clcnn_context *ctx, const char *spec, char *why, size_t why_len)
{
    device_entry devs[MAX_DEVICES];
    int n = 0;
    cl_int err = list_devices(devs, &n);
    if (err != CL_SUCCESS || n == 0) {
        if (err == CL_SUCCESS || err == -1001)
            snprintf(why, why_len, "no OpenCL platform or device was found");
        else
            snprintf(why, why_len, "clGetPlatformIDs failed with %s (%d)", clcnn__cl_error_name(err),
                     (int)err);
        return CLCNN_ERR_NO_DEVICE;
    }
    if (spec && *spec) {
        int pick = select_device(devs, n, spec);
        if (pick >= 0)
            return open_device(ctx, &devs[pick], pick, why, why_len);
        int w = snprintf(why, why_len, "no OpenCL device matches \"%.64s\"; the devices are:", spec);
        for (int i = 0; i < n && w >= 0 && (size_t)w < why_len; i++)
            w += snprintf(why + w, why_len - (size_t)w, " %d \"%s\" (%s)%s", i, devs[i].name,
                          type_name(devs[i].type), i + 1 < n ? "," : "");
        return CLCNN_ERR_NO_DEVICE;
    }
    /* No device named: GPUs, then accelerators, then CPUs (then others), in
     * enumeration order, skipping unusable devices and those that fail to open. */
    clcnn_status s = CLCNN_ERR_NO_DEVICE;
    snprintf(why, why_len, "no OpenCL device is available with a compiler");
    for (int rank = 0; rank < 4; rank++)
        for (int i = 0; i < n; i++)
            if (type_rank(devs[i].type) == rank && usable(&devs[i]) &&
                (s = open_device(ctx, &devs[i], i, why, why_len)) == CLCNN_OK)
                return CLCNN_OK;
    return s;
}

clcnn_status clcnn__cl_wrap(clcnn_context *ctx, cl_context context, cl_device_id device,
                            cl_command_queue queue)
{
    static const char fn[] = "clcnn_context_create_cl";
    cl_context qctx = NULL;
    cl_device_id qdev = NULL;
    cl_command_queue_properties qprops = 0;
    cl_int err = clGetCommandQueueInfo(queue, CL_QUEUE_CONTEXT, sizeof qctx, &qctx, NULL);
    if (err == CL_SUCCESS)
        err = clGetCommandQueueInfo(queue, CL_QUEUE_DEVICE, sizeof qdev, &qdev, NULL);
    if (err == CL_SUCCESS)
        err = clGetCommandQueueInfo(queue, CL_QUEUE_PROPERTIES, sizeof qprops, &qprops, NULL);
    if (err != CL_SUCCESS)
        return clcnn__fail(NULL, CLCNN_ERR_INVALID_ARGUMENT, "%s: queue is not a valid command queue (%s)",
                           fn, clcnn__cl_error_name(err));
    if (qctx != context)
        return clcnn__fail(NULL, CLCNN_ERR_INVALID_ARGUMENT,
                           "%s: queue belongs to another cl_context than context", fn);
    if (qdev != device)
        return clcnn__fail(NULL, CLCNN_ERR_INVALID_ARGUMENT, "%s: queue is on another device than device",
                           fn);
    if (qprops & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE)
        return clcnn__fail(NULL, CLCNN_ERR_INVALID_ARGUMENT,
                           "%s: queue is out-of-order; clcnn needs an in-order queue", fn);
    struct clcnn_cl *cl = new_state();
    if (!cl)
        return clcnn__fail(NULL, CLCNN_ERR_OUT_OF_MEMORY, "%s: out of host memory", fn);
    clRetainContext(context);
    clRetainDevice(device);
    clRetainCommandQueue(queue);
    cl->context = context;
    cl->device = device;
    cl->queue = queue;
    ctx->cl = cl;
    describe_device(ctx);
    return CLCNN_OK;
}

void clcnn__cl_close(clcnn_context *ctx)
{
    struct clcnn_cl *cl = ctx->cl;
    if (!cl)
        return;
    if (cl->queue)
        clFinish(cl->queue);
    clcnn__free(cl->tuned);
    for (int k = 0; k < CLCNN_N_KERNELS; k++)
        for (int d = 0; d < 2; d++)
            for (int x = 0; x < CLCNN_MAX_PX; x++)
                if (cl->kernels[k][d][x].k)
                    clReleaseKernel(cl->kernels[k][d][x].k);
    for (int p = 0; p < CLCNN_N_PROGRAMS; p++)
        for (int d = 0; d < 2; d++)
            for (int w = 0; w < CLCNN_PROGRAM_SLOTS; w++)
                for (int x = 0; x < CLCNN_MAX_PX; x++)
                    if (cl->programs[p][d][w][x])
                        clReleaseProgram(cl->programs[p][d][w][x]);
    for (size_t slot = 0; slot < sizeof cl->scratch / sizeof cl->scratch[0]; slot++)
        if (cl->scratch[slot])
            clReleaseMemObject(cl->scratch[slot]);
    if (cl->queue)
        clReleaseCommandQueue(cl->queue);
    if (cl->device)
        clReleaseDevice(cl->device);
    if (cl->context)
        clReleaseContext(cl->context);
    clcnn__free(cl);
    ctx->cl = NULL;
}

clcnn_status clcnn__cl_finish(clcnn_context *ctx)
{
    cl_int err = clFinish(ctx->cl->queue);
    return err == CL_SUCCESS ? CLCNN_OK : clcnn__cl_fail(ctx, err, "clcnn_finish", "clFinish");
}
