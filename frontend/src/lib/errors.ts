// User-facing text for the errors of the HTTP API (ApiError) and the
// WebSocket (SocketError): every error code of api/errors.go in words, with
// what to do about it and, for limits, when to try again.
import { ApiError } from '@/api/http'
import type { ErrorBody } from '@/api/types'
import { SocketError } from '@/api/ws'

/** Every code the gateway sends (Error.code in openapi.yaml). */
export type ErrorCode = ErrorBody['error']['code']

/** "in 3 s", "in 2 min": rounded up, never "in 0 s". */
export function waitText(ms: number): string {
  const s = Math.max(1, Math.ceil(ms / 1000))
  if (s < 120) return `${s} s`
  return `${Math.ceil(s / 60)} min`
}

/** The wait an error asks for before a retry (Retry-After, retry_after_ms), if any. */
export function retryAfterOf(e: unknown): number | undefined {
  if (e instanceof ApiError || e instanceof SocketError) return e.retryAfterMs
  return undefined
}

/** Whether an error is a limit (429 rate_limited / quota_exceeded / backlog_full, or the WebSocket's rate_limited). */
export function isLimit(e: unknown): boolean {
  if (e instanceof ApiError) return e.status === 429
  if (e instanceof SocketError) return e.code === 'rate_limited' || e.code === 'quota_exceeded'
  return false
}

/**
 * Whether sending the same request again later may succeed (limits, a busy
 * or unreachable server), as opposed to an answer about the request itself.
 */
export function isRetryable(e: unknown): boolean {
  if (e instanceof ApiError) return e.status === 0 || e.status === 429 || e.status >= 500
  return e instanceof SocketError
}

function sentence(msg: string): string {
  const t = msg.trim()
  return !t || /[.!?]$/.test(t) ? t : `${t}.`
}

/** `head: msg.` — the server's message as the detail of a sentence. */
function withDetail(head: string, msg: string): string {
  return msg.trim() ? `${head}: ${sentence(msg)}` : `${head}.`
}

function later(head: string, msg: string): string {
  return withDetail(head, msg)
}

/**
 * Each code in words: what happened, and what to do. `msg` is the
 * server's message (which names the problem: the item, the limit). A
 * missing entry does not compile.
 */
export const CODE_TEXT: Record<ErrorCode, (msg: string) => string> = {
  invalid_json: (m) => withDetail('The server could not read the request as JSON', m),
  invalid_input: (m) => withDetail('Some input values were not accepted', m),
  invalid_message: (m) => withDetail('The server did not understand a message of this page; reload it', m),
  bad_request: (m) => withDetail('The request was not accepted', m),
  unauthorized: () => 'The API key was not accepted; sign in again.',
  forbidden: (m) => withDetail('This needs an operator key', m),
  forbidden_origin: () =>
    'The gateway does not accept requests from this page’s address; an operator can allow it (GATEWAY_ALLOWED_ORIGINS).',
  unknown_model: (m) => withDetail('That model is not served (any more)', m),
  unknown_job: () => 'There is no such job: it may have expired, or belong to another API key’s tenant.',
  not_found: (m) => withDetail('Not found', m),
  method_not_allowed: (m) => withDetail('The gateway does not allow this request', m),
  conflict: (m) => withDetail('That conflicts with the current state', m),
  body_too_large: (m) => withDetail('The upload is larger than the gateway accepts; split it into smaller files', m),
  body_timeout: (m) => withDetail('The upload arrived too slowly and was stopped; check the connection and try again', m),
  too_many_items: (m) => withDetail('The upload has more items than one job may have; split it into smaller files', m),
  unsupported_media_type: (m) => withDetail('The gateway does not take this kind of content', m),
  too_many_subscriptions: (m) => later('Too many jobs are followed at once; close other tabs', m),
  rate_limited: (m) => later('Too many requests', m),
  quota_exceeded: (m) => later('Over your quota', m),
  backlog_full: (m) => later('The model has too much work waiting; try again later', m),
  timeout: (m) => withDetail('The gateway did not get an answer in time; try again', m),
  queue_full: (m) => later('The job queue is full', m),
  busy: (m) => later('The gateway is busy', m),
  unavailable: (m) => later('The service is unavailable right now', m),
  not_ready: (m) => later('The service is not ready (starting, or no worker serves the model yet)', m),
  too_many_connections: (m) => later('The gateway has as many connections as it allows', m),
  expired: (m) => withDetail('This is past its retention and was deleted', m),
  precondition_failed: (m) => withDetail('The upload request was not accepted', m),
  checksum_mismatch: (m) => withDetail('Part of the upload arrived damaged and was not kept; send it again', m),
  insufficient_storage: (m) => later('The server has no room for this right now', m),
  range_not_satisfiable: (m) => withDetail('The download asked for bytes the file does not have; download it again from the start', m),
  internal: () => 'Something went wrong on the server. Try again; if it keeps happening, tell an operator.',
}

/** Errors of this client itself (no server answer). */
const CLIENT_TEXT: Record<string, (msg: string) => string> = {
  network: () => 'Could not reach the gateway: check the network connection.',
  invalid_response: () => 'The gateway sent an answer this page could not read; reload the page.',
  not_connected: () => 'The live connection is down.',
  connection_lost: () => 'The live connection was lost before the answer came.',
}

function codeText(code: string, msg: string): string | undefined {
  const f = (CODE_TEXT as Record<string, ((m: string) => string) | undefined>)[code] ?? CLIENT_TEXT[code]
  return f?.(msg)
}

/** One line for an alert. */
export function errorText(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e)
  if (!(e instanceof ApiError) && !(e instanceof SocketError)) return msg
  let text = codeText(e.code, msg)
  if (text === undefined) {
    // An answer without a known code (e.g. a proxy's HTML 502).
    if (e instanceof ApiError && e.status >= 500) text = withDetail('The gateway answered with an error', msg)
    else text = sentence(msg)
  }
  const wait = retryAfterOf(e)
  if (wait !== undefined) return `${text.replace(/\.$/, '')}. Try again in ${waitText(wait)}.`
  return text
}
