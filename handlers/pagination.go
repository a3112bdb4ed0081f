package handlers

import (
	"net/http"
	"strconv"

	"github.com/google/uuid"
)

const (
	defaultPageSize = 50
	maxPageSize     = 500
)

// pageRequest is cursor pagination: items come newest first, and cursor is
// the next_cursor of the previous page.
type pageRequest struct {
	limit  int
	cursor *uuid.UUID
}

func (p *pageRequest) parse(r *http.Request) error {
	q := r.URL.Query()
	p.limit = defaultPageSize
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxPageSize {
			return invalidFields(http.StatusBadRequest, fieldError("limit", "must be an integer between 1 and 500"))
		}
		p.limit = n
	}
	if s := q.Get("cursor"); s != "" {
		id, err := uuid.Parse(s)
		if err != nil {
			return invalidFields(http.StatusBadRequest, fieldError("cursor", "is not a cursor returned by this API"))
		}
		p.cursor = &id
	}
	return nil
}
