/* ww_test_serving.c - health Check("") until SERVING. */
#include "ww_test_serving.h"

#include "ww_rpc_stubs.h"
#include "ww_test.h"
#include "ww_test_proc.h"

bool ww_test_serving_wait(ww_rpc_client_t *client, pid_t pid, int timeout_ms) {
    int64_t until = ww_test_now_ms() + timeout_ms;
    for (;;) {
        Grpc__Health__V1__HealthCheckRequest req =
            GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
        req.service = "";
        Grpc__Health__V1__HealthCheckResponse *resp = NULL;
        ww_rpc_call_options_t o = {.timeout_ms = 2000};
        ww_err_t err;
        bool serving = false;
        if (ww_rpc_stubs_health_check(client, &req, &resp, &o, &err) == WW_OK) {
            serving =
                resp->status ==
                GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
            protobuf_c_message_free_unpacked(&resp->base, NULL);
        }
        if (serving) return true;
        if ((pid > 0 && ww_test_proc_has_ended(pid)) ||
            ww_test_now_ms() >= until)
            return false;
        usleep(50000);
    }
}
