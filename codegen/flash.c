/* flash.c - every byte of the object's flash, per layer (qnnc --report).
 *
 * requires:   OBJ, the ELF object codegen_compile emitted for G (little
 *             endian, 32 or 64 bit: every qnnc target)
 * guarantees: a FlashReport whose rows (G's nodes, then the shared rows)
 *             split each allocated section with bytes in the file (.text,
 *             .rodata*, .ARM.exidx, .data.rel.ro, ...) exactly: the rows
 *             of a section sum to its size
 * invalidates: nothing
 *
 * The object is read back, not the module: what LLVM laid out, padded and
 * merged is what the flash holds.  Bytes are attributed in three steps:
 *
 *   1. Symbols with a size name their owner.  Each node is a function
 *      NAME_run.K.KERNEL (code of node K); NAME_run is the entry point;
 *      NAME_info and NAME_profile the info.  Constants are cg_rodata's
 *      internal globals NAME.K.KIND.N (node K's, of KIND) or NAME.KIND.N
 *      (outside any node: NAME.constI is the graph's constant I, owned by
 *      the one node that uses it, or shared; str, inputs, outputs and
 *      profile_nodes are the info's).
 *   2. Bytes no symbol covers (constant pools, jump tables, strings of
 *      merged sections, ARM unwind entries) go to whoever references them,
 *      through the relocations: bytes referenced from an owned byte belong
 *      to its owner, from the referenced point to the next one; an unowned
 *      byte that references an owned one (an .ARM.exidx entry names its
 *      function) belongs to that one's owner.
 *   3. What is left is alignment padding: it goes with the symbol after it
 *      (the one it aligns), or before it at a section's end; in a section
 *      nothing names, it is unattributed (a row the test expects empty).
 */
#include "codegen.h"

#include <stdlib.h>
#include <string.h>

const char *const flash_kind_names[NUM_FLASH_KINDS] = {"code", "weights", "biases", "requant", "luts", "tables",
                                                       "other"};
const char *const flash_shared_row_names[NUM_FLASH_SHARED_ROWS] = {"entry", "info", "shared", "unattributed"};

void flash_report_free(FlashReport *fr)
{
    for (int k = 0; k < fr->num_sections; k++)
        free(fr->section_name[k]);
    for (int r = 0; fr->rows && r < fr->num_nodes + NUM_FLASH_SHARED_ROWS; r++)
        free(fr->rows[r].section);
    free(fr->rows);
    free(fr->stack);
    free(fr->section_name);
    free(fr->section_size);
    free(fr->section_exec);
    free(fr->section_write);
    memset(fr, 0, sizeof *fr);
}

/* cg_rodata's KIND names: what each table holds. */
static const struct {
    const char *name;
    FlashKind kind;
} kind_names[] = {
    {"kgemm", FLASH_WEIGHTS}, {"kfew", FLASH_WEIGHTS}, {"kdww", FLASH_WEIGHTS}, {"kdw", FLASH_WEIGHTS},
    {"kdwp", FLASH_WEIGHTS}, {"kwt", FLASH_WEIGHTS}, {"kwmm", FLASH_WEIGHTS}, {"kpatch", FLASH_WEIGHTS}, {"kdsp", FLASH_WEIGHTS},
    {"kdwwide", FLASH_WEIGHTS}, {"wt", FLASH_WEIGHTS},
    {"kgbias", FLASH_BIASES}, {"kfewbias", FLASH_BIASES}, {"kdwbias", FLASH_BIASES}, {"kbias", FLASH_BIASES},
    {"kpbias", FLASH_BIASES},
    {"stage", FLASH_REQUANT}, {"mult", FLASH_REQUANT}, {"m", FLASH_REQUANT}, {"rqsat", FLASH_REQUANT},
    {"rqm", FLASH_REQUANT}, {"rqb", FLASH_REQUANT}, {"rqmult", FLASH_REQUANT}, {"rqright", FLASH_REQUANT},
    {"rqmask", FLASH_REQUANT}, {"rqleft", FLASH_REQUANT}, {"rqzp", FLASH_REQUANT}, {"rqlo", FLASH_REQUANT},
    {"rqhi", FLASH_REQUANT}, {"rqloz", FLASH_REQUANT}, {"rqhiz", FLASH_REQUANT}, {"kpmult", FLASH_REQUANT},
    {"kpleft", FLASH_REQUANT}, {"kpnright", FLASH_REQUANT}, {"kpmask", FLASH_REQUANT}, {"kpzp", FLASH_REQUANT},
    {"scale", FLASH_REQUANT}, {"zp", FLASH_REQUANT},
    {"lut", FLASH_LUTS}, {"catlut", FLASH_LUTS}, {"minmax", FLASH_LUTS}, {"softmax_exp", FLASH_LUTS},
    {"softmax_exp12", FLASH_LUTS},
    {"kgzero", FLASH_TABLES}, {"kcorr", FLASH_TABLES}, {"kdwzero", FLASH_TABLES}, {"kpzero", FLASH_TABLES},
    {"mmzb", FLASH_TABLES}, {"zw", FLASH_TABLES}, {"zb", FLASH_TABLES}, {"fill", FLASH_TABLES},
    {"resize.y", FLASH_TABLES}, {"resize.wy", FLASH_TABLES}, {"resize.wx", FLASH_TABLES},
    {"mcount", FLASH_TABLES},
};

