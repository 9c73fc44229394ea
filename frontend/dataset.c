/* dataset.c - calibration samples from .npy files and IDX files.
 *
 * The calibrate pass reads its samples through this iterator (frontend.h
 * has the contract).  Two formats:
 *
 *  - NumPy: one sample per .npy file; a directory stands for the .npy files
 *    directly in it, sorted by name so that runs are reproducible whatever
 *    order readdir returns.  Only the file names are kept; each sample is
 *    read with npy_read when asked for, so memory stays at one sample.
 *
 *  - IDX, the format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/,
 *    "THE IDX FILE FORMAT"): a 4-byte magic 00 00 TYPE RANK, RANK big-endian
 *    uint32 dimensions, then the elements, big-endian, in C order.  TYPE is
 *    0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32 or 0x0E f64.  The first
 *    dimension counts samples.  The files are usually gzip-compressed
 *    (Debian's dataset-fashion-mnist ships train-images-idx3-ubyte.gz); we
 *    recognise gzip by its magic bytes 1f 8b (RFC 1952, 2.3.1) rather than
 *    by the name, and decompress with zlib as we read.  Only the samples
 *    used are read: 1,000 Fashion-MNIST images are 784 KB in memory, where
 *    the whole training file would be 47 MB.
 */
#include "frontend.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

typedef struct IdxChunk {
    const char *path;
    int type;             /* the IDX type byte */
    int64_t count;        /* samples taken from this file */
    unsigned char *bytes; /* count * per-sample bytes, big-endian as in the file */
} IdxChunk;

struct Dataset {
    bool idx;
    TensorType want;
    int64_t numel;        /* elements of one sample */
    double scale, offset;
    int64_t count;
    int64_t total;        /* samples the files hold, before max_samples */
    bool labels;          /* dataset_labels: rank-1 files of class indices */
    /* NumPy: one path per sample. */
    char **files;
    /* IDX: the samples, chunk by chunk in path order. */
    IdxChunk *chunks;
    int num_chunks;
};

static SrcLoc file_loc(const char *path)
{
    return (SrcLoc){path, 0, 0};
}

/* "f32[1,28,28,1]", for messages. */
static void type_text(char *buf, size_t n, const TensorType *t)
{
    size_t k = (size_t)snprintf(buf, n, "%s[", dtype_traits[t->dtype].name);
    for (int d = 0; d < t->rank && k < n; d++)
        k += (size_t)snprintf(buf + k, n - k, "%s%lld", d ? "," : "", (long long)t->dims[d]);
    if (k < n)
        snprintf(buf + k, n - k, "]");
}

/* ------------------------------------------------------------ NumPy */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

static void push_file(Dataset *ds, int64_t *cap, char *path)
{
    if (ds->count == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        ds->files = xrealloc(ds->files, (size_t)*cap * sizeof *ds->files);
    }
    ds->files[ds->count++] = path;
}

/* Adds the .npy files of directory DIR, sorted by name. */
static bool add_npy_dir(Dataset *ds, int64_t *cap, const char *dir, int64_t max)
{
    DIR *d = opendir(dir);
    if (!d) {
        diag_error(file_loc(dir), "cannot read directory: %s", strerror(errno));
        return false;
    }
    char **names = NULL;
    size_t n = 0, ncap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!ends_with(e->d_name, ".npy") || e->d_name[0] == '.')
            continue;
        if (n == ncap) {
            ncap = ncap ? ncap * 2 : 64;
            names = xrealloc(names, ncap * sizeof *names);
        }
        names[n++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (n == 0) {
        diag_error(file_loc(dir), "no .npy files in the directory");
        free(names);
        return false;
    }
    qsort(names, n, sizeof *names, cmp_str);
    ds->total += (int64_t)n;
    bool slash = ends_with(dir, "/");
    for (size_t i = 0; i < n; i++) {
        if (ds->count < max) {
            size_t len = strlen(dir) + strlen(names[i]) + 2;
            char *p = xmalloc(len);
            snprintf(p, len, "%s%s%s", dir, slash ? "" : "/", names[i]);
            push_file(ds, cap, p);
        }
        free(names[i]);
    }
    free(names);
    return true;
}

