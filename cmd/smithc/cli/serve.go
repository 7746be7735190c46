package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/smithc/smithc/serve"
)

func (a *app) newServeCmd() *cobra.Command {
	var db dbFlags
	var addr, token string
	var readOnly bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the HTTP API and the web page for the runs of a store",
		Long: `Serve a JSON API (under /api/v1, see docs/api.md) and a web page to watch runs
live, decide approvals, send signals, cancel, pause, resume and retry.

The server binds to 127.0.0.1:8080 unless --addr says otherwise; binding to
any address that is not loopback needs --token (or SMITHC_TOKEN). Every
request needs the token: the printed login URL sets it as a cookie. Runs the
server continues (after a decision, a resume or a retry) are executed in the
server process, like 'smithc run --wait always'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if token == "" {
				token = os.Getenv("SMITHC_TOKEN")
			}
			if !serve.Loopback(addr) && token == "" {
				return exitf(ExitUsage, "--addr %s is reachable from other machines: give a --token (or set SMITHC_TOKEN), or bind to 127.0.0.1", addr)
			}
			st, err := a.openStore(ctx, &db)
			if err != nil {
				return err
			}
			defer st.Close()
			eng, err := a.newEngine(st, engineOptions{})
			if err != nil {
				return err
			}
			reg := prometheus.NewRegistry()
			registerCheckpoints(reg, st)
			srv, err := serve.New(eng, serve.Options{Token: token, ReadOnly: readOnly, Registry: reg,
				Log: slog.New(slog.NewJSONHandler(a.stderr, nil))})
			if err != nil {
				return exitf(ExitFailed, "%v", err)
			}
			defer srv.Close(10 * time.Second)
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return exitf(ExitFailed, "listen on %s: %v", addr, err)
			}
			// Requests (live streams above all) end with ctx, so that
			// Shutdown does not wait for them.
			hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second,
				BaseContext: func(net.Listener) context.Context { return ctx }}
			url := fmt.Sprintf("http://%s", ln.Addr())
			fmt.Fprintf(a.stdout, "smithc serve: %s (store %s)\n", url, db.path())
			fmt.Fprintf(a.stdout, "open %s/login?token=%s\n", url, srv.Token())
			errc := make(chan error, 1)
			go func() { errc <- hs.Serve(ln) }()
			select {
			case err := <-errc:
				if !errors.Is(err, http.ErrServerClosed) {
					return exitf(ExitFailed, "serve: %v", err)
				}
			case <-ctx.Done():
				sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = hs.Shutdown(sctx)
			}
			return nil
		},
	}
	db.register(cmd)
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "the address to listen on (host:port; port 0 picks a free one)")
	cmd.Flags().StringVar(&token, "token", "", "the token requests must carry (default $SMITHC_TOKEN, or a new random one)")
	cmd.Flags().BoolVar(&readOnly, "read-only", false, "refuse every change (decisions, signals, cancel, pause, resume, retry, new runs)")
	return cmd
}
