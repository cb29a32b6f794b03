/* ww_trainer_canon.c - the trainer state's canonical bytes (digests,
 * snapshots): written, and read back into a state. */
#include "ww_canon.h"
#include "ww_fold.h"
#include "ww_trainer_domain_int.h"

#include <stdlib.h>
#include <string.h>

static int cmp_hour_ptr(const void *a, const void *b) {
    int64_t x = (*(const ww_trainer__hour_t *const *)a)->hour;
    int64_t y = (*(const ww_trainer__hour_t *const *)b)->hour;
    return (x > y) - (x < y);
}

static int cmp_training_ptr(const void *a, const void *b) {
    return strcmp((*(const ww_trainer__training_t *const *)a)->uuid,
                  (*(const ww_trainer__training_t *const *)b)->uuid);
}

ww_code_t ww_trainer_state_serialize(const ww_trainer_state_t *s, uint8_t **out,
                                     size_t *len, ww_err_t *err) {
    const ww_trainer__hour_t **hours = malloc((s->n_hours + 1) * sizeof *hours);
    const ww_trainer__training_t **trs =
        malloc((s->n_trainings + 1) * sizeof *trs);
    ww_canon_t c;
    ww_canon_init(&c);
    size_t n_hours = 0;
    if (!hours || !trs) goto oom;
    for (size_t i = 0; i < s->n_hours; i++)
        if (s->hours[i].available || s->hours[i].scheduled ||
            s->hours[i].holder != WW_TRAINER__NO_HOLDER)
            hours[n_hours++] = &s->hours[i];
    for (size_t i = 0; i < s->n_trainings; i++)
        trs[i] = &s->trainings[i];
    qsort(hours, n_hours, sizeof *hours, cmp_hour_ptr);
    qsort(trs, s->n_trainings, sizeof *trs, cmp_training_ptr);

    ww_canon_bytes(&c, "WWTR", 4);
    ww_canon_u32(&c, 1);
    ww_canon_u64(&c, n_hours);
    for (size_t i = 0; i < n_hours; i++) {
        const ww_trainer__hour_t *h = hours[i];
        ww_canon_i64(&c, h->hour);
        ww_canon_u8(&c, h->available);
        ww_canon_u8(&c, h->scheduled);
        ww_canon_str(&c, h->holder == WW_TRAINER__NO_HOLDER
                             ? ""
                             : s->trainings[h->holder].uuid);
    }
    ww_canon_u64(&c, s->n_trainings);
    for (size_t i = 0; i < s->n_trainings; i++) {
        const ww_trainer__training_t *t = trs[i];
        ww_canon_str(&c, t->uuid);
        ww_canon_str(&c, t->user_id);
        ww_canon_i64(&c, t->hour);
        ww_canon_str(&c, t->notes);
        ww_canon_u8(&c, (uint8_t)t->status);
        ww_canon_u8(&c, t->debited);
        ww_canon_u8(&c, t->by_trainer);
        ww_canon_i64(&c, t->refund);
    }
    free(hours);
    free(trs);
    return ww_canon_finish(&c, out, len, err);
oom:
    free(hours);
    free(trs);
    return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
}

/* ------------------------------------------------------------- reader */

/* Smallest encodings: an hour with an empty holder; a training with empty
 * strings. Counts are checked against them before anything is kept. */
#define HOUR_MIN_BYTES     (8 + 1 + 1 + 4)
#define TRAINING_MIN_BYTES (4 + 4 + 8 + 4 + 1 + 1 + 1 + 8)

/* An hour the bytes say is held, until its training is read. */
typedef struct held {
    size_t at;    /* offset of the hour's entry */
    size_t index; /* into s->hours */
    char uuid[WW_IDS_UUID_LEN + 1];
    bool found;
} held_t;

typedef struct held_list {
    held_t *v; /* ascending by hour, as the hours are */
    size_t n, cap;
} held_list_t;

static bool active(ww_trainer_training_status_t st) {
    return st == WW_TRAINER_TRAINING_PENDING ||
           st == WW_TRAINER_TRAINING_SCHEDULED;
}

