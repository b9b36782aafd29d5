/* test_cache_entries.c - what test_cache knows of a cache folder: its
 * entries (read with the library's own layout, host/opencl/cl_cache.h),
 * whether each is whole and whether a run rewrote it, and the damage the
 * cases do to them (see cache_entries.h). */
#if !defined(_XOPEN_SOURCE) || _XOPEN_SOURCE < 700
#undef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* nftw, mkdtemp, truncate */
#endif

#include "cache_entries.h"

#include "opencl/cl_cache.h" /* the entry layout and its hash */

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* rm -rf path (nothing when it is missing). */
void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) == 0)
        (void)nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A new empty folder "<TMPDIR or /tmp>/clcnn-cache-XXXXXX" into out. */
int make_temp_dir(char *out, size_t len)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(out, len, "%s/clcnn-cache-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(out) ? 0 : -1;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(a, b);
}

listing list_cache(const char *dir)
{
    listing l;
    memset(&l, 0, sizeof l);
    DIR *d = opendir(dir);
    if (!d)
        return l;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        const size_t len = strlen(e->d_name), sl = strlen(CLCNN_CACHE_SUFFIX);
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (len > sl && len < 64 && strcmp(e->d_name + len - sl, CLCNN_CACHE_SUFFIX) == 0 &&
            l.n < MAX_ENTRIES)
            strcpy(l.name[l.n++], e->d_name);
        else
            l.n_other++;
    }
    closedir(d);
    qsort(l.name, (size_t)l.n, sizeof l.name[0], by_name);
    for (int i = 0; i < l.n; i++) {
        char path[4200];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, l.name[i]);
        assert_int_equal(stat(path, &st), 0);
        l.ino[i] = st.st_ino;
        l.mtime[i] = st.st_mtim;
    }
    return l;
}

/* The whole file in a new buffer (caller frees); fails the test if unreadable. */
unsigned char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    unsigned char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

void spit(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* Fails unless dir/name is a whole entry: magic, format, lengths adding up
 * to the file's size, both hashes right, and named after its key hash. */
static void expect_valid_entry(const char *dir, const char *name)
{
    char path[4200], want[64];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t size;
    unsigned char *file = slurp(path, &size);
    clcnn_cache_header h;
    assert_true(size > sizeof h);
    memcpy(&h, file, sizeof h);
    int ok =
        memcmp(h.magic, CLCNN_CACHE_MAGIC, sizeof h.magic) == 0 && h.format == CLCNN_CACHE_FORMAT &&
        h.payload_len > 0 && sizeof h + h.key_len + h.payload_len == size &&
        clcnn__fnv1a(CLCNN_FNV_OFFSET, file + sizeof h, (size_t)h.key_len) == h.key_hash &&
        clcnn__fnv1a(CLCNN_FNV_OFFSET, file + sizeof h + h.key_len, (size_t)h.payload_len) == h.payload_hash;
    free(file);
    snprintf(want, sizeof want, "%016llx%s", (unsigned long long)h.key_hash, CLCNN_CACHE_SUFFIX);
    if (!ok || strcmp(want, name) != 0)
        fail_msg("%s is not a valid cache entry", path);
}

/* Fails unless dir holds exactly n valid entries and nothing else (no
 * temporary files left behind). */
listing expect_entries(const char *dir, int n)
{
    listing l = list_cache(dir);
    if (l.n != n || l.n_other != 0)
        fail_msg("%s: %d entries and %d other files, expected %d entries and nothing else", dir, l.n,
                 l.n_other, n);
    for (int i = 0; i < l.n; i++)
        expect_valid_entry(dir, l.name[i]);
    return l;
}

/* Fails unless every entry of `after` differs in inode from its
 * counterpart in `before` (rewritten), or keeps inode and mtime (not). */
void expect_rewritten(const listing *before, const listing *after, int rewritten)
{
    assert_int_equal(before->n, after->n);
    for (int i = 0; i < before->n; i++) {
        assert_string_equal(before->name[i], after->name[i]);
        const int same = before->ino[i] == after->ino[i] &&
                         before->mtime[i].tv_sec == after->mtime[i].tv_sec &&
                         before->mtime[i].tv_nsec == after->mtime[i].tv_nsec;
        if (rewritten && before->ino[i] == after->ino[i])
            fail_msg("entry %s was not rewritten", after->name[i]);
        if (!rewritten && !same)
            fail_msg("entry %s was rewritten, so it was not loaded", after->name[i]);
    }
}

const char *const damage_names[N_DAMAGES] = {
    "flip payload middle", "flip payload last",       "flip magic",        "flip format",
    "flip key hash",       "flip payload length",     "flip payload hash", "flip key material",
    "garbage binary",      "another program's entry", "truncate to 0",     "truncate to 20 bytes",
    "truncate to half",    "truncate last byte",
};

void damage_entry(const char *dir, const listing *l, int i, damage d)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, l->name[i]);
    size_t size;
    unsigned char *file = slurp(path, &size);
    clcnn_cache_header h;
    memcpy(&h, file, sizeof h);
    const size_t payload = sizeof h + (size_t)h.key_len;
    switch (d) {
    case FLIP_PAYLOAD_MIDDLE: file[payload + (size - payload) / 2] ^= 0x5a; break;
    case FLIP_PAYLOAD_LAST: file[size - 1] ^= 0x01; break;
    case FLIP_MAGIC: file[offsetof(clcnn_cache_header, magic)] ^= 0x20; break;
    case FLIP_FORMAT: file[offsetof(clcnn_cache_header, format)] ^= 0x01; break;
    case FLIP_KEY_HASH: file[offsetof(clcnn_cache_header, key_hash) + 3] ^= 0x10; break;
    case FLIP_PAYLOAD_LEN: file[offsetof(clcnn_cache_header, payload_len)] ^= 0x04; break;
    case FLIP_PAYLOAD_HASH: file[offsetof(clcnn_cache_header, payload_hash) + 7] ^= 0x80; break;
    case FLIP_KEY_MATERIAL: file[sizeof h + (size_t)h.key_len / 2] ^= 0x02; break;
    case GARBAGE_BINARY_WITH_GOOD_CHECKSUM:
        for (size_t k = payload; k < size; k++)
            file[k] = (unsigned char)(k * 131u + 7u);
        h.payload_hash = clcnn__fnv1a(CLCNN_FNV_OFFSET, file + payload, size - payload);
        memcpy(file, &h, sizeof h);
        break;
    case OTHER_ENTRY: {
        char other[4200];
        snprintf(other, sizeof other, "%s/%s", dir, l->name[(i + 1) % l->n]);
        free(file);
        file = slurp(other, &size);
        break;
    }
    case TRUNCATE_EMPTY: size = 0; break;
    case TRUNCATE_IN_HEADER: size = 20; break;
    case TRUNCATE_HALF: size /= 2; break;
    case TRUNCATE_LAST_BYTE: size -= 1; break;
    case N_DAMAGES: break;
    }
    /* In place (same inode), so that a rewrite shows as a new inode. */
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    assert_int_equal(fwrite(file, 1, size, fp), size);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(truncate(path, (off_t)size), 0);
    free(file);
}
