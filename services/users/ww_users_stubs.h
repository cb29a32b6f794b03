/*
 * ww_users_stubs.h - typed client calls for every method users serves
 * (users.UsersService); see ww_rpc_client.h for ownership and threading.
 */
#ifndef WW_USERS_STUBS_H
#define WW_USERS_STUBS_H

#include "users.pb-c.h"
#include "ww_rpc_client.h"

WW_RPC_CLIENT_METHOD(ww_users_stubs_get_training_balance,
                     users__users_service__descriptor, "GetTrainingBalance",
                     Users__GetTrainingBalanceRequest,
                     Users__GetTrainingBalanceResponse)
WW_RPC_CLIENT_METHOD(ww_users_stubs_update_training_balance,
                     users__users_service__descriptor, "UpdateTrainingBalance",
                     Users__UpdateTrainingBalanceRequest, Users__EmptyResponse)

#endif
