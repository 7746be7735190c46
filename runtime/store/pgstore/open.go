package pgstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"
	"unsafe"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/smithc/smithc/runtime/store"
)

// Channel is the NOTIFY channel of run changes; the payload is a run id.
const Channel = "smithc"

// Options tunes Open. The zero value is the default.
type Options struct {
	// NoMigrate skips applying migrations at open (for migration tests).
	NoMigrate bool
	// CommitConns bounds the write transactions of BatchCommit in flight
	// at once (default 1); batches committed while that many are in
	// flight share the next transaction (group commit).
	CommitConns int
	// Tracer, when set, sees every statement and batch the pool's
	// connections send (pgx's QueryTracer, and BatchTracer when it
	// implements it): for tests that count round trips, and profiling.
	Tracer pgx.QueryTracer
}

func (o Options) commitLimit() int {
	if o.CommitConns > 0 {
		return o.CommitConns
	}
	return 1
}

// Store is a store.Store on one PostgreSQL database.
type Store struct {
	pool  *pgxpool.Pool
	url   string
	group group
}

var (
	_ store.Store    = (*Store)(nil)
	_ store.Notifier = (*Store)(nil)
)

// Open connects to the database at url and applies pending migrations.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("pgstore: open %s: %w", Redact(url), err)
	}
	if opts.Tracer != nil {
		cfg.ConnConfig.Tracer = opts.Tracer
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: open %s: %w", Redact(url), err)
	}
	s := &Store{pool: pool, url: url}
	s.group = group{s: s, limit: opts.commitLimit(), maxBatch: 64, arrived: make(chan struct{}, 1)}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgstore: connect to %s: %w", Redact(url), err)
	}
	if !opts.NoMigrate {
		if _, err := s.Migrate(ctx, Up, 0); err != nil {
			pool.Close()
			return nil, err
		}
	}
	return s, nil
}

// Redact returns url with its password replaced by "xxxxx", for messages.
func Redact(url string) string {
	cfg, err := pgconn.ParseConfig(url)
	if err != nil || cfg.Password == "" {
		return url
	}
	return string(bytes.ReplaceAll([]byte(url), []byte(":"+cfg.Password+"@"), []byte(":xxxxx@")))
}

// Pool returns the connection pool, for ad-hoc queries (type views,
// tools). Do not write through it.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// tx runs fn in one read-committed transaction after taking the advisory
// locks of runIDs (in a fixed order, so that transactions locking several
// runs do not deadlock).
func (s *Store) tx(ctx context.Context, what string, runIDs []string, fn func(tx pgx.Tx) error) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("pgstore: %s: begin: %w", what, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if err := lockRuns(ctx, tx, runIDs); err != nil {
		return fmt.Errorf("pgstore: %s: %w", what, err)
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("pgstore: %s: commit: %w", what, err)
	}
	return nil
}

// beginRetry is how long begin retries while the server cannot be
// reached (a restart or failover): nothing has been sent, so retrying is
// always safe.
const beginRetry = 15 * time.Second

func (s *Store) begin(ctx context.Context) (pgx.Tx, error) {
	deadline := time.Now().Add(beginRetry)
	delay := 50 * time.Millisecond
	for {
		tx, err := s.pool.Begin(ctx)
		if err == nil || ctx.Err() != nil || time.Now().After(deadline) {
			return tx, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(delay):
		}
		if delay < time.Second {
			delay *= 2
		}
	}
}

// lockSQL takes the advisory locks of a sorted list of run ids.
const lockSQL = `SELECT pg_advisory_xact_lock(hashtextextended(id, 7)) FROM unnest($1::text[]) AS u(id) ORDER BY id`

// acquire takes a pool connection, retrying like begin while the server
// cannot be reached.
func (s *Store) acquire(ctx context.Context) (*pgxpool.Conn, error) {
	deadline := time.Now().Add(beginRetry)
	delay := 50 * time.Millisecond
	for {
		c, err := s.pool.Acquire(ctx)
		if err == nil {
			return c, nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(delay):
		}
		if delay < time.Second {
			delay *= 2
		}
	}
}

func lockRuns(ctx context.Context, tx pgx.Tx, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	ids = uniq(ids)
	if _, err := tx.Exec(ctx, lockSQL, ids); err != nil {
		return fmt.Errorf("lock runs: %w", err)
	}
	return nil
}

