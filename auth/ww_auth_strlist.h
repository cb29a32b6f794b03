/*
 * ww_auth_strlist.h - NULL-terminated string arrays for the comma-separated
 * settings (issuers, allowed callers). Each list is one
 * allocation block owned by whoever received it; free with
 * ww_auth_strlist_free. Pure and thread-safe (read-only after creation).
 */
#ifndef WW_AUTH_STRLIST_H
#define WW_AUTH_STRLIST_H

#include <stddef.h>

/* Splits "a, b,,c" into {"a","b","c",NULL}: spaces around items trimmed,
 * empty items dropped. NULL or an all-empty string gives NULL (no list).
 * Sets *oom (when given) on allocation failure. */
char **ww_auth_strlist_parse(const char *csv, int *oom);

/* Deep copy of a NULL-terminated array; NULL for NULL. */
char **ww_auth_strlist_copy(const char *const *list, int *oom);

/* 1 when `s` equals an item; 0 for a NULL list. */
int ww_auth_strlist_contains(const char *const *list, const char *s);

/* Items before the NULL. */
size_t ww_auth_strlist_len(const char *const *list);

void ww_auth_strlist_free(char **list);

#endif
