// Package compiler lowers a checked program to the graph IR of package
// compiler/ir. [Build] is the façade that runs parse → check → compile,
// like expr.Compile does for expressions.
package compiler
