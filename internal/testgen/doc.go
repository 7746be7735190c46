// Package testgen generates large, valid, realistic .smw programs for the
// parse, check and compile benchmarks.
package testgen
