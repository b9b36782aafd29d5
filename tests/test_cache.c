/* test_cache.c - the on-disk cache of built program binaries
 * (host/opencl/cl_cache.h): it fills when cold and is used when warm, and a
 * corrupt, truncated, foreign, rejected, missing or unwritable cache, two
 * processes filling it at once, or CLCNN_CACHE=0 all give the reference's
 * results without an error.
 *
 * The whole binary runs on a private cache folder (main sets
 * CLCNN_CACHE_DIR), and each case on its own fresh folder under mkdtemp,
 * removed afterwards, so the user's ~/.cache is never touched.
 *
 * Every case runs the same F32 work: zero_pad, conv2d_forward and max
 * pool2d_forward, one per program (pad.cl, conv_forward.cl, pool.cl), so a
 * filled cache holds three entries (conv_forward.cl at one width; 4 output
 * channels make one channel block on every device, so no call needs
 * conv_weights.cl's copy of the weights). The forward's padded copy of its
 * input, where a CPU makes one, is pad.cl's zero_pad: the program op 0 has
 * built in the same context already, so it adds no entry, and every count
 * below stays one per op (op 0 always runs first). The
 * data are small integers, so the device's results are exact and must
 * equal the host reference's bytes. That a warm
 * cache was used is shown without timing: its entries keep their inode and
 * mtime (an entry that fails to load is rebuilt and renamed over, which gives
 * it a new inode, as the corrupt cases check). */
#if !defined(_XOPEN_SOURCE) || _XOPEN_SOURCE < 700
#undef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* nftw, mkdtemp, setenv, fork, pipe */
#endif

#include "helpers.h"

#include "opencl/cl_cache.h" /* the entry layout and its hash */

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum { N_OPS = 3, MAX_ENTRIES = 16, N_CHILDREN = 3 };

/* ------------------------------------------------------------------------ */
/* The work and its expected bytes                                           */
/* ------------------------------------------------------------------------ */

/* Runs op (0 zero_pad, 1 conv2d_forward, 2 max pool2d_forward) on ctx and
 * returns the output's bytes (caller frees); NULL when a call fails. Plain
 * API calls, no cmocka asserts: the forked children use it too. */
static unsigned char *op_bytes(clcnn_context *ctx, int op, size_t *nbytes)
{
    enum { N = 2, H = 7, W = 6, C = 3, F = 3, CO = 4 };
    float x[N * H * W * C], w[F * F * C * CO], b[CO];
    for (int i = 0; i < N * H * W * C; i++)
        x[i] = (float)((i * 37) % 7 - 3);
    for (int i = 0; i < F * F * C * CO; i++)
        w[i] = (float)((i * 11) % 5 - 2);
    for (int i = 0; i < CO; i++)
        b[i] = (float)(i - 2);
    static const int out_dims[N_OPS][4] = {{N, H + 4, W + 4, C}, {N, H - 2, W - 2, CO}, {N, H / 2, W / 2, C}};
    const int *d = out_dims[op];
    clcnn_tensor *tx = NULL, *tw = NULL, *tb = NULL, *out = NULL;
    unsigned char *bytes = NULL;
    clcnn_status s = clcnn_tensor_create(ctx, CLCNN_F32, N, H, W, C, &tx);
    s = s ? s : clcnn_tensor_create(ctx, CLCNN_F32, F, F, C, CO, &tw);
    s = s ? s : clcnn_tensor_create(ctx, CLCNN_F32, 1, 1, 1, CO, &tb);
    s = s ? s : clcnn_tensor_create(ctx, CLCNN_F32, d[0], d[1], d[2], d[3], &out);
    s = s ? s : clcnn_tensor_write(tx, x, sizeof x);
    s = s ? s : clcnn_tensor_write(tw, w, sizeof w);
    s = s ? s : clcnn_tensor_write(tb, b, sizeof b);
    if (!s && op == 0)
        s = clcnn_zero_pad(ctx, tx, 2, out);
    if (!s && op == 1)
        s = clcnn_conv2d_forward(ctx, tx, tw, tb, (clcnn_conv_params){1, 0, CLCNN_CONV_AUTO}, out);
    if (!s && op == 2)
        s = clcnn_pool2d_forward(ctx, tx, (clcnn_pool_params){2, 2, CLCNN_POOL_MAX}, out);
    *nbytes = (size_t)d[0] * d[1] * d[2] * d[3] * sizeof(float);
    if (!s && (bytes = malloc(*nbytes)) != NULL && clcnn_tensor_read(out, bytes, *nbytes) != CLCNN_OK) {
        free(bytes);
        bytes = NULL;
    }
    clcnn_tensor_destroy(out);
    clcnn_tensor_destroy(tb);
    clcnn_tensor_destroy(tw);
    clcnn_tensor_destroy(tx);
    return bytes;
}

