/* ww_auth_callers.c - the caller list: parsing and role matching. */
#include "ww_auth_callers.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum who_kind { WHO_SUB, WHO_EMAIL, WHO_ANY } who_kind_t;

typedef struct entry {
    ww_auth_role_t role;
    who_kind_t kind;
    char *issuer;
    char *who; /* sub or email; "" for WHO_ANY */
} entry_t;

struct ww_auth_callers {
    entry_t *entries;
    size_t n;
};

static const char *const role_names[] = {"", "service", "trainer", "user"};

const char *ww_auth_role_name(ww_auth_role_t role) {
    return role >= WW_AUTH_ROLE_NONE && role <= WW_AUTH_ROLE_USER
               ? role_names[role]
               : "";
}

ww_auth_role_t ww_auth_role_parse(const char *name) {
    for (int r = WW_AUTH_ROLE_SERVICE; name && r <= WW_AUTH_ROLE_USER; r++)
        if (!strcmp(name, role_names[r])) return (ww_auth_role_t)r;
    return WW_AUTH_ROLE_NONE;
}

void ww_auth_callers_destroy(ww_auth_callers_t *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->entries[i].issuer);
        free(c->entries[i].who);
    }
    free(c->entries);
    free(c);
}

size_t ww_auth_callers_count(const ww_auth_callers_t *c) {
    return c ? c->n : 0;
}

static bool printable(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

static bool trusted(const char *const *issuers, const char *iss, size_t n) {
    for (; issuers && *issuers; issuers++)
        if (strlen(*issuers) == n && !strncmp(*issuers, iss, n)) return true;
    return false;
}

static bool same_who(const entry_t *a, const entry_t *b) {
    if (a->kind != b->kind || strcmp(a->issuer, b->issuer)) return false;
    return a->kind == WHO_EMAIL ? !strcasecmp(a->who, b->who)
                                : !strcmp(a->who, b->who);
}

/* One entry `s` (n bytes, trimmed, not empty) into *e. */
static ww_code_t parse_entry(const char *s, size_t n, const char *source,
                             size_t pos, const char *const *issuers, entry_t *e,
                             ww_err_t *err) {
    const char *eq = memchr(s, '=', n), *end = s + n;
    const char *bar = eq ? memchr(eq, '|', (size_t)(end - eq)) : NULL;
    if (!eq || !bar)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "%s entry %zu \"%.*s\": expected "
                          "ROLE=ISSUER|SUBJECT (or |email:ADDRESS, |*)",
                          source, pos, (int)(n > 80 ? 80 : n), s);
    char role[16];
    size_t rl = (size_t)(eq - s);
    snprintf(role, sizeof role, "%.*s", (int)(rl < 15 ? rl : 15), s);
    e->role = rl < 15 ? ww_auth_role_parse(role) : WW_AUTH_ROLE_NONE;
    if (e->role == WW_AUTH_ROLE_NONE)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "%s entry %zu: role \"%.*s\" is not service, "
                          "trainer or user",
                          source, pos, (int)(rl > 40 ? 40 : rl), s);
    const char *iss = eq + 1, *who = bar + 1;
    size_t il = (size_t)(bar - iss), wl = (size_t)(end - who);
    if (!trusted(issuers, iss, il))
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "%s entry %zu: issuer \"%.*s\" is not in "
                          "WW_JWT_ISSUERS, so the entry could never match",
                          source, pos, (int)(il > 120 ? 120 : il), iss);
    e->kind = WHO_SUB;
    if (wl == 1 && who[0] == '*') {
        e->kind = WHO_ANY;
        wl = 0;
    } else if (wl >= 6 && !strncmp(who, "email:", 6)) {
        e->kind = WHO_EMAIL;
        who += 6;
        wl -= 6;
    }
    if (e->kind == WHO_ANY && e->role != WW_AUTH_ROLE_USER)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "%s entry %zu: \"*\" (any subject) is allowed for "
                          "the user role only",
                          source, pos);
    if (e->kind != WHO_ANY &&
        (wl == 0 || wl >= WW_AUTH_JWT_IDENTITY_MAX || !printable(who, wl)))
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "%s entry %zu: the subject or email is empty, too "
                          "long or holds blanks",
                          source, pos);
    e->issuer = strndup(iss, il);
    e->who = strndup(who, wl);
    if (!e->issuer || !e->who)
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    return WW_OK;
}

ww_code_t ww_auth_callers_parse(const char *text, const char *source,
                                const char *const *issuers,
                                ww_auth_callers_t **out, ww_err_t *err) {
    *out = NULL;
    ww_auth_callers_t *c = calloc(1, sizeof *c);
    size_t cap = 1;
    for (const char *p = text ? text : ""; *p; p++)
        cap += *p == ',' || *p == '\n';
    if (c) c->entries = calloc(cap, sizeof *c->entries);
    if (!c || !c->entries) {
        ww_auth_callers_destroy(c);
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    ww_code_t rc = WW_OK;
    bool comment = false;
    size_t pos = 0;
    for (const char *p = text ? text : ""; rc == WW_OK;) {
        size_t n = strcspn(p, ",\n#");
        const char *a = p, *b = p + n;
        if (!comment) {
            while (a < b && (*a == ' ' || *a == '\t' || *a == '\r'))
                a++;
            while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r'))
                b--;
            if (b > a) {
                entry_t *e = &c->entries[c->n];
                rc = parse_entry(a, (size_t)(b - a), source, ++pos, issuers, e,
                                 err);
                c->n++; /* freed with the list even when half filled */
                for (size_t i = 0; rc == WW_OK && i + 1 < c->n; i++)
                    if (same_who(&c->entries[i], e))
                        rc = ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                                        "%s entry %zu: \"%.*s\" is listed "
                                        "twice",
                                        source, pos,
                                        (int)((b - a) > 80 ? 80 : (b - a)), a);
            }
        }
        char sep = p[n];
        if (!sep) break;
        if (sep == '#') comment = true;
        if (sep == '\n') comment = false;
        p += n + 1;
    }
    if (rc != WW_OK) {
        ww_auth_callers_destroy(c);
        return rc;
    }
    *out = c;
    return WW_OK;
}

ww_auth_role_t ww_auth_callers_match(const ww_auth_callers_t *c,
                                     const ww_auth_jwt_claims_t *claims) {
    if (!c) return WW_AUTH_ROLE_NONE;
    const char *iss = claims->identity, *sub = "";
    size_t il = claims->issuer_len;
    if (claims->identity[il] == '|') sub = claims->identity + il + 1;
    const entry_t *email = NULL, *any = NULL;
    for (size_t i = 0; i < c->n; i++) {
        const entry_t *e = &c->entries[i];
        if (strlen(e->issuer) != il || strncmp(e->issuer, iss, il)) continue;
        switch (e->kind) {
        case WHO_SUB:
            if (!strcmp(e->who, sub)) return e->role;
            break;
        case WHO_EMAIL:
            if (claims->email[0] && !strcasecmp(e->who, claims->email))
                email = e;
            break;
        case WHO_ANY:
            any = e;
            break;
        }
    }
    return email ? email->role : any ? any->role : WW_AUTH_ROLE_NONE;
}
