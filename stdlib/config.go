package stdlib

import (
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/smithc/smithc/runtime"
)

// Defaults used when a Config field is zero.
const (
	DefaultMaxOutputBytes    = 1 << 20  // per stream of a process
	DefaultMaxHTTPBodyBytes  = 10 << 20 // an http response body
	DefaultKillGrace         = 2 * time.Second
	DefaultHeartbeatInterval = time.Second
	DefaultShell             = "/bin/sh"
	DefaultHTTPTimeout       = 5 * time.Minute // an http step without a timeout of its own
)

// Config configures the standard actions. Its zero value is the default.
type Config struct {
	// MaxOutputBytes caps the captured stdout and stderr of a process,
	// each; the tail is kept. Zero means DefaultMaxOutputBytes.
	MaxOutputBytes int
	// MaxHTTPBodyBytes caps the response body an http step reads. Zero
	// means DefaultMaxHTTPBodyBytes.
	MaxHTTPBodyBytes int64
	// KillGrace is how long a process group has between SIGTERM and
	// SIGKILL when an attempt is cancelled or times out. Zero means
	// DefaultKillGrace.
	KillGrace time.Duration
	// HeartbeatInterval is the least time between two heartbeats (and two
	// output events) sent while a process produces output. Zero means
	// DefaultHeartbeatInterval.
	HeartbeatInterval time.Duration
	// HTTPClient sends http steps and OpenAI-compatible agent requests.
	// Nil means a client of its own with no overall timeout (the step's
	// timeout, carried by the context, bounds each request).
	HTTPClient *http.Client
	// EnvironFunc returns the environment processes inherit, as
	// "KEY=value" entries; it also supplies the PATH used to find
	// programs. Nil means os.Environ.
	EnvironFunc func() []string
	// HTTPTimeout bounds an http step's request when the step sets no
	// timeout. Zero means DefaultHTTPTimeout.
	HTTPTimeout time.Duration
	// Shell is the POSIX shell that runs `run` scripts as `Shell -c
	// script`. Empty means DefaultShell.
	Shell string
}

func (c Config) maxOutput() int {
	if c.MaxOutputBytes > 0 {
		return c.MaxOutputBytes
	}
	return DefaultMaxOutputBytes
}

func (c Config) maxHTTPBody() int64 {
	if c.MaxHTTPBodyBytes > 0 {
		return c.MaxHTTPBodyBytes
	}
	return DefaultMaxHTTPBodyBytes
}

func (c Config) killGrace() time.Duration {
	if c.KillGrace > 0 {
		return c.KillGrace
	}
	return DefaultKillGrace
}

func (c Config) heartbeatInterval() time.Duration {
	if c.HeartbeatInterval > 0 {
		return c.HeartbeatInterval
	}
	return DefaultHeartbeatInterval
}

func (c Config) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return &http.Client{}
}

func (c Config) httpTimeout() time.Duration {
	if c.HTTPTimeout > 0 {
		return c.HTTPTimeout
	}
	return DefaultHTTPTimeout
}

func (c Config) environ() []string {
	if c.EnvironFunc != nil {
		return c.EnvironFunc()
	}
	return os.Environ()
}

// environFor is the environment a process of attempt a inherits: the
// environment without the variables the program reads with secret(). A
// step passes one explicitly (env { TOKEN = secret("TOKEN") }) when its
// process needs it.
func (c Config) environFor(a *runtime.Attempt) []string {
	env := c.environ()
	if a.Program == nil || len(a.Program.Secrets) == 0 {
		return env
	}
	secret := make(map[string]bool, len(a.Program.Secrets))
	for _, name := range a.Program.Secrets {
		secret[name] = true
	}
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); !secret[k] {
			out = append(out, kv)
		}
	}
	return out
}

func (c Config) shell() string {
	if c.Shell != "" {
		return c.Shell
	}
	return DefaultShell
}
