package runtime

// Event kinds the runtime appends to a run's log (store.Event.Kind).
// Actions add their own through Attempt.Log.
const (
	EventRunStarted           = "RunStarted"
	EventRunResumed           = "RunResumed"
	EventSourceAdopted        = "SourceAdopted" // resume --source
	EventRunWaiting           = "RunWaiting"
	EventRunFinished          = "RunFinished"
	EventRunFailed            = "RunFailed"
	EventRunCancelled         = "RunCancelled"
	EventPauseRequested       = "PauseRequested"
	EventRunPaused            = "RunPaused"
	EventNodeStarted          = "NodeStarted"
	EventNodeFinished         = "NodeFinished"
	EventNodeFailed           = "NodeFailed"
	EventNodeSkipped          = "NodeSkipped"
	EventNodeCancelled        = "NodeCancelled"
	EventAttemptStarted       = "AttemptStarted"
	EventAttemptFailed        = "AttemptFailed"
	EventAttemptAbandoned     = "AttemptAbandoned"
	EventProcessGroupKilled   = "ProcessGroupKilled" // left by a dead owner, killed before the re-run
	EventAttemptSuspended     = "AttemptSuspended"   // a call's child run waits
	EventRetryScheduled       = "RetryScheduled"
	EventCacheHit             = "CacheHit"
	EventCacheRefused         = "CacheRefused" // a cached output held a secret of the run: not used
	EventArmChosen            = "ArmChosen"
	EventLoopIteration        = "LoopIteration"
	EventForExpanded          = "ForExpanded"
	EventApprovalRequested    = "ApprovalRequested"
	EventApprovalDecided      = "ApprovalDecided"
	EventSignalReceived       = "SignalReceived"
	EventSignalSent           = "SignalSent"
	EventTimerScheduled       = "TimerScheduled"
	EventTimerFired           = "TimerFired"
	EventWorktreeAdded        = "WorktreeAdded"
	EventWorktreeRemoveFailed = "WorktreeRemoveFailed"
)
