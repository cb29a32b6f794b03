// Interop: a grpc-go client, with stubs generated at test time from proto/,
// calls every RPC of trainer.TrainerService, trainings.TrainingsService,
// users.UsersService and grpc.health.v1.Health on the real binaries,
// including every error case of the contract. TRAINER_BIN and USERS_BIN
// name the binaries (see scripts/go-interop.sh).
package interop

import (
	"context"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	health "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	trainer "wwinterop/gen/trainer"
	trainings "wwinterop/gen/trainings"
	users "wwinterop/gen/users"
)

type service struct {
	cmd  *exec.Cmd
	conn *grpc.ClientConn
	log  strings.Builder
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func start(t *testing.T, env string) *service {
	bin := os.Getenv(env)
	if bin == "" {
		t.Fatalf("%s is not set", env)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	s := &service{cmd: exec.Command(bin)}
	// Each service keeps its state on topics of its own (the suite's
	// broker is shared).
	prefix := fmt.Sprintf("go-interop-%d-%d.", os.Getpid(), freePort(t))
	s.cmd.Env = append(os.Environ(), "GRPC_NO_TLS=true", "WW_LISTEN_ADDR="+addr,
		"WW_LOG_LEVEL=warn", "TRAINER_GRPC_ADDR=", "USERS_GRPC_ADDR=",
		"WW_TOPIC_PREFIX="+prefix)
	s.cmd.Stderr = &s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen: %s", bin, s.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	s.conn = conn
	// It listens at once and serves once its read model caught up.
	hc := health.NewHealthClient(conn)
	for {
		c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		r, err := hc.Check(c, &health.HealthCheckRequest{Service: ""})
		cancel()
		if err == nil && r.Status == health.HealthCheckResponse_SERVING {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never served: %s", bin, s.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(func() {
		s.conn.Close()
		s.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- s.cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s exited with %v:\n%s", bin, err, s.log.String())
			}
		case <-time.After(15 * time.Second):
			s.cmd.Process.Kill()
			t.Errorf("%s did not stop on SIGTERM", bin)
		}
	})
	return s
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return c
}

func expect(t *testing.T, err error, code codes.Code, text string) {
	t.Helper()
	st, _ := status.FromError(err)
	if st.Code() != code {
		t.Fatalf("got %v %q, want %v", st.Code(), st.Message(), code)
	}
	if text != "" && !strings.Contains(st.Message(), text) {
		t.Fatalf("message %q does not contain %q", st.Message(), text)
	}
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func hour(day, h int) time.Time { return time.Date(2032, 7, day, h, 0, 0, 0, time.UTC) }

func bigValidRequest() []byte {
	// 3 MiB in one unknown field 15: decodes, but cannot arrive within 1 ms.
	n := 3 << 20
	b := []byte{0x7a}
	for v := n; ; {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
		} else {
			b = append(b, c)
			break
		}
	}
	return append(b, make([]byte, n)...)
}

// rawCodec sends bytes as they are, for requests no stub would produce.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error)   { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(d []byte, v any) error { *(v.(*[]byte)) = d; return nil }
func (rawCodec) Name() string                    { return "proto" }

func raw(c context.Context, conn *grpc.ClientConn, method string, body []byte) error {
	var out []byte
	return conn.Invoke(c, method, &body, &out, grpc.ForceCodec(rawCodec{}))
}