/* The host reference's bytes of each op, computed once. */
static unsigned char *expected[N_OPS];
static size_t expected_len[N_OPS];

static int compute_expected(void)
{
    clcnn_options o = {CLCNN_BACKEND_HOST, NULL};
    clcnn_context *host = NULL;
    if (clcnn_context_create(&o, &host) != CLCNN_OK)
        return -1;
    int bad = 0;
    for (int op = 0; op < N_OPS; op++)
        bad |= (expected[op] = op_bytes(host, op, &expected_len[op])) == NULL;
    clcnn_context_destroy(host);
    return bad ? -1 : 0;
}

/* Runs op on ctx and fails unless its bytes equal the reference's; the
 * context must record no error (a cache problem is never reported). */
static void check_op(clcnn_context *ctx, int op)
{
    size_t n = 0;
    unsigned char *got = op_bytes(ctx, op, &n);
    if (!got)
        fail_msg("op %d failed: %s", op, clcnn_last_error(ctx));
    int same = n == expected_len[op] && memcmp(got, expected[op], n) == 0;
    free(got);
    if (!same)
        fail_msg("op %d: the device's bytes differ from the host reference's", op);
    assert_string_equal(clcnn_last_error(ctx), "");
}

/* A new OpenCL context running every op against the reference. */
static void run_all(void)
{
    clcnn_context *ctx = th_context(CLCNN_BACKEND_OPENCL);
    for (int op = 0; op < N_OPS; op++)
        check_op(ctx, op);
    clcnn_context_destroy(ctx);
}

/* ------------------------------------------------------------------------ */
/* Cache folders and entries                                                  */
/* ------------------------------------------------------------------------ */

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* rm -rf path (nothing when it is missing). */
static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) == 0)
        (void)nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A new empty folder "<TMPDIR or /tmp>/clcnn-cache-XXXXXX" into out. */
static int make_temp_dir(char *out, size_t len)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(out, len, "%s/clcnn-cache-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(out) ? 0 : -1;
}

/* What a cache folder holds: entries (sorted by name) and other files. */
typedef struct {
    int n, n_other;
    char name[MAX_ENTRIES][64];
    ino_t ino[MAX_ENTRIES];
    struct timespec mtime[MAX_ENTRIES];
} listing;

static int by_name(const void *a, const void *b)
{
    return strcmp(a, b);
}

static listing list_cache(const char *dir)
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
static unsigned char *slurp(const char *path, size_t *size)
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

static void spit(const char *path, const void *data, size_t n)
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
static listing expect_entries(const char *dir, int n)
{
    listing l = list_cache(dir);
    if (l.n != n || l.n_other != 0)
        fail_msg("%s: %d entries and %d other files, expected %d entries and nothing else", dir, l.n,
                 l.n_other, n);
    for (int i = 0; i < l.n; i++)
        expect_valid_entry(dir, l.name[i]);
    return l;
}

/* ------------------------------------------------------------------------ */
/* Fixture: a fresh folder per case, CLCNN_CACHE_DIR pointing inside it       */
/* ------------------------------------------------------------------------ */

typedef struct {
    char base[256];  /* the case's temporary folder, removed by teardown */
    char cache[300]; /* base/a/b/cache: missing at first, parents included */
} fx;

/* The binary's own cache folder (main), and HOME and XDG_CACHE_HOME as the
 * binary found them: restored after each case. */
static char binary_cache[256];
static char *saved_home, *saved_xdg;

static void restore_env(const char *name, const char *value)
{
    if (value)
        setenv(name, value, 1);
    else
        unsetenv(name);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (!f || make_temp_dir(f->base, sizeof f->base) != 0) {
        free(f);
        return -1;
    }
    snprintf(f->cache, sizeof f->cache, "%s/a/b/cache", f->base);
    setenv("CLCNN_CACHE_DIR", f->cache, 1);
    unsetenv("CLCNN_CACHE");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    remove_tree(f->base);
    setenv("CLCNN_CACHE_DIR", binary_cache, 1);
    unsetenv("CLCNN_CACHE");
    restore_env("HOME", saved_home);
    restore_env("XDG_CACHE_HOME", saved_xdg);
    free(f);
    return 0;
}

/* Fails unless every entry of `after` differs in inode from its
 * counterpart in `before` (rewritten), or keeps inode and mtime (not). */
static void expect_rewritten(const listing *before, const listing *after, int rewritten)
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

