// Command faultcost measures what a first touch of fresh memory costs on
// this machine: it maps 16 MB four times in each of three ways (4 KB
// pages, 4 KB pages populated by one madvise, 2 MB transparent huge
// pages) and prints the time per 4 KB page (docs/benchmarks.md, Round 12).
package main

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

const size = 16 << 20

func touch(advice []int) (time.Duration, error) {
	b, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return 0, err
	}
	defer unix.Munmap(b)
	t := time.Now()
	for _, a := range advice {
		if err := unix.Madvise(b, a); err != nil {
			return 0, fmt.Errorf("madvise %d: %w", a, err)
		}
	}
	for i := 0; i < size; i += 4096 {
		b[i] = 1
	}
	return time.Since(t), nil
}

func main() {
	ways := []struct {
		name   string
		advice []int
	}{
		{"4 KB pages", nil},
		{"4 KB pages, MADV_POPULATE_WRITE", []int{unix.MADV_POPULATE_WRITE}},
		{"2 MB pages, MADV_HUGEPAGE", []int{unix.MADV_HUGEPAGE}},
	}
	for _, w := range ways {
		fmt.Printf("%-34s", w.name)
		for range 4 {
			d, err := touch(w.advice)
			if err != nil {
				fmt.Fprintf(os.Stderr, "\nfaultcost: %s: %v\n", w.name, err)
				os.Exit(1)
			}
			fmt.Printf(" %6.2f µs", float64(d.Nanoseconds())/1e3/float64(size/4096))
		}
		fmt.Println("  per 4 KB page")
	}
}
