// Command standalone runs the whole system in one process: an embedded NATS
// JetStream server, the gateway (API and web UI on :8000) and workers. It
// needs no Docker; `make run` starts it. `standalone check-model DIR` is
// what its workers run, in a process of their own, to check a pushed
// model version.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"batchinfer/cmd/internal/modelflags"
	"batchinfer/cmd/internal/settings"
	"batchinfer/cmd/internal/tfflags"
	"batchinfer/gateway"
	"batchinfer/gateway/auth"
	"batchinfer/internal/config"
	"batchinfer/internal/natsx"
	"batchinfer/internal/natsx/natsembed"
	"batchinfer/internal/runx"
	"batchinfer/model/loader"
	"batchinfer/worker"

	"github.com/rs/zerolog"
)

var version = "dev"

func main() { runx.Main("standalone", run) }

func parse(args []string, log zerolog.Logger) (*settings.Standalone, *modelflags.Flags, *tfflags.Flags, error) {
	var st settings.Standalone
	var mf modelflags.Flags
	var tf tfflags.Flags
	s := config.New("standalone")
	st.Register(s)
	mf.Register(s)
	tf.Register(s)
	if err := s.Parse(args); err != nil {
		return nil, nil, nil, err
	}
	if st.Gateway.UIDir == "" {
		if fi, err := os.Stat(filepath.Join("frontend", "dist", "index.html")); err == nil && !fi.IsDir() {
			st.Gateway.UIDir = filepath.Join("frontend", "dist")
		}
	}
	st.Worker.HealthAddr = "" // the gateway's /ready covers the process
	st.Gateway.Version, st.Worker.Version = version, version
	if r := st.Gateway.Streams.Replicas; r > 1 {
		return nil, nil, nil, fmt.Errorf("stream replicas %d: the standalone system embeds one NATS server (STREAM_REPLICAS is for a cluster)", r)
	}
	st.Worker.Streams, st.Worker.Tracing = st.Gateway.Streams, st.Gateway.Tracing
	s.Log(log.Info()).Str("version", version).Msg("starting")
	if err := devKeys(&st, os.Stdout, log); err != nil {
		return nil, nil, nil, err
	}
	return &st, &mf, &tf, nil
}

func run(args []string) error {
	if check, rest := runx.Subcommand(args, modelflags.CheckModelCommand); check {
		var tf tfflags.Flags
		return modelflags.CheckModel("standalone", rest, tf.Register, func() []loader.Runtime { return []loader.Runtime{tf.Runtime()} })
	}
	log := config.Logger("standalone")
	st, mf, tf, err := parse(args, log)
	if err != nil {
		return err
	}
	stopPprof, err := runx.Pprof(st.Process.Pprof, false, log)
	if err != nil {
		return err
	}
	defer stopPprof()
	protectNATS(&st.NATS, log)
	sizeStore(&st.NATS, st.Gateway.Streams, log)
	ns, err := natsembed.Run(st.NATS)
	if err != nil {
		return err
	}
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	conn := natsx.ConnConfig{URL: ns.ClientURL(), User: st.NATS.User, Password: st.NATS.Password}
	st.Gateway.NATS, st.Worker.NATS = conn, conn
	loadStart := time.Now()
	reg, models, err := mf.Load(modelflags.WarmupBatches(st.Worker), tf.Runtime())
	if err != nil {
		return err
	}
	defer reg.Close()
	modelflags.LogLoaded(log, reg, time.Since(loadStart))
	opts, err := mf.Options(modelflags.WarmupBatches(st.Worker), tf.Runtime())
	if err != nil {
		return err
	}
	sys, err := start(context.Background(), st, models, opts, log)
	if err != nil {
		return err
	}
	log.Info().Str("api", "http://"+sys.gateway.Addr()).Str("ui", st.Gateway.UIDir).Str("nats", ns.ClientURL()).Msg("standalone system ready")
	runx.OnHangup(context.Background(), func() {
		if err := sys.gateway.ReloadKeys(); err != nil {
			log.Error().Err(err).Msg("settings files reloaded with errors: what could not be read keeps its previous settings")
		}
	})
	sig, failed := runx.Wait(context.Background(), sys.gateway.Err())
	log.Info().Str("signal", fmt.Sprint(sig)).AnErr("failure", failed).Msg("shutting down")
	ctx, cancel := context.WithTimeout(context.Background(), st.Process.Shutdown)
	defer cancel()
	return errors.Join(failed, sys.stop(ctx))
}

