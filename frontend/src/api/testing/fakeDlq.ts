// An in-memory dead-letter API behind fetch, following the contract of
// api/deadletters.ts (pages by cursor, filters by job and model, show with
// the payload, redrive and purge answering 404 for a letter gone), for unit
// tests of the store and the page.
import type { DeadLetter, DeadLetterDetail } from '../deadletters'

export function letter(n: number, over: Partial<DeadLetter> = {}): DeadLetterDetail {
  return {
    id: `dl${n}`,
    job: `job${n % 3}`,
    chunk: n,
    start: n * 256,
    count: 256,
    model: n % 2 ? 'digits' : 'breast_cancer',
    version: '1',
    tenant: n % 2 ? 'acme' : 'globex',
    reason: 'the worker gave up after 5 deliveries: model crashed',
    deliveries: 5,
    dead_at: '2030-01-01T00:00:00Z',
    items: Array.from({ length: 3 }, (_, i) => [n, i]),
    ...over,
  }
}

const json = (v: unknown, status = 200) => new Response(JSON.stringify(v), { status, headers: { 'Content-Type': 'application/json' } })
const gone = (id: string) => json({ error: { code: 'not_found', message: `unknown dead letter ${id}` } }, 404)

export class FakeDlq {
  letters: DeadLetterDetail[]
  readonly redriven: string[] = []
  readonly calls: string[] = []

  constructor(n: number) {
    this.letters = Array.from({ length: n }, (_, i) => letter(i + 1))
  }

  fetch = async (url: string, init?: RequestInit): Promise<Response> => {
    const u = new URL(url, 'http://x')
    const method = init?.method ?? 'GET'
    this.calls.push(`${method} ${u.pathname}${u.search}`)
    const m = /^\/v1\/deadletters(?:\/([^/]+))?(\/redrive)?$/.exec(u.pathname)
    if (!m) return json({ error: { code: 'not_found', message: 'no route' } }, 404)
    const [, id, redrive] = m
    if (!id) return this.list(u.searchParams)
    const l = this.letters.find((x) => x.id === decodeURIComponent(id))
    if (!l) return gone(id)
    if (method === 'GET') return json(l)
    this.letters = this.letters.filter((x) => x !== l)
    if (redrive) this.redriven.push(l.id)
    return method === 'DELETE' ? new Response(null, { status: 204 }) : json({ job: l.job, items: l.count })
  }

  private list(q: URLSearchParams): Response {
    const limit = Number(q.get('limit') ?? 50)
    const from = Number(q.get('cursor') ?? 0)
    const match = this.letters.filter((l) => (!q.get('job') || l.job === q.get('job')) && (!q.get('model') || l.model === q.get('model')))
    const page = match.slice(from, from + limit).map(({ items: _items, ...l }) => l)
    return json({ letters: page, ...(from + limit < match.length ? { next_cursor: String(from + limit) } : {}) })
  }
}