/* Adds one hour entry read at `at`; false when it failed the reader. */
static bool add_hour(ww_canon_reader_t *r, ww_trainer_state_t *s,
                     held_list_t *held, size_t at, int64_t hour, bool available,
                     bool scheduled, const char *holder) {
    char when[WW_TIME_FORMAT_SIZE];
    ww_time_format(hour, when);
    if (available && scheduled)
        ww_canon_reader_fail(r, at, "hour", "%s is available and scheduled",
                             when);
    else if (*holder && !ww_ids_is_uuid(holder))
        ww_canon_reader_fail(r, at, "hour", "%s: holder \"%s\" is not a UUID",
                             when, holder);
    else if (*holder && !scheduled)
        ww_canon_reader_fail(r, at, "hour", "%s is held but not scheduled",
                             when);
    else if (!available && !scheduled)
        ww_canon_reader_fail(r, at, "hour",
                             "%s has the default state (not available, no "
                             "training) and is left out in canonical form",
                             when);
    if (!ww_canon_reader_ok(r)) return false;
    ww_trainer__hour_t *h = ww_trainer__hour_get_or_add(s, hour, NULL);
    if (!h || (*holder && !ww_fold_grow((void **)&held->v, &held->cap,
                                        held->n + 1, sizeof *held->v))) {
        ww_canon_reader_oom(r);
        return false;
    }
    h->available = available;
    h->scheduled = scheduled;
    if (*holder) {
        held_t *e = &held->v[held->n++];
        *e = (held_t){.at = at, .index = (size_t)(h - s->hours)};
        memcpy(e->uuid, holder, sizeof e->uuid);
    }
    return true;
}

static void read_hours(ww_canon_reader_t *r, ww_trainer_state_t *s,
                       held_list_t *held) {
    uint64_t n = ww_canon_read_count(r, "hours", HOUR_MIN_BYTES);
    int64_t prev = 0;
    for (uint64_t i = 0; i < n && ww_canon_reader_ok(r); i++) {
        size_t at = ww_canon_reader_pos(r);
        int64_t hour = ww_canon_read_i64(r, "hour");
        bool available = ww_canon_read_bool(r, "hour available");
        bool scheduled = ww_canon_read_bool(r, "hour scheduled");
        char holder[WW_IDS_UUID_LEN + 1];
        ww_canon_read_str(r, "hour holder", holder, WW_IDS_UUID_LEN);
        if (!ww_canon_reader_ok(r)) return;
        if (!ww_trainer__is_working_hour(hour))
            ww_canon_reader_fail(r, at, "hour",
                                 "%lld is not the start of a working hour",
                                 (long long)hour);
        else if (!ww_canon_check_order(r, at, "hour",
                                       i ? (hour > prev) - (hour < prev) : 1,
                                       "%lld", (long long)hour))
            return;
        else if (!add_hour(r, s, held, at, hour, available, scheduled, holder))
            return;
        prev = hour;
    }
}

