package service

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"batchinfer/api"
)

// CheckJobName returns the name a job is listed under: the client's name
// for its input (e.g. the uploaded file's), without any leading directories
// and surrounding spaces. It must be UTF-8 of at most max bytes, without
// control or bidirectional formatting characters (which could make a name
// look like another).
func CheckJobName(name string, max int) (string, error) {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.TrimSpace(name)
	switch {
	case !utf8.ValidString(name):
		return "", api.Errorf(api.CodeBadRequest, "the job name must be UTF-8")
	case len(name) > max:
		return "", api.Errorf(api.CodeBadRequest, "the job name has %d bytes, the limit is %d (GATEWAY_MAX_JOB_NAME_BYTES)", len(name), max)
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return "", api.Errorf(api.CodeBadRequest, "the job name contains the character %U, which is not allowed", r)
		}
	}
	return name, nil
}
