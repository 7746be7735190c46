package sqlitestore

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/smithc/smithc/runtime/store"
)

// TestFoldedAttemptText checks that appendFolded writes the bytes
// json.Marshal writes for the attempt's foldedAttempt (so rows written
// before and after it are alike), and that unfold reads them back.
func TestFoldedAttemptText(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	texts := []string{"", "24622@vm", "exit status 1", `say "hi"\n`, "a\\b", "<tag>&amp;", "tab\there", "\x00\x1f\x7f",
		"héllo wörld ✓", "\u2028\u2029", "bad \xff\xfe utf-8", "emoji 🙂", "line\nbreak\r"}
	pick := func() string {
		if rnd.IntN(3) == 0 {
			return ""
		}
		if rnd.IntN(4) == 0 { // random bytes, any of them
			b := make([]byte, rnd.IntN(12))
			for i := range b {
				b[i] = byte(rnd.IntN(256))
			}
			return string(b)
		}
		return texts[rnd.IntN(len(texts))]
	}
	tm := func() time.Time {
		if rnd.IntN(4) == 0 {
			return time.Time{}
		}
		return time.Unix(rnd.Int64N(200*365*86400), rnd.Int64N(1e9)).In(time.FixedZone("z", int(rnd.Int64N(86400))-43200))
	}
	for i := range 20000 {
		a := &store.Attempt{RunID: "r", NodeID: "n", Number: 1 + rnd.IntN(3), State: store.AttemptState([]string{"finished", "failed", "cancelled", pick()}[rnd.IntN(4)]),
			Owner: pick(), LeaseExpiresAt: tm(), HeartbeatAt: tm(), Detail: pick(), Error: pick(), ErrorKind: pick(),
			StartedAt: tm(), FinishedAt: tm(), PID: []int{0, 1, 24622, -7, 1 << 40}[rnd.IntN(5)], PIDStart: pick()}
		want, err := json.Marshal(foldedAttempt{Number: a.Number, State: string(a.State), Owner: a.Owner, Lease: ts(a.LeaseExpiresAt),
			Beat: ts(a.HeartbeatAt), Detail: a.Detail, Error: a.Error, Kind: a.ErrorKind, Started: ts(a.StartedAt),
			Finished: ts(a.FinishedAt), PID: a.PID, PIDStart: a.PIDStart})
		if err != nil {
			t.Fatal(err)
		}
		got := appendFolded(nil, a)
		if string(got) != string(want) {
			t.Fatalf("case %d: appendFolded wrote\n%s\njson.Marshal writes\n%s", i, got, want)
		}
		back, err := unfold("r", "n", "", string(got))
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if back.Number != a.Number || back.PID != a.PID || !back.FinishedAt.Equal(a.FinishedAt) || !back.StartedAt.Equal(a.StartedAt) ||
			utf8.ValidString(a.Detail) && back.Detail != a.Detail {
			t.Fatalf("case %d: unfold gave %+v for %+v", i, back, a)
		}
	}
}

// TestRollbackWithoutTransaction: the ROLLBACK that ends a failed batch
// (after a BEGIN that did not take effect, or a COMMIT that ended the
// transaction) is recognised, and the writer's connection is kept.
func TestRollbackWithoutTransaction(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "r.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.w.ExecContext(ctx, `ROLLBACK`)
	if err == nil || !isNoTransaction(err) {
		t.Fatalf("ROLLBACK outside a transaction: %v, not recognised", err)
	}
	if _, err := s.w.ExecContext(ctx, `SELECT 1`); err != nil {
		t.Fatal(err)
	}
	if isNoTransaction(fmt.Errorf("disk I/O error")) {
		t.Error("another error taken for no transaction")
	}
}
