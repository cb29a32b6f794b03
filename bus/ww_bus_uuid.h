/*
 * ww_bus_uuid.h - random (version 4) UUIDs for event ids, from the
 * kernel's CSPRNG. Each thread draws random bytes in blocks and hands out
 * 16 of them per UUID; a forked child never reuses bytes its parent had
 * buffered (pthread_atfork), so parent and child never share an id.
 *
 * Thread safety: safe from any thread; the buffer is per thread.
 */
#ifndef WW_BUS_UUID_H
#define WW_BUS_UUID_H

#include "ww_err.h"

/* Bytes of a UUID's text with its NUL. */
#define WW_BUS_UUID_SIZE 37

/* Writes a fresh UUIDv4 ("xxxxxxxx-xxxx-4xxx-Nxxx-xxxxxxxxxxxx", lower-case
 * hex, 36 chars + NUL) into buf (at least WW_BUS_UUID_SIZE bytes).
 * INTERNAL when the random source fails (buf untouched). */
ww_code_t ww_bus_uuid4(char *buf, ww_err_t *err);

#endif
