/* ww_auth_strlist.c - comma lists as NULL-terminated arrays. */
#include "ww_auth_strlist.h"

#include <stdlib.h>
#include <string.h>

/* Pointer array and characters live in one block, so one free() releases it. */
static char **build(const char *const *items, const size_t *lens, size_t n,
                    int *oom) {
    size_t bytes = (n + 1) * sizeof(char *);
    for (size_t i = 0; i < n; i++)
        bytes += lens[i] + 1;
    char **out = malloc(bytes);
    if (!out) {
        if (oom) *oom = 1;
        return NULL;
    }
    char *p = (char *)(out + n + 1);
    for (size_t i = 0; i < n; i++) {
        memcpy(p, items[i], lens[i]);
        p[lens[i]] = '\0';
        out[i] = p;
        p += lens[i] + 1;
    }
    out[n] = NULL;
    return out;
}

char **ww_auth_strlist_parse(const char *csv, int *oom) {
    if (!csv) return NULL;
    size_t cap = 1;
    for (const char *c = csv; *c; c++)
        cap += *c == ',';
    const char **items = malloc(cap * sizeof *items);
    size_t *lens = malloc(cap * sizeof *lens);
    size_t n = 0;
    char **out = NULL;
    if (!items || !lens) {
        if (oom) *oom = 1;
        goto done;
    }
    for (const char *p = csv;;) {
        const char *end = strchr(p, ',');
        if (!end) end = p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (b > a) {
            items[n] = a;
            lens[n++] = (size_t)(b - a);
        }
        if (!*end) break;
        p = end + 1;
    }
    if (n) out = build(items, lens, n, oom);
done:
    free(items);
    free(lens);
    return out;
}

char **ww_auth_strlist_copy(const char *const *list, int *oom) {
    if (!list) return NULL;
    size_t n = ww_auth_strlist_len(list);
    size_t *lens = malloc((n + 1) * sizeof *lens);
    if (!lens) {
        if (oom) *oom = 1;
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        lens[i] = strlen(list[i]);
    char **out = build(list, lens, n, oom);
    free(lens);
    return out;
}

int ww_auth_strlist_contains(const char *const *list, const char *s) {
    for (; list && *list; list++)
        if (!strcmp(*list, s)) return 1;
    return 0;
}

size_t ww_auth_strlist_len(const char *const *list) {
    size_t n = 0;
    while (list && list[n])
        n++;
    return n;
}

void ww_auth_strlist_free(char **list) {
    free(list);
}