/* The held hour `hour` (binary search; the list ascends by hour). */
static held_t *held_at(const ww_trainer_state_t *s, const held_list_t *held,
                       int64_t hour) {
    size_t lo = 0, hi = held->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t h = s->hours[held->v[mid].index].hour;
        if (h == hour) return &held->v[mid];
        if (h < hour)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* What is wrong with a training's fields, or NULL. */
static const char *training_problem(uint8_t status, bool debited,
                                    bool by_trainer, int64_t refund) {
    if (status < WW_TRAINER_TRAINING_PENDING ||
        status > WW_TRAINER_TRAINING_REJECTED)
        return "status is not PENDING, SCHEDULED, CANCELED or REJECTED";
    if (status == WW_TRAINER_TRAINING_SCHEDULED && !debited)
        return "is SCHEDULED but not debited";
    if ((status == WW_TRAINER_TRAINING_PENDING ||
         status == WW_TRAINER_TRAINING_REJECTED) &&
        debited)
        return "is debited but neither SCHEDULED nor CANCELED";
    if (status != WW_TRAINER_TRAINING_CANCELED && (by_trainer || refund))
        return "has a cancellation (by_trainer, refund) but is not CANCELED";
    if (refund < 0) return "has a negative balance_refund";
    return NULL;
}

/* Adds one training entry read at `at`; false when it failed the reader. */
static bool add_training(ww_canon_reader_t *r, ww_trainer_state_t *s,
                         held_list_t *held, size_t at, const char *uuid,
                         const char *user_id, int64_t hour, const char *notes,
                         uint8_t status, bool debited, bool by_trainer,
                         int64_t refund) {
    ww_err_t e;
    const char *problem = training_problem(status, debited, by_trainer, refund);
    held_t *h = active(status) ? held_at(s, held, hour) : NULL;
    if (ww_ids_check_user_id(user_id, &e) != WW_OK)
        ww_canon_reader_fail(r, at, "training", "%s: %s", uuid, e.msg);
    else if (!ww_trainer__is_working_hour(hour))
        ww_canon_reader_fail(r, at, "training",
                             "%s: hour %lld is not the start of a working "
                             "hour",
                             uuid, (long long)hour);
    else if (problem)
        ww_canon_reader_fail(r, at, "training", "%s %s (status %u)", uuid,
                             problem, status);
    else if (active(status) && (!h || strcmp(h->uuid, uuid) != 0))
        ww_canon_reader_fail(r, at, "training",
                             "%s is %s but does not hold its hour", uuid,
                             ww_trainer_training_status_name(status));
    if (!ww_canon_reader_ok(r)) return false;
    ww_trainer__training_t *t =
        ww_trainer__training_add(s, uuid, user_id, hour, notes, NULL);
    if (!t) {
        ww_canon_reader_oom(r);
        return false;
    }
    t->status = (ww_trainer_training_status_t)status;
    t->debited = debited;
    t->by_trainer = by_trainer;
    t->refund = refund;
    if (h) {
        h->found = true;
        s->hours[h->index].holder = (int64_t)(t - s->trainings);
    }
    return true;
}

static void read_trainings(ww_canon_reader_t *r, ww_trainer_state_t *s,
                           held_list_t *held) {
    uint64_t n = ww_canon_read_count(r, "trainings", TRAINING_MIN_BYTES);
    char prev[WW_IDS_UUID_LEN + 1] = "";
    for (uint64_t i = 0; i < n && ww_canon_reader_ok(r); i++) {
        size_t at = ww_canon_reader_pos(r);
        char uuid[WW_IDS_UUID_LEN + 1], user_id[WW_IDS_USER_ID_MAX + 1],
            notes[WW_IDS_NOTES_MAX + 1];
        ww_canon_read_str(r, "training uuid", uuid, WW_IDS_UUID_LEN);
        ww_canon_read_str(r, "training user_id", user_id, WW_IDS_USER_ID_MAX);
        int64_t hour = ww_canon_read_i64(r, "training hour");
        ww_canon_read_str(r, "training notes", notes, WW_IDS_NOTES_MAX);
        uint8_t status = ww_canon_read_u8(r, "training status");
        bool debited = ww_canon_read_bool(r, "training debited");
        bool by_trainer = ww_canon_read_bool(r, "training by_trainer");
        int64_t refund = ww_canon_read_i64(r, "training balance_refund");
        if (!ww_canon_reader_ok(r)) return;
        int order = strcmp(uuid, prev);
        if (!ww_ids_is_uuid(uuid))
            ww_canon_reader_fail(r, at, "training", "\"%s\" is not a UUID",
                                 uuid);
        else if (!ww_canon_check_order(r, at, "training", i ? order : 1, "%s",
                                       uuid))
            return;
        else if (!add_training(r, s, held, at, uuid, user_id, hour, notes,
                               status, debited, by_trainer, refund))
            return;
        memcpy(prev, uuid, sizeof prev);
    }
}

/* Every held hour must have been claimed by its training. */
static void check_holders(ww_canon_reader_t *r, const ww_trainer_state_t *s,
                          const held_list_t *held) {
    for (size_t i = 0; i < held->n && ww_canon_reader_ok(r); i++) {
        const held_t *h = &held->v[i];
        if (h->found) continue;
        const ww_trainer__training_t *t = ww_trainer__find_training(s, h->uuid);
        char when[WW_TIME_FORMAT_SIZE];
        ww_time_format(s->hours[h->index].hour, when);
        if (!t)
            ww_canon_reader_fail(r, h->at, "hour",
                                 "%s is held by training %s, which is not in "
                                 "the state",
                                 when, h->uuid);
        else
            ww_canon_reader_fail(r, h->at, "hour",
                                 "%s is held by training %s, which is %s at "
                                 "another hour or not active",
                                 when, h->uuid,
                                 ww_trainer_training_status_name(t->status));
    }
}

/* ww_trainer_state_serialize for ww_canon_reader_end. */
static ww_code_t serialize_state(const void *s, uint8_t **out, size_t *n,
                                 ww_err_t *err) {
    return ww_trainer_state_serialize(s, out, n, err);
}

ww_code_t ww_trainer_state_deserialize(const uint8_t *buf, size_t len,
                                       ww_trainer_state_t **out,
                                       ww_err_t *err) {
    ww_canon_reader_t r;
    ww_canon_reader_init(&r, buf, len);
    held_list_t held = {0};
    ww_trainer_state_t *s = ww_trainer_state_new();
    if (!s) ww_canon_reader_oom(&r);
    ww_canon_read_header(&r, "WWTR", 1);
    if (s) {
        read_hours(&r, s, &held);
        read_trainings(&r, s, &held);
        check_holders(&r, s, &held);
    }
    free(held.v);
    ww_code_t rc =
        ww_canon_reader_end(&r, "trainer state", s, serialize_state, err);
    if (rc != WW_OK) {
        ww_trainer_state_destroy(s);
        return rc;
    }
    *out = s;
    return WW_OK;
}
