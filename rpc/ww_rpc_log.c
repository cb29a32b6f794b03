/* ww_rpc_log.c - the gRPC core's log lines through ww_log. */
#include "ww_rpc_log.h"

#include "ww_log.h"

#include <grpc/support/log.h>
#include <pthread.h>

static void to_ww_log(gpr_log_func_args *args) {
    ww_log_level_t level =
        args->severity == GPR_LOG_SEVERITY_ERROR  ? WW_LOG_ERROR
        : args->severity == GPR_LOG_SEVERITY_INFO ? WW_LOG_INFO
                                                  : WW_LOG_DEBUG;
    ww_log(level, "grpc", "file=%s line=%d msg=\"%s\"",
           args->file ? args->file : "", args->line,
           args->message ? args->message : "");
}

static void install(void) {
    gpr_set_log_function(to_ww_log);
}

void ww_rpc_log_install(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install);
}
