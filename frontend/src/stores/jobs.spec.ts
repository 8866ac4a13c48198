import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { FakeServer, FakeSocket, items, status } from '@/api/testing/fakeSocket'
import { SocketClient } from '@/api/ws'
import { useConnectionStore } from './connection'
import { isTerminal, progressOf, useJobsStore } from './jobs'

let sockets: FakeSocket[]
let server: FakeServer

function setup() {
  const client = new SocketClient({
    url: 'ws://t/v1/ws',
    createSocket: (u) => {
      const s = new FakeSocket(u)
      sockets.push(s)
      return s
    },
    random: () => 0,
    initialBackoffMs: 100,
  })
  useConnectionStore().use(client)
  client.start()
  server.attach(sockets[0]!)
  return client
}

function mockFetch(handler: (url: string, init?: RequestInit) => { status?: number; body: unknown }) {
  const fn = vi.fn(async (url: string, init?: RequestInit) => {
    const r = handler(url, init)
    return new Response(JSON.stringify(r.body), { status: r.status ?? 200, headers: { 'Content-Type': 'application/json' } })
  })
  vi.stubGlobal('fetch', fn)
  return fn
}

beforeEach(() => {
  setActivePinia(createPinia())
  vi.useFakeTimers()
  sockets = []
  server = new FakeServer()
})
afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
})

describe('jobs store', () => {
  it('helpers', () => {
    expect(progressOf({ done: 3, failed: 1, total: 8 })).toBe(0.5)
    expect(progressOf({ done: 0, failed: 0, total: 0 })).toBe(0)
    expect(isTerminal({ state: 'cancelled' })).toBe(true)
    expect(isTerminal({ state: 'running' })).toBe(false)
  })

  it('keeps the most advanced status when HTTP and WebSocket updates interleave', () => {
    const jobs = useJobsStore()
    jobs.applyStatus(status('j', { done: 5, total: 10 }))
    jobs.applyStatus(status('j', { done: 3, total: 10 })) // stale
    expect(jobs.byId.j!.done).toBe(5)
    jobs.applyStatus(status('j', { done: 10, total: 10, state: 'completed' }))
    jobs.applyStatus(status('j', { done: 10, total: 10, state: 'running' }))
    expect(jobs.byId.j!.state).toBe('completed')
  })

  it("keeps a queued job's place when a status without one comes (the WebSocket's), and drops it once the job runs", () => {
    const jobs = useJobsStore()
    const queue = { items_ahead: 12_800, estimated_start: '2024-01-01T00:00:03Z' }
    jobs.applyStatus(status('j', { state: 'queued', total: 10, queue, updated_at: '2024-01-01T00:00:00Z' }))
    jobs.applyStatus(status('j', { state: 'queued', total: 10, updated_at: '2024-01-01T00:00:01Z' }))
    expect(jobs.byId.j!.queue).toEqual(queue)
    expect(jobs.byId.j!.updated_at).toBe('2024-01-01T00:00:01Z')
    // A newer place replaces it.
    jobs.applyStatus(status('j', { state: 'queued', total: 10, queue: { items_ahead: 256 }, updated_at: '2024-01-01T00:00:02Z' }))
    expect(jobs.byId.j!.queue).toEqual({ items_ahead: 256 })
    // Running: no place any more.
    jobs.applyStatus(status('j', { state: 'running', total: 10, done: 1, updated_at: '2024-01-01T00:00:03Z' }))
    expect(jobs.byId.j!.queue).toBeUndefined()
  })

  it('follows a job: results stream into the store and resume after a drop without duplicates', () => {
    setup()
    server.addJob('j1', 30)
    const jobs = useJobsStore()
    const stop = jobs.follow('j1', { results: true })
    server.produce('j1', 0, items(0, 10))
    sockets.at(-1)!.drop()
    server.produce('j1', 1, items(10, 10), { silent: true })
    vi.advanceTimersByTime(100)
    server.attach(sockets.at(-1)!)
    server.produce('j1', 2, items(20, 10))
    server.finish('j1')
    const r = jobs.resultsFor('j1')
    expect(r.received).toBe(30)
    expect(r.duplicates).toBe(0)
    expect(r.arrival).toEqual(Array.from({ length: 30 }, (_, i) => i))
    expect(r.ended).toBe(true)
    expect(jobs.byId.j1!.state).toBe('completed')
    stop()
  })

  it('evicts the results of old jobs that are no longer followed', () => {
    const client = setup()
    const jobs = useJobsStore()
    const stopA = jobs.follow('a', { results: true })
    const stopB = jobs.follow('b', { results: true })
    stopB()
    for (const id of ['c', 'd', 'e']) jobs.resultsFor(id)
    // a is followed, so kept; b went when e arrived; now c (the oldest unfollowed) goes.
    const spy = vi.spyOn(client, 'forget')
    jobs.resultsFor('f')
    expect(spy).toHaveBeenCalledWith('c')
    expect(jobs.resultsFor('a')).toBeDefined()
    stopA()
  })

  it('records subscription errors', () => {
    setup()
    const jobs = useJobsStore()
    jobs.follow('missing')
    expect(jobs.subscriptionErrors.missing).toBe('There is no such job: it may have expired, or belong to another API key’s tenant.')
  })

  it('loads results over HTTP page by page (fallback)', async () => {
    const urls: string[] = []
    mockFetch((url) => {
      urls.push(url)
      const offset = Number(new URL(url, 'http://x').searchParams.get('offset'))
      const its = items(offset, offset === 0 ? 4 : 2)
      return { body: { job: 'j', offset, limit: 4, items: its, next_offset: offset === 0 ? 4 : null, complete: offset !== 0 } }
    })
    vi.useRealTimers()
    const jobs = useJobsStore()
    await jobs.loadResultsOverHttp('j', 4)
    expect(urls).toEqual(['/v1/jobs/j/results?offset=0&limit=4', '/v1/jobs/j/results?offset=4&limit=4'])
    expect(jobs.resultsFor('j').received).toBe(6)
  })

  it('fetches the list and submits jobs over HTTP', async () => {
    const calls: string[] = []
    mockFetch((url, init) => {
      calls.push(`${init?.method ?? 'GET'} ${url}`)
      if (url.startsWith('/v1/jobs?')) return { body: { jobs: [status('a'), status('b', { state: 'completed' })] } }
      if (url === '/v1/jobs') return { status: 202, body: { job: status('c', { state: 'queued' }), links: {} } }
      if (url === '/v1/jobs/a/cancel') return { body: status('a', { state: 'cancelled' }) }
      return { status: 404, body: { error: { code: 'not_found', message: 'nope' } } }
    })
    const jobs = useJobsStore()
    await jobs.fetchList()
    expect(jobs.list.map((j) => j.id)).toEqual(['a', 'b'])
    const c = await jobs.submit({ model: 'digits', inputs: [[1]] }, 'key-1')
    expect(c.id).toBe('c')
    expect(jobs.list.map((j) => j.id)).toEqual(['c', 'a', 'b'])
    await jobs.cancel('a')
    expect(jobs.byId.a!.state).toBe('cancelled')
    await expect(jobs.fetchJob('zzz')).rejects.toMatchObject({ status: 404, code: 'not_found', message: 'nope' })
    expect(calls).toEqual(['GET /v1/jobs?limit=50', 'POST /v1/jobs', 'POST /v1/jobs/a/cancel', 'GET /v1/jobs/zzz'])
  })
})
