/* ww_host_state.c - SHA-256 digests of shards and of a service's state. */
#include "ww_host_state.h"

#include <openssl/evp.h>
#include <stdlib.h>

void ww_host_state_sha256(const void *data, size_t len,
                          ww_host_state_digest_t *out) {
    unsigned int n = 0;
    /* EVP_Digest fails only when out of memory for its context; a zero
     * digest then can never match a real one. */
    if (!EVP_Digest(data, len, out->bytes, &n, EVP_sha256(), NULL) ||
        n != WW_HOST_STATE_DIGEST_LEN)
        *out = (ww_host_state_digest_t){{0}};
}

ww_code_t ww_host_state_shard_digest(const ww_shard_t *shard,
                                     ww_host_state_digest_t *out,
                                     ww_err_t *err) {
    uint8_t *bytes = NULL;
    size_t len = 0;
    ww_code_t rc = ww_shard_serialize(shard, &bytes, &len, err);
    if (rc != WW_OK) return rc;
    ww_host_state_sha256(bytes, len, out);
    free(bytes);
    return WW_OK;
}

void ww_host_state_combine(const ww_host_state_digest_t *parts, int n,
                           ww_host_state_digest_t *out) {
    ww_host_state_sha256(parts, (size_t)(n > 0 ? n : 0) * sizeof *parts, out);
}

void ww_host_state_hex(const ww_host_state_digest_t *d,
                       char out[WW_HOST_STATE_HEX_LEN + 1]) {
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < WW_HOST_STATE_DIGEST_LEN; i++) {
        out[2 * i] = hex[d->bytes[i] >> 4];
        out[2 * i + 1] = hex[d->bytes[i] & 15];
    }
    out[WW_HOST_STATE_HEX_LEN] = '\0';
}