/* ------------------------------------------------------------------------ */
/* Cases                                                                      */
/* ------------------------------------------------------------------------ */

/* 1. Cold: one entry per program built, folder and parents created. Warm: a
 * new context loads every entry (nothing rewritten) with the same bytes. */
static void cold_cache_fills_and_warm_cache_is_used(void **state)
{
    fx *f = *state;
    struct stat st;
    assert_int_not_equal(stat(f->cache, &st), 0);
    run_all();
    listing cold = expect_entries(f->cache, N_OPS);
    run_all();
    listing warm = expect_entries(f->cache, N_OPS);
    expect_rewritten(&cold, &warm, 0);
}

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

static const char *const damage_names[N_DAMAGES] = {
    "flip payload middle", "flip payload last",       "flip magic",        "flip format",
    "flip key hash",       "flip payload length",     "flip payload hash", "flip key material",
    "garbage binary",      "another program's entry", "truncate to 0",     "truncate to 20 bytes",
    "truncate to half",    "truncate last byte",
};

static void damage_entry(const char *dir, const listing *l, int i, damage d)
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

/* 2 and 3. Each kind of damage to every entry: the results stay right, no
 * error is reported, and every entry is rewritten whole. The driver's
 * rejection of a garbage binary shows that a kept inode (case 1) means a
 * binary the driver accepted. */
static void damaged_entries_are_rebuilt_and_rewritten(void **state)
{
    fx *f = *state;
    run_all();
    for (int d = 0; d < N_DAMAGES; d++) {
        listing before = expect_entries(f->cache, N_OPS);
        for (int i = 0; i < before.n; i++)
            damage_entry(f->cache, &before, i, (damage)d);
        print_message("damage: %s\n", damage_names[d]);
        run_all();
        listing after = expect_entries(f->cache, N_OPS);
        expect_rewritten(&before, &after, 1);
    }
}

/* 4. A cache folder that cannot be created (its parent is a regular file),
 * or that is a regular file: right results, no error, the file untouched. */
static void unwritable_cache_only_costs_speed(void **state)
{
    fx *f = *state;
    char file[300], below[320];
    snprintf(file, sizeof file, "%s/plain-file", f->base);
    snprintf(below, sizeof below, "%s/cache", file);
    spit(file, "not a folder", 12);
    setenv("CLCNN_CACHE_DIR", below, 1);
    run_all();
    setenv("CLCNN_CACHE_DIR", file, 1);
    run_all();
    size_t size;
    unsigned char *text = slurp(file, &size);
    assert_int_equal(size, 12);
    assert_memory_equal(text, "not a folder", 12);
    free(text);
}

/* 5. The cache folder removed between two contexts, and between two ops of
 * one context (so between two program builds): right results, and the
 * folder comes back with the entries built after the removal. */
static void cache_removed_during_a_run(void **state)
{
    fx *f = *state;
    run_all();
    remove_tree(f->base);
    run_all();
    expect_entries(f->cache, N_OPS);

    remove_tree(f->base);
    clcnn_context *ctx = th_context(CLCNN_BACKEND_OPENCL);
    check_op(ctx, 0);
    expect_entries(f->cache, 1);
    remove_tree(f->base);
    check_op(ctx, 1);
    check_op(ctx, 2);
    clcnn_context_destroy(ctx);
    expect_entries(f->cache, N_OPS - 1);
}

/* This binary's path, for the children of the next case. */
static const char *self_path;

/* A child of the next case (argv: --child <cache folder> <pipe fd>): waits
 * for the pipe to close, so that all start together, then runs every op on
 * a new context and compares with the reference. Exit status 0 when all
 * agree. */
static int child_main(const char *cache, int fd)
{
    char c;
    while (read(fd, &c, 1) > 0)
        ;
    close(fd);
    setenv("CLCNN_CACHE_DIR", cache, 1);
    if (compute_expected() != 0)
        return 2;
    clcnn_options o = {CLCNN_BACKEND_OPENCL, getenv("CLCNN_DEVICE")};
    clcnn_context *ctx = NULL;
    if (clcnn_context_create(&o, &ctx) != CLCNN_OK)
        return 3;
    int bad = 0;
    for (int op = 0; op < N_OPS; op++) {
        size_t n = 0;
        unsigned char *got = op_bytes(ctx, op, &n);
        bad |= !got || n != expected_len[op] || memcmp(got, expected[op], n) != 0;
        free(got);
        free(expected[op]);
    }
    bad |= clcnn_last_error(ctx)[0] != '\0';
    clcnn_context_destroy(ctx);
    return bad ? 1 : 0;
}