/* Owners besides a node index (>= 0): the shared rows, negated. */
#define OWN_NONE (-1000)
#define OWN_ROW(r) (-1 - (r))

typedef struct Span {
    uint64_t lo, hi;
    int owner, kind;
} Span;

typedef struct Point {
    uint64_t at;
    int owner, kind;
} Point;

typedef struct Sec {
    const char *name;
    uint32_t type, link, info;
    uint64_t flags, offset, size, entsize;
    int flash;          /* index in the report, or -1 */
    Span *spans;
    int nspans, capspans;
    Point *points;
    int npoints, cappoints;
} Sec;

typedef struct Sym {
    const char *name;
    uint64_t value, size;
    unsigned type, shndx;
} Sym;

typedef struct Elf {
    const unsigned char *p;
    size_t len;
    bool is64;
    unsigned machine;
    Sec *secs;
    int nsecs;
    Sym *syms;
    int nsyms;
} Elf;

static uint64_t rd(const Elf *e, uint64_t at, int n)
{
    if (at + (uint64_t)n > e->len)
        return 0;
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | e->p[at + (uint64_t)i];
    return v;
}

static const char *str_at(const Elf *e, const Sec *strtab, uint64_t off)
{
    if (!strtab || off >= strtab->size || strtab->offset + strtab->size > e->len)
        return "";
    const char *s = (const char *)e->p + strtab->offset + off;
    return memchr(s, 0, strtab->size - off) ? s : "";
}

