/* arena.c - bump allocation for IR objects.
 *
 * A one-shot compiler never frees a single node: everything a graph owns is
 * allocated here and released together by arena_free(). */
#include "ir.h"

#include <stdlib.h>
#include <string.h>

struct ArenaBlock {
    ArenaBlock *next;
    size_t used, size;
    _Alignas(16) unsigned char mem[];
};

enum { ARENA_BLOCK = 64 * 1024, ARENA_ALIGN = 16 };

void arena_init(Arena *a) { a->head = NULL; }

void arena_free(Arena *a)
{
    ArenaBlock *b = a->head;
    while (b) {
        ArenaBlock *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}

void *arena_alloc(Arena *a, size_t n)
{
    n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    ArenaBlock *b = a->head;
    if (!b || b->size - b->used < n) {
        /* Big requests get a block of their own, placed behind the current
         * one so the current block's free space stays usable. */
        size_t size = n > ARENA_BLOCK / 4 ? n : ARENA_BLOCK;
        ArenaBlock *nb = xmalloc(sizeof *nb + size);
        nb->used = 0;
        nb->size = size;
        if (b && size != ARENA_BLOCK) {
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            a->head = nb;
        }
        b = nb;
    }
    void *p = b->mem + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

char *arena_strndup(Arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(Arena *a, const char *s) { return arena_strndup(a, s, strlen(s)); }

void *arena_memdup(Arena *a, const void *p, size_t n)
{
    void *q = arena_alloc(a, n);
    if (n)
        memcpy(q, p, n);
    return q;
}

void ptrvec_push(Arena *a, PtrVec *v, void *p)
{
    if (v->len == v->cap) {
        int cap = v->cap ? v->cap * 2 : 8;
        void **data = arena_alloc(a, (size_t)cap * sizeof *data);
        if (v->len)
            memcpy(data, v->data, (size_t)v->len * sizeof *data);
        v->data = data;
        v->cap = cap;
    }
    v->data[v->len++] = p;
}
