/*
 * ww_canon.h - the canonical state serialisations (the input of state
 * digests and the body of snapshots): a writer appending big-endian
 * fixed-width integers and length-prefixed strings to a growing buffer,
 * and a reader taking such bytes apart again.
 *
 * Writer: out of memory is latched: appends after a failure do nothing and
 * ww_canon_finish reports it, so a serialiser checks once at the end.
 *
 * Reader: reads bytes it was given (borrowed, never copied whole), never
 * past their end. The first failure is latched with a message naming what
 * was read and where ("<what> at byte offset <n>: <problem>"); every read
 * after it returns zero / an empty string and changes nothing, so a parser
 * may read a whole record and check once. Counts are checked against the
 * bytes left before anyone allocates from them (ww_canon_read_count).
 * Malformed input is WW_ERR_INVALID_ARGUMENT; ww_canon_reader_oom latches
 * WW_ERR_RESOURCE_EXHAUSTED for a parser that ran out of memory. Offsets
 * count from the start of the bytes the reader was given, so a part read
 * with a reader of its own (a nested state) reports offsets within it.
 *
 * Single-threaded; writer and reader are caller-owned (usually on the
 * stack) and hold no allocation once finished.
 */
#ifndef WW_CANON_H
#define WW_CANON_H

#include "ww_err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------- writer */

typedef struct ww_canon {
    uint8_t *buf;
    size_t len, cap;
    bool failed;
} ww_canon_t;

void ww_canon_init(ww_canon_t *c);
void ww_canon_bytes(ww_canon_t *c, const void *p, size_t n);
void ww_canon_u8(ww_canon_t *c, uint8_t v);
void ww_canon_u32(ww_canon_t *c, uint32_t v);
void ww_canon_u64(ww_canon_t *c, uint64_t v);
void ww_canon_i64(ww_canon_t *c, int64_t v); /* two's complement, as u64 */
/* u32 length, then the bytes of NUL-terminated `s` (without the NUL). */
void ww_canon_str(ww_canon_t *c, const char *s);

/* WW_OK: *out receives the malloc'd buffer (the caller frees it), *len its
 * size. After an allocation failure: WW_ERR_RESOURCE_EXHAUSTED, the buffer
 * is freed and *out untouched. Either way the writer is empty afterwards. */
ww_code_t ww_canon_finish(ww_canon_t *c, uint8_t **out, size_t *len,
                          ww_err_t *err);

/* ------------------------------------------------------------- reader */

typedef struct ww_canon_reader {
    const uint8_t *buf; /* borrowed; must outlive the reader's use */
    size_t len, pos;
    ww_err_t err; /* the first failure; code WW_OK while there is none */
} ww_canon_reader_t;

/* A reader over buf[0..len) (buf may be NULL when len is 0). */
void ww_canon_reader_init(ww_canon_reader_t *r, const void *buf, size_t len);

bool ww_canon_reader_ok(const ww_canon_reader_t *r);
/* The offset of the next byte to read / the bytes left after it. */
size_t ww_canon_reader_pos(const ww_canon_reader_t *r);
size_t ww_canon_reader_left(const ww_canon_reader_t *r);

/* Fixed-width big-endian integers; `what` names the field in messages
 * (static text, e.g. "balance"). 0 after a failure. */
uint8_t ww_canon_read_u8(ww_canon_reader_t *r, const char *what);
uint32_t ww_canon_read_u32(ww_canon_reader_t *r, const char *what);
uint64_t ww_canon_read_u64(ww_canon_reader_t *r, const char *what);
int64_t ww_canon_read_i64(ww_canon_reader_t *r, const char *what);
/* A u8 that must be 0 or 1 ("... is 2, not a boolean (0 or 1)"). */
bool ww_canon_read_bool(ww_canon_reader_t *r, const char *what);

/* Copies the next `n` bytes to dst (zeroed after a failure). */
void ww_canon_read_bytes(ww_canon_reader_t *r, const char *what, void *dst,
                         size_t n);

/* A u64 length and that many bytes, borrowed from the reader's buffer:
 * returns their start and sets *n (NULL and 0 after a failure). */
const uint8_t *ww_canon_read_blob(ww_canon_reader_t *r, const char *what,
                                  size_t *n);

/* A u32-length-prefixed string of at most `max` bytes with no NUL byte,
 * copied NUL-terminated into dst, which holds max + 1 bytes. Returns its
 * length; after a failure dst is "" and the result 0. */
size_t ww_canon_read_str(ww_canon_reader_t *r, const char *what, char *dst,
                         size_t max);

/* A u64 count of entries that take at least `min_entry` bytes each; refused
 * when that many cannot fit in the bytes left, so the caller may allocate
 * `count` entries. 0 after a failure. */
uint64_t ww_canon_read_count(ww_canon_reader_t *r, const char *what,
                             size_t min_entry);

/* The 4-byte `magic` and a u32 version that must equal `version`. */
void ww_canon_read_header(ww_canon_reader_t *r, const char magic[4],
                          uint32_t version);

/* Latches a malformed-input failure (INVALID_ARGUMENT) of what was read at
 * offset `at` (e.g. the start of the entry): "<what> at byte offset <at>:
 * <formatted problem>". Does nothing when the reader already failed. */
void ww_canon_reader_fail(ww_canon_reader_t *r, size_t at, const char *what,
                          const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Latches RESOURCE_EXHAUSTED "out of memory" (unless already failed). */
void ww_canon_reader_oom(ww_canon_reader_t *r);

/* The latched failure's code (WW_OK when none), copied into *err. */
ww_code_t ww_canon_reader_status(const ww_canon_reader_t *r, ww_err_t *err);

/* WW_OK when nothing failed and every byte was read; else the latched
 * failure, or INVALID_ARGUMENT "trailing bytes at byte offset <n>: <k>
 * bytes after the end". */
ww_code_t ww_canon_reader_finish(ww_canon_reader_t *r, ww_err_t *err);

/* WW_OK when `bytes` are exactly what the writer makes of the state they
 * were read into (`canon`, `n`), else INVALID_ARGUMENT "<what> is not in
 * canonical form: byte offset <k> differs". Used by the deserialisers as
 * the final check; `canon` is not freed. */
ww_code_t ww_canon_check_same(const char *what, const uint8_t *bytes,
                              size_t len, const uint8_t *canon, size_t n,
                              ww_err_t *err);

/* The order check of every list the canonical form keeps ascending:
 * `order` compares this entry's key with the one before it (> 0: after
 * it; the first entry passes 1). Otherwise fails the reader at `at` with
 * "<key> repeats" or "<key> is not after the <what> before it (not
 * ascending)", the key printed by `key_fmt` (formatted only then). Returns
 * false when the reader has failed. */
bool ww_canon_check_order(ww_canon_reader_t *r, size_t at, const char *what,
                          int order, const char *key_fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Writes a state's canonical bytes into a malloc'd buffer (*out, *n). */
typedef ww_code_t (*ww_canon_serialize_fn)(const void *state, uint8_t **out,
                                           size_t *n, ww_err_t *err);

/* The end of every state reader: ww_canon_reader_finish, then the state
 * read (`state`, never NULL when the reader has not failed) written again
 * with `serialize` and compared with the input (ww_canon_check_same), so
 * only canonical input restores. The caller destroys the state when this
 * is not WW_OK. */
ww_code_t ww_canon_reader_end(ww_canon_reader_t *r, const char *what,
                              const void *state,
                              ww_canon_serialize_fn serialize, ww_err_t *err);

#endif
