#!/usr/bin/env bash
# bench/peers/run.sh: smithc next to Temporal on a chain of N sequential
# compute steps (make bench-peers; see bench/peers/README.md). It installs
# the Temporal CLI (the dev server) from the Go module proxy, builds this
# directory's program (the Temporal Go SDK, in its own module), starts
# the dev server on a SQLite file on a free port of 127.0.0.1, and prints
# the medians and the ratios. Not part of make test or CI: the first run
# downloads and builds the Temporal server (several minutes).
#
#   N=1000 REPS=5 bash bench/peers/run.sh
#   PEERS_FLAGS=-preset-checksum bash bench/peers/run.sh
set -euo pipefail

TEMPORAL_CLI=${TEMPORAL_CLI:-v1.5.1} # the newest release that go install can build (v1.9.x has a replace directive)
N=${N:-1000}
REPS=${REPS:-5}
CACHE=${SMITHC_PEERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/smithc-peers}
GO=${GO:-go}

root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/smithc-peers.XXXXXX")
server=""
cleanup() {
	if [ -n "$server" ]; then
		kill "$server" 2>/dev/null || true
		wait "$server" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

temporal="$CACHE/temporal-$TEMPORAL_CLI"
if [ ! -x "$temporal" ]; then
	echo "peers: installing the Temporal CLI $TEMPORAL_CLI (go install github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI; the first time takes minutes)"
	mkdir -p "$CACHE"
	if ! GOBIN="$work/gobin" "$GO" install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI"; then
		echo "peers: go install of the Temporal CLI $TEMPORAL_CLI failed (see above)" >&2
		exit 1
	fi
	mv "$work/gobin/temporal" "$temporal"
fi

echo "peers: building smithc and the measuring program"
CGO_ENABLED=0 "$GO" build -o "$work/smithc" "$root/cmd/smithc" # as make build does: static
# -mod=mod: smithc's own dependencies may have moved since go.sum was written
(cd "$root/bench/peers" && "$GO" build -mod=mod -o "$work/peers" . && "$GO" build -mod=mod -o "$work/once" ./once)
# The two timed binaries are rewritten with cp: one the Go linker has just
# written (through mmap) starts about 1 ms slower than an installed copy
# (internal/binfile).
for b in smithc once; do cp "$work/$b" "$work/$b.settle" && mv "$work/$b.settle" "$work/$b"; done

port=$("$work/peers" -freeport)
echo "peers: starting the Temporal dev server on 127.0.0.1:$port (SQLite file, no UI)"
"$temporal" server start-dev --headless --ip 127.0.0.1 --port "$port" \
	--db-filename "$work/temporal.db" --log-level error >"$work/server.log" 2>&1 &
server=$!

# PEERS_FLAGS: more flags for the measuring program, e.g. -preset-checksum
# shellcheck disable=SC2086 # PEERS_FLAGS is a list of words
if ! "$work/peers" -temporal "127.0.0.1:$port" -smithc "$work/smithc" -once "$work/once" -n "$N" -reps "$REPS" ${PEERS_FLAGS:-}; then
	echo "peers: failed; the dev server's log:" >&2
	tail -n 40 "$work/server.log" >&2 || true
	exit 1
fi
