// The dead-letter API (GET/DELETE /v1/deadletters, GET/DELETE
// /v1/deadletters/{id}, POST /v1/deadletters/{id}/redrive): chunks that the
// workers gave up on, kept with their payload so that they can be looked
// at, redriven into their job or purged. A user key sees its tenant's; an
// operator key every tenant's, and the synchronous requests' (kind=sync).
// The types are the generated ones (types.ts).
import { request, type RequestOptions } from './http'
import type { DeadLetterDetail, DeadLetterList, DeadLetterQuery, Purged, Redriven } from './types'

function q(p: Record<string, string | number | undefined>): string {
  const s = new URLSearchParams()
  for (const [k, v] of Object.entries(p)) if (v !== undefined && v !== '') s.set(k, String(v))
  const t = s.toString()
  return t ? `?${t}` : ''
}

const path = (id: string) => `/deadletters/${encodeURIComponent(id)}`

/** A page of letters, oldest first; the next with `cursor` = its `next_cursor`. */
export function listDeadLetters(p: DeadLetterQuery = {}, opts?: RequestOptions): Promise<DeadLetterList> {
  return request('GET', `/deadletters${q(p)}`, undefined, opts)
}

/** A letter with a page of its payload's items from `offset` (the next at `next_offset`). */
export function getDeadLetter(id: string, page: { offset?: number; limit?: number } = {}, opts?: RequestOptions): Promise<DeadLetterDetail> {
  return request('GET', `${path(id)}${q(page)}`, undefined, opts)
}

/** Runs the letter's chunk again in its job (its items land in it once); the letter goes. */
export function redriveDeadLetter(id: string, opts?: RequestOptions): Promise<Redriven> {
  return request('POST', `${path(id)}/redrive`, undefined, opts)
}

/** Deletes the letter and its payload (204). */
export async function purgeDeadLetter(id: string, opts?: RequestOptions): Promise<void> {
  await request<unknown>('DELETE', path(id), undefined, opts)
}

/** Deletes every letter of a job the caller may see. */
export function purgeJobDeadLetters(job: string, opts?: RequestOptions): Promise<Purged> {
  return request('DELETE', `/deadletters${q({ job })}`, undefined, opts)
}
