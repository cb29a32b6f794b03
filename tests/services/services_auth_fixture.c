/* services_auth_fixture.c - the secured binaries and their clients. */
#include "services_auth_fixture.h"

#include "auth_fixture.h"
#include "ww_auth_tls.h"
#include "ww_test.h"
#include "ww_test_proc.h"
#include "ww_test_serving.h"

#include <grpc/grpc_security.h>
#include <signal.h>
#include <sys/stat.h>

pid_t sfx_trainer_pid, sfx_users_pid;
int sfx_trainer_port, sfx_users_port, sfx_meta_port;
char sfx_meta_dir[512], sfx_jwks_path[512];
static pid_t meta_pid;

static void stop_all(void) {
    ww_test_proc_stop(sfx_trainer_pid, SIGTERM, 10000);
    ww_test_proc_stop(sfx_users_pid, SIGTERM, 10000);
    fx_fake_server_stop(meta_pid);
}

pid_t sfx_spawn(const char *bin, const char *const *env, const char *log) {
    /* Each start keeps its state on topics of its own (the suite's broker
     * is shared): a fresh prefix first, so `env` may still override it. */
    char prefix[160];
    int n = snprintf(prefix, sizeof prefix, "WW_TOPIC_PREFIX=");
    ww_test_unique_name(prefix + n, sizeof prefix - (size_t)n, "auth");
    strcat(prefix, ".");
    const char *all[24] = {prefix};
    for (int i = 1; env && *env && i < 23; i++) all[i] = *env++;
    return ww_test_proc_spawn(
        (const char *[]){bin, NULL},
        &(ww_test_proc_opts_t){
            .unset = (const char *[]){"GRPC_NO_TLS", "WW_LISTEN_ADDR", NULL},
            .env = all,
            .stderr_path = log});
}

pid_t sfx_start_service(const char *bin, int port, const char *audience,
                        const char *const *extra, const char *log) {
    char listen[64], cert[600], key[600], jwks[600], aud[128];
    snprintf(listen, sizeof listen, "WW_LISTEN_ADDR=127.0.0.1:%d", port);
    snprintf(cert, sizeof cert, "WW_TLS_CERT=%s", fx_pki_file("server.pem"));
    snprintf(key, sizeof key, "WW_TLS_KEY=%s", fx_pki_file("server.key"));
    snprintf(jwks, sizeof jwks, "WW_JWKS=%s", sfx_jwks_path);
    snprintf(aud, sizeof aud, "WW_JWT_AUDIENCE=%s", audience);
    /* A caller list by default (a secured start needs one): FX_EMAIL is a
     * service. */
    const char *env[16] = {
        listen, cert, key,
        jwks,   aud,  "WW_CALLERS=service=" FX_ISSUER "|email:" FX_EMAIL};
    for (int i = 6; extra && *extra && i < 15; i++)
        env[i] = *extra++; /* later entries override earlier ones */
    pid_t pid = sfx_spawn(bin, env, log);
    WW_ASSERT_MSG(ww_test_proc_wait_port(port, pid, 60000),
                  "server did not start, see %s", log);
    /* Serving once its read model caught up; health needs no token, and
     * the fixture's client certificate suits mutual TLS too. */
    char target[64];
    snprintf(target, sizeof target, "localhost:%d", port);
    ww_err_t err = {0};
    grpc_channel_credentials *chan = NULL;
    WW_ASSERT_MSG(ww_auth_tls_channel_credentials(
                      fx_pki_file("ca.pem"), fx_pki_file("client.pem"),
                      fx_pki_file("client.key"), &chan, &err) == WW_OK,
                  "%s", err.msg);
    ww_rpc_client_config_t cfg = {.target = target,
                                  .channel_credentials = chan};
    ww_rpc_client_t *c = NULL;
    ww_code_t rc = ww_rpc_client_new(&cfg, &c, &err);
    grpc_channel_credentials_release(chan);
    WW_ASSERT_MSG(rc == WW_OK, "%s", err.msg);
    bool serving = ww_test_serving_wait(c, pid, 90000);
    ww_rpc_client_destroy(c);
    WW_ASSERT_MSG(serving, "server never served, see %s", log);
    return pid;
}

void sfx_setup(void) {
    if (sfx_trainer_pid) return;
    fx_pki();
    fx_path(sfx_meta_dir, sizeof sfx_meta_dir, "meta");
    mkdir(sfx_meta_dir, 0700);
    char *doc = fx_jwks_json(0);
    fx_write(fx_path(sfx_jwks_path, sizeof sfx_jwks_path, "jwks.json"), doc);
    free(doc);
    sfx_meta_port = fx_fake_server_start(sfx_meta_dir, NULL, NULL, &meta_pid);
    atexit(stop_all); /* runs before the fixture removes its directory */
    char log[512];
    sfx_trainer_port = ww_test_proc_free_port();
    sfx_trainer_pid = sfx_start_service(
        TRAINER_BIN, sfx_trainer_port, TRAINER_AUD,
        (const char *[]){"WW_CALLERS=service=" FX_ISSUER "|email:" FX_EMAIL
                         ",trainer=" FX_ISSUER "|" TRAINER_ID ",user=" FX_ISSUER
                         "|" ANN ",user=" FX_ISSUER "|" BOB,
                         NULL},
        fx_path(log, sizeof log, "trainer.log"));
    sfx_users_port = ww_test_proc_free_port();
    sfx_users_pid = sfx_start_service(
        USERS_BIN, sfx_users_port, USERS_AUD,
        (const char *[]){"WW_CALLERS=service=" FX_ISSUER "|email:" FX_EMAIL
                         ",service=" FX_ISSUER "|" TRAINER_ID ",user=" FX_ISSUER
                         "|" ANN ",user=" FX_ISSUER "|" BOB,
                         NULL},
        fx_path(log, sizeof log, "users.log"));
}

