package store

import "context"

// Notifier is implemented by stores that can tell waiting processes that
// a run changed (created, released, decided, signalled, cancelled), such
// as PostgreSQL's LISTEN/NOTIFY. Callers still poll: a notification may
// be lost.
type Notifier interface {
	// Notifications delivers run ids until ctx ends; "" means that any
	// run may have changed (the connection was re-established).
	Notifications(ctx context.Context) (<-chan string, error)
}
