package smithc_test

import (
	"os"
	"testing"

	"github.com/smithc/smithc/internal/pgtest"
)

// TestMain tears down the PostgreSQL cluster the PostgreSQL tests start.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestExamplesRunPostgres runs every example end to end through the CLI
// on a fresh PostgreSQL database each (--db postgres://...).
func TestExamplesRunPostgres(t *testing.T) {
	pgtest.Shared(t)
	runExamples(t, func(t *testing.T, dir string) string { return pgtest.NewDatabase(t) })
}
