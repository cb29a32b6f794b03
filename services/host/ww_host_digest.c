/* ww_host_digest.c - SHA-256 of a command without its meta. */
#include "ww_host_digest.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

ww_code_t ww_host_digest_command(const ProtobufCMessage *cmd,
                                 uint8_t out[WW_DEDUP_DIGEST_LEN],
                                 ww_err_t *err) {
    /* Pack a shallow copy whose meta is absent: the caller's message is
     * left alone (it may be shared with other threads). */
    const ProtobufCMessageDescriptor *d = cmd->descriptor;
    void *copy = malloc(d->sizeof_message);
    if (!copy) return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "no memory");
    memcpy(copy, cmd, d->sizeof_message);
    const ProtobufCFieldDescriptor *meta =
        protobuf_c_message_descriptor_get_field_by_name(d, "meta");
    if (meta && meta->type == PROTOBUF_C_TYPE_MESSAGE)
        *(void **)((char *)copy + meta->offset) = NULL;
    size_t n = protobuf_c_message_get_packed_size(copy);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) {
        free(copy);
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "no memory");
    }
    protobuf_c_message_pack(copy, buf);
    free(copy);
    unsigned len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
              EVP_DigestUpdate(ctx, d->name, strlen(d->name) + 1) &&
              EVP_DigestUpdate(ctx, buf, n) &&
              EVP_DigestFinal_ex(ctx, out, &len) && len == WW_DEDUP_DIGEST_LEN;
    EVP_MD_CTX_free(ctx);
    free(buf);
    return ok ? WW_OK
              : ww_err_set(err, WW_ERR_INTERNAL, "SHA-256 of the command failed");
}
