// Package checker resolves and type-checks .smw programs.
//
// [CheckFile] reads a file, parses it and its imports, and checks the
// whole program; [Check] does the same for files already parsed. Both
// return an [Info] that the compiler lowers to IR, and every problem found
// as sorted, de-duplicated [diag.Diagnostics].
//
// The checker works in passes over the program:
//
//   - declarations: types, agents, fragments and workflows of the main file
//     and its imports, with duplicates and reserved names reported;
//   - types: named types are resolved to [schema.Type] values, cycles and
//     bad defaults reported;
//   - graphs: each workflow and fragment body becomes a tree of nodes with
//     a happens-before relation (sequence order, needs, try/catch/finally),
//     from which the checker decides which outputs an expression may read
//     and with which type (optional inside match arms, a list after a for,
//     the previous iteration inside a loop, ...);
//   - attributes: every node's attributes and blocks are checked against
//     the language and the actions of [Config.Actions]; constant (graph)
//     attributes are evaluated into [Info.Consts];
//   - expressions: every run-time expression is parsed with expr-lang's
//     parser and typed by this package over [schema.Type] (see typeexpr.go),
//     so that errors point at the offending token inside the expression.
//
// docs/checking.md lists every check with an example message.
package checker
