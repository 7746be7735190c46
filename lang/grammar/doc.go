// Package grammar holds the participle grammar of .smw files and its
// lexer: the structs participle fills, and a hand-written
// lexer.Definition. Nothing else lives here; lang/parser builds the
// participle parser from these types and converts the tree it produces
// into the hand-written syntax tree of lang/ast.
//
// The lexer is hand-written rather than built with participle's stateful
// lexer because .smw needs context-dependent tokens that a regular lexer
// cannot produce cleanly:
//
//   - A value on the right of "=" is an expression of the expr language,
//     kept as source text. The lexer captures it as one Expr token: a
//     balanced run of characters that ends, at bracket depth 0, at a
//     newline, a ",", a line comment or an unmatched closing bracket.
//   - The predicate of "when PRED {", "branch PRED {" and the list of
//     "for x in LIST {" are Expr tokens that also end at a "{" at depth 0.
//   - The arguments of "use frag(a, b) as p" are Expr tokens separated by
//     commas.
//   - A double-quoted string may contain ${...} interpolations that
//     themselves contain strings and braces ("${ x ?? "none" }"); the
//     whole literal is one token.
//
// The lexer also decides which words are keywords: a node keyword
// ("step", "when", "branch", ...) at the start of an item and not
// followed by "=", ":" or "?" is a Keyword token, any other word an Ident.
// No word is reserved (a worktree's "branch = ..." attribute is an Ident),
// and the grammar stays LL(1), so lang/parser runs participle with
// UseLookahead(0): a branch that consumed a token commits, and errors point
// at the deepest offending token.
//
// Blanks, comments and commas produce no tokens (a comma separates items
// exactly like a newline); Tokens.EndBefore recovers where a construct's
// last token ends from participle's EndPos.
//
// For error recovery in lang/parser, the lexer also knows what starts a
// declaration: IsDeclKeyword, DeclHeaderAt (a line like `workflow w {`)
// and ResumeAfter (where lexing may resume after a lexical error), and
// TokenizeAt lexes from the middle of a file. No expression contains a
// line that starts with a declaration header, so a bracket still open
// in an expression (or in the arguments of use) at such a line is
// reported there as not closed, instead of swallowing the declarations
// that follow.
//
// Positions follow participle's lexer.Position: Offset in bytes, Line and
// Column 1-based, Column counted in runes (an invalid UTF-8 byte counts as
// one).
package grammar
