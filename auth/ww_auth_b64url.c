/* ww_auth_b64url.c - base64url through OpenSSL's base64 codec. */
#include "ww_auth_b64url.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

static int b64url_char(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* The 6-bit value of a base64url character already checked. */
static unsigned b64url_value(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '-' ? 62 : 63;
}

ww_code_t ww_auth_b64url_decode(const char *in, size_t len, const char *what,
                                unsigned char **out, size_t *out_len,
                                ww_err_t *err) {
    *out = NULL;
    *out_len = 0;
    if (len > (size_t)1 << 28)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "%s: too long", what);
    for (size_t i = 0; i < len; i++)
        if (!b64url_char((unsigned char)in[i]))
            return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                              "%s: invalid base64url character at offset %zu",
                              what, i);
    if (len % 4 == 1)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "%s: invalid base64url length", what);
    /* RFC 4648 §3.5: the bits a last partial group does not use must be
     * zero. Otherwise 4 (or 16) spellings decode to the same bytes, and a
     * token would have several forms that all verify. */
    unsigned unused = len % 4 == 2 ? 0x0f : len % 4 == 3 ? 0x03 : 0;
    if (unused && (b64url_value((unsigned char)in[len - 1]) & unused))
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "%s: non-zero unused bits in the last base64url "
                          "character (not the canonical encoding)",
                          what);
    size_t pad = (4 - len % 4) % 4;
    size_t padded = len + pad;
    unsigned char *std = malloc(padded + 1);
    unsigned char *dec = malloc(padded / 4 * 3 + 1);
    if (!std || !dec) {
        free(std);
        free(dec);
        return ww_err_set(err, WW_ERR_INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < len; i++)
        std[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : (unsigned char)in[i];
    memset(std + len, '=', pad);
    int n = padded ? EVP_DecodeBlock(dec, std, (int)padded) : 0;
    free(std);
    if (n < 0 || (size_t)n < pad) {
        free(dec);
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "%s: invalid base64url",
                          what);
    }
    /* EVP_DecodeBlock counts the bytes the padding stands for. */
    *out_len = (size_t)n - pad;
    dec[*out_len] = '\0';
    *out = dec;
    return WW_OK;
}

char *ww_auth_b64url_encode(const unsigned char *in, size_t len) {
    char *s = malloc((len + 2) / 3 * 4 + 1);
    if (!s) return NULL;
    int n = EVP_EncodeBlock((unsigned char *)s, in, (int)len);
    while (n > 0 && s[n - 1] == '=')
        n--;
    s[n] = '\0';
    for (int i = 0; i < n; i++) {
        if (s[i] == '+')
            s[i] = '-';
        else if (s[i] == '/')
            s[i] = '_';
    }
    return s;
}
