// A net/http server for tests/libos/test-libos-go.sh: listens on the
// address given, answers / and /sum?n=N, and exits 0 after /quit.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: httpd ADDR")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		os.Exit(1)
	}
	fmt.Println("listening on", ln.Addr())
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s %s\n", r.Method, r.URL.Path)
	})
	mux.HandleFunc("/sum", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		s := 0
		for i := 1; i <= n; i++ {
			s += i
		}
		fmt.Fprintf(w, "sum %d = %d\n", n, s)
	})
	done := make(chan struct{})
	mux.HandleFunc("/quit", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "bye")
		close(done)
	})
	go http.Serve(ln, mux)
	<-done
	ln.Close()
	fmt.Println("served")
}
