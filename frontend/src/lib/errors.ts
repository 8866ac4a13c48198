// User-facing text for the errors of the HTTP API (ApiError) and the
// WebSocket (SocketError), with the hints the limits come with.
import { ApiError } from '@/api/http'
import { SocketError } from '@/api/ws'

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

/** Whether an error is a limit (429 rate_limited / quota_exceeded, or the WebSocket's rate_limited). */
export function isLimit(e: unknown): boolean {
  if (e instanceof ApiError) return e.status === 429
  if (e instanceof SocketError) return e.code === 'rate_limited' || e.code === 'quota_exceeded'
  return false
}

/** One line for an alert. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 401) return 'The API key was not accepted; sign in again.'
    if (e.status === 403 && e.code === 'forbidden') return `This needs an operator key: ${e.message}`
  }
  const msg = e instanceof Error ? e.message : String(e)
  if (isLimit(e)) {
    const wait = retryAfterOf(e)
    const what = (e as ApiError | SocketError).code === 'quota_exceeded' ? 'Over your quota' : 'Too many requests'
    if (wait === undefined) return `${what}: ${msg}`
    return `${what}: ${/[.!?]$/.test(msg) ? msg : `${msg}.`} Try again in ${waitText(wait)}.`
  }
  return msg
}
