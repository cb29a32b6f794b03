/* ww_auth_tls.c - TLS credentials from PEM files, checked up front. */
#include "ww_auth_tls.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PEM_MAX_BYTES (1024 * 1024)

static ww_code_t read_pem(const char *path, const char *what, char **out,
                          ww_err_t *err) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "%s %s: %s", what, path,
                          strerror(errno));
    char *buf = malloc(PEM_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, PEM_MAX_BYTES + 1, f) : 0;
    int bad = !buf || ferror(f) || n == 0 || n > PEM_MAX_BYTES;
    fclose(f);
    if (bad) {
        free(buf);
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "%s %s: unreadable, empty or larger than 1 MiB", what,
                          path);
    }
    buf[n] = '\0';
    *out = buf;
    return WW_OK;
}

/* Frees the PEM texts read for one set of credentials (any may be NULL),
 * wiping the key first: gRPC copies what it keeps, and a private key must
 * not linger in freed memory. */
static void free_pems(char *ca, char *cert, char *key) {
    if (key) OPENSSL_cleanse(key, strlen(key));
    free(ca);
    free(cert);
    free(key);
}

static X509 *first_cert(const char *pem) {
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return x;
}

/* Reads a certificate (chain) and its key and checks that they belong
 * together. */
static ww_code_t read_pair(const char *cert_file, const char *key_file,
                           char **cert, char **key, ww_err_t *err) {
    ww_code_t rc = read_pem(cert_file, "certificate", cert, err);
    if (rc == WW_OK) rc = read_pem(key_file, "key", key, err);
    if (rc != WW_OK) goto fail;
    X509 *x = first_cert(*cert);
    BIO *b = BIO_new_mem_buf(*key, -1);
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (!x)
        rc = ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                        "certificate %s: no PEM certificate", cert_file);
    else if (!k)
        rc = ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                        "key %s: no PEM private key", key_file);
    else if (X509_check_private_key(x, k) != 1)
        rc = ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                        "key %s does not match certificate %s", key_file,
                        cert_file);
    X509_free(x);
    EVP_PKEY_free(k);
    if (rc == WW_OK) return WW_OK;
fail:
    free_pems(NULL, *cert, *key);
    *cert = *key = NULL;
    return rc;
}

static ww_code_t read_ca(const char *path, const char *what, char **out,
                         ww_err_t *err) {
    ww_code_t rc = read_pem(path, what, out, err);
    if (rc != WW_OK) return rc;
    X509 *x = first_cert(*out);
    if (x) {
        X509_free(x);
        return WW_OK;
    }
    free(*out);
    *out = NULL;
    return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "%s %s: no PEM certificate",
                      what, path);
}

ww_code_t ww_auth_tls_server_credentials(const char *cert_file,
                                         const char *key_file,
                                         const char *client_ca_file,
                                         grpc_server_credentials **out,
                                         ww_err_t *err) {
    *out = NULL;
    if (!cert_file || !key_file)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "a TLS server needs a certificate and a key");
    char *cert = NULL, *key = NULL, *ca = NULL;
    ww_code_t rc = read_pair(cert_file, key_file, &cert, &key, err);
    if (rc == WW_OK && client_ca_file)
        rc = read_ca(client_ca_file, "client CA", &ca, err);
    if (rc == WW_OK) {
        grpc_ssl_pem_key_cert_pair pair = {.private_key = key,
                                           .cert_chain = cert};
        *out = grpc_ssl_server_credentials_create_ex(
            ca, &pair, 1,
            ca ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
               : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE,
            NULL);
        if (!*out)
            rc = ww_err_set(err, WW_ERR_INTERNAL,
                            "gRPC refused the TLS server credentials");
    }
    free_pems(ca, cert, key);
    return rc;
}

ww_code_t ww_auth_tls_channel_credentials(const char *ca_file,
                                          const char *client_cert_file,
                                          const char *client_key_file,
                                          grpc_channel_credentials **out,
                                          ww_err_t *err) {
    *out = NULL;
    if (!client_cert_file != !client_key_file)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "a client certificate needs its key and vice versa");
    char *ca = NULL, *cert = NULL, *key = NULL;
    ww_code_t rc = ca_file ? read_ca(ca_file, "CA", &ca, err) : WW_OK;
    if (rc == WW_OK && client_cert_file)
        rc = read_pair(client_cert_file, client_key_file, &cert, &key, err);
    if (rc == WW_OK) {
        grpc_ssl_pem_key_cert_pair pair = {.private_key = key,
                                           .cert_chain = cert};
        *out =
            grpc_ssl_credentials_create_ex(ca, cert ? &pair : NULL, NULL, NULL);
        if (!*out)
            rc = ww_err_set(err, WW_ERR_INTERNAL,
                            "gRPC refused the TLS channel credentials");
    }
    free_pems(ca, cert, key);
    return rc;
}

ww_code_t ww_auth_tls_server_credentials_from_config(
    const ww_auth_config_t *cfg, grpc_server_credentials **out, ww_err_t *err) {
    *out = NULL;
    if (cfg->no_tls) return WW_OK;
    return ww_auth_tls_server_credentials(cfg->tls_cert, cfg->tls_key,
                                          cfg->tls_client_ca, out, err);
}

ww_code_t
ww_auth_tls_channel_credentials_from_config(const ww_auth_config_t *cfg,
                                            grpc_channel_credentials **out,
                                            ww_err_t *err) {
    *out = NULL;
    if (cfg->no_tls) return WW_OK;
    return ww_auth_tls_channel_credentials(cfg->tls_ca, cfg->tls_client_cert,
                                           cfg->tls_client_key, out, err);
}
