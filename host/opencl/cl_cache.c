/* cl_cache.c - the on-disk cache of built program binaries (cl_cache.h):
 * naming the folder and the entry, reading and checking an entry, and
 * writing one through a temporary file renamed into place. Every failure
 * is silent and falls back to building from source. */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* open flags, mkdir, fstat, getpid, clock_gettime */
#endif

#include "cl_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(_WIN32)
/* No cache on Windows (yet): every program is built from source. */
cl_program clcnn__cl_cache_load(const struct clcnn_cl *cl, const char *src, const char *options)
{
    (void)cl, (void)src, (void)options;
    return NULL;
}

void clcnn__cl_cache_store(const struct clcnn_cl *cl, const char *src, const char *options, cl_program prog)
{
    (void)cl, (void)src, (void)options, (void)prog;
}

int clcnn__cl_cache_folder(char *out, size_t len)
{
    (void)out, (void)len;
    return 0;
}
#else

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef CLCNN_VERSION_STRING
#error "CLCNN_VERSION_STRING (the project version) must be defined by the build"
#endif

/* Entries larger than this are not read (a sanity bound: real ones hold a
 * few hundred KiB). */
#define MAX_ENTRY_BYTES ((size_t)1 << 30)

/* What identifies one cache entry. */
typedef struct {
    unsigned char *material; /* the key material (heap), see cl_cache.h */
    size_t len;
    uint64_t hash;
    char dir[4096];       /* the cache folder */
    char path[4096 + 64]; /* dir/<hash>.clbin */
} cache_key;

/* The cache folder into out (len bytes); 0 when the cache is off or no
 * folder can be named (or the name is too long). */
static int cache_dir(char *out, size_t len)
{
    const char *v = getenv("CLCNN_CACHE");
    if (v && strcmp(v, "0") == 0)
        return 0;
    int n;
    if ((v = getenv("CLCNN_CACHE_DIR")) && *v)
        n = snprintf(out, len, "%s", v);
    else if ((v = getenv("XDG_CACHE_HOME")) && v[0] == '/') /* relative values are invalid (XDG spec) */
        n = snprintf(out, len, "%s/clcnn", v);
    else if ((v = getenv("HOME")) && *v)
        n = snprintf(out, len, "%s/.cache/clcnn", v);
    else
        return 0;
    return n > 0 && (size_t)n < len;
}

/* A device (platform NULL) or platform information string in a new heap
 * string, or NULL. */
static char *info_string(cl_device_id device, cl_platform_id platform, cl_uint what)
{
    size_t n = 0;
    cl_int err = platform ? clGetPlatformInfo(platform, what, 0, NULL, &n)
                          : clGetDeviceInfo(device, what, 0, NULL, &n);
    char *s = err == CL_SUCCESS ? clcnn__malloc(n + 1) : NULL;
    if (!s)
        return NULL;
    err =
        platform ? clGetPlatformInfo(platform, what, n, s, NULL) : clGetDeviceInfo(device, what, n, s, NULL);
    if (err != CL_SUCCESS) {
        clcnn__free(s);
        return NULL;
    }
    s[n] = '\0';
    return s;
}

/* Fills k for (src, options) on cl's device; 0 (k holding nothing to free)
 * when the cache is off or something is missing. */