func TestTrainerService(t *testing.T) {
	s := start(t, "TRAINER_BIN")
	tr := trainer.NewTrainerServiceClient(s.conn)
	avail := func(at time.Time) bool {
		r, err := tr.IsHourAvailable(ctx(t), &trainer.IsHourAvailableRequest{Time: timestamppb.New(at)})
		ok(t, err)
		return r.IsAvailable
	}
	req := func(at time.Time) *trainer.UpdateHourRequest {
		return &trainer.UpdateHourRequest{Time: timestamppb.New(at)}
	}
	h := hour(1, 13)
	if avail(h) {
		t.Fatal("untouched hour available")
	}
	_, err := tr.MakeHourAvailable(ctx(t), req(h))
	ok(t, err)
	if !avail(h) || !avail(h.Add(59*time.Minute)) {
		t.Fatal("hour not available after MakeHourAvailable")
	}
	_, err = tr.IsHourAvailable(ctx(t), &trainer.IsHourAvailableRequest{})
	expect(t, err, codes.InvalidArgument, "unable to parse time")
	_, err = tr.IsHourAvailable(ctx(t), &trainer.IsHourAvailableRequest{Time: &timestamppb.Timestamp{Seconds: 1, Nanos: -1}})
	expect(t, err, codes.InvalidArgument, "unable to parse time")
	_, err = tr.IsHourAvailable(ctx(t), &trainer.IsHourAvailableRequest{Time: &timestamppb.Timestamp{Seconds: math.MaxInt64}})
	expect(t, err, codes.InvalidArgument, "unable to parse time")

	// UpdateHour, the seed's rules
	h2 := hour(2, 14)
	upd := func(at time.Time, sched, av bool) error {
		_, err := tr.UpdateHour(ctx(t), &trainer.UpdateHourRequest{Time: timestamppb.New(at), HasTrainingScheduled: sched, Available: av})
		return err
	}
	expect(t, upd(hour(2, 3), false, true), codes.NotFound, "")
	expect(t, upd(h2, true, false), codes.FailedPrecondition, "not available")
	ok(t, upd(h2, false, true))
	expect(t, upd(h2, true, true), codes.FailedPrecondition, "")
	expect(t, upd(h2, false, false), codes.FailedPrecondition, "")
	ok(t, upd(h2, true, false))
	if avail(h2) {
		t.Fatal("scheduled hour available")
	}

	// the later original's methods
	h3 := hour(3, 15)
	_, err = tr.ScheduleTraining(ctx(t), req(h3))
	expect(t, err, codes.FailedPrecondition, "")
	_, err = tr.MakeHourAvailable(ctx(t), req(h3))
	ok(t, err)
	_, err = tr.ScheduleTraining(ctx(t), req(h3))
	ok(t, err)
	_, err = tr.MakeHourUnavailable(ctx(t), req(h3))
	expect(t, err, codes.FailedPrecondition, "")
	_, err = tr.CancelTraining(ctx(t), req(h3))
	ok(t, err)
	_, err = tr.MakeHourUnavailable(ctx(t), req(h3))
	ok(t, err)
	_, err = tr.CancelTraining(ctx(t), &trainer.UpdateHourRequest{})
	expect(t, err, codes.InvalidArgument, "unable to parse time")

	// transport-level bad input
	expect(t, raw(ctx(t), s.conn, "/trainer.TrainerService/IsHourAvailable", []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f}), codes.InvalidArgument, "trainer.IsHourAvailableRequest")
	expect(t, raw(ctx(t), s.conn, "/trainer.TrainerService/Nope", nil), codes.Unimplemented, "")
	expect(t, raw(ctx(t), s.conn, "/trainer.TrainerService/IsHourAvailable", make([]byte, 5<<20)), codes.ResourceExhausted, "")
	short, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	expect(t, raw(short, s.conn, "/trainer.TrainerService/IsHourAvailable", bigValidRequest()), codes.DeadlineExceeded, "")
	avail(hour(6, 12)) // still serving
}