static bool open_npy(Dataset *ds, const char *const paths[], int num_paths, int64_t max)
{
    int64_t cap = 0;
    /* Every path, even past MAX, so that dataset_total counts them all. */
    for (int i = 0; i < num_paths; i++) {
        struct stat st;
        if (stat(paths[i], &st) != 0) {
            diag_error(file_loc(paths[i]), "cannot read file: %s", strerror(errno));
            return false;
        }
        if (S_ISDIR(st.st_mode)) {
            if (!add_npy_dir(ds, &cap, paths[i], max))
                return false;
        } else {
            ds->total++;
            if (ds->count < max)
                push_file(ds, &cap, xstrdup(paths[i]));
        }
    }
    return true;
}

/* ------------------------------------------------------------ IDX */

/* A file read either plainly or through zlib's gzip decoder. */
typedef struct Reader {
    const char *path;
    FILE *f;
    gzFile gz;
} Reader;

/* Reads up to N bytes; returns how many, or -1 after reporting a read or
 * decompression error. */
static int64_t rd(Reader *r, void *p, size_t n)
{
    if (!r->gz) {
        size_t k = fread(p, 1, n, r->f);
        if (k < n && ferror(r->f)) {
            diag_error(file_loc(r->path), "cannot read file: %s", strerror(errno));
            return -1;
        }
        return (int64_t)k;
    }
    size_t done = 0;
    while (done < n) {
        /* gzread takes an unsigned count; read in pieces below INT_MAX. */
        unsigned want = (unsigned)(n - done > (1u << 30) ? (1u << 30) : n - done);
        int k = gzread(r->gz, (unsigned char *)p + done, want);
        if (k < 0) {
            int err;
            const char *msg = gzerror(r->gz, &err);
            diag_error(file_loc(r->path), "corrupt gzip data: %s",
                       err == Z_ERRNO ? strerror(errno) : msg);
            return -1;
        }
        if (k == 0) {
            /* End of input: a gzip stream cut short is reported by gzerror
             * as Z_BUF_ERROR, which we treat like any truncation. */
            break;
        }
        done += (size_t)k;
    }
    return (int64_t)done;
}

static int idx_type_size(int type)
{
    switch (type) {
    case 0x08: case 0x09: return 1;
    case 0x0B: return 2;
    case 0x0C: case 0x0D: return 4;
    case 0x0E: return 8;
    default: return 0;
    }
}

static uint64_t be(const unsigned char *p, int n)
{
    uint64_t x = 0;
    for (int i = 0; i < n; i++)
        x = x << 8 | p[i];
    return x;
}

