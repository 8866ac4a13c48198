// An in-memory dead-letter API behind fetch, following api/openapi.yaml
// (GET /v1/deadletters: pages by cursor oldest first, filters by job, model,
// tenant and kind; GET /v1/deadletters/{id}: a page of its payload items by
// offset; POST …/redrive: 202 with the job, 409 for a synchronous request's
// letter; DELETE …/{id}: 204; DELETE /v1/deadletters?job=: how many went;
// 404 for a letter gone), for unit tests of the store and the page and the
// e2e of the flow the real gateway cannot be made to produce on demand.
import type { DeadLetter, DeadLetterDetail, DeadLetterItem, JobStatus } from '../types'
import { float32Base64 } from '../../lib/float32'

/** Payload items of each letter. */
export const LETTER_ITEMS = 3

/** Letter n (ids are the dead-letter stream's sequence numbers: "1", "2", …). */
export function letter(n: number, over: Partial<DeadLetter> = {}): DeadLetter {
  return {
    id: String(n),
    kind: 'batch',
    job: `job${n % 3}`,
    chunk: n,
    start: n * 256,
    count: 256,
    model: n % 2 ? 'digits' : 'breast_cancer',
    version: '1',
    tenant: n % 2 ? 'acme' : 'globex',
    reason: 'gave up after 5 deliveries: every worker that took this chunk crashed or timed out',
    deliveries: 5,
    dead_at: '2030-01-01T00:00:00Z',
    ...over,
  }
}

function itemsOf(l: DeadLetter): DeadLetterItem[] {
  return Array.from({ length: LETTER_ITEMS }, (_, i) => ({
    index: l.start + i,
    line: l.start + i + 1,
    kind: 'tensor' as const,
    data_b64: float32Base64([Number(l.id), i, 0.5]),
  }))
}

function jobOf(l: DeadLetter): JobStatus {
  return {
    id: l.job,
    model: l.model,
    version: l.version,
    state: 'running',
    total: 1024,
    done: 0,
    failed: 0,
    skipped: 0,
    priority: 'normal',
    chunks: 4,
    created_at: '2030-01-01T00:00:00Z',
    elapsed_ms: 0,
    items_per_sec: 0,
  }
}

const json = (v: unknown, status = 200) => new Response(JSON.stringify(v), { status, headers: { 'Content-Type': 'application/json' } })
const refused = (status: number, code: string, message: string) => json({ error: { code, message } }, status)

export class FakeDlq {
  letters: DeadLetter[]
  readonly redriven: string[] = []
  readonly calls: string[] = []

  constructor(n: number, over: (n: number) => Partial<DeadLetter> = () => ({})) {
    this.letters = Array.from({ length: n }, (_, i) => letter(i + 1, over(i + 1)))
  }

  fetch = async (url: string, init?: RequestInit): Promise<Response> => {
    const u = new URL(url, 'http://x')
    const method = init?.method ?? 'GET'
    this.calls.push(`${method} ${u.pathname}${u.search}`)
    const m = /^\/v1\/deadletters(?:\/([^/]+))?(\/redrive)?$/.exec(u.pathname)
    if (!m) return refused(404, 'not_found', 'no route')
    const [, id, redrive] = m
    if (!id) return method === 'DELETE' ? this.purgeJob(u.searchParams) : this.list(u.searchParams)
    const l = this.letters.find((x) => x.id === decodeURIComponent(id))
    if (!l) return refused(404, 'not_found', `no dead letter "${decodeURIComponent(id)}"`)
    if (method === 'GET') return this.show(l, u.searchParams)
    if (redrive && l.kind === 'sync') return refused(409, 'conflict', `dead letter ${l.id} is a synchronous request's: there is no job to run it in`)
    this.letters = this.letters.filter((x) => x !== l)
    if (!redrive) return new Response(null, { status: 204 })
    this.redriven.push(l.id)
    return json({ letter: l.id, job: jobOf(l) }, 202)
  }

  private list(q: URLSearchParams): Response {
    const limit = Number(q.get('limit') ?? 100)
    const from = Number(q.get('cursor') ?? 0)
    const kind = q.get('kind') || 'batch'
    const model = q.get('model') ?? ''
    const match = this.letters.filter(
      (l) =>
        l.kind === kind &&
        (!q.get('job') || l.job === q.get('job')) &&
        (!q.get('tenant') || l.tenant === q.get('tenant')) &&
        (!model || l.model === model || `${l.model}:${l.version}` === model),
    )
    const page = match.slice(from, from + limit)
    return json({ letters: page, ...(from + limit < match.length ? { next_cursor: String(from + limit) } : {}) })
  }

  private show(l: DeadLetter, q: URLSearchParams): Response {
    const offset = Number(q.get('offset') ?? 0)
    const limit = Number(q.get('limit') ?? 100)
    const all = itemsOf(l)
    const items = all.slice(offset, offset + limit)
    const d: DeadLetterDetail = { ...l, items, offset, next_offset: offset + limit < all.length ? offset + limit : null }
    return json(d)
  }

  private purgeJob(q: URLSearchParams): Response {
    const job = q.get('job')
    if (!job) return refused(400, 'bad_request', 'job is required')
    const before = this.letters.length
    this.letters = this.letters.filter((l) => l.job !== job)
    return json({ purged: before - this.letters.length })
  }
}
