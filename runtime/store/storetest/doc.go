// Package storetest is the conformance suite every store.Store
// implementation runs (after river's riverdrivertest): the same
// behavioural tests against SQLite today and PostgreSQL later.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
//	}
package storetest
