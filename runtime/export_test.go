package runtime

// RetryDelay exposes retryDelay to tests.
var RetryDelay = retryDelay
