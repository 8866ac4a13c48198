package webhook

import (
	"context"
	"errors"
	"net"

	"batchinfer/api"
)

// None, as a job's webhook, turns its tenant's default webhook off.
const None = "none"

// Resolve says which webhook URL a job of tenant gets when it asks for
// requested: the tenant's default when it asks for none, no webhook for
// "none", else requested once checked: an absolute URL of an allowed
// scheme whose host is not, and does not resolve to, a refused address,
// of a tenant that has a signing secret. Every refusal is a 400 naming
// the problem.
func (d *Dispatcher) Resolve(ctx context.Context, tenant, requested string) (string, error) {
	t, configured := d.tenants.Get(tenant)
	switch requested {
	case "":
		return t.URL, nil
	case None:
		return "", nil
	}
	u, err := d.guard.CheckURL(requested)
	if err != nil {
		return "", api.Errorf(api.CodeBadRequest, "webhook: %v", err)
	}
	if !configured {
		return "", api.Errorf(api.CodeBadRequest,
			"webhook: tenant %s has no webhook signing secret: the operator adds one to the webhooks file (GATEWAY_WEBHOOKS_FILE)", tenant)
	}
	if err := d.checkResolved(ctx, u.Hostname()); err != nil {
		return "", err
	}
	return requested, nil
}

// checkResolved refuses a host name that does not exist or resolves to a
// refused address. A lookup that fails otherwise (DNS down) passes: the
// delivery checks the address it connects to anyway.
func (d *Dispatcher) checkResolved(ctx context.Context, host string) error {
	if d.guard.HostAllowed(host) || net.ParseIP(host) != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, min(d.cfg.Timeout, dialTimeout))
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return api.Errorf(api.CodeBadRequest, "webhook: host %s does not resolve", host)
	}
	for _, a := range addrs {
		if err := d.guard.CheckAddr(a); err != nil {
			return api.Errorf(api.CodeBadRequest, "webhook: host %s: %v", host, err)
		}
	}
	return nil
}
