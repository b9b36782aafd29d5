/* cl_cache.h - the on-disk cache of built program binaries: where it lives,
 * the layout of an entry file, and the two calls cl_program.c makes.
 *
 * Folder: $CLCNN_CACHE_DIR, else $XDG_CACHE_HOME/clcnn, else
 * $HOME/.cache/clcnn (created with its parents when missing); off when
 * CLCNN_CACHE=0 or no folder can be named.
 *
 * Entry: <folder>/<16 hex digits>.clbin, the digits being the FNV-1a hash of
 * the key material: the program's source text, its build options, the
 * device's name and version, the driver version, the platform version and
 * clcnn's version, each preceded by its length. The file holds a
 * clcnn_cache_header, the key material itself (compared byte for byte on
 * load, so a hash collision cannot load the wrong program), then the
 * binary from CL_PROGRAM_BINARIES. Files are written to a temporary name in
 * the same folder and renamed over the entry, so a reader never sees part of
 * a file. Nothing here is ever fatal: a failure only costs a build. */
#ifndef CLCNN_CL_CACHE_H
#define CLCNN_CL_CACHE_H

#include "cl_backend.h"

#include <stdint.h>

#define CLCNN_CACHE_MAGIC "clcnnPB" /* 7 characters and the NUL: 8 bytes */
#define CLCNN_CACHE_FORMAT 1u       /* bump when the layout below changes */
#define CLCNN_CACHE_SUFFIX ".clbin"

/* The start of an entry file, in the machine's byte order (a cache is never
 * shared between machines of different byte orders: the device is in the
 * key anyway). Six 8-byte fields, so no padding. */
typedef struct {
    char magic[8];         /* CLCNN_CACHE_MAGIC */
    uint64_t format;       /* CLCNN_CACHE_FORMAT */
    uint64_t key_hash;     /* FNV-1a of the key material (also the file name) */
    uint64_t key_len;      /* bytes of key material after the header */
    uint64_t payload_len;  /* bytes of program binary after the key material */
    uint64_t payload_hash; /* FNV-1a of the program binary */
} clcnn_cache_header;

/* 64-bit FNV-1a of n bytes, continuing from h (start with
 * CLCNN_FNV_OFFSET). */
#define CLCNN_FNV_OFFSET 0xcbf29ce484222325ull
static inline uint64_t clcnn__fnv1a(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* The program for (src, options) on cl's device, loaded from the cache and
 * built from its binary, or NULL (cache off, no entry, an entry that is
 * unreadable, corrupt or for other key material, or one the driver rejects). */
cl_program clcnn__cl_cache_load(const struct clcnn_cl *cl, const char *src, const char *options);

/* Stores the binary of prog, just built from (src, options), in the cache.
 * Failures (cache off, folder not writable, no binary) are ignored. */
void clcnn__cl_cache_store(const struct clcnn_cl *cl, const char *src, const char *options, cl_program prog);

/* The cache folder, created when missing, into out (len bytes): 1, or 0
 * when the cache is off or the folder cannot be named or created. Other
 * files kept beside the programs (cl_tune.c's choices) live there too. */
int clcnn__cl_cache_folder(char *out, size_t len);

#endif /* CLCNN_CL_CACHE_H */
