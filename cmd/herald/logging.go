package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// newLogger returns the process logger: text or JSON on w, durations
// written as strings ("1.5s", not nanoseconds) in both, and River's routine
// records (routineRiver) at debug.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl, ReplaceAttr: durationsAsStrings}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(quietRoutine{slog.NewTextHandler(w, opts)}), nil
	case "json":
		return slog.New(quietRoutine{slog.NewJSONHandler(w, opts)}), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}

// durationsAsStrings writes durations the way Go writes them ("250ms"),
// where the JSON handler would write nanoseconds.
func durationsAsStrings(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.String(a.Key, a.Value.Duration().String())
	}
	return a
}

// routineRiver are the endings of the messages of River's routine records,
// logged at info by River: a producer's job counts (every few seconds while
// anything runs), a maintenance service's pass, and a job's error before a
// retry (herald records every attempt itself).
var routineRiver = []string{": Producer job counts", ": Ran successfully", ": Job errored; retrying"}

// quietRoutine is a handler that lowers River's routine records to debug:
// shown with --log-level debug, not among an operator's info lines.
type quietRoutine struct{ slog.Handler }

func isRoutine(msg string) bool {
	for _, r := range routineRiver {
		if strings.HasSuffix(msg, r) {
			return true
		}
	}
	return false
}

// Handle writes r, lowered to debug if it is routine.
func (h quietRoutine) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelInfo && isRoutine(r.Message) {
		if !h.Handler.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
		r.Level = slog.LevelDebug
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs keeps the lowering on the handler with attrs.
func (h quietRoutine) WithAttrs(attrs []slog.Attr) slog.Handler {
	return quietRoutine{h.Handler.WithAttrs(attrs)}
}

// WithGroup keeps the lowering on the handler in the group.
func (h quietRoutine) WithGroup(name string) slog.Handler {
	return quietRoutine{h.Handler.WithGroup(name)}
}

// announce writes a command's line for tools on stdout (`herald listening
// on ...`): msg as a line of text, or, with the JSON log format, as the
// message of a JSON record with attrs beside it, so that stdout is JSON
// too.
func announce(stdout io.Writer, format, msg string, attrs ...slog.Attr) {
	if !strings.EqualFold(format, "json") {
		fmt.Fprintln(stdout, msg)
		return
	}
	slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{ReplaceAttr: durationsAsStrings})).
		LogAttrs(context.Background(), slog.LevelInfo, msg, attrs...)
}

// failed is err as the command returns it: with the JSON log format it is
// logged as a JSON record (level ERROR) and the error returned says
// nothing more (main prints no "herald: ..." line), so that stderr is all
// JSON; otherwise err.
func failed(logger *slog.Logger, format, command string, err error) error {
	if err == nil || !strings.EqualFold(format, "json") {
		return err
	}
	logger.Error("herald "+command+" failed", slog.Any("error", err))
	return &exitError{code: exitCode(err)}
}
