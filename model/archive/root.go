package archive

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"batchinfer/model"
)

// findRoot finds the version directory under dir: the one directory that
// holds saved_model.pb and/or model.tflite, or else exactly one .tflite
// file (which is renamed model.tflite).
func findRoot(dir string) (string, error) {
	var named, lite []string // directories holding model files; .tflite files
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch base := d.Name(); {
		case base == model.SavedModelFile || base == model.TFLiteFile:
			if q := filepath.Dir(p); !slices.Contains(named, q) {
				named = append(named, q)
			}
		case strings.HasSuffix(base, model.TFLiteExt) && !strings.HasPrefix(base, "."):
			lite = append(lite, p)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	switch {
	case len(named) == 1:
		return named[0], nil
	case len(named) > 1:
		return "", invalid("model files in %d directories (%s): push one version at a time", len(named), rels(dir, named))
	case len(lite) == 1:
		root := filepath.Dir(lite[0])
		return root, os.Rename(lite[0], filepath.Join(root, model.TFLiteFile))
	case len(lite) > 1:
		return "", invalid("%d .tflite files (%s) and no %s: which one is the model?", len(lite), rels(dir, lite), model.TFLiteFile)
	}
	return "", invalid("no model in the upload: want a SavedModel (%s and variables/) or a %s file", model.SavedModelFile, model.TFLiteFile)
}

func rels(dir string, paths []string) string {
	out := make([]string, len(paths))
	for i, p := range paths {
		r, err := filepath.Rel(dir, p)
		if err != nil || r == "." {
			r = "the top"
		}
		out[i] = filepath.ToSlash(r)
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}
