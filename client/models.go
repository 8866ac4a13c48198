package client

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"

	"batchinfer/api"
)

// PushOptions are a push's optional parts.
type PushOptions struct {
	// Metadata is metadata.json to send beside the model (as the push's
	// metadata field), when the model's directory holds none.
	Metadata []byte
}

// PushModel pushes the model version at path to the registry as
// name:version and returns it as registered (state loading: workers load
// it next; poll Versions until it is ready). path is a version directory
// (a SavedModel and/or model.tflite, metadata.json optional), sent as a
// tar.gz made while it is sent, or a file sent as it is: a .tflite model,
// or a .tar.gz, .tgz, .tar or .zip archive of a version directory. Nothing
// is held whole in memory. The registry refuses a version that exists, and
// one that does not load, naming the problem (an *Error).
//
// This is what `batchinfer models push DIR --name N --version V` does.
func (c *Client) PushModel(ctx context.Context, name, version, path string, opts PushOptions) (*api.RegistryVersion, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("push %s: %w", path, err)
	}
	var body io.ReadCloser
	if fi.IsDir() {
		body = tarGz(path)
	} else if body, err = os.Open(path); err != nil {
		return nil, fmt.Errorf("push %s: %w", path, err)
	}
	defer body.Close()
	ct := "application/octet-stream"
	if len(opts.Metadata) > 0 {
		body, ct = withMetadata(body, opts.Metadata)
		defer body.Close()
	}
	var out api.RegistryVersion
	if err := c.do(ctx, http.MethodPut, versionPath(name, version), ct, body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Versions lists a model's versions with their state.
func (c *Client) Versions(ctx context.Context, name string) (*api.RegistryVersions, error) {
	var out api.RegistryVersions
	if err := c.do(ctx, http.MethodGet, "/v1/models/"+name+"/versions", "", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RetireModel retires a pushed version: it takes no new work, and leaves
// once what was sent to it is done.
func (c *Client) RetireModel(ctx context.Context, name, version string) (*api.RegistryVersion, error) {
	var out api.RegistryVersion
	if err := c.do(ctx, http.MethodDelete, versionPath(name, version), "", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SetAlias points an alias of a model at versions, with weights in
// percent that sum to 100 (e.g. {"3": 90, "4": 10}).
func (c *Client) SetAlias(ctx context.Context, name, alias string, weights map[string]int) (*api.Alias, error) {
	b, err := jsonBody(api.AliasRequest{Weights: weights})
	if err != nil {
		return nil, err
	}
	var out api.Alias
	if err := c.do(ctx, http.MethodPut, "/v1/models/"+name+"/aliases/"+alias, "application/json", b, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// tarGz streams dir's directories and regular files as a tar.gz, made
// while it is read; a link or another kind of file ends it with an error.
func tarGz(dir string) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		zw := gzip.NewWriter(pw)
		tw := tar.NewWriter(zw)
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return addEntry(tw, dir, p, d)
		})
		pw.CloseWithError(errors.Join(err, tw.Close(), zw.Close()))
	}()
	return pr
}

func addEntry(tw *tar.Writer, dir, p string, d fs.DirEntry) error {
	rel, err := filepath.Rel(dir, p)
	if err != nil || rel == "." {
		return err
	}
	fi, err := d.Info()
	if err != nil {
		return err
	}
	if !fi.IsDir() && !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file or a directory: a model version holds only those", p)
	}
	h, err := tar.FileInfoHeader(fi, "")
	if err != nil {
		return err
	}
	h.Name = filepath.ToSlash(rel)
	if fi.IsDir() {
		h.Name += "/"
	}
	h.Uname, h.Gname, h.Uid, h.Gid = "", "", 0, 0
	if err := tw.WriteHeader(h); err != nil || fi.IsDir() {
		return err
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(tw, f)
	return err
}

// withMetadata streams a multipart body: part "metadata", then part
// "model" read from model.
func withMetadata(model io.Reader, metadata []byte) (io.ReadCloser, string) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := func() error {
			w, err := mw.CreateFormField("metadata")
			if err == nil {
				_, err = w.Write(metadata)
			}
			if err != nil {
				return err
			}
			if w, err = mw.CreateFormFile("model", "model"); err != nil {
				return err
			}
			_, err = io.Copy(w, model)
			return err
		}()
		pw.CloseWithError(errors.Join(err, mw.Close()))
	}()
	return pr, mw.FormDataContentType()
}

func jsonBody(v any) (io.Reader, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(b), nil
}