/* Reads the header of PATH and up to MAX samples into a chunk. */
static bool open_idx_file(Dataset *ds, const char *path, int64_t max, const char *name)
{
    Reader r = {path, NULL, NULL};
    r.f = fopen(path, "rb");
    if (!r.f) {
        diag_error(file_loc(path), "cannot read file: %s", strerror(errno));
        return false;
    }
    unsigned char magic[4] = {0};
    size_t got = fread(magic, 1, 2, r.f);
    bool gz = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    rewind(r.f);
    if (gz) {
        fclose(r.f);
        r.f = NULL;
        r.gz = gzopen(path, "rb");
        if (!r.gz) {
            diag_error(file_loc(path), "cannot read file: %s", strerror(errno));
            return false;
        }
    }
    bool ok = false;
    unsigned char *bytes = NULL;
    int64_t k = rd(&r, magic, 4);
    if (k < 0)
        goto done;
    if (k < 4) {
        diag_error(file_loc(path), "truncated IDX file: no complete header");
        goto done;
    }
    int type = magic[2], rank = magic[3];
    int esize = idx_type_size(type);
    if (magic[0] != 0 || magic[1] != 0 || esize == 0 || rank < 1) {
        diag_error(file_loc(path), "not an IDX file: bad magic 0x%08x (expected 0x00000TRR: "
                   "type 08, 09, 0b, 0c, 0d or 0e, rank >= 1)", (unsigned)be(magic, 4));
        goto done;
    }
    unsigned char dimb[4 * 255];
    k = rd(&r, dimb, 4 * (size_t)rank);
    if (k < 0)
        goto done;
    if (k < 4 * rank) {
        diag_error(file_loc(path), "truncated IDX file: no complete header");
        goto done;
    }
    int64_t n = (int64_t)be(dimb, 4), per = 1;
    char shape[64] = "";
    size_t sl = 0;
    for (int d = 1; d < rank; d++) {
        int64_t x = (int64_t)be(dimb + 4 * d, 4);
        if (per > 0 && x > 0 && per > INT64_MAX / 4 / x) {
            diag_error(file_loc(path), "IDX sample size overflows");
            goto done;
        }
        per *= x;
        if (sl < sizeof shape)
            sl += (size_t)snprintf(shape + sl, sizeof shape - sl, "%s%lld", d > 1 ? "x" : "",
                                   (long long)x);
    }
    if (rank == 1)
        snprintf(shape, sizeof shape, "a scalar");
    if (ds->labels && rank != 1) {
        diag_error(file_loc(path), "a labels file holds one class index per sample (an IDX file of rank 1), "
                   "not %s each", shape);
        goto done;
    }
    if (n == 0) {
        diag_error(file_loc(path), "the IDX file holds no samples");
        goto done;
    }
    if (per != ds->numel) {
        char tt[128];
        type_text(tt, sizeof tt, &ds->want);
        diag_error(file_loc(path), "one sample is %s (%lld elements) but input '%%%s' is %s "
                   "(%lld elements)", shape, (long long)per, name, tt, (long long)ds->numel);
        goto done;
    }
    ds->total += n;
    int64_t take = n < max ? n : max;
    /* Read in blocks, growing the buffer as data arrives, so that a header
     * promising more than the file holds fails as truncated rather than
     * as a huge allocation. */
    size_t sbytes = (size_t)per * (size_t)esize, have = 0, cap = 0;
    size_t nbytes = (size_t)take * sbytes;
    while (have < nbytes) {
        size_t want = nbytes - have < ((size_t)1 << 24) ? nbytes - have : (size_t)1 << 24;
        if (have + want > cap) {
            cap = have + want > 2 * cap ? have + want : 2 * cap;
            bytes = xrealloc(bytes, cap);
        }
        k = rd(&r, bytes + have, want);
        if (k < 0)
            goto done;
        have += (size_t)k;
        if ((size_t)k < want) {
            diag_error(file_loc(path), "truncated IDX file: the header promises %lld samples of %s "
                       "but the data ends after %lld", (long long)n, shape,
                       (long long)(have / sbytes));
            goto done;
        }
    }
    ds->chunks = xrealloc(ds->chunks, (size_t)(ds->num_chunks + 1) * sizeof *ds->chunks);
    ds->chunks[ds->num_chunks++] = (IdxChunk){path, type, take, bytes};
    ds->count += take;
    bytes = NULL;
    ok = true;
done:
    free(bytes);
    if (r.gz)
        gzclose(r.gz);
    if (r.f)
        fclose(r.f);
    return ok;
}

/* Element I of a big-endian IDX array of TYPE, as a double. */
static double idx_elem(const unsigned char *p, int type, int64_t i)
{
    switch (type) {
    case 0x08: return p[i];
    case 0x09: return (int8_t)p[i];
    case 0x0B: return (int16_t)(uint16_t)be(p + 2 * i, 2);
    case 0x0C: return (int32_t)(uint32_t)be(p + 4 * i, 4);
    case 0x0D: {
        uint32_t u = (uint32_t)be(p + 4 * i, 4);
        float f;
        memcpy(&f, &u, sizeof f);
        return f;
    }
    case 0x0E: {
        uint64_t u = be(p + 8 * i, 8);
        double d;
        memcpy(&d, &u, sizeof d);
        return d;
    }
    }
    qnn_unreachable();
}

/* ------------------------------------------------------------ the iterator */

