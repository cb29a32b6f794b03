/*
 * ww_trainer_stubs.h - typed client calls for every method the trainer
 * serves (trainer.TrainerService, trainings.TrainingsService); see
 * ww_rpc_client.h for ownership and threading.
 */
#ifndef WW_TRAINER_STUBS_H
#define WW_TRAINER_STUBS_H

#include "google/protobuf/empty.pb-c.h"
#include "trainer.pb-c.h"
#include "trainings.pb-c.h"
#include "ww_rpc_client.h"

WW_RPC_CLIENT_METHOD(ww_trainer_stubs_is_hour_available,
                     trainer__trainer_service__descriptor, "IsHourAvailable",
                     Trainer__IsHourAvailableRequest,
                     Trainer__IsHourAvailableResponse)
WW_RPC_CLIENT_METHOD(ww_trainer_stubs_update_hour,
                     trainer__trainer_service__descriptor, "UpdateHour",
                     Trainer__UpdateHourRequest, Trainer__EmptyResponse)
WW_RPC_CLIENT_METHOD(ww_trainer_stubs_schedule_training,
                     trainer__trainer_service__descriptor, "ScheduleTraining",
                     Trainer__UpdateHourRequest, Google__Protobuf__Empty)
WW_RPC_CLIENT_METHOD(ww_trainer_stubs_cancel_training,
                     trainer__trainer_service__descriptor, "CancelTraining",
                     Trainer__UpdateHourRequest, Google__Protobuf__Empty)
WW_RPC_CLIENT_METHOD(ww_trainer_stubs_make_hour_available,
                     trainer__trainer_service__descriptor, "MakeHourAvailable",
                     Trainer__UpdateHourRequest, Google__Protobuf__Empty)
WW_RPC_CLIENT_METHOD(ww_trainer_stubs_make_hour_unavailable,
                     trainer__trainer_service__descriptor,
                     "MakeHourUnavailable", Trainer__UpdateHourRequest,
                     Google__Protobuf__Empty)

WW_RPC_CLIENT_METHOD(ww_trainer_stubs_trainings_schedule_training,
                     trainings__trainings_service__descriptor,
                     "ScheduleTraining", Trainings__ScheduleTrainingRequest,
                     Trainings__ScheduleTrainingResponse)
WW_RPC_CLIENT_METHOD(ww_trainer_stubs_trainings_cancel_training,
                     trainings__trainings_service__descriptor, "CancelTraining",
                     Trainings__CancelTrainingRequest,
                     Trainings__CancelTrainingResponse)
WW_RPC_CLIENT_METHOD(ww_trainer_stubs_trainings_get_training,
                     trainings__trainings_service__descriptor, "GetTraining",
                     Trainings__GetTrainingRequest, Trainings__Training)

#endif
