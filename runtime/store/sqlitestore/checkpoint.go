package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
)

// DefaultCheckpointFrames is how many WAL frames (pages) the writer
// commits before the background checkpointer copies them into the
// database file, unless Options.CheckpointFrames says otherwise.
//
// With Synchronous FULL the store has no checkpointer unless
// Options.CheckpointFrames asks for one: there every commit waits for an
// fsync of the -wal file, and a checkpointer's fsyncs beside them made
// smithc run --durability full of 1,000 steps 1-3% slower (at 256, 512
// and 1,024 frames, medians of 21, interleaved), for a Close that still
// had most of the log to copy.
const DefaultCheckpointFrames = 256

// The states of checkpointer.restart.
const (
	restartNone = iota
	restartAsked
	restartDone
)

// bigCommitFrames is a commit large enough to start a checkpoint of its
// own (a group of steps committed at once): a checkpoint costs two
// fsyncs whatever it copies.
const bigCommitFrames = 64

// restartFrames is the WAL's length (in frames) past which the
// checkpointer, once it has copied them, asks the writer to run one
// checkpoint itself after its next commit: a WAL restarts from its start
// only at a write transaction that begins when every frame is in the
// database file, which a checkpointer running beside a writer that never
// pauses does not see (each checkpoint ends behind the commits made while
// it ran). The writer's checkpoint copies only those last frames; its
// next transaction restarts the WAL. It is below the threshold of
// SQLite's own automatic checkpoint (1,000 frames), which stays on on
// the writer as the fallback: without this, a checkpointer that is
// always running makes the writer's automatic checkpoint find the
// checkpoint lock taken, and a burst grew the -wal file past 3,000
// frames.
const restartFrames = 800

// checkpointIdle is how long the writer must have committed nothing
// before the checkpointer copies the frames below the threshold (the end
// of a burst), and checkpointRetry the first wait before a checkpoint
// that failed or could not copy every frame is tried again (doubling up
// to checkpointRetryMax).
const (
	checkpointIdle     = time.Millisecond
	checkpointRetry    = 5 * time.Millisecond
	checkpointRetryMax = time.Second
)

// checkpointer copies the writer's WAL frames into the database file in
// the background (PRAGMA wal_checkpoint(PASSIVE) on a connection of its
// own), so that neither the writer's commits nor Close pay for it: the
// last connection's close, which checkpoints whatever is left (and
// truncates the -wal file), finds less to copy and to fsync.
//
// The writer counts the frames it writes (sqlite3_db_status
// SQLITE_DBSTATUS_CACHE_WRITE on its own connection after each commit:
// a read of a counter, no system call) and wakes the checkpointer
// without waiting (a channel of one, so requests coalesce) once frames
// reach the threshold, after a commit of bigCommitFrames or more (a
// group of steps committed at once: a checkpoint costs two fsyncs
// whatever it copies, so one is worth starting for it), and at the first
// frames after a checkpoint (to see the writer go idle). A passive
// checkpoint takes no lock the writer needs: commits go on while it
// copies; it copies only frames no reader still needs, and a WAL it has
// copied entirely restarts from its start at the next commit (and else
// at restartFrames, see there). SQLite's own automatic checkpoint (at
// 1,000 frames, on the writer) stays on as the fallback if the
// checkpointer falls behind.
//
// The thresholds are measured (BenchmarkCommitsThenClose, and smithc run
// of 1,000 compute steps, which commits a few groups of about 80 frames
// each): a checkpoint every 64 frames made Close cheaper but made a
// writer of one small commit per step (3-4 frames) 10-17% slower, its
// fsyncs beside the checkpointer's; every 256 frames (or a group of 64)
// is neutral for those and keeps most of the gain for the groups.
//
// A checkpoint that is busy (another connection checkpoints, or a reader
// holds the log's first read lock), fails, or cannot copy every frame (a
// reader holds an older snapshot) is counted (CheckpointStats) and tried
// again after a growing wait.
type checkpointer struct {
	threshold int64
	open      func() (*sql.DB, error)

	frames atomic.Int64 // written by the writer, not yet known checkpointed
	// restart is restartAsked by the checkpointer when the WAL is
	// restartFrames long and every frame was in the database file;
	// restartDone after the writer's own checkpoint; none again at the
	// writer's next commit, whose transaction began on a log copied
	// entirely (and restarted it). The checkpointer starts nothing
	// meanwhile: a checkpoint of its own would hold the locks the restart
	// needs.
	restart atomic.Int32
	// big is set by the writer after a commit of bigCommitFrames or
	// more: worth a checkpoint of its own without waiting for more
	big  atomic.Bool
	kick chan struct{} // the writer's request (capacity 1: coalesced)
	stop chan struct{} // closed by Close
	once sync.Once
	done chan struct{} // closed when the goroutine has returned

	// after, when set (tests), is called after each checkpoint attempt.
	after atomic.Pointer[func(CheckpointStats)]

	mu    sync.Mutex
	stats CheckpointStats
	db    *sql.DB // the checkpointer's own connection, opened at its first checkpoint
}

