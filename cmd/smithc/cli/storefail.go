package cli

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/smithc/smithc/runtime/store"
)

// storeFailedStatus is the status the result of a session ended by a
// store failure shows: not a status of the run (the store could not
// record one), but what happened to this session.
const storeFailedStatus = "store-failed"

// storeFailed ends a session whose store failed under it (a full disk, a
// file size limit, a lock held too long): it prints the result (one JSON
// object with --format json) saying so and how to continue, and exits
// with ExitStore. What was committed stands and the run, owned by this
// exiting process, is resumable.
func (s *session) storeFailed(runID string, err error) error {
	hint := fmt.Sprintf("smithc resume %s", runID)
	return s.storeFailure(runID, "stopped", fmt.Sprintf("%v; what was committed stands, and once the store is fixed `%s` continues the run", storeCause(err), hint),
		map[string]any{"resume": hint})
}

// storeFailedUncreated ends a session whose store failed as it created
// the run (runtime.ErrNotCreated): nothing of the run was stored, so the
// way on is to start it again from file, not to resume it.
func (s *session) storeFailedUncreated(runID, file string, err error) error {
	hint := fmt.Sprintf("smithc run %s", file)
	return s.storeFailure(runID, "not started", fmt.Sprintf("%v; the run was not created (nothing of it was stored): once the store is fixed, start it again with `%s`", storeCause(err), hint),
		map[string]any{"resume": "", "rerun": hint})
}

// storeFailure ends the session with the result of a store failure: msg
// after "run RUN_ID what:", or one JSON object with way, the fields that
// say how to go on.
func (s *session) storeFailure(runID, what, msg string, way map[string]any) error {
	s.abort()
	if s.format == "json" {
		out := map[string]any{"run_id": runID, "status": storeFailedStatus, "output": nil, "error": msg}
		for k, v := range way {
			out[k] = v
		}
		_ = writeJSON(s.a.stdout, out)
	} else {
		fmt.Fprintf(s.a.stdout, "run %s %s: %s\n", runID, what, msg)
	}
	return &exitError{code: ExitStore}
}

// runError is app.runError for a command that continues a run: a store
// failure ends the session with its result (storeFailed).
func (s *session) runError(runID string, err error) error {
	if errors.Is(err, store.ErrUnavailable) {
		return s.storeFailed(runID, err)
	}
	return s.a.runError(runID, err)
}

// storeCause returns the store's own error inside err (what failed and
// why, without the layers that passed it on).
func storeCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil || !errors.Is(next, store.ErrUnavailable) {
			return err
		}
		err = next
	}
}

// newRunID generates a run id like the runtime's default: the UTC start
// time and 8 random hex digits.
func newRunID() string {
	var b [4]byte
	now := time.Now().UTC()
	if _, err := rand.Read(b[:]); err != nil {
		return now.Format("20060102T150405.000000000")
	}
	return now.Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}