static bool elf_read(Elf *e)
{
    const unsigned char *p = e->p;
    if (e->len < 64 || memcmp(p, "\177ELF", 4) != 0 || p[5] != 1 || (p[4] != 1 && p[4] != 2))
        return false;
    e->is64 = p[4] == 2;
    e->machine = (unsigned)rd(e, 0x12, 2);
    uint64_t shoff = e->is64 ? rd(e, 0x28, 8) : rd(e, 0x20, 4);
    unsigned shentsize = (unsigned)rd(e, e->is64 ? 0x3A : 0x2E, 2);
    unsigned shnum = (unsigned)rd(e, e->is64 ? 0x3C : 0x30, 2);
    unsigned shstrndx = (unsigned)rd(e, e->is64 ? 0x3E : 0x32, 2);
    if (!shnum || shstrndx >= shnum || shoff + (uint64_t)shnum * shentsize > e->len)
        return false;
    e->nsecs = (int)shnum;
    e->secs = xcalloc(shnum, sizeof *e->secs);
    for (unsigned i = 0; i < shnum; i++) {
        uint64_t h = shoff + (uint64_t)i * shentsize;
        Sec *s = &e->secs[i];
        s->type = (uint32_t)rd(e, h + 4, 4);
        if (e->is64) {
            s->flags = rd(e, h + 8, 8), s->offset = rd(e, h + 24, 8), s->size = rd(e, h + 32, 8);
            s->link = (uint32_t)rd(e, h + 40, 4), s->info = (uint32_t)rd(e, h + 44, 4), s->entsize = rd(e, h + 56, 8);
        } else {
            s->flags = rd(e, h + 8, 4), s->offset = rd(e, h + 16, 4), s->size = rd(e, h + 20, 4);
            s->link = (uint32_t)rd(e, h + 24, 4), s->info = (uint32_t)rd(e, h + 28, 4), s->entsize = rd(e, h + 36, 4);
        }
        s->flash = -1;
    }
    for (unsigned i = 0; i < shnum; i++)
        e->secs[i].name = str_at(e, &e->secs[shstrndx], rd(e, shoff + (uint64_t)i * shentsize, 4));
    for (unsigned i = 0; i < shnum; i++) {
        const Sec *s = &e->secs[i];
        if (s->type != 2 /* SHT_SYMTAB */ || s->link >= shnum)
            continue;
        unsigned ent = e->is64 ? 24 : 16;
        int n = (int)(s->size / ent);
        e->syms = xcalloc((size_t)n + 1, sizeof *e->syms);
        e->nsyms = n;
        for (int k = 0; k < n; k++) {
            uint64_t a = s->offset + (uint64_t)k * ent;
            Sym *y = &e->syms[k];
            y->name = str_at(e, &e->secs[s->link], rd(e, a, 4));
            if (e->is64) {
                y->type = (unsigned)rd(e, a + 4, 1) & 15, y->shndx = (unsigned)rd(e, a + 6, 2);
                y->value = rd(e, a + 8, 8), y->size = rd(e, a + 16, 8);
            } else {
                y->value = rd(e, a + 4, 4), y->size = rd(e, a + 8, 4);
                y->type = (unsigned)rd(e, a + 12, 1) & 15, y->shndx = (unsigned)rd(e, a + 14, 2);
            }
            if (e->machine == 40 && y->type == 2) /* EM_ARM, STT_FUNC: bit 0 marks Thumb code */
                y->value &= ~(uint64_t)1;
        }
        break;
    }
    return true;
}

/* The owner and kind a symbol's name gives, or false (not qnnc's). */
static bool classify(const Graph *g, const char *model, const char *sym, int *owner, int *kind)
{
    size_t ml = strlen(model);
    if (strncmp(sym, model, ml) != 0)
        return false;
    const char *r = sym + ml;
    if (!strcmp(r, "_run")) {
        *owner = OWN_ROW(FLASH_ROW_ENTRY), *kind = FLASH_CODE;
        return true;
    }
    if (!strcmp(r, "_info") || !strcmp(r, "_profile")) {
        *owner = OWN_ROW(FLASH_ROW_INFO), *kind = FLASH_OTHER;
        return true;
    }
    if (!strncmp(r, "_run.", 5)) { /* NAME_run.K.KERNEL */
        char *end;
        long k = strtol(r + 5, &end, 10);
        if (end == r + 5 || *end != '.' || k < 0 || k >= g->nodes.len)
            return false;
        *owner = (int)k, *kind = FLASH_CODE;
        return true;
    }
    if (*r != '.')
        return false;
    r++;
    int node = -1;
    if (*r >= '0' && *r <= '9') { /* NAME.K.KIND.N */
        char *end;
        long k = strtol(r, &end, 10);
        if (*end != '.' || k >= g->nodes.len)
            return false;
        node = (int)k;
        r = end + 1;
    }
    const char *dot = strrchr(r, '.');
    size_t kl = dot && dot > r ? (size_t)(dot - r) : strlen(r);
    *kind = FLASH_OTHER;
    for (size_t i = 0; i < sizeof kind_names / sizeof *kind_names; i++)
        if (strlen(kind_names[i].name) == kl && !strncmp(kind_names[i].name, r, kl))
            *kind = kind_names[i].kind;
    if (node >= 0) {
        *owner = node;
        return true;
    }
    if (kl > 5 && !strncmp(r, "const", 5) && r[5] >= '0' && r[5] <= '9') {
        /* The graph's constant I: its one user's, by the operand it is. */
        long ci = strtol(r + 5, NULL, 10);
        if (ci < 0 || ci >= g->consts.len)
            return false;
        const Value *v = g->consts.data[ci];
        *owner = OWN_ROW(FLASH_ROW_SHARED);
        int users = 0;
        for (int k = 0; k < g->nodes.len; k++) {
            const Node *n = g->nodes.data[k];
            for (int i = 0; i < n->num_operands; i++) {
                if (n->operands[i] != v)
                    continue;
                users++;
                *owner = k;
                bool mac = n->op == OP_CONV2D || n->op == OP_DENSE || n->op == OP_MATMUL;
                *kind = mac && i == 1 ? FLASH_WEIGHTS : mac && i == 2 ? FLASH_BIASES : FLASH_OTHER;
                break;
            }
        }
        if (users != 1)
            *owner = OWN_ROW(FLASH_ROW_SHARED), *kind = FLASH_OTHER;
        return true;
    }
    *owner = OWN_ROW(FLASH_ROW_INFO); /* str, inputs, outputs, profile_nodes */
    return true;
}

