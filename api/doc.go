// Package api is the gateway's contract with its clients, in Go: the error
// codes with their HTTP statuses, the bodies of the HTTP API and the
// messages of the WebSocket protocol. The documents beside it (openapi.yaml,
// websocket.md and websocket.schema.json) describe the same contract for
// people and for the web UI, whose TypeScript types are generated from them;
// tests check both sides agree.
package api
