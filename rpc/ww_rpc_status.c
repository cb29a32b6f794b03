/* ww_code_t <-> gRPC status, one to one, and the names log lines use. */
#include "ww_rpc_status.h"

grpc_status_code ww_rpc_status_from_code(ww_code_t code) {
    switch (code) {
    case WW_OK:
        return GRPC_STATUS_OK;
    case WW_ERR_INVALID_ARGUMENT:
        return GRPC_STATUS_INVALID_ARGUMENT;
    case WW_ERR_NOT_FOUND:
        return GRPC_STATUS_NOT_FOUND;
    case WW_ERR_ALREADY_EXISTS:
        return GRPC_STATUS_ALREADY_EXISTS;
    case WW_ERR_FAILED_PRECONDITION:
        return GRPC_STATUS_FAILED_PRECONDITION;
    case WW_ERR_PERMISSION_DENIED:
        return GRPC_STATUS_PERMISSION_DENIED;
    case WW_ERR_UNAUTHENTICATED:
        return GRPC_STATUS_UNAUTHENTICATED;
    case WW_ERR_DEADLINE_EXCEEDED:
        return GRPC_STATUS_DEADLINE_EXCEEDED;
    case WW_ERR_UNAVAILABLE:
        return GRPC_STATUS_UNAVAILABLE;
    case WW_ERR_RESOURCE_EXHAUSTED:
        return GRPC_STATUS_RESOURCE_EXHAUSTED;
    case WW_ERR_OUT_OF_RANGE:
        return GRPC_STATUS_OUT_OF_RANGE;
    case WW_ERR_CANCELLED:
        return GRPC_STATUS_CANCELLED;
    case WW_ERR_INTERNAL:
        return GRPC_STATUS_INTERNAL;
    case WW_ERR__COUNT:
        break;
    }
    return GRPC_STATUS_INTERNAL;
}

ww_code_t ww_rpc_status_to_code(grpc_status_code status) {
    switch (status) {
    case GRPC_STATUS_OK:
        return WW_OK;
    case GRPC_STATUS_INVALID_ARGUMENT:
        return WW_ERR_INVALID_ARGUMENT;
    case GRPC_STATUS_NOT_FOUND:
        return WW_ERR_NOT_FOUND;
    case GRPC_STATUS_ALREADY_EXISTS:
        return WW_ERR_ALREADY_EXISTS;
    case GRPC_STATUS_FAILED_PRECONDITION:
        return WW_ERR_FAILED_PRECONDITION;
    case GRPC_STATUS_PERMISSION_DENIED:
        return WW_ERR_PERMISSION_DENIED;
    case GRPC_STATUS_UNAUTHENTICATED:
        return WW_ERR_UNAUTHENTICATED;
    case GRPC_STATUS_DEADLINE_EXCEEDED:
        return WW_ERR_DEADLINE_EXCEEDED;
    case GRPC_STATUS_UNAVAILABLE:
        return WW_ERR_UNAVAILABLE;
    case GRPC_STATUS_RESOURCE_EXHAUSTED:
        return WW_ERR_RESOURCE_EXHAUSTED;
    case GRPC_STATUS_OUT_OF_RANGE:
        return WW_ERR_OUT_OF_RANGE;
    case GRPC_STATUS_CANCELLED:
        return WW_ERR_CANCELLED;
    default:
        return WW_ERR_INTERNAL;
    }
}

const char *ww_rpc_status_name(grpc_status_code status) {
    static const char *const names[] = {"OK",
                                        "CANCELLED",
                                        "UNKNOWN",
                                        "INVALID_ARGUMENT",
                                        "DEADLINE_EXCEEDED",
                                        "NOT_FOUND",
                                        "ALREADY_EXISTS",
                                        "PERMISSION_DENIED",
                                        "RESOURCE_EXHAUSTED",
                                        "FAILED_PRECONDITION",
                                        "ABORTED",
                                        "OUT_OF_RANGE",
                                        "UNIMPLEMENTED",
                                        "INTERNAL",
                                        "UNAVAILABLE",
                                        "DATA_LOSS",
                                        "UNAUTHENTICATED"};
    if ((unsigned)status < sizeof names / sizeof names[0]) return names[status];
    return "UNKNOWN";
}
