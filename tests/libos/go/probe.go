// Go workload for tests/libos/test-libos-go.sh, built with CGO_ENABLED=0
// and run natively and inside the LibOS enclave: its output depends only on
// what it computes (goroutines, channels, timers, sync, files, args, env),
// never on scheduling.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

func goroutines() {
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	results := make(chan int, 64)
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				mu.Lock()
				total++
				mu.Unlock()
			}
			results <- i * i
		}(i)
	}
	wg.Wait()
	close(results)
	sum := 0
	for v := range results {
		sum += v
	}
	fmt.Println("goroutines: total", total, "sum", sum)
}

func timers() {
	start := time.Now()
	time.Sleep(20 * time.Millisecond)
	t := time.NewTicker(5 * time.Millisecond)
	ticks := 0
	for range t.C {
		ticks++
		if ticks == 3 {
			break
		}
	}
	t.Stop()
	select {
	case <-time.After(10 * time.Millisecond):
		fmt.Println("timers: after fired")
	case <-make(chan int):
	}
	timer := time.AfterFunc(time.Hour, func() {})
	fmt.Println("timers: ticks", ticks, "stopped", timer.Stop(),
		"elapsed >= 40ms", time.Since(start) >= 40*time.Millisecond)
}

func pipeline() {
	in := make(chan string)
	out := make(chan string)
	go func() {
		for _, w := range []string{"enclave", "go", "runs", "inside"} {
			in <- w
		}
		close(in)
	}()
	go func() {
		for w := range in {
			out <- strings.ToUpper(w)
		}
		close(out)
	}()
	var words []string
	for w := range out {
		words = append(words, w)
	}
	sort.Strings(words)
	fmt.Println("pipeline:", strings.Join(words, " "))
}

func main() {
	cmd := "all"
	if len(os.Args) > 1 {
		cmd = os.Args[1]
	}
	switch cmd {
	case "hello":
		fmt.Println("hello from go")
	case "all":
		fmt.Println("args:", strings.Join(os.Args[1:], " "), "HOME="+os.Getenv("HOME"))
		goroutines()
		timers()
		pipeline()
		var once sync.Once
		for i := 0; i < 3; i++ {
			once.Do(func() { fmt.Println("sync.Once: once") })
		}
		b, err := os.ReadFile("/data/file")
		fmt.Printf("read /data/file: %q %v\n", b, err)
		_, err = os.ReadFile("/data/other")
		fmt.Println("read /data/other:", err != nil)
		fmt.Println("GOMAXPROCS >= 1:", runtime.GOMAXPROCS(0) >= 1)
		os.Exit(3)
	case "child":
		fmt.Printf("child says %s\n", strings.Join(os.Args[2:], " "))
		os.Exit(3)
	case "exec":
		// os/exec: a child process (a new enclave), its stdout through a
		// pipe the runtime's poller reads, its status.
		out, err := exec.Command(os.Args[0], "child", "hi", "there").Output()
		fmt.Printf("output %q, err %v\n", out, err)
		c := exec.Command(os.Args[0], "child", "again")
		c.Stdout = os.Stdout
		fmt.Println("run:", c.Run())
	case "panic":
		var m map[string]int
		m["x"] = 1
	default:
		fmt.Fprintln(os.Stderr, "unknown command", cmd)
		os.Exit(2)
	}
}
