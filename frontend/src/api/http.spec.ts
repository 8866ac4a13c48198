import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiError, checkKey, getCluster, getLimits, listJobs, parseRetryAfter, probeOpen, setAuth, submitJobFile } from './http'

type Call = { url: string; headers: Record<string, string> }

function stubFetch(answer: (c: Call) => Response): Call[] {
  const calls: Call[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init?: RequestInit) => {
      const c = { url, headers: { ...(init?.headers as Record<string, string>) } }
      calls.push(c)
      return answer(c)
    }),
  )
  return calls
}

function error(status: number, code: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ error: { code, message: `${code} message` } }), { status, headers })
}

afterEach(() => {
  vi.unstubAllGlobals()
  setAuth(null)
})

describe('HTTP client authentication', () => {
  it('sends the session key as Authorization: Bearer on every request, never in the URL', async () => {
    const calls = stubFetch(() => new Response(JSON.stringify({ jobs: [] })))
    setAuth({ token: () => 'bi_secret' })
    await listJobs({ limit: 10 })
    expect(calls[0]!.headers.Authorization).toBe('Bearer bi_secret')
    expect(calls[0]!.url).not.toContain('bi_secret')
    setAuth({ token: () => null })
    await listJobs({ limit: 10 })
    expect(calls[1]!.headers.Authorization).toBeUndefined()
  })

  it('reports a 401 with the token that request carried', async () => {
    stubFetch((c) => (c.headers.Authorization === 'Bearer good' ? new Response('{"jobs":[]}') : error(401, 'unauthorized', { 'WWW-Authenticate': 'Bearer' })))
    const seen: (string | null)[] = []
    let key = 'bad'
    setAuth({ token: () => key, onUnauthorized: (t) => seen.push(t) })
    await expect(listJobs()).rejects.toMatchObject({ status: 401, code: 'unauthorized' })
    expect(seen).toEqual(['bad'])
    key = 'good'
    await listJobs()
    expect(seen).toEqual(['bad'])
  })

  it('checkKey asks GET /v1/whoami with the key before it is stored: who it is; 401 throws, 429 counts as accepted, nothing is reported', async () => {
    const seen: unknown[] = []
    setAuth({ token: () => 'stored', onUnauthorized: (t) => seen.push(t) })
    const me = { tenant: 'acme', role: 'user', key_id: 'k1', auth_required: true }
    const calls = stubFetch((c) =>
      c.headers.Authorization === 'Bearer ok'
        ? new Response(JSON.stringify(me))
        : c.headers.Authorization === 'Bearer busy'
          ? error(429, 'rate_limited', { 'Retry-After': '2' })
          : error(401, 'unauthorized'),
    )
    await expect(checkKey('ok')).resolves.toEqual(me)
    await expect(checkKey('busy')).resolves.toBeNull()
    await expect(checkKey('wrong')).rejects.toMatchObject({ status: 401 })
    expect(calls.map((c) => c.url)).toEqual(['/v1/whoami', '/v1/whoami', '/v1/whoami'])
    expect(calls.map((c) => c.headers.Authorization)).toEqual(['Bearer ok', 'Bearer busy', 'Bearer wrong'])
    expect(seen).toEqual([])
  })

  it('probeOpen asks GET /v1/whoami without a key: null when the gateway wants one, its answer under -auth=none', async () => {
    const seen: unknown[] = []
    setAuth({ token: () => 'stored', onUnauthorized: (t) => seen.push(t) })
    const open = { tenant: 'anonymous', role: 'operator', key_id: 'none', auth_required: false }
    let answer = () => error(401, 'unauthorized')
    const calls = stubFetch(() => answer())
    await expect(probeOpen()).resolves.toBeNull()
    answer = () => new Response(JSON.stringify(open))
    await expect(probeOpen()).resolves.toEqual(open)
    // A gateway that says it wants a key is not open, whatever it answered.
    answer = () => new Response(JSON.stringify({ ...open, auth_required: true }))
    await expect(probeOpen()).resolves.toBeNull()
    answer = () => error(503, 'unavailable')
    await expect(probeOpen()).rejects.toMatchObject({ status: 503 })
    expect(calls.every((c) => c.url === '/v1/whoami' && c.headers.Authorization === undefined)).toBe(true)
    expect(seen).toEqual([]) // the probe's 401 signs nobody out
  })

  it('carries Retry-After (seconds or a date) on 429 and keeps 403 forbidden apart', async () => {
    stubFetch((c) => (c.url.includes('cluster') ? error(403, 'forbidden') : error(429, 'quota_exceeded', { 'Retry-After': '7' })))
    const e1 = await listJobs().catch((e: unknown) => e)
    expect(e1).toBeInstanceOf(ApiError)
    expect(e1).toMatchObject({ status: 429, code: 'quota_exceeded', retryAfterMs: 7000 })
    await expect(getCluster()).rejects.toMatchObject({ status: 403, code: 'forbidden', retryAfterMs: undefined })
    const now = Date.parse('2025-01-01T00:00:00Z')
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000)
    expect(parseRetryAfter(null)).toBeUndefined()
    expect(parseRetryAfter('soon')).toBeUndefined()
  })
})

describe('HTTP client requests', () => {
  it('lists jobs a page at a time, with filters', async () => {
    const calls = stubFetch(() => new Response(JSON.stringify({ jobs: [] })))
    await listJobs({ limit: 20, cursor: 'j0abc', model: 'digits:1', state: 'queued,running' })
    expect(calls[0]!.url).toBe('/v1/jobs?limit=20&cursor=j0abc&model=digits%3A1&state=queued%2Crunning')
  })

  it('sends an NDJSON or CSV file as it is, with the model and its name in the query', async () => {
    const calls = stubFetch(() => new Response(JSON.stringify({ job: { id: 'j1' }, links: {} }), { status: 202 }))
    await submitJobFile(new Blob(['1,2\n']), { contentType: 'text/csv', model: 'breast_cancer', version: '1', name: 'my rows.csv' }, 'k1')
    expect(calls[0]!.url).toBe('/v1/jobs?model=breast_cancer&version=1&name=my+rows.csv')
    expect(calls[0]!.headers['Content-Type']).toBe('text/csv')
    expect(calls[0]!.headers['Idempotency-Key']).toBe('k1')
  })

  it('reads the limits, or none from a gateway without the route', async () => {
    stubFetch(() => new Response(JSON.stringify({ error: { code: 'not_found', message: 'no route' } }), { status: 404 }))
    expect(await getLimits()).toBeNull()
  })
})
