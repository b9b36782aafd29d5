/* cache_entries.h - what test_cache knows of a cache folder
 * (test_cache_entries.c): its entries, whether each is whole, whether a
 * run rewrote them, and the kinds of damage the cases do to them. */
#ifndef CLCNN_TEST_CACHE_ENTRIES_H
#define CLCNN_TEST_CACHE_ENTRIES_H

#include "helpers.h"

#include <sys/stat.h>
#include <time.h>

enum { MAX_ENTRIES = 16 };

/* rm -rf path (nothing when it is missing). */
void remove_tree(const char *path);

/* A new empty folder "<TMPDIR or /tmp>/clcnn-cache-XXXXXX" into out; 0, or
 * -1 when it cannot be made. */
int make_temp_dir(char *out, size_t len);

/* What a cache folder holds: entries (sorted by name) and other files. */
typedef struct {
    int n, n_other;
    char name[MAX_ENTRIES][64];
    ino_t ino[MAX_ENTRIES];
    struct timespec mtime[MAX_ENTRIES];
} listing;

listing list_cache(const char *dir);

/* The whole file in a new buffer (caller frees); fails the test if unreadable. */
unsigned char *slurp(const char *path, size_t *size);

/* Writes n bytes of data to path; fails the test if it cannot. */
void spit(const char *path, const void *data, size_t n);

/* Fails unless dir holds exactly n valid entries (magic, format, lengths
 * adding up to the file's size, both hashes right, named after the key
 * hash) and nothing else (no temporary files left behind). */
listing expect_entries(const char *dir, int n);

/* Fails unless every entry of `after` differs in inode from its
 * counterpart in `before` (rewritten), or keeps inode and mtime (not). */
void expect_rewritten(const listing *before, const listing *after, int rewritten);

/* Damage applied to every entry of a filled cache. */
typedef enum {
    FLIP_PAYLOAD_MIDDLE,
    FLIP_PAYLOAD_LAST,
    FLIP_MAGIC,
    FLIP_FORMAT,
    FLIP_KEY_HASH,
    FLIP_PAYLOAD_LEN,
    FLIP_PAYLOAD_HASH,
    FLIP_KEY_MATERIAL,
    GARBAGE_BINARY_WITH_GOOD_CHECKSUM, /* whole and for this key: the driver must reject it */
    OTHER_ENTRY,                       /* another program's valid entry under this name */
    TRUNCATE_EMPTY,
    TRUNCATE_IN_HEADER,
    TRUNCATE_HALF,
    TRUNCATE_LAST_BYTE,
    N_DAMAGES
} damage;

extern const char *const damage_names[N_DAMAGES];

/* Applies d to entry i of l (in dir) in place, keeping its inode, so that
 * a rewrite shows as a new one. */
void damage_entry(const char *dir, const listing *l, int i, damage d);

#endif
