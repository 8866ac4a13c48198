// The dead-letter API (issue 18): chunks a worker gave up on, kept with
// their payload so that they can be looked at, redriven into their job or
// purged. Per tenant; an operator key sees every tenant's.
//
// PROVISIONAL: these types follow the contract agreed for the API
// (GET /v1/deadletters?limit=&cursor=&job=&model= → {letters, next_cursor};
// GET /v1/deadletters/{id} with its payload items; POST …/{id}/redrive;
// DELETE …/{id}), written here by hand until the gateway's routes are in
// api/openapi.yaml; then they become aliases of the generated types in
// types.ts, like every other wire type.
import { request, type RequestOptions } from './http'

export interface DeadLetter {
  id: string
  job: string
  chunk: number
  /** Index of the chunk's first item in its job. */
  start: number
  /** Items in the chunk. */
  count: number
  model: string
  version: string
  tenant: string
  /** Why it was given up. */
  reason: string
  /** Deliveries to workers before it was given up. */
  deliveries: number
  dead_at: string
}

/** A letter with its payload: the chunk's input items (their shape is the job's input). */
export interface DeadLetterDetail extends DeadLetter {
  items?: unknown[]
}

export interface DeadLetterPage {
  letters: DeadLetter[]
  next_cursor?: string
}

export interface DeadLetterQuery {
  limit?: number
  cursor?: string
  job?: string
  model?: string
}

function q(p: DeadLetterQuery): string {
  const s = new URLSearchParams()
  for (const [k, v] of Object.entries(p)) if (v !== undefined && v !== '') s.set(k, String(v))
  const t = s.toString()
  return t ? `?${t}` : ''
}

const path = (id: string) => `/deadletters/${encodeURIComponent(id)}`

export function listDeadLetters(p: DeadLetterQuery = {}, opts?: RequestOptions): Promise<DeadLetterPage> {
  return request('GET', `/deadletters${q(p)}`, undefined, opts)
}

export function getDeadLetter(id: string, opts?: RequestOptions): Promise<DeadLetterDetail> {
  return request('GET', path(id), undefined, opts)
}

/** Sends the letter's items back to their job (each lands in it once). */
export function redriveDeadLetter(id: string, opts?: RequestOptions): Promise<unknown> {
  return request('POST', `${path(id)}/redrive`, undefined, opts)
}

/** Deletes the letter and its payload. */
export function purgeDeadLetter(id: string, opts?: RequestOptions): Promise<unknown> {
  return request('DELETE', path(id), undefined, opts)
}