func TestTrainingsService(t *testing.T) {
	s := start(t, "TRAINER_BIN")
	tr := trainer.NewTrainerServiceClient(s.conn)
	ts := trainings.NewTrainingsServiceClient(s.conn)
	h := hour(4, 16)
	u := "7c0d4e2a-1b3c-4d5e-8f60-718293a4b501"
	req := &trainings.ScheduleTrainingRequest{TrainingUuid: u, UserId: "go-user", Time: timestamppb.New(h), Notes: "core"}
	_, err := ts.ScheduleTraining(ctx(t), req)
	expect(t, err, codes.FailedPrecondition, "")
	_, err = tr.MakeHourAvailable(ctx(t), &trainer.UpdateHourRequest{Time: timestamppb.New(h)})
	ok(t, err)
	_, err = ts.ScheduleTraining(ctx(t), req)
	ok(t, err)
	_, err = ts.ScheduleTraining(ctx(t), req) // idempotent retry
	ok(t, err)
	_, err = ts.ScheduleTraining(ctx(t), &trainings.ScheduleTrainingRequest{TrainingUuid: u, UserId: "go-user", Time: timestamppb.New(h), Notes: "other"})
	expect(t, err, codes.AlreadyExists, "")
	_, err = ts.ScheduleTraining(ctx(t), &trainings.ScheduleTrainingRequest{TrainingUuid: "7c0d4e2a-1b3c-4d5e-8f60-718293a4b502", UserId: "x", Time: timestamppb.New(h)})
	expect(t, err, codes.FailedPrecondition, "")
	_, err = tr.CancelTraining(ctx(t), &trainer.UpdateHourRequest{Time: timestamppb.New(h)})
	expect(t, err, codes.FailedPrecondition, "held")
	_, err = tr.MakeHourAvailable(ctx(t), &trainer.UpdateHourRequest{Time: timestamppb.New(h)})
	expect(t, err, codes.FailedPrecondition, "held")
	_, err = tr.MakeHourUnavailable(ctx(t), &trainer.UpdateHourRequest{Time: timestamppb.New(h)})
	expect(t, err, codes.FailedPrecondition, "held")

	got, err := ts.GetTraining(ctx(t), &trainings.GetTrainingRequest{TrainingUuid: u})
	ok(t, err)
	if got.TrainingUuid != u || got.UserId != "go-user" || got.Notes != "core" ||
		!got.Time.AsTime().Equal(h) || got.Status != trainings.TrainingStatus_PENDING {
		t.Fatalf("GetTraining = %v", got)
	}
	r, err := ts.CancelTraining(ctx(t), &trainings.CancelTrainingRequest{TrainingUuid: u})
	ok(t, err)
	if r.BalanceRefund != 1 {
		t.Fatalf("refund %d, want 1", r.BalanceRefund)
	}
	r, err = ts.CancelTraining(ctx(t), &trainings.CancelTrainingRequest{TrainingUuid: u, ByTrainer: true})
	ok(t, err)
	if r.BalanceRefund != 1 {
		t.Fatalf("repeated cancel refund %d, want the original 1", r.BalanceRefund)
	}
	got, err = ts.GetTraining(ctx(t), &trainings.GetTrainingRequest{TrainingUuid: u})
	ok(t, err)
	if got.Status != trainings.TrainingStatus_CANCELED || got.BalanceRefund != 1 {
		t.Fatalf("after cancel: %v", got)
	}

	// bad input
	sched := func(uuid, user string, at *timestamppb.Timestamp) error {
		_, err := ts.ScheduleTraining(ctx(t), &trainings.ScheduleTrainingRequest{TrainingUuid: uuid, UserId: user, Time: at})
		return err
	}
	h5 := timestamppb.New(hour(5, 12))
	other := "7c0d4e2a-1b3c-4d5e-8f60-718293a4b5ff"
	expect(t, sched("", "a", h5), codes.InvalidArgument, "training_uuid is empty")
	expect(t, sched("not-a-uuid", "a", h5), codes.InvalidArgument, "not a UUID")
	expect(t, sched(other, "", h5), codes.InvalidArgument, "user_id is empty")
	expect(t, sched(other, "a", nil), codes.InvalidArgument, "unable to parse time")
	expect(t, sched(other, "a", &timestamppb.Timestamp{Seconds: 1, Nanos: 1e9}), codes.InvalidArgument, "unable to parse time")
	_, err = ts.GetTraining(ctx(t), &trainings.GetTrainingRequest{TrainingUuid: other})
	expect(t, err, codes.NotFound, "")
	_, err = ts.GetTraining(ctx(t), &trainings.GetTrainingRequest{})
	expect(t, err, codes.InvalidArgument, "training_uuid is empty")
	_, err = ts.CancelTraining(ctx(t), &trainings.CancelTrainingRequest{TrainingUuid: other})
	expect(t, err, codes.NotFound, "")
	_, err = ts.CancelTraining(ctx(t), &trainings.CancelTrainingRequest{TrainingUuid: "123"})
	expect(t, err, codes.InvalidArgument, "not a UUID")
	expect(t, raw(ctx(t), s.conn, "/trainings.TrainingsService/GetTraining", []byte{0x0a, 0x05, 'a'}), codes.InvalidArgument, "")
}