func uniq(ids []string) []string {
	out := append([]string(nil), ids...)
	sort.Strings(out)
	j := 0
	for i, id := range out {
		if i == 0 || id != out[j-1] {
			out[j] = id
			j++
		}
	}
	return out[:j]
}

func notify(ctx context.Context, tx pgx.Tx, runID string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, Channel, runID); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return nil
}

// Notifications implements store.Notifier: it delivers the run ids of
// NOTIFY smithc on a dedicated connection until ctx ends, reconnecting
// (with "" sent on the channel, meaning "anything may have changed")
// when the connection is lost.
func (s *Store) Notifications(ctx context.Context) (<-chan string, error) {
	ch := make(chan string, 64)
	err := s.listenLoop(ctx, Channel, func(payload string, reconnected bool) {
		select {
		case ch <- payload: // "" after a reconnect
		default: // a full channel: the reader is behind and rescans anyway
		}
	}, func() { close(ch) })
	if err != nil {
		return nil, err
	}
	return ch, nil
}

// listenLoop listens on channel on a dedicated connection and calls
// deliver with each notification's payload until ctx ends, then done.
// A lost connection is re-made with a backoff (100 ms doubling to 2 s);
// after each reconnect deliver is called with ("", true): notifications
// may have been missed meanwhile. The first connection is made before
// listenLoop returns, so that its error is the caller's.
func (s *Store) listenLoop(ctx context.Context, channel string, deliver func(payload string, reconnected bool), done func()) error {
	conn, err := s.listen(ctx, channel)
	if err != nil {
		return err
	}
	go func() {
		defer done()
		delay := 100 * time.Millisecond
		for {
			for conn != nil {
				n, err := conn.WaitForNotification(ctx)
				if err != nil {
					conn.Close(context.Background())
					conn = nil
					break
				}
				delay = 100 * time.Millisecond
				deliver(n.Payload, false)
			}
			if ctx.Err() != nil {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(delay):
			}
			if delay < 2*time.Second {
				delay *= 2
			}
			if c, err := s.listen(ctx, channel); err == nil {
				conn = c
				deliver("", true)
			}
		}
	}()
	return nil
}

// listen opens a connection that listens on channel (a constant of this
// package: it is not quoted).
func (s *Store) listen(ctx context.Context, channel string) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("pgstore: listen on %s: %w", channel, err)
	}
	if _, err := conn.Exec(ctx, `LISTEN `+channel); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("pgstore: listen on %s: %w", channel, err)
	}
	return conn, nil
}

// isUnique reports a unique violation.
func isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// ts returns a time for storage: UTC, NULL for the zero time.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// tsz returns a time for an array parameter: UTC, NULL for the zero time.
func tsz(t time.Time) pgtype.Timestamptz {
	if t.IsZero() {
		return pgtype.Timestamptz{}
	}
	return pgtype.Timestamptz{Time: t.UTC(), Valid: true}
}

// pt returns a stored time (the zero time for NULL).
func pt(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

var nulEscape = []byte(`\u0000`)

// js returns JSON text for a JSONB column ("null" when empty). PostgreSQL
// refuses \u0000 in JSONB: such escapes (not preceded by an escaping
// backslash) become \ufffd. Text without one shares m's bytes instead of
// copying them (a 10 MB output was copied once more for every write of
// it): pgx copies an argument into the connection's buffer while the
// query is sent, and no caller changes a value's encoding after handing
// it to the store.
func js(m []byte) string {
	if len(m) == 0 {
		return "null"
	}
	if !bytes.Contains(m, nulEscape) {
		return unsafe.String(unsafe.SliceData(m), len(m))
	}
	var out []byte
	for i := 0; i < len(m); i++ {
		if m[i] == '\\' && i+1 < len(m) {
			if bytes.HasPrefix(m[i:], nulEscape) {
				out = append(out, `\ufffd`...)
				i += len(nulEscape) - 1
				continue
			}
			out = append(out, m[i], m[i+1])
			i++
			continue
		}
		out = append(out, m[i])
	}
	return string(out)
}

// rj returns a raw message for stored JSONB text: compact, nil for null.
func rj(b []byte) json.RawMessage {
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return append(json.RawMessage(nil), b...)
	}
	return buf.Bytes()
}
