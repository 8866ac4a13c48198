package main

import (
	"strconv"
	"strings"
)

// deadLetterBytes is the DEADLETTER stream's bound when DLQ_MAX_BYTES is
// not set (internal/natsx).
const deadLetterBytes = 256 << 20

// natsClientRoles: the services that connect to NATS.
var natsClientRoles = []string{roleGateway, roleWorker}

// sharedNATSSettings: both clients create the streams, so they must agree on
// these.
var sharedNATSSettings = []string{"NATS_URL", "NATS_USER", "STREAM_REPLICAS", "QUEUE_MAX_BYTES", "RESULT_MAX_BYTES", "RESULT_TTL",
	"UPLOAD_MAX_BYTES", "UPLOAD_TTL", "UPLOAD_RETENTION", "REGISTRY_MAX_BYTES", "DLQ_MAX_BYTES"}

// natsClient is the gateway or the worker Deployment, as a NATS client.
type natsClient struct {
	w   *workload
	fp  string // the field path of its container's env
	env map[string]envVal
}

// checkNATSClients: the gateway and the workers reach every server, log in
// with the server's user and password, and agree on the streams.
func (c *checker) checkNATSClients() {
	if c.nats == nil || c.nats.opts == nil {
		return
	}
	var first *natsClient
	for _, role := range natsClientRoles {
		ws := c.byRole(role)
		if len(ws) != 1 {
			c.fs.add(nil, "", "want one %s Deployment, found %d", role, len(ws))
			continue
		}
		ctr := ws[0].mainContainer()
		cl := &natsClient{w: ws[0], fp: "spec.template.spec.containers[" + ctr.Name + "].env", env: c.env(ws[0], ctr, "")}
		c.checkNATSClient(cl)
		if first == nil {
			first = cl
			continue
		}
		c.checkSharedSettings(cl, first)
	}
}

// checkNATSClient runs the checks of one client's settings.
func (c *checker) checkNATSClient(cl *natsClient) {
	c.checkClientURLs(cl)
	if user := cl.env["NATS_USER"].value; user != c.nats.opts.Username {
		c.fs.add(cl.w.obj, cl.fp+"[NATS_USER]", "%q, but the server's user is %q", user, c.nats.opts.Username)
	}
	c.checkClientPassword(cl)
	c.checkStreamReplicas(cl)
	c.checkStreamBytes(cl)
}

// checkClientURLs: NATS_URL lists every server.
func (c *checker) checkClientURLs(cl *natsClient) {
	urls := strings.Split(cl.env["NATS_URL"].value, ",")
	for i := range urls {
		urls[i] = strings.TrimSpace(urls[i])
	}
	if d := diff(set(c.nats.clientURLs), set(urls)); d != "" {
		c.fs.add(cl.w.obj, cl.fp+"[NATS_URL]", "must list every NATS server (%s): %s", strings.Join(c.nats.clientURLs, ","), d)
	}
}

// checkClientPassword: NATS_PASSWORD_FILE is the key of the Secret that the
// servers read their password from, mounted.
func (c *checker) checkClientPassword(cl *natsClient) {
	fp := cl.fp + "[NATS_PASSWORD_FILE]"
	pf, ok := cl.env["NATS_PASSWORD_FILE"]
	if !ok {
		c.fs.add(cl.w.obj, fp, "missing")
		return
	}
	f, err := c.mountedFile(cl.w, cl.w.mainContainer(), pf.value)
	if err != nil {
		c.fs.add(cl.w.obj, fp, "%v", err)
		return
	}
	if p := c.nats.password; f.kind != "Secret" || p == nil || f.name != p.name || f.key != p.key {
		c.fs.add(cl.w.obj, fp, "%s is %s %s key %s, not the Secret the NATS servers read", pf.value, f.kind, f.name, f.key)
	}
}

// checkStreamReplicas: STREAM_REPLICAS is 3, and there are as many servers.
func (c *checker) checkStreamReplicas(cl *natsClient) {
	replicas := c.nats.w.replicaCount()
	v := cl.env["STREAM_REPLICAS"].value
	if sr, err := strconv.Atoi(v); err != nil || sr != 3 || int32(sr) > replicas {
		c.fs.add(cl.w.obj, cl.fp+"[STREAM_REPLICAS]", "%q: want 3 (streams replicated on every server of the %d)", v, replicas)
	}
}

// streamBytesSettings are the stream bounds JetStream reserves in its
// file store, besides the dead letters' (DLQ_MAX_BYTES, optional).
var streamBytesSettings = []string{"QUEUE_MAX_BYTES", "RESULT_MAX_BYTES", "UPLOAD_MAX_BYTES", "REGISTRY_MAX_BYTES"}

// checkStreamBytes: QUEUE_MAX_BYTES, RESULT_MAX_BYTES, UPLOAD_MAX_BYTES and
// REGISTRY_MAX_BYTES are set, and with the dead letters (DLQ_MAX_BYTES,
// 256 MiB unless set) fit in jetstream.max_file_store (QUEUE_MAX_BYTES
// bounds two streams).
func (c *checker) checkStreamBytes(cl *natsClient) {
	fp := cl.fp + "[" + strings.Join(streamBytesSettings, ", ") + ", DLQ_MAX_BYTES]"
	maxStore := c.nats.opts.JetStreamMaxStore
	d, err := int64(deadLetterBytes), error(nil)
	if v, ok := cl.env["DLQ_MAX_BYTES"]; ok {
		d, err = strconv.ParseInt(v.value, 10, 64)
	}
	if err != nil || d <= 0 {
		c.fs.add(cl.w.obj, fp, "DLQ_MAX_BYTES must be a positive byte count (the dead letters must fit max_file_store)")
		return
	}
	sum, terms := d, make([]string, 0, len(streamBytesSettings)+1)
	for _, k := range streamBytesSettings {
		n, err := strconv.ParseInt(cl.env[k].value, 10, 64)
		if err != nil || n <= 0 {
			c.fs.add(cl.w.obj, fp, "must be set (the 1, 4 and 12 GiB defaults do not fit max_file_store)")
			return
		}
		times := 1
		if k == "QUEUE_MAX_BYTES" { // two streams: the batch inputs (JOBIN) and the work queue (INFER)
			times = 2
		}
		for range times {
			sum += n
			terms = append(terms, strconv.FormatInt(n, 10))
		}
	}
	if sum > maxStore {
		c.fs.add(cl.w.obj, fp, "%s + %d of dead letters = %d bytes exceed jetstream.max_file_store (%d)", strings.Join(terms, " + "), d, sum, maxStore)
	}
}

// checkSharedSettings: cl has the same sharedNATSSettings as first.
func (c *checker) checkSharedSettings(cl, first *natsClient) {
	for _, k := range sharedNATSSettings {
		if cl.env[k].value != first.env[k].value {
			c.fs.add(cl.w.obj, cl.fp+"["+k+"]", "%q, but %s has %q: both create the streams", cl.env[k].value, first.w.obj.ID(), first.env[k].value)
		}
	}
}