Dataset *dataset_open(const char *const paths[], int num_paths, const DatasetOptions *opts,
                      const char *name, const TensorType *want)
{
    Dataset *ds = xcalloc(1, sizeof *ds);
    ds->idx = opts->idx;
    ds->want = *want;
    ds->want.quant = NULL;
    ds->numel = type_numel(want);
    ds->scale = opts->scale;
    ds->offset = opts->offset;
    int64_t max = opts->max_samples > 0 ? opts->max_samples : INT64_MAX;
    bool ok = true;
    /* The verifier rejects empty tensors, but the reader must not depend
     * on it: a zero-element sample would index a NULL chunk (found by
     * fuzz-idx). */
    if (ds->numel <= 0) {
        diag_error(file_loc(num_paths ? paths[0] : NULL), "input '%%%s' has no elements to calibrate", name);
        ok = false;
    }
    if (ok && ds->idx) {
        if (want->dtype != DT_F32) {
            diag_error(file_loc(num_paths ? paths[0] : NULL),
                       "IDX data can only feed an f32 input, and '%%%s' is %s", name,
                       dtype_traits[want->dtype].name);
            ok = false;
        }
        /* Every file, even past MAX (the headers only), so that
         * dataset_total counts them all. */
        for (int i = 0; ok && i < num_paths; i++)
            ok = open_idx_file(ds, paths[i], max - ds->count, name);
    } else if (ok) {
        ok = open_npy(ds, paths, num_paths, max);
    }
    if (ok && ds->count == 0) {
        diag_error(file_loc(NULL), "the calibration dataset is empty");
        ok = false;
    }
    if (!ok) {
        dataset_close(ds);
        return NULL;
    }
    return ds;
}

int64_t dataset_count(const Dataset *ds)
{
    return ds->count;
}

int64_t dataset_total(const Dataset *ds)
{
    return ds->total;
}

int32_t *dataset_labels(const char *const paths[], int num_paths, int64_t *count)
{
    Dataset ds = {.idx = true, .want = {.dtype = DT_F32, .rank = 1, .dims = {1}}, .numel = 1, .labels = true};
    int32_t *out = NULL;
    bool ok = true;
    for (int i = 0; ok && i < num_paths; i++)
        ok = open_idx_file(&ds, paths[i], INT64_MAX, "labels");
    if (ok)
        out = xmalloc(((size_t)ds.count + 1) * sizeof *out);
    for (int c = 0, k = 0; ok && c < ds.num_chunks; c++)
        for (int64_t i = 0; ok && i < ds.chunks[c].count; i++, k++) {
            double x = idx_elem(ds.chunks[c].bytes, ds.chunks[c].type, i);
            if (!(x >= 0 && x <= INT32_MAX && x == (double)(int32_t)x)) {
                diag_error(file_loc(ds.chunks[c].path), "label %lld is %g, not a class index (an integer >= 0)",
                           (long long)i, x);
                ok = false;
            } else
                out[k] = (int32_t)x;
        }
    for (int c = 0; c < ds.num_chunks; c++)
        free(ds.chunks[c].bytes);
    free(ds.chunks);
    *count = ds.count;
    if (!ok) {
        free(out);
        return NULL;
    }
    return out;
}

bool dataset_read(Dataset *ds, int64_t i, void *buf)
{
    if (i < 0 || i >= ds->count)
        qnn_die("dataset_read: sample %lld of %lld", (long long)i, (long long)ds->count);
    if (!ds->idx) {
        void *p = npy_read(ds->files[i], &ds->want);
        if (!p)
            return false;
        memcpy(buf, p, (size_t)type_nbytes(&ds->want));
        free(p);
        return true;
    }
    int c = 0;
    while (i >= ds->chunks[c].count)
        i -= ds->chunks[c++].count;
    const IdxChunk *ch = &ds->chunks[c];
    const unsigned char *p = ch->bytes + (size_t)i * (size_t)ds->numel * (size_t)idx_type_size(ch->type);
    float *out = buf;
    for (int64_t k = 0; k < ds->numel; k++)
        out[k] = (float)(idx_elem(p, ch->type, k) * ds->scale + ds->offset);
    return true;
}

void dataset_close(Dataset *ds)
{
    if (!ds)
        return;
    if (ds->files)
        for (int64_t i = 0; i < ds->count; i++)
            free(ds->files[i]);
    free(ds->files);
    for (int c = 0; c < ds->num_chunks; c++)
        free(ds->chunks[c].bytes);
    free(ds->chunks);
    free(ds);
}
