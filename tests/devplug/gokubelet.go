// A kubelet's side of the device plugin API in Go's gRPC (the library the
// real kubelet uses; Debian's golang-google-grpc-dev), for
// tests/devplug/test-device-plugin.sh: serves Registration on
// DIR/kubelet.sock, waits for the plugin's Register, then calls
// GetDevicePluginOptions, ListAndWatch and Allocate on the plugin's socket.
// Messages are encoded and decoded with protowire (no generated code).
// Prints TAP-like lines; every wait is bounded.
//
//	gokubelet DIR
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protowire"
)

const wait = 10 * time.Second

var failed bool

func check(name string, ok bool, why ...interface{}) {
	if ok {
		fmt.Printf("ok - go kubelet: %s\n", name)
		return
	}
	failed = true
	fmt.Printf("not ok - go kubelet: %s: %v\n", name, why)
}

// raw passes messages through as bytes: the test encodes them itself.
type raw struct{}

func (raw) Marshal(v interface{}) ([]byte, error) { return *(v.(*[]byte)), nil }
func (raw) Unmarshal(data []byte, v interface{}) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (raw) Name() string   { return "proto" }
func (raw) String() string { return "proto" }

// fields: each (number, bytes or varint) of a message, in order.
type field struct {
	num protowire.Number
	b   []byte
	v   uint64
}

func fields(m []byte) ([]field, error) {
	var out []field
	for len(m) > 0 {
		num, typ, n := protowire.ConsumeTag(m)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		m = m[n:]
		f := field{num: num}
		switch typ {
		case protowire.BytesType:
			f.b, n = protowire.ConsumeBytes(m)
		case protowire.VarintType:
			f.v, n = protowire.ConsumeVarint(m)
		default:
			n = protowire.ConsumeFieldValue(num, typ, m)
		}
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		m = m[n:]
		out = append(out, f)
	}
	return out, nil
}

func str(fs []field, num protowire.Number) string {
	for _, f := range fs {
		if f.num == num {
			return string(f.b)
		}
	}
	return ""
}

func main() {
	dir := os.Args[1]
	registered := make(chan []byte, 4)
	srv := grpc.NewServer(grpc.CustomCodec(raw{}), grpc.UnknownServiceHandler(
		func(_ interface{}, st grpc.ServerStream) error {
			var req []byte
			if m, _ := grpc.MethodFromServerStream(st); m != "/v1beta1.Registration/Register" {
				return fmt.Errorf("unexpected %s", m)
			}
			if err := st.RecvMsg(&req); err != nil {
				return err
			}
			registered <- req
			empty := []byte{}
			return st.SendMsg(&empty)
		}))
	l, err := net.Listen("unix", filepath.Join(dir, "kubelet.sock"))
	if err != nil {
		fmt.Printf("not ok - go kubelet: listen: %v\n", err)
		os.Exit(1)
	}
	go srv.Serve(l)
	defer srv.Stop()

	var reg []field
	select {
	case req := <-registered:
		reg, err = fields(req)
	case <-time.After(wait):
		err = fmt.Errorf("no Register within %v", wait)
	}
	check("the plugin registers", err == nil && str(reg, 1) == "v1beta1" &&
		str(reg, 3) == "alibabacloud.com/sgx_epc_MiB", err, reg)
	if err != nil {
		os.Exit(1)
	}

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	conn, err := grpc.DialContext(ctx, "unix://"+filepath.Join(dir, str(reg, 2)),
		grpc.WithInsecure(), grpc.WithBlock(),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(raw{})))
	check("dial the plugin's socket", err == nil, err)
	if err != nil {
		os.Exit(1)
	}
	defer conn.Close()

	empty, opts := []byte{}, []byte{}
	err = conn.Invoke(ctx, "/v1beta1.DevicePlugin/GetDevicePluginOptions", &empty, &opts)
	of, _ := fields(opts)
	check("GetDevicePluginOptions: get_preferred_allocation_available",
		err == nil && len(of) == 1 && of[0].num == 2 && of[0].v == 1, err, of)

	desc := &grpc.StreamDesc{StreamName: "ListAndWatch", ServerStreams: true}
	st, err := conn.NewStream(ctx, desc, "/v1beta1.DevicePlugin/ListAndWatch")
	var list []byte
	if err == nil {
		if err = st.SendMsg(&empty); err == nil {
			if err = st.CloseSend(); err == nil {
				err = st.RecvMsg(&list)
			}
		}
	}
	lf, _ := fields(list)
	check("ListAndWatch: 16 devices", err == nil && len(lf) == 16, err, len(lf))

	// AllocateRequest{container_requests: [{devices_ids: ["0".."3"]}]}
	var cr, req []byte
	for i := 0; i < 4; i++ {
		cr = protowire.AppendTag(cr, 1, protowire.BytesType)
		cr = protowire.AppendString(cr, fmt.Sprint(i))
	}
	req = protowire.AppendTag(req, 1, protowire.BytesType)
	req = protowire.AppendBytes(req, cr)
	var resp []byte
	err = conn.Invoke(ctx, "/v1beta1.DevicePlugin/Allocate", &req, &resp)
	env := ""
	if rf, _ := fields(resp); len(rf) == 1 {
		if cf, _ := fields(rf[0].b); len(cf) > 0 && cf[0].num == 1 {
			ef, _ := fields(cf[0].b)
			env = str(ef, 1) + "=" + str(ef, 2)
		}
	}
	check("Allocate: SGX_EPC_LIMIT=4", err == nil && env == "SGX_EPC_LIMIT=4", err, env)

	bad := []byte{0xff, 0xff}
	err = conn.Invoke(ctx, "/v1beta1.DevicePlugin/Allocate", &bad, &resp)
	check("Allocate of bytes that are no message: an error status", err != nil, err)
	if failed {
		os.Exit(1)
	}
}
