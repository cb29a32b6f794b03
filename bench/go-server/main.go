// A small grpc-go server implementing the same protos (IsHourAvailable and
// GetTrainingBalance over in-memory maps), the peer our C runtime is
// measured against in bench/run.sh. Stubs are generated at bench time.
package main

import (
	"context"
	"flag"
	"log"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	trainer "wwbench/gen/trainer"
	users "wwbench/gen/users"
)

type trainerServer struct {
	trainer.UnimplementedTrainerServiceServer
	mu    sync.RWMutex
	hours map[int64]bool
}

func (s *trainerServer) IsHourAvailable(_ context.Context, r *trainer.IsHourAvailableRequest) (*trainer.IsHourAvailableResponse, error) {
	if r.Time == nil || r.Time.CheckValid() != nil {
		return nil, status.Error(codes.InvalidArgument, "unable to parse time")
	}
	h := r.Time.AsTime().UTC().Truncate(time.Hour).Unix()
	s.mu.RLock()
	defer s.mu.RUnlock()
	return &trainer.IsHourAvailableResponse{IsAvailable: s.hours[h]}, nil
}

type usersServer struct {
	users.UnimplementedUsersServiceServer
	mu       sync.RWMutex
	balances map[string]int64
}

func (s *usersServer) GetTrainingBalance(_ context.Context, r *users.GetTrainingBalanceRequest) (*users.GetTrainingBalanceResponse, error) {
	if r.UserId == "" {
		return nil, status.Error(codes.InvalidArgument, "user_id is empty")
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return &users.GetTrainingBalanceResponse{Amount: s.balances[r.UserId]}, nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	flag.Parse()
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	srv := grpc.NewServer()
	trainer.RegisterTrainerServiceServer(srv, &trainerServer{hours: map[int64]bool{}})
	users.RegisterUsersServiceServer(srv, &usersServer{balances: map[string]int64{}})
	log.Printf("listening on %s", l.Addr())
	log.Fatal(srv.Serve(l))
}
