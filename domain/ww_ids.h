/*
 * ww_ids.h - validation of the identifiers both services accept, so the
 * trainer and the users side refuse the same input with the same message.
 *
 * Pure functions; the strings are only read, never kept.
 */
#ifndef WW_IDS_H
#define WW_IDS_H

#include <stdbool.h>
#include <stddef.h>

#include "ww_err.h"

/* Canonical UUID text: 8-4-4-4-12 hex digits (either case), 36 bytes.
 * Uuids are keys as given: "ABC..." and "abc..." are different trainings
 * (clients resend the text they generated). */
#define WW_IDS_UUID_LEN 36
/* A user id is any non-empty string of at most this many bytes. */
#define WW_IDS_USER_ID_MAX 128
/* A training's notes: at most this many bytes (empty is fine). */
#define WW_IDS_NOTES_MAX 1000

/* True when `s` (may be NULL) is canonical UUID text. */
bool ww_ids_is_uuid(const char *s);

/* WW_OK, or WW_ERR_INVALID_ARGUMENT with "training_uuid is empty" or
 * "training_uuid is not a UUID (8-4-4-4-12 hex digits): \"...\"" (the value
 * cut at 40 bytes). NULL counts as empty. */
ww_code_t ww_ids_check_training_uuid(const char *uuid, ww_err_t *err);

/* WW_OK, or WW_ERR_INVALID_ARGUMENT with "user_id is empty" or
 * "user_id is longer than 128 bytes". NULL counts as empty. */
ww_code_t ww_ids_check_user_id(const char *user_id, ww_err_t *err);

/* WW_OK, or WW_ERR_INVALID_ARGUMENT "notes are longer than 1000 bytes".
 * NULL counts as empty. */
ww_code_t ww_ids_check_notes(const char *notes, ww_err_t *err);

#endif
