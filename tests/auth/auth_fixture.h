/*
 * auth_fixture.h - test-time keys, tokens, PKI and fake servers for the
 * auth tests. Nothing here is committed key material: every key and
 * certificate is generated when a test runs, in a fresh temporary directory.
 * Single-threaded use from the test's main thread.
 */
#ifndef AUTH_FIXTURE_H
#define AUTH_FIXTURE_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <sys/types.h>

#define FX_AUDIENCE "https://trainer.test"
#define FX_ISSUER "https://accounts.google.com"
#define FX_EMAIL "users-svc@project.iam.gserviceaccount.com"
#define FX_SUB      "1234567890"
#define FX_IDENTITY FX_ISSUER "|" FX_SUB /* what a verified fx_claims names */

/* A fresh temporary directory for this process (created once). */
const char *fx_dir(void);
/* fx_dir()/name into buf; returns buf. */
const char *fx_path(char *buf, size_t size, const char *name);
/* Writes a whole file; fails the test case on error. */
void fx_write(const char *path, const char *data);

/* Test keys, generated once per process: RSA 2048 (kid "rsa1"), a second
 * RSA key not in the JWKS (kid "rsa2"), an EC P-256 key (kid "ec1"). */
EVP_PKEY *fx_rsa(void);
EVP_PKEY *fx_rsa_other(void);
EVP_PKEY *fx_ec(void);

/* JWK JSON object of a public key (new reference). */
json_t *fx_jwk(EVP_PKEY *key, const char *kid);
/* {"keys":[...]} for rsa1 + ec1 (+ rsa2 when with_other); malloc'd. */
char *fx_jwks_json(int with_other);
/* PEM of the public key (the HS256 key-confusion secret); malloc'd. */
char *fx_public_pem(EVP_PKEY *key);

/* Standard claims: iss, aud, email, sub, iat = now, exp = now + ttl, and a
 * serial number that makes every token distinct. */
json_t *fx_claims(const char *aud, int64_t now, int64_t ttl);

/* A compact JWS; alg "RS256"/"ES256" sign with key, "HS256" uses
 * hmac_secret, "none" leaves the signature empty. kid NULL = no kid.
 * Consumes `payload`. malloc'd. */
char *fx_mint(const char *alg, const char *kid, EVP_PKEY *key,
              const char *hmac_secret, json_t *payload);
/* ES256 r||s (64 bytes) in place: s becomes n - s / s becomes low
 * (s <= n/2), the only form servers accept. fx_mint signs low-S. */
void fx_es256_negate_s(unsigned char *sig);
void fx_es256_low_s(unsigned char *sig);
/* A valid RS256 token for `aud` living `ttl` seconds from now. */
char *fx_token(const char *aud, int64_t ttl);

/* Runs gen_certs.sh into fx_dir()/pki once; returns that directory. */
const char *fx_pki(void);
/* fx_pki()/name (ca.pem, server.key, other-ca.pem, ...); the result stays
 * valid for the next 7 calls. */
const char *fx_pki_file(const char *name);

/* Starts fake_metadata.py serving `dir` (https with cert/key when given);
 * returns the port and its pid. */
int fx_fake_server_start(const char *dir, const char *cert, const char *key,
                         pid_t *pid);
void fx_fake_server_stop(pid_t pid);
/* Reads an integer file written by the fake server (0 when missing). */
long fx_read_count(const char *dir, const char *name);

#endif
