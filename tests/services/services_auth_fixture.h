/*
 * services_auth_fixture.h - the real trainer and users binaries running
 * with TLS and token verification, for test_services_auth: test-time PKI
 * (tests/auth/gen_certs.sh), a JWKS file of the test keys, the fake
 * metadata server (tests/auth/fake_metadata.py), and clients that send a
 * chosen `authorization` value or run wwctl against them.
 *
 * Both services listen on 127.0.0.1; the trainer expects tokens for
 * https://localhost (clients dial localhost:port), users
 * https://127.0.0.1 (clients dial 127.0.0.1:port). Their caller lists
 * (WW_CALLERS) give FX_EMAIL (matched as a verified email) the
 * `service` role on both, TRAINER_ID (matched by sub) `trainer` on the
 * trainer and `service` on users, and the users ANN and BOB (by sub) the
 * `user` role; STRANGER is in neither. Everything is
 * started once by sfx_setup() and stopped at exit. Single-threaded use from
 * the test's main thread; failures end the case. Strings returned by
 * sfx_token_as/sfx_bearer are malloc'd and owned by the caller.
 */
#ifndef SERVICES_AUTH_FIXTURE_H
#define SERVICES_AUTH_FIXTURE_H

#include "ww_rpc_client.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TRAINER_AUD "https://localhost" /* clients dial localhost:port */
#define USERS_AUD "https://127.0.0.1"   /* clients dial 127.0.0.1:port */
#define TRAINER_ID "trainer-svc@project.iam.gserviceaccount.com"
#define STRANGER "stranger@elsewhere.example"
#define ANN         "ann"
#define BOB         "bob"

extern pid_t sfx_trainer_pid, sfx_users_pid;
extern int sfx_trainer_port, sfx_users_port, sfx_meta_port;
extern char sfx_meta_dir[512], sfx_jwks_path[512];

/* Starts the metadata server and both services (once). */
void sfx_setup(void);

/* `bin` with extra NAME=VALUE environment (NULL-terminated) and
 * GRPC_NO_TLS/WW_LISTEN_ADDR cleared; stderr to `log`. */
pid_t sfx_spawn(const char *bin, const char *const *env, const char *log);
/* A service on 127.0.0.1:port with the test TLS files and JWKS, expecting
 * `audience`, FX_EMAIL as its one `service` caller, plus `extra`
 * NAME=VALUE settings (NULL-terminated, at most 9, overriding the
 * defaults; NULL: none); returns once the port accepts. */
pid_t sfx_start_service(const char *bin, int port, const char *audience,
                        const char *const *extra, const char *log);

/* A valid RS256 token for `aud` with `email` as the caller: its sub is
 * `email` too, its email verified. */
char *sfx_token_as(const char *aud, const char *email);
/* A valid RS256 token for `aud` with sub `sub` and no email. */
char *sfx_token_sub(const char *aud, const char *sub);
/* "Bearer <token>"; frees token. */
char *sfx_bearer(char *token);

/* A client to host:port trusting fx_pki_file(ca) (NULL = plaintext) that sends
 * `authorization` (copied; NULL = no header) on every call. */
ww_rpc_client_t *sfx_dial(const char *host, int port, const char *ca,
                          const char *authorization);

/* Runs wwctl with `env` (shell words, GRPC_NO_TLS unset unless given) and
 * `args`: exit code, combined output in out, duration in *ms (optional). */
int sfx_wwctl(const char *env, const char *args, char *out, size_t size,
              int64_t *ms);
/* wwctl's environment for both services, the test CA and `metadata_host`. */
void sfx_wwctl_env(char *buf, size_t size, const char *metadata_host);
/* The token the metadata server hands out next / its mode (ok, 500, slow,
 * garbage). */
void sfx_serve_token(const char *aud, const char *email);
void sfx_metadata_mode(const char *mode);

#endif