static int key_make(const struct clcnn_cl *cl, const char *src, const char *options, cache_key *k)
{
    k->material = NULL;
    if (!cache_dir(k->dir, sizeof k->dir))
        return 0;
    enum { N_INFO = 4, N_PARTS = 3 + N_INFO };
    cl_platform_id platform = NULL;
    char *info[N_INFO] = {
        info_string(cl->device, NULL, CL_DEVICE_NAME),
        info_string(cl->device, NULL, CL_DEVICE_VERSION),
        info_string(cl->device, NULL, CL_DRIVER_VERSION),
        clGetDeviceInfo(cl->device, CL_DEVICE_PLATFORM, sizeof platform, &platform, NULL) == CL_SUCCESS &&
                platform
            ? info_string(NULL, platform, CL_PLATFORM_VERSION)
            : NULL,
    };
    const char *parts[N_PARTS] = {
        "clcnn " CLCNN_VERSION_STRING, src, options, info[0], info[1], info[2], info[3]};
    int ok = 1;
    size_t total = 0;
    for (int i = 0; i < N_PARTS; i++) {
        ok = ok && parts[i];
        total += sizeof(uint64_t) + (parts[i] ? strlen(parts[i]) : 0);
    }
    if (ok && (k->material = clcnn__malloc(total)) != NULL) {
        /* Each part as its 8-byte length then its bytes, so that no two
         * different lists of parts give the same material. */
        unsigned char *p = k->material;
        for (int i = 0; i < N_PARTS; i++) {
            const uint64_t n = strlen(parts[i]);
            memcpy(p, &n, sizeof n);
            memcpy(p + sizeof n, parts[i], (size_t)n);
            p += sizeof n + (size_t)n;
        }
        k->len = total;
        k->hash = clcnn__fnv1a(CLCNN_FNV_OFFSET, k->material, total);
        snprintf(k->path, sizeof k->path, "%s/%016llx%s", k->dir, (unsigned long long)k->hash,
                 CLCNN_CACHE_SUFFIX);
    }
    for (int i = 0; i < N_INFO; i++)
        clcnn__free(info[i]);
    return k->material != NULL;
}

/* The whole of a regular file at path in a new heap buffer, or NULL. */
static unsigned char *read_file(const char *path, size_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    unsigned char *buf = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        (size_t)st.st_size <= MAX_ENTRY_BYTES && (buf = clcnn__malloc((size_t)st.st_size)) != NULL) {
        size_t got = 0;
        while (got < (size_t)st.st_size) {
            ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        if (got != (size_t)st.st_size) {
            clcnn__free(buf);
            buf = NULL;
        }
        *size = got;
    }
    close(fd);
    return buf;
}

/* The program in entry file `file` (size bytes) if it is whole, is for key
 * k, and the driver accepts and builds its binary with options; else NULL. */
static cl_program entry_program(const struct clcnn_cl *cl, const cache_key *k, const unsigned char *file,
                                size_t size, const char *options)
{
    clcnn_cache_header h;
    if (size < sizeof h)
        return NULL;
    memcpy(&h, file, sizeof h);
    if (memcmp(h.magic, CLCNN_CACHE_MAGIC, sizeof h.magic) != 0 || h.format != CLCNN_CACHE_FORMAT ||
        h.key_hash != k->hash || h.key_len != k->len || size - sizeof h < k->len || h.payload_len == 0 ||
        h.payload_len != size - sizeof h - k->len)
        return NULL;
    const unsigned char *key = file + sizeof h, *binary = key + k->len;
    const size_t binary_len = (size_t)h.payload_len;
    if (memcmp(key, k->material, k->len) != 0 ||
        clcnn__fnv1a(CLCNN_FNV_OFFSET, binary, binary_len) != h.payload_hash)
        return NULL;
    cl_int err, binary_status = CL_SUCCESS;
    cl_program prog =
        clCreateProgramWithBinary(cl->context, 1, &cl->device, &binary_len, &binary, &binary_status, &err);
    if (err != CL_SUCCESS || binary_status != CL_SUCCESS) {
        if (prog && err == CL_SUCCESS)
            clReleaseProgram(prog);
        return NULL;
    }
    if (clBuildProgram(prog, 1, &cl->device, options, NULL, NULL) != CL_SUCCESS) {
        clReleaseProgram(prog);
        return NULL;
    }
    return prog;
}

cl_program clcnn__cl_cache_load(const struct clcnn_cl *cl, const char *src, const char *options)
{
    cache_key k;
    if (!key_make(cl, src, options, &k))
        return NULL;
    size_t size = 0;
    unsigned char *file = read_file(k.path, &size);
    cl_program prog = file ? entry_program(cl, &k, file, size, options) : NULL;
    clcnn__free(file);
    clcnn__free(k.material);
    return prog;
}