/* ---- tokens ---- */

char *sfx_token_as(const char *aud, const char *email) {
    json_t *c = fx_claims(aud, (int64_t)time(NULL), 600);
    json_object_set_new(c, "email", json_string(email));
    json_object_set_new(c, "sub", json_string(email));
    return fx_mint("RS256", "rsa1", fx_rsa(), NULL, c);
}

char *sfx_token_sub(const char *aud, const char *sub) {
    json_t *c = fx_claims(aud, (int64_t)time(NULL), 600);
    json_object_del(c, "email");
    json_object_del(c, "email_verified");
    json_object_set_new(c, "sub", json_string(sub));
    return fx_mint("RS256", "rsa1", fx_rsa(), NULL, c);
}

char *sfx_bearer(char *token) {
    size_t n = strlen(token) + 8;
    char *b = malloc(n);
    snprintf(b, n, "Bearer %s", token);
    free(token);
    return b;
}

/* ---- a client sending a fixed `authorization` value over TLS ---- */

static int fixed_get_metadata(
    void *state, grpc_auth_metadata_context context,
    grpc_credentials_plugin_metadata_cb cb, void *user_data,
    grpc_metadata creds_md[GRPC_METADATA_CREDENTIALS_PLUGIN_SYNC_MAX],
    size_t *num_creds_md, grpc_status_code *status,
    const char **error_details) {
    (void)context, (void)cb, (void)user_data;
    creds_md[0].key = grpc_slice_from_static_string("authorization");
    creds_md[0].value = grpc_slice_from_copied_string(state);
    *num_creds_md = 1;
    *status = GRPC_STATUS_OK;
    *error_details = NULL;
    return 1; /* answered synchronously */
}

static void fixed_destroy(void *state) { free(state); }

static void release_call_creds(void *ctx) {
    grpc_call_credentials_release(ctx);
}

/* A client to host:port trusting fx_pki_file(ca) (NULL = plaintext) and sending
 * `authorization` (NULL = no header) on every call. */
ww_rpc_client_t *sfx_dial(const char *host, int port, const char *ca,
                          const char *authorization) {
    char target[128];
    snprintf(target, sizeof target, "%s:%d", host, port);
    ww_err_t err = {0};
    grpc_init();
    grpc_channel_credentials *chan = NULL;
    if (ca)
        WW_ASSERT_MSG(ww_auth_tls_channel_credentials(
                          fx_pki_file(ca), NULL, NULL, &chan, &err) == WW_OK,
                      "%s", err.msg);
    grpc_call_credentials *cc = NULL;
    if (authorization) {
        grpc_metadata_credentials_plugin p = {
            .get_metadata = fixed_get_metadata,
            .destroy = fixed_destroy,
            .state = strdup(authorization),
            .type = "fixed_authorization"};
        cc = grpc_metadata_credentials_create_from_plugin(
            p, GRPC_PRIVACY_AND_INTEGRITY, NULL);
    }
    ww_rpc_client_config_t cfg = {.target = target,
                                  .channel_credentials = chan,
                                  .call_credentials = cc,
                                  .release = cc ? release_call_creds : NULL,
                                  .release_ctx = cc};
    ww_rpc_client_t *c = NULL;
    ww_code_t rc = ww_rpc_client_new(&cfg, &c, &err);
    if (chan) grpc_channel_credentials_release(chan);
    grpc_shutdown();
    WW_ASSERT_MSG(rc == WW_OK, "%s", err.msg);
    return c;
}

int sfx_wwctl(const char *env, const char *args, char *out, size_t size,
              int64_t *ms) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "env -u GRPC_NO_TLS %s %s %s 2>&1", env,
             WWCTL_BIN, args);
    int64_t t0 = ww_test_now_ms();
    int rc = ww_test_proc_run(cmd, out, size);
    if (ms) *ms = ww_test_now_ms() - t0;
    return rc;
}

void sfx_wwctl_env(char *buf, size_t size, const char *metadata_host) {
    snprintf(buf, size,
             "TRAINER_GRPC_ADDR=localhost:%d USERS_GRPC_ADDR=127.0.0.1:%d "
             "WW_TLS_CA=%s GCE_METADATA_HOST=%s",
             sfx_trainer_port, sfx_users_port, fx_pki_file("ca.pem"),
             metadata_host);
}

void sfx_serve_token(const char *aud, const char *email) {
    char path[600], *tok = sfx_token_as(aud, email);
    snprintf(path, sizeof path, "%s/token", sfx_meta_dir);
    fx_write(path, tok);
    free(tok);
}

void sfx_metadata_mode(const char *mode) {
    char path[600];
    snprintf(path, sizeof path, "%s/mode", sfx_meta_dir);
    fx_write(path, mode);
}
