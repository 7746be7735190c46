// Command startbench measures smithc's start-up the way a person or a
// script meets it: whole processes, one after the other, stdout and
// stderr to pipes. For each case (smithc version, check of a one-step
// file, run of it on an existing and on a new SQLite store, run of 100
// sequential compute steps) it prints the median wall and CPU time (user
// + system) of -reps runs. With -old BIN it runs that binary's cases
// interleaved with the new one's (same moment, same load) and prints the
// ratios new/old: a before/after. It names each binary's linking
// (static, or dynamic with the libraries it needs): a cgo build starts
// about 1 ms later, so a before/after of binaries built differently says
// so. With -floor BIN (internal/startfloor: the same SQLite doing a
// one-step run's store work and nothing else) it measures that floor too,
// interleaved, and prints each one-step run as a ratio to it. With -link
// BIN (internal/linkfloor: smithc's binary returning before its command
// starts) it measures what every smithc process pays first, interleaved
// with the one-step runs too.
//
//	go run ./internal/startbench -reps 21 -new bin/smithc -old /tmp/smithc-before -floor bin/startfloor -link bin/linkfloor
//	make bench-startup OLD=/tmp/smithc-before
package main

import (
	"bytes"
	"debug/elf"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/smithc/smithc/internal/binfile"
	"github.com/smithc/smithc/internal/testgen"
)