func TestUsersService(t *testing.T) {
	s := start(t, "USERS_BIN")
	us := users.NewUsersServiceClient(s.conn)
	bal := func(user string) int64 {
		r, err := us.GetTrainingBalance(ctx(t), &users.GetTrainingBalanceRequest{UserId: user})
		ok(t, err)
		return r.Amount
	}
	upd := func(c context.Context, user string, change int64) error {
		_, err := us.UpdateTrainingBalance(c, &users.UpdateTrainingBalanceRequest{UserId: user, AmountChange: change})
		return err
	}
	if bal("go-new") != 0 {
		t.Fatal("unknown user balance not 0")
	}
	ok(t, upd(ctx(t), "go-a", 4))
	expect(t, upd(ctx(t), "go-a", -5), codes.FailedPrecondition, "balance cannot be smaller than 0")
	if bal("go-a") != 4 {
		t.Fatal("a refused change changed the balance")
	}
	ok(t, upd(ctx(t), "go-a", -4))
	if bal("go-a") != 0 {
		t.Fatal("balance not 0")
	}
	_, err := us.GetTrainingBalance(ctx(t), &users.GetTrainingBalanceRequest{})
	expect(t, err, codes.InvalidArgument, "user_id is empty")
	expect(t, upd(ctx(t), "", 1), codes.InvalidArgument, "user_id is empty")
	ok(t, upd(ctx(t), "go-big", math.MaxInt64))
	expect(t, upd(ctx(t), "go-big", 1), codes.OutOfRange, "")

	keyed := metadata.AppendToOutgoingContext(ctx(t), "idempotency-key", "go-k1")
	ok(t, upd(keyed, "go-idem", 3))
	ok(t, upd(keyed, "go-idem", 3))
	if bal("go-idem") != 3 {
		t.Fatal("a repeated idempotency key applied twice")
	}

	expect(t, raw(ctx(t), s.conn, "/users.UsersService/GetTrainingBalance", []byte{0x0a, 0x7f}), codes.InvalidArgument, "")
	expect(t, raw(ctx(t), s.conn, "/users.UsersService/Nope", nil), codes.Unimplemented, "")
	expect(t, raw(ctx(t), s.conn, "/users.UsersService/GetTrainingBalance", make([]byte, 5<<20)), codes.ResourceExhausted, "")
	short, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	expect(t, raw(short, s.conn, "/users.UsersService/GetTrainingBalance", bigValidRequest()), codes.DeadlineExceeded, "")
}

// TestHealth uses grpc-go's own grpc.health.v1 client, so it also proves
// that our proto/health.proto is wire-identical to the standard one.
func TestHealth(t *testing.T) {
	s := start(t, "USERS_BIN")
	hc := health.NewHealthClient(s.conn)
	for _, name := range []string{"", "users.UsersService"} {
		r, err := hc.Check(ctx(t), &health.HealthCheckRequest{Service: name})
		ok(t, err)
		if r.Status != health.HealthCheckResponse_SERVING {
			t.Fatalf("%q: %v", name, r.Status)
		}
	}
	_, err := hc.Check(ctx(t), &health.HealthCheckRequest{Service: "x.Y"})
	expect(t, err, codes.NotFound, "")
	w, err := hc.Watch(ctx(t), &health.HealthCheckRequest{Service: "users.UsersService"})
	ok(t, err)
	r, err := w.Recv()
	ok(t, err)
	if r.Status != health.HealthCheckResponse_SERVING {
		t.Fatalf("watch: %v", r.Status)
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	r, err = w.Recv()
	ok(t, err)
	if r.Status != health.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("watch at shutdown: %v", r.Status)
	}
	_, err = w.Recv()
	expect(t, err, codes.Unavailable, "")
}
