// Package agentreal holds the tests that drive the real claude, codex and
// gemini CLIs (installed by .ci/run from npm at pinned versions) through
// `smithc run` against in-process stub servers on 127.0.0.1 that speak
// each vendor's API: Anthropic Messages streaming, OpenAI Responses
// streaming, Gemini streamGenerateContent. Tests skip, naming the missing
// binary, when a CLI is not installed.
package agentreal
