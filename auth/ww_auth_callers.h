/*
 * ww_auth_callers.h - who may call a server, and in which role: the caller
 * list of WW_CALLERS / WW_CALLERS_FILE, parsed once at start and matched
 * against the claims of every verified token.
 *
 * An entry is ROLE=ISSUER|WHO, entries separated by commas or newlines,
 * blanks around them ignored, '#' starting a comment up to the end of its
 * line:
 *
 *   service=https://accounts.google.com|110169484474386276334   (iss + sub)
 *   trainer=https://accounts.google.com|email:trainer@p.iam.gserviceaccount.com
 *   user=https://securetoken.google.com/my-project|*            (any sub)
 *
 * ROLE is `service`, `trainer` or `user`. ISSUER must be one of the
 * trusted issuers (WW_JWT_ISSUERS): an entry that could never match is a
 * mistake, refused at start. WHO is a `sub`; or `email:ADDRESS`, which
 * matches only a token of that same issuer whose email_verified is the
 * JSON value true (compared ignoring ASCII case); or `*`, any subject of
 * the issuer, allowed for the `user` role only (a wildcard service would
 * be every account of the issuer). The same (issuer, WHO) twice is an
 * error, whatever the roles.
 *
 * Matching a token: its (iss, sub) entry first, then its verified email's,
 * then its issuer's `*`; no entry: no role (ROLE_NONE, refused). A list
 * with no entry at all (blank or only comments) is valid and matches
 * nobody.
 *
 * Ownership: _parse returns a list the caller frees with _destroy.
 * Threads: read-only after _parse; _match may run on any threads at once.
 */
#ifndef WW_AUTH_CALLERS_H
#define WW_AUTH_CALLERS_H

#include "ww_auth_jwt.h"
#include "ww_err.h"

#include <stddef.h>

typedef enum ww_auth_role {
    WW_AUTH_ROLE_NONE = 0, /* not listed: every call but health refused */
    WW_AUTH_ROLE_SERVICE,  /* may act for any user */
    WW_AUTH_ROLE_TRAINER,  /* the hour methods, cancels as the trainer */
    WW_AUTH_ROLE_USER,     /* only for its own user id */
} ww_auth_role_t;

/* "service", "trainer", "user"; "" for ROLE_NONE. */
const char *ww_auth_role_name(ww_auth_role_t role);

/* The inverse; ROLE_NONE for anything else (NULL included). */
ww_auth_role_t ww_auth_role_parse(const char *name);

typedef struct ww_auth_callers ww_auth_callers_t;

/* Parses `text` (see the top). `source` names where it came from
 * ("WW_CALLERS", a file path) in messages; `issuers` (NULL-terminated) are
 * the trusted issuers. On failure *out is NULL and err (INVALID_ARGUMENT)
 * names the source, the entry's position and what is wrong with it. */
ww_code_t ww_auth_callers_parse(const char *text, const char *source,
                                const char *const *issuers,
                                ww_auth_callers_t **out, ww_err_t *err);

/* NULL is a no-op. */
void ww_auth_callers_destroy(ww_auth_callers_t *callers);

/* Entries in the list. */
size_t ww_auth_callers_count(const ww_auth_callers_t *callers);

/* The role of the caller whose verified claims are `claims`. */
ww_auth_role_t ww_auth_callers_match(const ww_auth_callers_t *callers,
                                     const ww_auth_jwt_claims_t *claims);

#endif
