// A small grpc-go server implementing the same protos (IsHourAvailable and
// GetTrainingBalance over in-memory maps), the peer our C runtime is
// measured against in bench/run.sh. Stubs are generated at bench time.
// On SIGUSR1 (and on SIGTERM, before exiting) it prints how many calls so
// far ended with status OK and how many did not ("calls ok=N failed=M"),
// so the benchmark can check that every response it counted was a gRPC
// success, not just an HTTP 200.
package main

import (
	"context"
	"flag"
	"log"
	"net"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
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

var callsOK, callsFailed atomic.Int64

// countStatus tallies each call's outcome: one atomic add per call.
func countStatus(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	resp, err := h(ctx, req)
	if err == nil {
		callsOK.Add(1)
	} else {
		callsFailed.Add(1)
	}
	return resp, err
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	flag.Parse()
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	srv := grpc.NewServer(grpc.UnaryInterceptor(countStatus))
	trainer.RegisterTrainerServiceServer(srv, &trainerServer{hours: map[int64]bool{}})
	users.RegisterUsersServiceServer(srv, &usersServer{balances: map[string]int64{}})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		for s := range sig {
			log.Printf("calls ok=%d failed=%d", callsOK.Load(), callsFailed.Load())
			if s != syscall.SIGUSR1 {
				os.Exit(0)
			}
		}
	}()
	log.Printf("listening on %s", l.Addr())
	log.Fatal(srv.Serve(l))
}