static int span_cmp(const void *a, const void *b)
{
    const Span *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo ? 1 : x->hi < y->hi ? -1 : x->hi > y->hi;
}

static int point_cmp(const void *a, const void *b)
{
    const Point *x = a, *y = b;
    return x->at < y->at ? -1 : x->at > y->at ? 1 : x->owner - y->owner;
}

/* The span of S holding byte AT, or NULL. */
static const Span *span_at(const Sec *s, uint64_t at)
{
    int lo = 0, hi = s->nspans;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (s->spans[mid].hi <= at)
            lo = mid + 1;
        else if (s->spans[mid].lo > at)
            hi = mid;
        else
            return &s->spans[mid];
    }
    return NULL;
}

static void add_point(Sec *s, uint64_t at, int owner, int kind)
{
    if (s->npoints == s->cappoints) {
        s->cappoints = s->cappoints ? 2 * s->cappoints : 16;
        s->points = xrealloc(s->points, (size_t)s->cappoints * sizeof *s->points);
    }
    s->points[s->npoints++] = (Point){at, owner, kind};
}

/* Where relocation R of section REL points: its symbol plus addend, as an
 * offset into the symbol's section; false when that cannot be told. */
static bool reloc_target(const Elf *e, const Sec *rel, uint64_t r, uint64_t *at, unsigned *shndx)
{
    bool rela = rel->type == 4;
    uint64_t off, info;
    int64_t addend = 0;
    unsigned type, si;
    if (e->is64) {
        off = rd(e, r, 8), info = rd(e, r + 8, 8);
        si = (unsigned)(info >> 32), type = (unsigned)(info & 0xffffffffu);
        if (rela)
            addend = (int64_t)rd(e, r + 16, 8);
    } else {
        off = rd(e, r, 4), info = rd(e, r + 4, 4);
        si = (unsigned)(info >> 8), type = (unsigned)(info & 0xff);
        if (rela)
            addend = (int32_t)rd(e, r + 8, 4);
    }
    if (si == 0 || (int)si >= e->nsyms || rel->info >= (unsigned)e->nsecs)
        return false;
    const Sym *y = &e->syms[si];
    const Sec *site = &e->secs[rel->info];
    if (rela && e->machine == 62 && (type == 2 || type == 4 || type == 9 || type == 41 || type == 42))
        addend += 4; /* x86-64 PC-relative: the addend counts from the field's end */
    if (!rela && y->type == 3 /* STT_SECTION */) {
        /* REL (Arm): the addend is in the field. */
        uint64_t w = rd(e, site->offset + off, 4);
        if (type == 2 || type == 3) /* R_ARM_ABS32, R_ARM_REL32 */
            addend = (int32_t)w;
        else if (type == 42) /* R_ARM_PREL31 */
            addend = (int32_t)(w << 1) >> 1;
        else if (type == 47) { /* R_ARM_THM_MOVW_ABS_NC */
            uint32_t h1 = (uint32_t)(w & 0xffff), h2 = (uint32_t)(w >> 16);
            addend = (int64_t)((h1 & 0xf) << 12 | ((h1 >> 10) & 1) << 11 | ((h2 >> 12) & 7) << 8 | (h2 & 0xff));
        } else
            return false;
    }
    *at = y->value + (uint64_t)addend;
    *shndx = y->shndx;
    return true;
}