func main() {
	newBin := flag.String("new", "bin/smithc", "the smithc binary to measure")
	oldBin := flag.String("old", "", "a smithc binary to compare with (before/after), interleaved run by run")
	reps := flag.Int("reps", 21, "runs of each case (medians)")
	floorBin := flag.String("floor", "", "the start-up floor program (internal/startfloor) to measure beside them")
	linkBin := flag.String("link", "", "the link floor program (internal/linkfloor) to measure beside them")
	flag.Parse()
	dir, err := os.MkdirTemp("", "startbench-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	one := write(dir, "one.smw", string(testgen.Constants(1)))
	hundred := write(dir, "seq100.smw", string(testgen.Constants(100)))

	// Each binary is measured from a copy (binfile.Copy): one the Go
	// linker has just written starts about 1 ms slower than it will once
	// installed.
	settled := func(name, path string) string {
		if path == "" {
			return ""
		}
		dst := filepath.Join(dir, name)
		if err := binfile.Copy(path, dst); err != nil {
			fail(err)
		}
		return dst
	}
	type binary struct{ name, path, db string }
	bins := []binary{{"new", settled("new", *newBin), filepath.Join(dir, "new.db")}}
	if *oldBin != "" {
		bins = append(bins, binary{"old", settled("old", *oldBin), filepath.Join(dir, "old.db")})
	}
	*floorBin, *linkBin = settled("startfloor", *floorBin), settled("linkfloor", *linkBin)
	type tcase struct {
		name string
		args func(b binary, i int) []string
	}
	cases := []tcase{
		{"smithc version", func(binary, int) []string { return []string{"version"} }},
		{"smithc check, one step", func(binary, int) []string { return []string{"check", one} }},
		{"smithc run, one step, existing store", func(b binary, _ int) []string { return []string{"run", one, "--db", b.db} }},
		{"smithc run, one step, new store", func(b binary, i int) []string {
			return []string{"run", one, "--db", filepath.Join(dir, fmt.Sprintf("%s-new-%d.db", b.name, i))}
		}},
		{"smithc run, 100 steps, existing store", func(b binary, _ int) []string { return []string{"run", hundred, "--db", b.db} }},
	}
	for _, b := range bins { // create and migrate each binary's store
		if _, _, err := run(b.path, "run", one, "--db", b.db); err != nil {
			fail(err)
		}
	}
	for _, b := range bins {
		fmt.Printf("%s: %s (%s)\n", b.name, map[string]string{"new": *newBin, "old": *oldBin}[b.name], linking(b.path))
	}
	fmt.Printf("medians of %d runs (wall / CPU)\n", *reps)
	floorDB := filepath.Join(dir, "floor.db")
	if *floorBin != "" {
		if _, _, err := run(*floorBin, floorDB); err != nil { // creates the floor's tables
			fail(err)
		}
	}
	for _, c := range cases {
		walls := map[string][]time.Duration{}
		cpus := map[string][]time.Duration{}
		oneStep := strings.HasPrefix(c.name, "smithc run, one step")
		floored, linked := *floorBin != "" && oneStep, *linkBin != "" && oneStep
		for i := 0; i < *reps; i++ {
			for _, b := range bins {
				w, cpu, err := run(b.path, c.args(b, i)...)
				if err != nil {
					fail(err)
				}
				walls[b.name] = append(walls[b.name], w)
				cpus[b.name] = append(cpus[b.name], cpu)
			}
			if floored { // the floor, interleaved with the runs it is the floor of
				w, cpu, err := run(*floorBin, floorDB)
				if err != nil {
					fail(err)
				}
				walls["floor"] = append(walls["floor"], w)
				cpus["floor"] = append(cpus["floor"], cpu)
			}
			if linked {
				w, cpu, err := run(*linkBin)
				if err != nil {
					fail(err)
				}
				walls["link"] = append(walls["link"], w)
				cpus["link"] = append(cpus["link"], cpu)
			}
		}
		line := fmt.Sprintf("%-40s new %7.2f / %6.2f ms", c.name, ms(median(walls["new"])), ms(median(cpus["new"])))
		if *oldBin != "" {
			line += fmt.Sprintf("   old %7.2f / %6.2f ms   new/old %.2f× / %.2f×", ms(median(walls["old"])), ms(median(cpus["old"])),
				float64(median(walls["new"]))/float64(median(walls["old"])), float64(median(cpus["new"]))/float64(median(cpus["old"])))
		}
		if floored {
			line += fmt.Sprintf("   floor %7.2f / %6.2f ms   new/floor %.2f× / %.2f×", ms(median(walls["floor"])), ms(median(cpus["floor"])),
				float64(median(walls["new"]))/float64(median(walls["floor"])), float64(median(cpus["new"]))/float64(median(cpus["floor"])))
		}
		if linked {
			line += fmt.Sprintf("   link floor %7.2f / %6.2f ms (%.0f%% of new; new above it %.2f ms)", ms(median(walls["link"])), ms(median(cpus["link"])),
				100*float64(median(walls["link"]))/float64(median(walls["new"])), ms(pairedMedian(walls["new"], walls["link"])))
		}
		fmt.Println(line)
	}
}

// linking says how the executable at path is linked: "static", or
// "dynamic" and the shared libraries it needs (a cgo build).
func linking(path string) string {
	f, err := elf.Open(path)
	if err != nil {
		return "not an ELF executable"
	}
	defer f.Close()
	libs, _ := f.ImportedLibraries()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return "dynamic: " + strings.Join(libs, ", ")
		}
	}
	if len(libs) > 0 {
		return "dynamic: " + strings.Join(libs, ", ")
	}
	return "static"
}

func write(dir, name, text string) string {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		fail(err)
	}
	return p
}

// run runs bin once and returns its wall and CPU time.
func run(bin string, args ...string) (time.Duration, time.Duration, error) {
	cmd := exec.Command(bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	t0 := time.Now()
	err := cmd.Run()
	wall := time.Since(t0)
	if err != nil {
		return 0, 0, fmt.Errorf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, out.String())
	}
	return wall, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// pairedMedian is the median of a[i]-b[i]: two cases measured one after
// the other in each round, so that the difference is taken at the same
// moment (the VM's speed moves by a fifth from one minute to the next).
func pairedMedian(a, b []time.Duration) time.Duration {
	d := make([]time.Duration, min(len(a), len(b)))
	for i := range d {
		d[i] = a[i] - b[i]
	}
	return median(d)
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func fail(err error) {
	fmt.Fprintf(os.Stderr, "startbench: %v\n", err)
	os.Exit(1)
}
