package views

import "context"

// What every page shows besides its own content, carried in the request's
// context by the handlers: the viewer's choice of time zone (the header's
// toggle) and the message of a form that failed (shown on the page the form
// was on).

type zoneKey struct{}

type flashKey struct{}

// WithZoneChoice returns ctx carrying the viewer's time zone choice.
func WithZoneChoice(ctx context.Context, z ZoneChoice) context.Context {
	return context.WithValue(ctx, zoneKey{}, z)
}

// ZoneChoiceFrom returns the viewer's time zone choice ("": each
// schedule's zone).
func ZoneChoiceFrom(ctx context.Context) ZoneChoice {
	z, _ := ctx.Value(zoneKey{}).(ZoneChoice)
	return z
}

// WithFlash returns ctx carrying the message of a form that failed.
func WithFlash(ctx context.Context, msg string) context.Context {
	return context.WithValue(ctx, flashKey{}, msg)
}

// FlashFrom returns the message of a form that failed, if any.
func FlashFrom(ctx context.Context) string {
	msg, _ := ctx.Value(flashKey{}).(string)
	return msg
}