static void add_bytes(FlashReport *fr, int owner, int kind, int sec, uint64_t n)
{
    if (!n)
        return;
    int row = owner >= 0 ? owner : fr->num_nodes + (-1 - owner);
    fr->rows[row].kind[kind] += (int64_t)n;
    fr->rows[row].section[sec] += (int64_t)n;
}

/* Splits gap [LO, HI) of section S (flash index SI) by its points. */
static void attribute_gap(FlashReport *fr, const Sec *s, int si, uint64_t lo, uint64_t hi, const Span *before,
                          const Span *after)
{
    int first = 0;
    while (first < s->npoints && s->points[first].at < lo)
        first++;
    int last = first;
    while (last < s->npoints && s->points[last].at < hi)
        last++;
    if (first == last) { /* padding: the next symbol's, or the one before */
        const Span *to = after ? after : before;
        if (to)
            add_bytes(fr, to->owner, to->kind, si, hi - lo);
        else
            add_bytes(fr, OWN_ROW(FLASH_ROW_UNATTRIBUTED), FLASH_OTHER, si, hi - lo);
        return;
    }
    uint64_t at = lo;
    for (int i = first; i < last;) {
        int owner = s->points[i].owner, kind = s->points[i].kind;
        int j = i + 1;
        while (j < last && s->points[j].at == s->points[i].at) {
            if (s->points[j].owner != owner)
                owner = OWN_ROW(FLASH_ROW_SHARED), kind = FLASH_OTHER;
            j++;
        }
        uint64_t end = j < last ? s->points[j].at : hi;
        add_bytes(fr, owner, kind, si, end - at);
        at = end;
        i = j;
    }
}

