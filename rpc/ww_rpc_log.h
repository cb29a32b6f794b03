/*
 * ww_rpc_log.h - the gRPC core's own log lines (gpr_log) through ww_log, so
 * that they are escaped like every other value, carry the thread's trace
 * id, and follow WW_LOG_FORMAT (JSON lines stay JSON). Which lines the core
 * writes is still chosen by GRPC_VERBOSITY (default ERROR) and GRPC_TRACE;
 * they appear as module "grpc" with the core's file, line and message.
 *
 * ww_rpc_log_install: once per process, any thread, before or after
 * grpc_init; later calls do nothing. ww_rpc_server_new calls it.
 */
#ifndef WW_RPC_LOG_H
#define WW_RPC_LOG_H

void ww_rpc_log_install(void);

#endif
