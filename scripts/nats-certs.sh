#!/usr/bin/env bash
# Makes a certificate authority and a NATS server certificate signed by it,
# for the TLS of the Swarm stack and the HA configurations (deploy/secrets/
# README.md):
#
#   scripts/nats-certs.sh DIR [EXTRA_NAME...]
#
# writes into DIR (created, mode 700): ca.pem (the CA: give it to clients as
# NATS_TLS_CA), ca-key.pem (keep it offline: it signs new certificates),
# server.pem and server-key.pem (every NATS server's; names nats, nats-1,
# nats-2, nats-3, localhost, 127.0.0.1 and the extra names; usable for the
# routes' mutual TLS too). EC P-256, valid 825 days. Nothing is written over:
# an existing DIR/ca.pem is an error. The private keys are mode 600, except
# server-key.pem, which is 644 in the 700 directory when NATS_CERTS_SHARED=1
# (compose bind-mounts file secrets with the host file's mode).
set -euo pipefail
dir=${1:?usage: nats-certs.sh DIR [EXTRA_NAME...]}
shift
[ ! -e "$dir/ca.pem" ] || { echo "nats-certs: $dir/ca.pem exists; use another directory" >&2; exit 1; }
mkdir -p "$dir" && chmod 700 "$dir"
umask 077
names="DNS:nats,DNS:nats-1,DNS:nats-2,DNS:nats-3,DNS:localhost,IP:127.0.0.1"
for n in "$@"; do names="$names,DNS:$n"; done
openssl ecparam -name prime256v1 -genkey -noout -out "$dir/ca-key.pem"
openssl req -x509 -new -key "$dir/ca-key.pem" -subj "/CN=batchinfer NATS CA" -days 825 -sha256 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$dir/ca.pem" 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out "$dir/server-key.pem"
openssl req -new -key "$dir/server-key.pem" -subj "/CN=nats" -out "$dir/server.csr" 2>/dev/null
printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=CA:FALSE\n' "$names" >"$dir/server.ext"
openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" -CAcreateserial -days 825 -sha256 \
  -extfile "$dir/server.ext" -out "$dir/server.pem" 2>/dev/null
rm -f "$dir/server.csr" "$dir/server.ext" "$dir/ca.srl"
chmod 644 "$dir/ca.pem" "$dir/server.pem"
[ "${NATS_CERTS_SHARED:-0}" = 1 ] && chmod 644 "$dir/server-key.pem"
echo "nats-certs: $dir: ca.pem, ca-key.pem, server.pem, server-key.pem ($names)" >&2