// CheckpointStats counts the background checkpointer's work.
type CheckpointStats struct {
	// Runs counts checkpoints attempted, Complete those that copied every
	// frame of the WAL into the database file.
	Runs, Complete int64
	// Busy counts checkpoints SQLite refused because another connection
	// was checkpointing; Partial those that could not copy every frame
	// (a reader still reads an older snapshot); Errors those that failed.
	// Each is tried again later.
	Busy, Partial, Errors int64
	// Restarts counts the checkpoints the writer ran after a commit,
	// asked by the checkpointer, so that the WAL restarts from its start.
	Restarts int64
	// LastErr is the last failure (nil when the last attempt did not fail).
	LastErr error
	// Frames is how many frames the last checkpoint found in the WAL,
	// Checkpointed how many of them are in the database file.
	Frames, Checkpointed int64
}

func newCheckpointer(threshold int, open func() (*sql.DB, error)) *checkpointer {
	c := &checkpointer{
		threshold: int64(threshold),
		open:      open,
		kick:      make(chan struct{}, 1),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	go c.loop()
	return c
}

// wrote is called by the writer after each commit, on its driver
// connection dc: it adds the frames written since the last call and wakes
// the checkpointer (see checkpointer for when). It never blocks.
func (c *checkpointer) wrote(dc any) {
	st, ok := dc.(sqlite.DBStatus)
	if !ok {
		return
	}
	n, _, err := st.Status(sqlite.DBStatusCacheWrite, true)
	if err != nil || n <= 0 {
		return
	}
	big := n >= bigCommitFrames
	if big {
		c.big.Store(true)
	}
	if f := c.frames.Add(int64(n)); f >= c.threshold || f == int64(n) || big {
		select {
		case c.kick <- struct{}{}:
		default: // a request is pending already
		}
	}
}

// restartLog is called by the writer after a commit, holding its
// connection conn, when the checkpointer asked for a restart: one passive
// checkpoint on the writer, which copies the frames committed since the
// checkpointer's (so that the writer's next transaction restarts the
// WAL). A failure is counted and left to the checkpointer and SQLite's
// automatic checkpoint.
func (c *checkpointer) restartLog(conn *sql.Conn) {
	var busy, frames, done int64
	err := conn.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &done)
	c.mu.Lock()
	c.stats.Restarts++
	if err != nil {
		c.stats.Errors++
		c.stats.LastErr = err
	}
	c.mu.Unlock()
	c.restart.Store(restartDone)
}