// protectNATS makes the embedded NATS server require a password when none
// is set: it listens on a port anyone on the machine can reach, and holds
// every tenant's inputs and results. The password is new at every start
// and only the in-process services know it; set -nats-user and
// -nats-password to reach the server with other tools.
func protectNATS(c *natsx.EmbeddedConfig, log zerolog.Logger) {
	if c.User != "" || c.Password != "" || c.Token != "" {
		return
	}
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // the system's randomness failed: nothing is safe
	}
	c.User, c.Password = "standalone", hex.EncodeToString(b[:])
	log.Info().Str("nats_user", c.User).Msg("embedded NATS requires a password generated for this run (set -nats-user and -nats-password to connect other tools)")
}

// system is the services of the process.
type system struct {
	workers []*worker.Worker
	gateway *gateway.Gateway
}

// start runs the workers then the gateway; on error it stops what started.
func start(ctx context.Context, st *settings.Standalone, models []worker.Predictor, opts []worker.Option, log zerolog.Logger) (*system, error) {
	sys := &system{}
	fail := func(err error) (*system, error) {
		c, cancel := context.WithTimeout(context.Background(), st.Process.Shutdown)
		defer cancel()
		return nil, errors.Join(err, sys.stop(c))
	}
	for i := 0; i < st.Workers; i++ {
		c := st.Worker
		if c.ID != "" {
			c.ID = fmt.Sprintf("%s-%d", c.ID, i)
		}
		w, err := worker.New(c, models, log, opts...)
		if err != nil {
			return fail(err)
		}
		if err := w.Start(ctx); err != nil {
			return fail(err)
		}
		sys.workers = append(sys.workers, w)
	}
	g, err := gateway.New(st.Gateway, log)
	if err != nil {
		return fail(err)
	}
	if err := g.Start(ctx); err != nil {
		return fail(err)
	}
	sys.gateway = g
	return sys, nil
}

func (s *system) stop(ctx context.Context) error {
	var errs []error
	if s.gateway != nil {
		errs = append(errs, s.gateway.Stop(ctx))
	}
	for _, w := range s.workers {
		errs = append(errs, w.Stop(ctx))
	}
	return errors.Join(errs...)
}

// devKeys gives the standalone system an API key with nothing to
// configure: unless keys, a JWT issuer or -auth=none are set, it uses the
// keys file beside the data directory, and creates it on first start with
// a development key for tenant dev. The key itself is kept beside it
// (dev-api-key, mode 0600) and printed at every start, so that the local
// system stays usable; delete both files for a new key.
func devKeys(st *settings.Standalone, out io.Writer, log zerolog.Logger) error {
	a := &st.Gateway.Auth
	if a.Mode == "none" || a.KeysFile != "" || a.JWT.Issuer != "" {
		return nil
	}
	dir := filepath.Dir(filepath.Clean(st.NATS.StoreDir))
	a.KeysFile = filepath.Join(dir, "api-keys")
	keyFile := filepath.Join(dir, "dev-api-key")
	if _, err := os.Stat(a.KeysFile); err == nil {
		log.Info().Str("keys_file", a.KeysFile).Msg("api keys from the keys file")
		if b, err := os.ReadFile(keyFile); err == nil {
			printDevKey(out, strings.TrimSpace(string(b)), keyFile, st.Gateway.Addr)
		}
		return nil
	}
	key := auth.NewKey()
	if err := writeDevKeys(a.KeysFile, keyFile, key); err != nil {
		return fmt.Errorf("development key: %w", err)
	}
	printDevKey(out, key, keyFile, st.Gateway.Addr)
	return nil
}

// writeDevKeys writes the keys file (the hash) and the key file (the key).
func writeDevKeys(keysFile, keyFile, key string) error {
	if err := os.MkdirAll(filepath.Dir(keysFile), 0o700); err != nil {
		return err
	}
	body := fmt.Sprintf("# API keys of the standalone system: TENANT SHA256HEX [settings] (docs/security.md).\n"+
		"# Created %s with a development key (in dev-api-key); delete both files for a new one.\n"+
		"dev %s role=operator id=dev\n", time.Now().UTC().Format(time.RFC3339), auth.HashKey(key))
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o600); err != nil {
		return err
	}
	return os.WriteFile(keysFile, []byte(body), 0o600)
}

// printDevKey tells the user the development key and how to use it.
func printDevKey(out io.Writer, key, keyFile, addr string) {
	url := "http://localhost" + addr
	if h, p, err := net.SplitHostPort(addr); err == nil && h != "" && h != "0.0.0.0" {
		url = "http://" + net.JoinHostPort(h, p)
	}
	fmt.Fprintf(out, "\n  API key of tenant \"dev\" (operator; kept in %s):\n\n      %s\n\n"+
		"  Use it:  curl -H 'Authorization: Bearer %s' %s/v1/models\n  or paste it into the web UI's sign-in at %s\n\n",
		keyFile, key, key, url, url)
}
