/*
 * ww_bus_redrive.h - a dead-letter topic read back, and its records sent
 * back to the topic they came from, each at most once.
 *
 * A dead letter (ww_bus_dlq.h) is the original record on `<topic>.dlq` with
 * its original headers plus ww_dlq_*. Redriving one appends, in one
 * transaction:
 *   to `<topic>`: the original record again (key, value, original headers;
 *                 the ww_dlq_* ones dropped) with
 *                 ww_redriven_from = "<dlq topic>/<partition>/<offset>",
 *                 to the partition it came from (ww_dlq_partition) when the
 *                 topic still has it, else where its key goes;
 *   to `<topic>.dlq`, the dead letter's partition: a marker, key = the dead
 *                 letter's, no value, headers
 *                 ww_redrive_of   = "<dlq topic>/<partition>/<offset>"
 *                 ww_redrive_to   = "<topic>/<partition>/<offset>" of the copy
 *                 ww_redrive_time = RFC 3339.
 * The marker is how a dead letter counts as redriven, durably (dead-letter
 * topics are kept forever), and the transaction makes copy and marker one
 * fact: a consumer never sees one without the other. A second redrive of
 * the same dead letter is refused, and so is a truncated one
 * (ww_dlq_truncated: true, ww_bus_dlq.h): it holds only the start of the
 * record (FAILED_PRECONDITION; `all` leaves such letters out and counts
 * them in stats.truncated).
 *
 * Concurrent redrives of one dead-letter topic: every redrive of
 * `<dlq topic>` uses the transactional id "<dlq topic>.redrive", so the
 * last one to start fences the others (their commit fails, nothing of
 * theirs is visible) and, because it starts by completing its predecessor's
 * transaction, then reads the topic settled (ww_bus_replay.h) and finds
 * every marker committed before it. So at most one copy per dead letter is
 * ever committed.
 *
 * Markers are not dead letters: a scan matches them to the dead letters
 * they name and does not list them.
 *
 * Threads: every call blocks the calling thread; nothing is shared.
 */
#ifndef WW_BUS_REDRIVE_H
#define WW_BUS_REDRIVE_H

#include "ww_bus_config.h"
#include "ww_err.h"

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WW_BUS_REDRIVE_H_FROM "ww_redriven_from"
#define WW_BUS_REDRIVE_H_OF   "ww_redrive_of"
#define WW_BUS_REDRIVE_H_TO   "ww_redrive_to"
#define WW_BUS_REDRIVE_H_TIME "ww_redrive_time"

/* One dead letter as a scan found it. Every pointer is owned by the scan
 * and valid until ww_bus_redrive_scan_destroy. */
typedef struct ww_bus_redrive_letter {
    int32_t partition; /* where it is on the dead-letter topic */
    int64_t offset;
    int64_t timestamp_ms; /* the record's timestamp; -1 when none */
    const void *key;      /* NULL: no key */
    size_t key_len;
    const void *value; /* NULL: no value */
    size_t len;
    /* All of its headers: the original ones, then ww_dlq_*. NULL: none. */
    const rd_kafka_headers_t *headers;
    /* Its ww_dlq_* headers; "" or -1 when absent or not a number. */
    const char *reason;
    int attempts;
    const char *origin_topic;
    int32_t origin_partition;
    int64_t origin_offset;
    const char *group;
    const char *time;
    /* Redriven already: where its copy went and when (from the marker);
     * "" when not. */
    bool redriven;
    const char *redriven_to;
    const char *redriven_at;
} ww_bus_redrive_letter_t;

typedef struct ww_bus_redrive_scan ww_bus_redrive_scan_t;

/* Reads `dlq_topic` (full name) from its beginning, read_committed, up to
 * its end as of the call (settled: also waiting for transactions open at
 * the call, see ww_bus_replay.h), and matches the markers to their dead
 * letters. Dead letters come in partition, then offset order. `timeout_ms`
 * bounds the read (0: no bound). On WW_OK the caller owns *out. Errors:
 * NOT_FOUND (no such topic), UNAVAILABLE, DEADLINE_EXCEEDED,
 * RESOURCE_EXHAUSTED, INVALID_ARGUMENT (bad settings). */
ww_code_t ww_bus_redrive_scan_new(const ww_bus_config_t *cfg,
                                  const char *dlq_topic, bool settled,
                                  int timeout_ms, ww_bus_redrive_scan_t **out,
                                  ww_err_t *err);

size_t ww_bus_redrive_scan_count(const ww_bus_redrive_scan_t *s);
/* The i-th dead letter (i < count), or NULL. */
const ww_bus_redrive_letter_t *
ww_bus_redrive_scan_at(const ww_bus_redrive_scan_t *s, size_t i);
/* The dead letter at (partition, offset), or NULL. */
const ww_bus_redrive_letter_t *
ww_bus_redrive_scan_find(const ww_bus_redrive_scan_t *s, int32_t partition,
                         int64_t offset);
/* How many redrive markers the topic holds. */
size_t ww_bus_redrive_scan_markers(const ww_bus_redrive_scan_t *s);
void ww_bus_redrive_scan_destroy(ww_bus_redrive_scan_t *s);

/* Told about each dead letter sent back, after the commit: `to_topic`,
 * `to_partition`, `to_offset` say where its copy is. Borrowed pointers, for
 * the call only. */
typedef void (*ww_bus_redrive_done_fn)(void *opaque,
                                       const ww_bus_redrive_letter_t *letter,
                                       const char *to_topic,
                                       int32_t to_partition, int64_t to_offset);

typedef struct ww_bus_redrive_config {
    const char *dlq_topic; /* required, full name, ends in ".dlq" */
    /* true: every dead letter not redriven yet (none left: WW_OK, nothing
     * sent). false: the one at (partition, offset); partition -1: whichever
     * partition holds a dead letter at `offset`. */
    bool all;
    int32_t partition;
    int64_t offset;
    int timeout_ms;                     /* each broker step; 0: 30000 */
    ww_bus_redrive_done_fn on_redriven; /* may be NULL */
    void *opaque;
} ww_bus_redrive_config_t;

typedef struct ww_bus_redrive_stats {
    size_t dead_letters;     /* on the topic */
    size_t already_redriven; /* of those */
    size_t redriven;         /* by this call */
    size_t truncated;        /* truncated ones left out by `all` */
} ww_bus_redrive_stats_t;

/* Redrives what `rc` selects, as described above; `cfg` and `rc` are
 * borrowed for the call, `stats` (may be NULL) is filled in every case.
 * On any failure nothing of this call is committed. Errors:
 *   NOT_FOUND            no such topic, or no dead letter at that offset
 *   FAILED_PRECONDITION  that dead letter was redriven already (the message
 *                        says where to and when); or another redrive of the
 *                        same topic took over (fenced) meanwhile
 *   INVALID_ARGUMENT     not a ".dlq" topic; several partitions hold a dead
 *                        letter at `offset` (name the partition); a dead
 *                        letter that names another origin topic
 *   UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL   the broker or the client */
ww_code_t ww_bus_redrive_run(const ww_bus_config_t *cfg,
                             const ww_bus_redrive_config_t *rc,
                             ww_bus_redrive_stats_t *stats, ww_err_t *err);

#endif
