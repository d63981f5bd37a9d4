// An HTTPS server that knows nothing of attestation, for
// tests/libos/test-libos-rune-ratls.sh: it loads its certificate and key
// from the files named (in the enclave, the LibOS's RA-TLS files), listens
// on the address given, answers / and exits 0 after /quit.
package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: httpsd ADDR CERT.pem KEY.pem")
		os.Exit(2)
	}
	cert, err := tls.LoadX509KeyPair(os.Args[2], os.Args[3])
	if err != nil {
		fmt.Fprintln(os.Stderr, "certificate:", err)
		os.Exit(1)
	}
	raw, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		os.Exit(1)
	}
	ln := tls.NewListener(raw, &tls.Config{Certificates: []tls.Certificate{cert}})
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello over TLS from %s %s\n", r.Method, r.URL.Path)
	})
	done := make(chan struct{})
	mux.HandleFunc("/quit", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "bye")
		close(done)
	})
	fmt.Println("listening on", ln.Addr())
	go http.Serve(ln, mux)
	<-done
	ln.Close()
	fmt.Println("served")
}
