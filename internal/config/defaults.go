package config

import (
	"errors"
	"reflect"
)

// ErrInvalid is wrapped by every configuration error of every service, so
// that a caller can tell a bad setting from a failure to start.
var ErrInvalid = errors.New("invalid configuration")

// FillDefaults sets every zero field of *dst, recursively into nested
// structs, to the same field of def: a service writes its defaults once,
// in one value, which both its flags and its in-process users (tests) get.
func FillDefaults[T any](dst *T, def T) {
	fill(reflect.ValueOf(dst).Elem(), reflect.ValueOf(def))
}

func fill(dst, def reflect.Value) {
	for i := 0; i < dst.NumField(); i++ {
		f := dst.Field(i)
		if !f.CanSet() {
			continue
		}
		if f.Kind() == reflect.Struct && dst.Type().Field(i).Type.PkgPath() != "time" {
			fill(f, def.Field(i))
			continue
		}
		if f.IsZero() {
			f.Set(def.Field(i))
		}
	}
}
