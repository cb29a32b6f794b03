/* ww_ids.c - identifier validation shared by both services. */
#include "ww_ids.h"

#include <string.h>

static bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
           (c >= 'A' && c <= 'F');
}

bool ww_ids_is_uuid(const char *s) {
    if (!s) return false;
    for (int i = 0; i < WW_IDS_UUID_LEN; i++) {
        bool dash_pos = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash_pos ? s[i] != '-' : !is_hex(s[i])) return false;
    }
    return s[WW_IDS_UUID_LEN] == '\0';
}

ww_code_t ww_ids_check_training_uuid(const char *uuid, ww_err_t *err) {
    if (!uuid || !*uuid)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "training_uuid is empty");
    if (!ww_ids_is_uuid(uuid))
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "training_uuid is not a UUID (8-4-4-4-12 hex "
                          "digits): \"%.40s\"",
                          uuid);
    return WW_OK;
}

ww_code_t ww_ids_check_user_id(const char *user_id, ww_err_t *err) {
    if (!user_id || !*user_id)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "user_id is empty");
    if (strnlen(user_id, WW_IDS_USER_ID_MAX + 1) > WW_IDS_USER_ID_MAX)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "user_id is longer than %d bytes",
                          WW_IDS_USER_ID_MAX);
    return WW_OK;
}

ww_code_t ww_ids_check_notes(const char *notes, ww_err_t *err) {
    if (notes && strnlen(notes, WW_IDS_NOTES_MAX + 1) > WW_IDS_NOTES_MAX)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "notes are longer than %d bytes", WW_IDS_NOTES_MAX);
    return WW_OK;
}
