// Package pgtest starts a throwaway PostgreSQL cluster for tests: initdb
// and pg_ctl on a temporary directory, a free port on 127.0.0.1, the unix
// socket in that directory, trust authentication. When the test process
// runs as root, the server runs as the "postgres" user (initdb refuses
// root) through runuser or setpriv.
//
// A package's tests share one cluster, started on first use and torn down
// by Main after the tests:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// and each test takes a fresh database with NewDatabase(t). Tests skip
// (naming what is missing) only when no PostgreSQL binaries are found:
// $SMITHC_PG_BIN, then initdb on $PATH, then /usr/lib/postgresql/*/bin.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cluster is one running PostgreSQL server.
type Cluster struct {
	Bin  string // the directory of initdb, pg_ctl, postgres
	Dir  string // the temporary directory: data/, sock/, log
	Port int
	// Durable keeps fsync on (for benchmarks that measure commits).
	Durable bool

	asUser string // "" or the user the server runs as
	ndb    atomic.Int64
}

// ErrNoPostgres is returned by Start when no PostgreSQL binaries exist.
var ErrNoPostgres = errors.New("no PostgreSQL binaries found (set SMITHC_PG_BIN, put initdb on PATH, or apt-get install postgresql-15)")

// FindBin returns the directory holding initdb and pg_ctl.
func FindBin() (string, error) {
	if d := os.Getenv("SMITHC_PG_BIN"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
		return "", fmt.Errorf("SMITHC_PG_BIN=%s holds no initdb", d)
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", ErrNoPostgres
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// Start initialises and starts a cluster in a new temporary directory.
func Start(durable bool) (*Cluster, error) {
	bin, err := FindBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "smithc-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Bin: bin, Dir: dir, Durable: durable}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root, and there is no postgres user to run the server as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		c.asUser = "postgres"
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if out, err := c.command("initdb", "-D", c.dataDir(), "-U", "postgres", "--auth=trust", "--no-sync",
		"-E", "UTF8", "--locale=C").CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	if err := c.mkdirAsServer(filepath.Join(dir, "sock")); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	var lastErr error
	for try := 0; try < 5; try++ {
		c.Port, err = freePort()
		if err != nil {
			return nil, err
		}
		if lastErr = c.startServer(); lastErr == nil {
			return c, nil
		}
	}
	os.RemoveAll(dir)
	return nil, lastErr
}

func (c *Cluster) dataDir() string { return filepath.Join(c.Dir, "data") }

func (c *Cluster) mkdirAsServer(d string) error {
	if c.asUser == "" {
		return os.Mkdir(d, 0o700)
	}
	out, err := c.command("mkdir", "-m", "0700", d).CombinedOutput()
	if err != nil {
		return fmt.Errorf("mkdir %s: %v\n%s", d, err, out)
	}
	return nil
}

// command runs a PostgreSQL program (or mkdir) as the server's user.
func (c *Cluster) command(prog string, args ...string) *exec.Cmd {
	path := prog
	if prog != "mkdir" {
		path = filepath.Join(c.Bin, prog)
	}
	var cmd *exec.Cmd
	if c.asUser == "" {
		cmd = exec.Command(path, args...)
	} else if rp, err := exec.LookPath("runuser"); err == nil {
		cmd = exec.Command(rp, append([]string{"-u", c.asUser, "--", path}, args...)...)
	} else {
		u, _ := user.Lookup(c.asUser)
		cmd = exec.Command("setpriv", append([]string{"--reuid=" + u.Uid, "--regid=" + u.Gid, "--clear-groups", path}, args...)...)
	}
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	return cmd
}

func (c *Cluster) startServer() error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=32MB",
		c.Port, filepath.Join(c.Dir, "sock"))
	if !c.Durable {
		opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	}
	out, err := c.command("pg_ctl", "start", "-w", "-t", "60", "-D", c.dataDir(), "-l", filepath.Join(c.Dir, "log"),
		"-o", opts).CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(c.Dir, "log"))
		return fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	return nil
}

// Stop stops the server (fast shutdown) without removing its files.
func (c *Cluster) Stop() error {
	out, err := c.command("pg_ctl", "stop", "-w", "-m", "fast", "-D", c.dataDir()).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
	return nil
}

// Restart stops the server (dropping every connection) and starts it
// again on the same port.
func (c *Cluster) Restart() error {
	if err := c.Stop(); err != nil {
		return err
	}
	return c.startServer()
}

// Destroy stops the server and removes its directory.
func (c *Cluster) Destroy() error {
	err := c.Stop()
	if rerr := os.RemoveAll(c.Dir); err == nil {
		err = rerr
	}
	return err
}

// URL returns the connection URL of database db.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

// CreateDatabase creates a new empty database and returns its URL.
func (c *Cluster) CreateDatabase(ctx context.Context, prefix string) (string, error) {
	name := fmt.Sprintf("%s_%d_%d", sanitize(prefix), os.Getpid(), c.ndb.Add(1))
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	return c.URL(name), nil
}

func sanitize(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
		if b.Len() >= 30 {
			break
		}
	}
	return b.String()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

var (
	shared     *Cluster
	sharedErr  error
	sharedOnce sync.Once
	sharedMu   sync.Mutex
)

// Shared returns the package's cluster, starting it on first use; t is
// skipped when no PostgreSQL binaries exist and fails when the cluster
// does not start.
func Shared(t testing.TB) *Cluster {
	t.Helper()
	sharedOnce.Do(func() {
		start := time.Now()
		c, err := Start(false)
		sharedMu.Lock()
		shared, sharedErr = c, err
		sharedMu.Unlock()
		if err == nil {
			fmt.Fprintf(os.Stderr, "pgtest: PostgreSQL from %s on 127.0.0.1:%d (%s) started in %s\n", c.Bin, c.Port, c.Dir, time.Since(start).Round(time.Millisecond))
		}
	})
	if errors.Is(sharedErr, ErrNoPostgres) {
		t.Skipf("pgtest: %v", sharedErr)
	}
	if sharedErr != nil {
		t.Fatalf("pgtest: start PostgreSQL: %v", sharedErr)
	}
	return shared
}

// NewDatabase returns the URL of a fresh database on the shared cluster.
func NewDatabase(t testing.TB) string {
	t.Helper()
	c := Shared(t)
	url, err := c.CreateDatabase(context.Background(), t.Name())
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return url
}

// Main runs the tests and then destroys the shared cluster if one was
// started; use it from TestMain.
func Main(m *testing.M) int {
	code := m.Run()
	sharedMu.Lock()
	c := shared
	sharedMu.Unlock()
	if c != nil {
		if err := c.Destroy(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		}
	}
	return code
}
