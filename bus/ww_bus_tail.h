/*
 * ww_bus_tail.h - a reader that follows a topic forever: all partitions, no
 * consumer group, read_committed, one handler call per record, in its own
 * thread. The services' read models are built on it.
 *
 * "Caught up" is asked, not guessed: ww_bus_tail_wait_caught_up() captures
 * the end of every partition as of the call (the last stable offsets) and
 * waits until the tail's position has reached them. The position moves with
 * each handled record and with partition-EOF events, so transaction markers
 * and aborted records at the end of a partition do not hold it back. When it
 * returns WW_OK, every record committed before the call has been handled.
 *
 * ww_bus_tail_when_caught_up() is the same question without blocking: the
 * answer comes through a callback (a gRPC handler must never wait on Kafka).
 *
 * Latency: the reader asks the broker to answer a fetch within 10 ms when
 * nothing is new, so a record committed is handled within a few ms.
 *
 * Threads: the handler and on_idle run in the tail's thread, one record at
 * a time, in offset order within a partition. Every other function may be
 * called from any thread (the waits from many at once), except destroy,
 * which must not be called from the handler nor while a wait_caught_up or
 * wait_positions is in progress.
 */
#ifndef WW_BUS_TAIL_H
#define WW_BUS_TAIL_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>

#include "ww_bus_config.h"
#include "ww_err.h"

typedef struct ww_bus_tail ww_bus_tail_t;

/* Handles one record (borrowed: valid during the call only). A non-OK
 * return stops the tail: later waits return that error. A read model that
 * must keep going past a bad record skips and counts it, returning WW_OK. */
typedef ww_code_t (*ww_bus_tail_handler_fn)(void *opaque,
                                            const rd_kafka_message_t *rec,
                                            ww_err_t *err);

typedef struct ww_bus_tail_config {
    const char *topic; /* required, full name (ww_bus_config_topic_name) */
    ww_bus_tail_handler_fn handler;  /* required */
    void *opaque;
    /* Where to start: offsets[p] for partition p (e.g. after a snapshot);
     * NULL, or partitions past offsets_cnt: the beginning of the log. */
    const int64_t *offsets;
    int offsets_cnt;
    /* Where partitions not in `offsets` start: false = the log start;
     * true = the end as of the start (a reader of replies only needs the
     * answers to what it asks from now on). */
    bool from_end;
    /* Called in the tail's thread between records, at least every 100 ms
     * (timeouts of the owner's waits, for example). May be NULL. */
    void (*on_idle)(void *opaque);
} ww_bus_tail_config_t;

typedef struct ww_bus_tail_stats {
    uint64_t records; /* handed to the handler */
    int partitions;
} ww_bus_tail_stats_t;

/* Builds a reader from `bus` (borrowed for the call; `cfg` too: the topic
 * is copied, the offsets are read once), looks
 * up the partitions and starts the thread. On WW_OK *out must be freed with
 * ww_bus_tail_destroy().
 * Errors: INVALID_ARGUMENT, NOT_FOUND (no such topic), UNAVAILABLE
 * (retriable), INTERNAL. */
ww_code_t ww_bus_tail_start(const ww_bus_config_t *bus,
                            const ww_bus_tail_config_t *cfg,
                            ww_bus_tail_t **out, ww_err_t *err);

/* Blocks until the tail has handled everything committed to the topic
 * before this call, or timeout_ms passes (negative: no limit).
 * Errors: DEADLINE_EXCEEDED, UNAVAILABLE (ends could not be asked;
 * retriable), or the handler's error that stopped the tail. */
ww_code_t ww_bus_tail_wait_caught_up(ww_bus_tail_t *t, int timeout_ms,
                                     ww_err_t *err);

/* Blocks until the tail's position has reached ends[p] in every partition
 * (ends[] of ww_bus_tail_partitions() entries, e.g. from ww_bus_tail_ends
 * captured earlier), or timeout_ms passes (negative: no limit). Errors:
 * DEADLINE_EXCEEDED (where it stands, in the message), CANCELLED (the tail
 * is stopping), or the handler's error that stopped the tail. */
ww_code_t ww_bus_tail_wait_positions(ww_bus_tail_t *t, const int64_t *ends,
                                     int timeout_ms, ww_err_t *err);

/* The answer of ww_bus_tail_when_caught_up: WW_OK once everything committed
 * before the call was handled; DEADLINE_EXCEEDED after its timeout;
 * UNAVAILABLE when the ends could not be asked; the handler's error that
 * stopped the tail; CANCELLED when the tail is destroyed first. `err` is
 * borrowed for the call. */
typedef void (*ww_bus_tail_caught_up_fn)(void *opaque, ww_code_t code,
                                         const ww_err_t *err);

/* Asks, without blocking, to be told when the tail has handled everything
 * committed to the topic before this call (the ends are captured by the
 * tail's helper thread, one query for every request waiting). `cb` runs
 * exactly once, on one of the tail's threads and never inside this call,
 * unless this call fails: INVALID_ARGUMENT, RESOURCE_EXHAUSTED, or
 * CANCELLED when the tail is stopping (cb never runs then). timeout_ms < 0:
 * no limit. */
ww_code_t ww_bus_tail_when_caught_up(ww_bus_tail_t *t, int timeout_ms,
                                     ww_bus_tail_caught_up_fn cb, void *opaque,
                                     ww_err_t *err);

/* The next offset the tail will handle in `partition` (its position), or -1
 * for an unknown partition. */
int64_t ww_bus_tail_position(ww_bus_tail_t *t, int32_t partition);

ww_bus_tail_stats_t ww_bus_tail_stats(ww_bus_tail_t *t);

/* Asks the end of every partition now (the last stable offset: the tail
 * reads read_committed) into ends[0..partitions). Blocks for one round
 * trip; for threads that may wait on Kafka. Errors: UNAVAILABLE
 * (retriable), RESOURCE_EXHAUSTED. */
ww_code_t ww_bus_tail_ends(ww_bus_tail_t *t, int64_t *ends, int timeout_ms,
                           ww_err_t *err);

/* The number of partitions of the topic (fixed at start). */
int ww_bus_tail_partitions(const ww_bus_tail_t *t);

/* Stops the thread (an ongoing handler call finishes first), closes the
 * consumer and frees the tail. NULL is a no-op. */
void ww_bus_tail_destroy(ww_bus_tail_t *t);

#endif
