// go-ttrpc: the peer of the ttRPC benchmark. grpc.Health/Check on containerd/ttrpc (Debian's
// golang-github-containerd-ttrpc-dev), answering as pidone does: HealthCheckResponse{status:
// SERVING}. The two messages are encoded by hand (no protoc-gen-go offline): a CheckRequest
// is `string service = 1`, a HealthCheckResponse is `enum status = 1`.
//
// usage: go-ttrpc SOCKET_PATH   (serves until SIGTERM/SIGINT)
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/containerd/ttrpc"
)

// checkRequest is grpc.CheckRequest; it implements gogo's proto.Message plus the
// Marshal/Unmarshal methods gogo's proto package calls when a type has them.
type checkRequest struct{ service string }

func (m *checkRequest) Reset()         { *m = checkRequest{} }
func (m *checkRequest) String() string { return fmt.Sprintf("service:%q", m.service) }
func (*checkRequest) ProtoMessage()    {}

// Unmarshal reads field 1 (length-delimited) and skips any other field, as protobuf does.
func (m *checkRequest) Unmarshal(b []byte) error {
	m.Reset()
	for len(b) > 0 {
		key, n := uvarint(b)
		if n <= 0 {
			return errors.New("bad key")
		}
		b = b[n:]
		var size uint64
		switch key & 7 {
		case 0:
			_, n = uvarint(b)
		case 1:
			n = 8
		case 2:
			size, n = uvarint(b)
			if n > 0 {
				if uint64(len(b)-n) < size {
					return errors.New("truncated field")
				}
				if key>>3 == 1 {
					m.service = string(b[n : n+int(size)])
				}
				n += int(size)
			}
		case 5:
			n = 4
		default:
			return errors.New("bad wire type")
		}
		if n <= 0 || n > len(b) {
			return errors.New("truncated field")
		}
		b = b[n:]
	}
	return nil
}

func (m *checkRequest) Marshal() ([]byte, error) {
	if m.service == "" {
		return nil, nil
	}
	b := []byte{0x0a}
	b = appendUvarint(b, uint64(len(m.service)))
	return append(b, m.service...), nil
}

// healthCheckResponse is grpc.HealthCheckResponse (ServingStatus: 0 UNKNOWN, 1 SERVING).
type healthCheckResponse struct{ status uint64 }

func (m *healthCheckResponse) Reset()         { *m = healthCheckResponse{} }
func (m *healthCheckResponse) String() string { return fmt.Sprintf("status:%d", m.status) }
func (*healthCheckResponse) ProtoMessage()    {}

func (m *healthCheckResponse) Marshal() ([]byte, error) {
	if m.status == 0 {
		return nil, nil
	}
	return appendUvarint([]byte{0x08}, m.status), nil
}

func (m *healthCheckResponse) Unmarshal(b []byte) error {
	m.Reset()
	if len(b) >= 2 && b[0] == 0x08 {
		m.status, _ = uvarint(b[1:])
	}
	return nil
}

func uvarint(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * uint(i))
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	return 0, -1
}

func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func check(ctx context.Context, unmarshal func(interface{}) error) (interface{}, error) {
	var req checkRequest
	if err := unmarshal(&req); err != nil {
		return nil, err
	}
	return &healthCheckResponse{status: 1}, nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go-ttrpc SOCKET_PATH")
		os.Exit(2)
	}
	path := os.Args[1]
	os.Remove(path)
	l, err := net.Listen("unix", path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		os.Exit(1)
	}
	srv, err := ttrpc.NewServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
	srv.Register("grpc.Health", map[string]ttrpc.Method{"Check": check})
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigs
		srv.Close()
		os.Remove(path)
		os.Exit(0)
	}()
	if err := srv.Serve(context.Background(), l); err != nil && !errors.Is(err, ttrpc.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
}
