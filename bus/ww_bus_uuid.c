/* ww_bus_uuid.c - UUIDv4 event ids from buffered kernel randomness. */
#include "ww_bus_uuid.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/random.h>

/* Random bytes come from the kernel in blocks of 64 UUIDs per thread: one
 * getrandom call per event cost a tenth of the publish time. A fork bumps
 * the generation so a child never reuses its parent's buffered bytes. */
static atomic_uint fork_generation;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void after_fork_in_child(void) {
    atomic_fetch_add(&fork_generation, 1);
}
static void register_atfork(void) {
    pthread_atfork(NULL, NULL, after_fork_in_child);
}

static _Thread_local struct {
    unsigned char bytes[64 * 16];
    size_t used;
    unsigned generation;
    bool filled;
} rnd;

static ww_code_t random_16(unsigned char out[16], ww_err_t *err) {
    pthread_once(&atfork_once, register_atfork);
    unsigned gen = atomic_load(&fork_generation);
    if (!rnd.filled || rnd.used == sizeof rnd.bytes || rnd.generation != gen) {
        size_t got = 0;
        while (got < sizeof rnd.bytes) {
            ssize_t n = getrandom(rnd.bytes + got, sizeof rnd.bytes - got, 0);
            if (n < 0) {
                if (errno == EINTR) continue;
                rnd.filled = false;
                return ww_err_set(err, WW_ERR_INTERNAL, "getrandom: %s",
                                  strerror(errno));
            }
            got += (size_t)n;
        }
        rnd.used = 0;
        rnd.generation = gen;
        rnd.filled = true;
    }
    memcpy(out, rnd.bytes + rnd.used, 16);
    /* Used bytes are wiped so they do not linger in memory. */
    memset(rnd.bytes + rnd.used, 0, 16);
    rnd.used += 16;
    return WW_OK;
}

ww_code_t ww_bus_uuid4(char *buf, ww_err_t *err) {
    unsigned char b[16];
    ww_code_t rc = random_16(b, err);
    if (rc) return rc;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    static const char hex[] = "0123456789abcdef";
    char *p = buf;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) *p++ = '-';
        *p++ = hex[b[i] >> 4];
        *p++ = hex[b[i] & 15];
    }
    *p = '\0';
    return WW_OK;
}