bool codegen_flash(const Graph *g, const char *model, const char *obj, size_t len, FlashReport *fr)
{
    memset(fr, 0, sizeof *fr);
    Elf e = {.p = (const unsigned char *)obj, .len = len};
    if (!elf_read(&e)) {
        free(e.secs);
        return false;
    }
    /* The flash: allocated sections with bytes in the file. */
    fr->num_nodes = g->nodes.len;
    fr->section_name = xcalloc((size_t)e.nsecs + 1, sizeof *fr->section_name);
    fr->section_size = xcalloc((size_t)e.nsecs + 1, sizeof *fr->section_size);
    fr->section_exec = xcalloc((size_t)e.nsecs + 1, sizeof *fr->section_exec);
    fr->section_write = xcalloc((size_t)e.nsecs + 1, sizeof *fr->section_write);
    for (int i = 0; i < e.nsecs; i++) {
        Sec *s = &e.secs[i];
        if (!(s->flags & 2) || s->type == 8 /* SHT_NOBITS */ || !s->size)
            continue;
        int k = fr->num_sections++;
        s->flash = k;
        fr->section_name[k] = xstrdup(s->name);
        fr->section_size[k] = (int64_t)s->size;
        fr->section_exec[k] = s->flags & 4;
        fr->section_write[k] = s->flags & 1;
    }
    int nrows = fr->num_nodes + NUM_FLASH_SHARED_ROWS;
    fr->rows = xcalloc((size_t)nrows, sizeof *fr->rows);
    for (int r = 0; r < nrows; r++)
        fr->rows[r].section = xcalloc((size_t)fr->num_sections + 1, sizeof *fr->rows[r].section);

    /* 1. Symbols with a size. */
    for (int k = 0; k < e.nsyms; k++) {
        const Sym *y = &e.syms[k];
        int owner, kind;
        if (!y->size || y->type == 3 || y->shndx == 0 || y->shndx >= (unsigned)e.nsecs)
            continue;
        Sec *s = &e.secs[y->shndx];
        if (s->flash < 0 || !classify(g, model, y->name, &owner, &kind))
            continue;
        if (s->nspans == s->capspans) {
            s->capspans = s->capspans ? 2 * s->capspans : 16;
            s->spans = xrealloc(s->spans, (size_t)s->capspans * sizeof *s->spans);
        }
        uint64_t hi = y->value + y->size > s->size ? s->size : y->value + y->size;
        if (y->value < hi)
            s->spans[s->nspans++] = (Span){y->value, hi, owner, kind};
    }
    for (int i = 0; i < e.nsecs; i++) {
        Sec *s = &e.secs[i];
        if (!s->nspans)
            continue;
        if (s->nspans > 1) /* qsort wants a non-null base even for none */
            qsort(s->spans, (size_t)s->nspans, sizeof *s->spans, span_cmp);
        int n = 0; /* overlaps (merged constants): the first keeps the bytes */
        for (int k = 0; k < s->nspans; k++) {
            Span sp = s->spans[k];
            if (n && sp.lo < s->spans[n - 1].hi)
                sp.lo = s->spans[n - 1].hi;
            if (sp.lo < sp.hi)
                s->spans[n++] = sp;
        }
        s->nspans = n;
    }

    /* 2. References between owned and unowned bytes. */
    for (int i = 0; i < e.nsecs; i++) {
        const Sec *rel = &e.secs[i];
        if ((rel->type != 4 && rel->type != 9) || rel->info >= (unsigned)e.nsecs || e.secs[rel->info].flash < 0)
            continue;
        Sec *site = &e.secs[rel->info];
        unsigned ent = rel->type == 4 ? (e.is64 ? 24 : 12) : (e.is64 ? 16 : 8);
        for (uint64_t r = rel->offset; r + ent <= rel->offset + rel->size && r + ent <= e.len; r += ent) {
            uint64_t off = e.is64 ? rd(&e, r, 8) : rd(&e, r, 4), at;
            unsigned shndx;
            if (!reloc_target(&e, rel, r, &at, &shndx) || shndx == 0 || shndx >= (unsigned)e.nsecs)
                continue;
            Sec *to = &e.secs[shndx];
            if (to->flash < 0 || at >= to->size)
                continue;
            const Span *from = span_at(site, off), *dest = span_at(to, at);
            if (from && !dest)
                add_point(to, at, from->owner, (to->flags & 4) ? FLASH_CODE : FLASH_OTHER);
            else if (!from && dest)
                add_point(site, off, dest->owner, (site->flags & 4) ? FLASH_CODE : FLASH_OTHER);
        }
    }

    /* 3. Spans, and the gaps between them by their points or as padding. */
    for (int i = 0; i < e.nsecs; i++) {
        Sec *s = &e.secs[i];
        if (s->flash < 0)
            continue;
        if (s->npoints > 1)
            qsort(s->points, (size_t)s->npoints, sizeof *s->points, point_cmp);
        uint64_t at = 0;
        for (int k = 0; k <= s->nspans; k++) {
            const Span *sp = k < s->nspans ? &s->spans[k] : NULL;
            uint64_t lo = sp ? sp->lo : s->size;
            if (at < lo)
                attribute_gap(fr, s, s->flash, at, lo, k ? &s->spans[k - 1] : NULL, sp);
            if (sp) {
                add_bytes(fr, sp->owner, sp->kind, s->flash, sp->hi - sp->lo);
                at = sp->hi;
            }
        }
    }
    for (int i = 0; i < e.nsecs; i++) {
        free(e.secs[i].spans);
        free(e.secs[i].points);
    }
    free(e.secs);
    free(e.syms);
    return true;
}