// committed is called by the writer after each commit (after wrote), on
// its connection conn: it runs the checkpoint the checkpointer asked for,
// or, at the commit after it, ends the restart and wakes the
// checkpointer.
func (c *checkpointer) committed(conn *sql.Conn) {
	switch c.restart.Load() {
	case restartAsked:
		c.restartLog(conn)
	case restartDone:
		c.restart.Store(restartNone)
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
}

// loop is the checkpointer's goroutine. It checkpoints when the writer
// has written threshold frames, or fewer when it has committed nothing for
// checkpointIdle; after a checkpoint that took d it rests for d (the
// checkpointer is busy at most half the time, so that a writer of many
// small commits does not share the disk with it all along: its fsyncs
// slow the writer's); a checkpoint that failed or could not copy every
// frame is tried again after checkpointRetry, doubling up to
// checkpointRetryMax.
func (c *checkpointer) loop() {
	defer close(c.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var (
		retry     time.Duration // the last wait before a retry, 0 when none is due
		retryAt   time.Time
		restUntil time.Time
		idleSeen  = int64(-1) // frames when the writer was last seen committing
		idleAt    time.Time   // when frames, unchanged, make the writer idle
	)
	for {
		select {
		case <-c.stop:
			return
		case <-c.kick:
		case <-timer.C:
		}
		if c.restart.Load() != restartNone {
			continue // the writer restarts the WAL, then kicks
		}
		now := time.Now()
		f := c.frames.Load()
		var at time.Time // when to checkpoint
		switch {
		case f == 0:
			retry = 0
			continue
		case retry > 0:
			at = retryAt
		case f >= c.threshold || c.big.Load():
			at = restUntil
		default:
			if f != idleSeen {
				idleSeen, idleAt = f, now.Add(checkpointIdle)
			}
			at = idleAt
			if at.Before(restUntil) {
				at = restUntil
			}
		}
		if now.Before(at) {
			timer.Reset(at.Sub(now))
			continue
		}
		c.big.Store(false)
		ok := c.checkpoint()
		end := time.Now()
		restUntil = end.Add(end.Sub(now))
		if ok {
			retry = 0
		} else {
			retry = min(max(2*retry, checkpointRetry), checkpointRetryMax)
			retryAt = end.Add(retry)
		}
		idleSeen = -1
		timer.Reset(0) // look again: frames written meanwhile
	}
}

// checkpoint runs one passive checkpoint and reports whether it copied
// every frame.
func (c *checkpointer) checkpoint() bool {
	before := c.frames.Load()
	var busy, frames, done int64
	err := c.connect()
	if err == nil {
		err = c.db.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &done)
	}
	complete := err == nil && busy == 0 && frames >= 0 && done == frames
	if complete {
		// frames committed while it ran may or may not be in it: they
		// are counted again only if they were not
		c.frames.Add(-before)
		if frames >= restartFrames {
			c.restart.Store(restartAsked)
		}
	}
	c.mu.Lock()
	s := &c.stats
	s.Runs++
	switch {
	case err != nil:
		s.Errors++
		s.LastErr = err
	case busy != 0:
		s.Busy++
		s.LastErr = nil
	case !complete:
		s.Partial++
		s.LastErr = nil
	default:
		s.Complete++
		s.LastErr = nil
	}
	if err == nil && busy == 0 {
		s.Frames, s.Checkpointed = frames, done
	}
	snap := *s
	c.mu.Unlock()
	if f := c.after.Load(); f != nil {
		(*f)(snap)
	}
	return complete
}

func (c *checkpointer) connect() error {
	if c.db != nil {
		return nil
	}
	db, err := c.open()
	if err != nil {
		return err
	}
	c.db = db
	return nil
}

// close stops the goroutine, waits for a checkpoint it is running, and
// closes its connection (before the writer's: the writer's close stays
// the last one, which checkpoints what is left and truncates the -wal).
func (c *checkpointer) close() error {
	c.once.Do(func() { close(c.stop) })
	<-c.done
	if c.db != nil {
		db := c.db
		c.db = nil
		if err := db.Close(); err != nil {
			return fmt.Errorf("sqlitestore: close the checkpointer's connection: %w", err)
		}
	}
	return nil
}

// CheckpointStats returns what the background checkpointer did so far
// (zero for a read-only store or one opened without it).
func (s *Store) CheckpointStats() CheckpointStats {
	if s.ckpt == nil {
		return CheckpointStats{}
	}
	s.ckpt.mu.Lock()
	defer s.ckpt.mu.Unlock()
	return s.ckpt.stats
}
