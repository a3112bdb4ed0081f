package dispatch

import (
	"errors"
	"io"
)

// maxDrainBytes bounds how much of a response body beyond the captured part
// is read and discarded so that the connection can be reused. A longer body
// closes the connection instead.
const maxDrainBytes = 64 << 10

// readCapped reads at most limit bytes of body. contentLength is the length
// the response announced, or -1. truncated reports that the body had more
// than limit bytes; the caller then calls drainAndClose.
func readCapped(body io.Reader, contentLength int64, limit int) (b []byte, truncated bool, err error) {
	if contentLength == 0 {
		return nil, false, nil
	}
	// One byte more than is kept tells whether the body is longer.
	size := limit + 1
	if contentLength > 0 && contentLength < int64(limit) {
		size = int(contentLength) + 1
	}
	buf := make([]byte, size)
	n, err := io.ReadFull(body, buf)
	switch {
	case n > limit:
		return buf[:limit], true, nil
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return buf[:n], false, nil
	default:
		return buf[:n], false, err
	}
}

// drainAndClose discards up to maxDrainBytes of what is left of body, so that
// an HTTP/1 connection whose body ends within that bound goes back to the
// idle pool, then closes body (which drops the connection if it did not).
func drainAndClose(body io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, body, maxDrainBytes)
	_ = body.Close()
}
