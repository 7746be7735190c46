// Package parser turns .smw source text into the syntax tree of lang/ast.
//
// [Parse] lexes the file with lang/grammar's hand-written lexer, parses it
// with a participle parser built once from lang/grammar's structs, and
// converts participle's tree into lang/ast nodes with precise ranges.
// A file without syntax errors does not go through participle's
// reflection: a fast path (fast.go) builds the same tree straight from
// the tokens, and gives up at the first token that does not fit, leaving
// the file to participle, which stays the definition of the grammar and
// reports every error (TestFastParseIsParticiple and FuzzFastParse hold
// the two to the same trees). Participle types never cross this
// package's API. Syntax errors are
// reported as diag.Diagnostics with code "syntax" at the offending token.
// Participle stops at the first error, so a file with errors is parsed
// again in pieces (one declaration, or what is left of one after its
// broken items are cut out) to report every error without reporting
// one that the first caused; the rules are in recover.go. The tree then
// holds the declarations that parsed.
//
// Values on the right of "=" are kept as source text (ast.Expr.Src) for
// the checker to hand to expr; a value that is exactly one double- or
// triple-quoted string literal is also split into a template
// (ast.Expr.Template), with escapes processed, "$${" turned into "${",
// and the common indentation of a triple-quoted string removed.
package parser