/* 6. N_CHILDREN processes (fork and exec, so that none inherits this
 * process's OpenCL state) fill the same empty cache at once: all succeed,
 * no temporary file is left, every entry is whole and then loads. */
static void processes_fill_one_cache_at_once(void **state)
{
    fx *f = *state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    char fd_text[16];
    snprintf(fd_text, sizeof fd_text, "%d", p[0]);
    pid_t pids[N_CHILDREN];
    for (int i = 0; i < N_CHILDREN; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            close(p[1]);
            execl("/proc/self/exe", "test_cache", "--child", f->cache, fd_text, (char *)NULL);
            execl(self_path, "test_cache", "--child", f->cache, fd_text, (char *)NULL);
            _exit(127);
        }
    }
    close(p[0]);
    close(p[1]); /* go */
    for (int i = 0; i < N_CHILDREN; i++) {
        int status = 0;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            fail_msg("child %d: %s %d", i, WIFEXITED(status) ? "exit status" : "signal",
                     WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    }
    listing filled = expect_entries(f->cache, N_OPS);
    run_all();
    listing used = expect_entries(f->cache, N_OPS);
    expect_rewritten(&filled, &used, 0);
}

/* 7. CLCNN_CACHE=0: nothing written (the folder is not even created), and
 * nothing read: a damaged entry is left as it is. */
static void cache_off_writes_and_reads_nothing(void **state)
{
    fx *f = *state;
    setenv("CLCNN_CACHE", "0", 1);
    run_all();
    struct stat st;
    assert_int_not_equal(stat(f->cache, &st), 0);

    unsetenv("CLCNN_CACHE");
    run_all();
    listing before = expect_entries(f->cache, N_OPS);
    for (int i = 0; i < before.n; i++)
        damage_entry(f->cache, &before, i, GARBAGE_BINARY_WITH_GOOD_CHECKSUM);
    before = list_cache(f->cache);
    setenv("CLCNN_CACHE", "0", 1);
    run_all();
    listing after = list_cache(f->cache);
    expect_rewritten(&before, &after, 0);
}

/* Without CLCNN_CACHE_DIR: $XDG_CACHE_HOME/clcnn, else (XDG_CACHE_HOME
 * empty) $HOME/.cache/clcnn, both pointed into the case's folder (teardown
 * restores HOME and XDG_CACHE_HOME). */
static void default_folder_follows_xdg_then_home(void **state)
{
    fx *f = *state;
    char dir[300], expect[340];
    unsetenv("CLCNN_CACHE_DIR");

    snprintf(dir, sizeof dir, "%s/xdg", f->base);
    setenv("XDG_CACHE_HOME", dir, 1);
    clcnn_context *ctx = th_context(CLCNN_BACKEND_OPENCL);
    check_op(ctx, 0);
    clcnn_context_destroy(ctx);
    snprintf(expect, sizeof expect, "%s/clcnn", dir);
    expect_entries(expect, 1);

    snprintf(dir, sizeof dir, "%s/home", f->base);
    setenv("XDG_CACHE_HOME", "", 1);
    setenv("HOME", dir, 1);
    ctx = th_context(CLCNN_BACKEND_OPENCL);
    check_op(ctx, 0);
    clcnn_context_destroy(ctx);
    snprintf(expect, sizeof expect, "%s/.cache/clcnn", dir);
    expect_entries(expect, 1);
}

#define U(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--child") == 0)
        return child_main(argv[2], atoi(argv[3]));
    self_path = argv[0];
    const char *home = getenv("HOME"), *xdg = getenv("XDG_CACHE_HOME");
    saved_home = home ? strdup(home) : NULL;
    saved_xdg = xdg ? strdup(xdg) : NULL;
    /* A private cache for the whole binary, whatever the cases do. */
    if (make_temp_dir(binary_cache, sizeof binary_cache) != 0 || compute_expected() != 0) {
        fprintf(stderr, "test_cache: cannot make a temporary folder or the reference results\n");
        return 1;
    }
    setenv("CLCNN_CACHE_DIR", binary_cache, 1);
    const struct CMUnitTest tests[] = {
        U(cold_cache_fills_and_warm_cache_is_used), U(damaged_entries_are_rebuilt_and_rewritten),
        U(unwritable_cache_only_costs_speed),       U(cache_removed_during_a_run),
        U(processes_fill_one_cache_at_once),        U(cache_off_writes_and_reads_nothing),
        U(default_folder_follows_xdg_then_home),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    remove_tree(binary_cache);
    for (int op = 0; op < N_OPS; op++)
        free(expected[op]);
    free(saved_home);
    free(saved_xdg);
    return failed;
}
