package jobs

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/store"
)

// runOf copies each column of a run: filled with a distinct value per
// field, the copy equals the original field by field, and the two structs
// have the same fields.
func TestRunOfCopiesEveryField(t *testing.T) {
	t.Parallel()
	row := reflect.TypeFor[store.CreateSoloRunsRow]()
	run := reflect.TypeFor[store.Run]()
	require.Equal(t, run.NumField(), row.NumField(), "runs has a column CreateSoloRunsRow or runOf lacks")
	for i := range run.NumField() {
		require.Equal(t, run.Field(i).Name, row.Field(i).Name)
	}
	var r store.CreateSoloRunsRow
	v := reflect.ValueOf(&r).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if !f.IsZero() {
			continue
		}
		switch f.Kind() {
		case reflect.String:
			f.SetString("x")
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int32:
			f.SetInt(int64(i + 1))
		case reflect.Slice, reflect.Pointer, reflect.Array, reflect.Struct:
			f.Set(nonZero(f.Type()))
		}
	}
	got := reflect.ValueOf(runOf(&r))
	for i := range v.NumField() {
		require.False(t, got.Field(i).IsZero(), "runOf leaves %s out", run.Field(i).Name)
	}
}

// nonZero is a value of type t that is not its zero value.
func nonZero(t reflect.Type) reflect.Value {
	switch t.Kind() {
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		p.Elem().Set(nonZero(t.Elem()))
		return p
	case reflect.Slice:
		s := reflect.MakeSlice(t, 1, 1)
		if t.Elem().Kind() == reflect.Uint8 {
			s.Index(0).SetUint(1)
		} else {
			s.Index(0).Set(nonZero(t.Elem()))
		}
		return s
	case reflect.Array:
		a := reflect.New(t).Elem()
		a.Index(0).Set(nonZero(t.Elem()))
		return a
	case reflect.String:
		return reflect.ValueOf("x").Convert(t)
	case reflect.Uint8:
		return reflect.ValueOf(uint8(1)).Convert(t)
	case reflect.Struct: // time.Time
		return reflect.ValueOf(utc("2027-01-01T00:00:00Z")).Convert(t)
	}
	panic("nonZero: " + t.String())
}