/* Creates the folder path and its parents (like mkdir -p); 0 on success. */
static int make_dirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int bad = mkdir(path, 0700) != 0 && errno != EEXIST;
        *p = '/';
        if (bad)
            return -1;
    }
    return mkdir(path, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

int clcnn__cl_cache_folder(char *out, size_t len)
{
    return cache_dir(out, len) && make_dirs(out) == 0;
}

/* Writes n bytes to fd; 0 on success. */
static int write_all(int fd, const void *data, size_t n)
{
    const unsigned char *p = data;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w, n -= (size_t)w;
    }
    return 0;
}

/* Writes header, key material and binary to a new temporary file beside the
 * entry and renames it over the entry; 0 on success (nothing left behind on
 * failure). The temporary name holds the pid, a per-process counter and
 * clock bits, and is created exclusively, so concurrent writers (threads or
 * processes) never share one; the last rename wins, and every version is
 * whole. */
static int write_entry(const cache_key *k, const unsigned char *binary, size_t binary_len)
{
    static atomic_uint counter;
    const clcnn_cache_header h = {CLCNN_CACHE_MAGIC, CLCNN_CACHE_FORMAT,
                                  k->hash,           k->len,
                                  binary_len,        clcnn__fnv1a(CLCNN_FNV_OFFSET, binary, binary_len)};
    char tmp[sizeof k->path + 64];
    int fd = -1;
    for (int attempt = 0; attempt < 4 && fd < 0; attempt++) {
        struct timespec ts = {0, 0};
        clock_gettime(CLOCK_REALTIME, &ts);
        const uint64_t noise = clcnn__fnv1a(CLCNN_FNV_OFFSET, &ts, sizeof ts) ^ (uint64_t)(uintptr_t)&ts;
        snprintf(tmp, sizeof tmp, "%s.tmp-%ld-%u-%08x", k->path, (long)getpid(),
                 atomic_fetch_add(&counter, 1u), (unsigned)(noise ^ (noise >> 32)));
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 && errno != EEXIST)
            return -1;
    }
    if (fd < 0)
        return -1;
    int bad = write_all(fd, &h, sizeof h) || write_all(fd, k->material, k->len) ||
              write_all(fd, binary, binary_len);
    bad = close(fd) != 0 || bad;
    if (bad || rename(tmp, k->path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

void clcnn__cl_cache_store(const struct clcnn_cl *cl, const char *src, const char *options, cl_program prog)
{
    /* The program may belong to several devices (a caller's context): find
     * cl->device's binary and ask for that one alone. */
    cl_uint n_dev = 0;
    if (clGetProgramInfo(prog, CL_PROGRAM_NUM_DEVICES, sizeof n_dev, &n_dev, NULL) != CL_SUCCESS ||
        n_dev == 0)
        return;
    cl_device_id *devs = clcnn__malloc(n_dev * sizeof *devs);
    size_t *sizes = clcnn__malloc(n_dev * sizeof *sizes);
    unsigned char **ptrs = clcnn__malloc(n_dev * sizeof *ptrs);
    unsigned char *binary = NULL;
    cache_key k = {.material = NULL};
    cl_uint i = 0;
    if (!devs || !sizes || !ptrs ||
        clGetProgramInfo(prog, CL_PROGRAM_DEVICES, n_dev * sizeof *devs, devs, NULL) != CL_SUCCESS ||
        clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, n_dev * sizeof *sizes, sizes, NULL) != CL_SUCCESS)
        goto done;
    while (i < n_dev && devs[i] != cl->device)
        i++;
    if (i == n_dev || sizes[i] == 0 || (binary = clcnn__malloc(sizes[i])) == NULL)
        goto done;
    for (cl_uint j = 0; j < n_dev; j++)
        ptrs[j] = j == i ? binary : NULL; /* NULL: skip that device's binary */
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARIES, n_dev * sizeof *ptrs, ptrs, NULL) != CL_SUCCESS ||
        !key_make(cl, src, options, &k) || make_dirs(k.dir) != 0)
        goto done;
    (void)write_entry(&k, binary, sizes[i]);
done:
    clcnn__free(k.material);
    clcnn__free(binary);
    clcnn__free(ptrs);
    clcnn__free(sizes);
    clcnn__free(devs);
}

#endif /* !_WIN32 */
