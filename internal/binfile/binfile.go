// Package binfile prepares a freshly built binary for timing.
package binfile

import (
	"fmt"
	"io"
	"os"
)

// Settle rewrites the executable at path with write(2), in place (a new
// file renamed over it), so that it starts as an installed binary does.
//
// The Go linker writes its output through mmap, and a file written that
// way starts slower until its pages leave the page cache: a one-step
// smithc run took 12.31 ms from the binary go build had just written and
// 10.86 ms from a copy of it (cp), the link floor 6.84 and 5.96 ms
// (interleaved medians of 41, Linux 6.18, ext4); after drop_caches the two
// start alike. A binary that was copied, installed from a package, or
// read back from disk is in the second state, so that is the one the
// benchmarks measure.
func Settle(path string) error {
	tmp := path + ".settle"
	if err := Copy(path, tmp); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Copy writes a copy of the executable src at dst with write(2), with
// src's permissions (a settled copy: see Settle).
func Copy(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fi.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(dst)
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if err := out.Close(); err != nil {
		os.Remove(dst)
		return err
	}
	return nil
}
