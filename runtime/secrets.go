package runtime

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/schema"
)

// Secrets, in the runtime (docs/security.md, "Secrets"):
//
//   - A run knows its secrets when it starts: every secret("NAME") of the
//     program (ir.Program.Secrets), read with LookupEnvFunc, with the forms
//     derived from each value (schema.Secrets) and those Config adds
//     (SecretFormsFunc: the shell quoting of the standard library). A
//     secret shorter than schema.MinSecretLen is refused before anything
//     is stored.
//   - Text is redacted: event data, error messages, heartbeat details and
//     approval titles, in the committer, on their way to the store; step
//     errors as soon as an attempt ends, so that a live run and a resumed
//     one read the same error.message.
//   - Data is never rewritten: a run's input, a step's output, a cached
//     output and the run's result that hold a secret are refused (the
//     start or the step fails, naming the field path). The committer checks
//     outputs once more and fails the commit rather than store one.
//   - Cache keys are stored as their SHA-256.

// secretsOf resolves the secrets of prog for a run starting or continuing
// in this process.
func (e *Engine) secretsOf(prog *ir.Program) (*schema.Secrets, error) {
	s := &schema.Secrets{}
	for _, name := range prog.Secrets {
		v, _ := e.cfg.LookupEnvFunc(name)
		if err := e.addSecret(s, name, v); err != nil {
			return nil, fmt.Errorf("runtime: %w", err)
		}
	}
	return s, nil
}

// addSecret adds one secret value with its forms.
func (e *Engine) addSecret(s *schema.Secrets, name, v string) error {
	var extra []string
	if e.cfg.SecretFormsFunc != nil && len(v) >= schema.MinSecretLen {
		extra = e.cfg.SecretFormsFunc(v)
	}
	return s.Add(name, v, extra...)
}

// leakError is the step error for an output that holds a secret.
func leakError(l *schema.Leak, what string) *StepError {
	return &StepError{Kind: ErrKindValidation, Path: l.Path, Err: l,
		Message: fmt.Sprintf("%s; %s is stored, so it must not hold a secret (read the secret with secret() where it is needed)", l.Error(), what)}
}

// cacheKeyHash is how a cache key is stored: its SHA-256, so that a key
// built from a secret does not store it.
func cacheKeyHash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// errOutputHoldsSecret is the commit failure for an output that holds a
// secret and was not refused earlier (a bug: the committer is the last
// line, never the first).
var errOutputHoldsSecret = errors.New("refusing to store an output that holds a secret")

// redactor returns the committer hook that redacts the text of a batch
// (event data, errors, heartbeat details, approval titles and summaries)
// and refuses a batch whose outputs hold a secret. Data is never
// rewritten.
func (r *runner) redactor() func(b *store.Batch) error {
	return func(b *store.Batch) error {
		s := r.secrets
		if s.Empty() {
			return nil
		}
		str := s.Redact
		for i, n := range b.Nodes {
			if err := checkStored(s, n.Output, fmt.Sprintf("the output of %s", n.NodeID)); err != nil {
				return err
			}
			c := *n
			c.Data, c.Error = s.RedactJSON(c.Data), str(c.Error)
			b.Nodes[i] = &c
		}
		for i, e := range b.Events {
			c := *e
			c.Data = s.RedactJSON(c.Data)
			b.Events[i] = &c
		}
		for i, f := range b.AttemptFinishes {
			c := *f
			c.Error = str(c.Error)
			b.AttemptFinishes[i] = &c
		}
		for i, h := range b.AttemptHeartbeats {
			c := *h
			c.Detail = str(c.Detail)
			b.AttemptHeartbeats[i] = &c
		}
		for i, a := range b.Approvals {
			c := *a
			c.Title, c.Summary = str(c.Title), str(c.Summary)
			b.Approvals[i] = &c
		}
		for i, u := range b.Runs {
			if err := checkStored(s, u.Output, "the run's output"); err != nil {
				return err
			}
			c := *u
			if c.Error != nil {
				e := str(*c.Error)
				c.Error = &e
			}
			b.Runs[i] = &c
		}
		return nil
	}
}

// checkStored refuses raw JSON data that holds a secret.
func checkStored(s *schema.Secrets, raw []byte, what string) error {
	if len(raw) == 0 {
		return nil
	}
	if _, hit := s.Find(string(raw)); !hit {
		return nil
	}
	v, err := schema.DecodeJSON(raw)
	if err != nil {
		return fmt.Errorf("runtime: %w: %s is not valid JSON", errOutputHoldsSecret, what)
	}
	if l := s.FindIn(v, ""); l != nil {
		return fmt.Errorf("runtime: %w: %s %s", errOutputHoldsSecret, what, l.Error())
	}
	return nil
}

// redactError redacts the text of a step error as soon as the attempt
// ends, so that everything that reads it (retry predicates, catch bodies,
// events, the run's error) reads the same text in a live run and after a
// resume.
func redactError(s *schema.Secrets, serr *StepError) *StepError {
	if s.Empty() {
		return serr
	}
	msg := s.Redact(serr.Message)
	if msg == serr.Message {
		return serr
	}
	c := *serr
	c.Message = msg
	return &c
}
