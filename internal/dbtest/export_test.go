package dbtest

// Internals dbtest's own tests exercise.
var (
	StartEmbedded = startEmbedded
	ReapOrphans   = reapOrphans
)
