import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { FakeServer, FakeSocket, items, status } from './testing/fakeSocket'
import type { ResultsMessage, SubscribeMessage } from './types'
import { DEFAULT_BUSY_RETRY_MS, SocketClient, type SocketClientOptions } from './ws'

let sockets: FakeSocket[]

function client(opts: Partial<SocketClientOptions> = {}): SocketClient {
  return new SocketClient({
    url: 'ws://test/v1/ws',
    createSocket: (url) => {
      const s = new FakeSocket(url)
      sockets.push(s)
      return s
    },
    random: () => 0.5,
    initialBackoffMs: 100,
    maxBackoffMs: 1600,
    connectTimeoutMs: 1000,
    ...opts,
  })
}

const last = () => sockets[sockets.length - 1]!
const subscribes = (s: FakeSocket) => s.sent.filter((m): m is SubscribeMessage => m.type === 'subscribe')

beforeEach(() => {
  vi.useFakeTimers()
  sockets = []
})
afterEach(() => {
  vi.useRealTimers()
})

describe('SocketClient connection', () => {
  it('connects, waits for hello, and reports state', () => {
    const c = client()
    const states: string[] = []
    c.onState((s) => states.push(s.state))
    c.start()
    expect(sockets).toHaveLength(1)
    expect(c.snapshot.state).toBe('connecting')
    last().open()
    last().hello(5000)
    expect(c.snapshot.state).toBe('open')
    expect(c.snapshot.server?.heartbeat_ms).toBe(5000)
    expect(states).toEqual(['idle', 'connecting', 'open'])
  })

  it('reconnects with exponential backoff and jitter, and resets after hello', () => {
    const c = client({ random: () => 0 })
    c.start()
    const delays: number[] = []
    for (let i = 0; i < 6; i++) {
      last().drop()
      expect(c.snapshot.state).toBe('reconnecting')
      delays.push(c.snapshot.retryAt! - Date.now())
      const n = sockets.length
      vi.advanceTimersByTime(delays[i]! - 1)
      expect(sockets).toHaveLength(n) // not yet
      vi.advanceTimersByTime(1)
      expect(sockets).toHaveLength(n + 1)
    }
    // random()=0 → half of 100, 200, 400, 800, 1600 (cap), 1600
    expect(delays).toEqual([50, 100, 200, 400, 800, 800])
    last().open()
    last().hello()
    expect(c.snapshot.attempt).toBe(0)
    last().drop()
    expect(c.snapshot.retryAt! - Date.now()).toBe(50)
  })

  it('keeps the jittered delay within [exp/2, exp]', () => {
    for (const r of [0, 0.25, 0.999]) {
      const c = client({ random: () => r })
      for (let a = 1; a <= 8; a++) {
        const exp = Math.min(1600, 100 * 2 ** (a - 1))
        const d = c.backoff(a)
        expect(d).toBeGreaterThanOrEqual(exp / 2)
        expect(d).toBeLessThanOrEqual(exp)
      }
    }
  })

  it('replaces a silent connection after 2 × heartbeat_ms (watchdog)', () => {
    const c = client()
    c.start()
    last().open()
    last().hello(1000)
    const first = last()
    // Traffic keeps it alive.
    for (let i = 0; i < 5; i++) {
      vi.advanceTimersByTime(1500)
      first.recv({ type: 'heartbeat', time: new Date().toISOString() })
    }
    expect(c.snapshot.state).toBe('open')
    vi.advanceTimersByTime(1999)
    expect(c.snapshot.state).toBe('open')
    vi.advanceTimersByTime(1)
    expect(first.closedWith?.code).toBe(4000)
    expect(c.snapshot.state).toBe('reconnecting')
    vi.advanceTimersByTime(100)
    expect(sockets).toHaveLength(2)
  })

  it('gives up on a socket that never says hello', () => {
    const c = client()
    c.start()
    last().open()
    vi.advanceTimersByTime(1000)
    expect(sockets[0]!.closedWith).not.toBeNull()
    expect(c.snapshot.state).toBe('reconnecting')
  })

  it('waits while offline and connects when back online', () => {
    const c = client()
    c.start()
    c.setOffline(true)
    last().drop()
    expect(c.snapshot.state).toBe('offline')
    vi.advanceTimersByTime(60_000)
    expect(sockets).toHaveLength(1)
    c.setOffline(false)
    expect(sockets).toHaveLength(2)
  })

  it('stop() closes for good', () => {
    const c = client()
    c.start()
    last().open()
    last().hello()
    c.stop()
    expect(sockets[0]!.closedWith?.code).toBe(1000)
    expect(c.snapshot.state).toBe('closed')
    vi.advanceTimersByTime(60_000)
    expect(sockets).toHaveLength(1)
  })
})

describe('SocketClient subscriptions', () => {
  it('sends subscriptions made before the connection opens once hello arrives', () => {
    const c = client()
    c.subscribe('j1', { results: true })
    c.start()
    last().open()
    expect(last().sent).toHaveLength(0)
    last().hello()
    expect(subscribes(last())).toEqual([{ type: 'subscribe', job: 'j1', after: 0 }])
  })

  it('resumes after a drop from the highest applied seq: no gap, no duplicate', () => {
    const server = new FakeServer()
    server.addJob('j1', 40)
    const c = client()
    const got: number[] = []
    c.subscribe('j1', { results: true, onResults: (m) => got.push(...m.items.map((i) => i.index)) })
    c.start()
    server.attach(last())
    server.produce('j1', 0, items(0, 10))
    const seq2 = server.produce('j1', 1, items(10, 10))
    expect(c.appliedSeq('j1')).toBe(seq2)
    // The connection dies; meanwhile chunk 2 is stored but not delivered.
    last().drop()
    server.produce('j1', 2, items(20, 10), { silent: true })
    vi.advanceTimersByTime(100)
    expect(sockets).toHaveLength(2)
    server.attach(last())
    expect(subscribes(last())).toEqual([{ type: 'subscribe', job: 'j1', after: seq2 }])
    server.produce('j1', 3, items(30, 10))
    server.finish('j1')
    expect(got).toEqual(Array.from({ length: 40 }, (_, i) => i))
  })

  it('drops results frames with seq ≤ the last applied one when a server replays', () => {
    const server = new FakeServer()
    server.ignoreAfter = true
    server.addJob('j1', 30)
    const c = client()
    const got: number[] = []
    c.subscribe('j1', { results: true, onResults: (m) => got.push(...m.items.map((i) => i.index)) })
    c.start()
    server.attach(last())
    server.produce('j1', 0, items(0, 10))
    server.produce('j1', 1, items(10, 10))
    last().drop()
    vi.advanceTimersByTime(100)
    server.attach(last()) // replays chunks 0 and 1 again
    server.produce('j1', 2, items(20, 10))
    expect(got).toEqual(Array.from({ length: 30 }, (_, i) => i))
    expect(c.snapshot.droppedResults).toBe(2)
  })

  it('survives several drops in a row mid-stream', () => {
    const server = new FakeServer()
    server.addJob('j1', 100)
    const c = client()
    const got: number[] = []
    c.subscribe('j1', { results: true, onResults: (m) => got.push(...m.items.map((i) => i.index)) })
    c.start()
    server.attach(last())
    for (let k = 0; k < 10; k++) {
      server.produce('j1', k, items(k * 10, 10), { silent: k % 3 === 1 })
      if (k % 3 === 1) {
        last().drop(4008, 'slow consumer')
        vi.advanceTimersByTime(1000)
        server.attach(last())
      }
    }
    server.finish('j1')
    expect(new Set(got).size).toBe(100)
    expect(got).toHaveLength(100)
  })

  it('does not resubscribe a job whose stream ended', () => {
    const server = new FakeServer()
    server.addJob('j1', 10)
    const c = client()
    const ends: number[] = []
    c.subscribe('j1', { results: true, onEnd: (m) => ends.push(m.last_seq) })
    c.start()
    server.attach(last())
    server.produce('j1', 0, items(0, 10))
    server.finish('j1')
    expect(ends).toHaveLength(1)
    last().drop()
    vi.advanceTimersByTime(100)
    server.attach(last())
    expect(subscribes(last())).toEqual([])
  })

  it('follows progress only with results: false and ignores results', () => {
    const c = client()
    const progress: number[] = []
    const results: ResultsMessage[] = []
    c.subscribe('j1', { onProgress: (s) => progress.push(s.done), onResults: (m) => results.push(m) })
    c.start()
    last().open()
    last().hello()
    expect(subscribes(last())).toEqual([{ type: 'subscribe', job: 'j1', results: false }])
    last().recv({ type: 'progress', job: 'j1', status: status('j1', { done: 5, total: 10 }) })
    last().recv({ type: 'results', job: 'j1', seq: 3, chunk: 0, items: items(0, 1) })
    expect(progress).toEqual([5])
    expect(results).toEqual([])
    expect(c.appliedSeq('j1')).toBe(0)
  })

  it('switches a progress-only subscription to results from the applied seq, and back', () => {
    const c = client()
    c.start()
    last().open()
    last().hello()
    const stopProgress = c.subscribe('j1', {})
    const stopResults = c.subscribe('j1', { results: true })
    last().recv({ type: 'results', job: 'j1', seq: 7, chunk: 0, items: items(0, 1) })
    stopResults()
    expect(subscribes(last())).toEqual([
      { type: 'subscribe', job: 'j1', results: false },
      { type: 'subscribe', job: 'j1', after: 0 },
      { type: 'subscribe', job: 'j1', results: false },
    ])
    c.subscribe('j1', { results: true })
    expect(subscribes(last()).at(-1)).toEqual({ type: 'subscribe', job: 'j1', after: 7 })
    stopProgress()
  })

  it('unsubscribes when the last listener leaves', () => {
    const c = client()
    c.start()
    last().open()
    last().hello()
    const a = c.subscribe('j1', {})
    const b = c.subscribe('j1', {})
    a()
    expect(last().sent.filter((m) => m.type === 'unsubscribe')).toHaveLength(0)
    b()
    expect(last().sent.filter((m) => m.type === 'unsubscribe')).toEqual([{ type: 'unsubscribe', job: 'j1' }])
    expect(c.subscriptions()).toEqual([])
  })

  it('reports subscription errors and does not retry them', () => {
    const server = new FakeServer()
    const c = client()
    const errors: string[] = []
    c.subscribe('nope', { onError: (m) => errors.push(m.code) })
    c.start()
    server.attach(last())
    expect(errors).toEqual(['unknown_job'])
    last().drop()
    vi.advanceTimersByTime(100)
    server.attach(last())
    expect(subscribes(last())).toEqual([])
  })

  it('dropSocket() loses in-flight frames but the resume fills the gap', () => {
    const server = new FakeServer()
    server.addJob('j1', 30)
    const c = client()
    const got: number[] = []
    c.subscribe('j1', { results: true, onResults: (m) => got.push(...m.items.map((i) => i.index)) })
    c.start()
    server.attach(last())
    server.produce('j1', 0, items(0, 10))
    const dropped = last()
    c.dropSocket()
    expect(dropped.closedWith?.code).toBe(4000)
    server.produce('j1', 1, items(10, 10)) // sent to a dead socket: lost
    vi.advanceTimersByTime(100)
    server.attach(last())
    server.produce('j1', 2, items(20, 10))
    expect(got).toEqual(Array.from({ length: 30 }, (_, i) => i))
  })
})

describe('SocketClient busy subscriptions', () => {
  // Long enough for the heartbeat watchdog to stay out of these tests.
  const HEARTBEAT = 600_000

  it('retries a subscription refused with busy after retry_after_ms, from the current cursor', () => {
    const server = new FakeServer()
    server.addJob('j1', 30)
    const c = client()
    const got: number[] = []
    const errors: string[] = []
    c.subscribe('j1', { results: true, onResults: (m) => got.push(...m.items.map((i) => i.index)), onError: (m) => errors.push(m.code) })
    c.start()
    server.attach(last(), HEARTBEAT)
    const seq1 = server.produce('j1', 0, items(0, 10))
    // A second listener re-subscribes; the gateway is at its limit.
    server.busy.set('j1', { times: 1, retryAfterMs: 2500 })
    c.subscribe('j1', { results: true })
    expect(subscribes(last())).toHaveLength(2)
    expect(errors).toEqual([]) // not final
    expect(c.subscriptions()[0]!.state).toBe('pending')
    server.produce('j1', 1, items(10, 10), { silent: true }) // stored meanwhile
    vi.advanceTimersByTime(2499)
    expect(subscribes(last())).toHaveLength(2)
    vi.advanceTimersByTime(1)
    expect(subscribes(last()).at(-1)).toEqual({ type: 'subscribe', job: 'j1', after: seq1 })
    expect(c.subscriptions()[0]!.state).toBe('active')
    server.produce('j1', 2, items(20, 10))
    server.finish('j1')
    expect(got).toEqual(Array.from({ length: 30 }, (_, i) => i))
    expect(errors).toEqual([])
  })

  it(`waits ${DEFAULT_BUSY_RETRY_MS} ms when busy comes without retry_after_ms, and keeps retrying`, () => {
    const server = new FakeServer()
    server.addJob('j1', 10)
    server.busy.set('j1', { times: 3 })
    const c = client()
    const ends: number[] = []
    c.subscribe('j1', { results: true, onEnd: (m) => ends.push(m.last_seq) })
    c.start()
    server.attach(last(), HEARTBEAT)
    expect(subscribes(last())).toHaveLength(1)
    for (let n = 2; n <= 4; n++) {
      vi.advanceTimersByTime(DEFAULT_BUSY_RETRY_MS - 1)
      expect(subscribes(last())).toHaveLength(n - 1)
      vi.advanceTimersByTime(1)
      expect(subscribes(last())).toHaveLength(n)
    }
    expect(subscribes(last()).every((m) => m.after === 0)).toBe(true)
    expect(server.subscription(last(), 'j1')).toEqual({ results: true })
    const seq = server.produce('j1', 0, items(0, 10))
    server.finish('j1')
    expect(ends).toEqual([seq])
    vi.advanceTimersByTime(10 * DEFAULT_BUSY_RETRY_MS)
    expect(subscribes(last())).toHaveLength(4)
  })

  it('retries a busy progress-only subscription as progress-only', () => {
    const server = new FakeServer()
    server.addJob('j1', 10)
    server.busy.set('j1', { times: 1, retryAfterMs: 300 })
    const c = client()
    c.subscribe('j1', {})
    c.start()
    server.attach(last(), HEARTBEAT)
    vi.advanceTimersByTime(300)
    expect(subscribes(last())).toEqual([
      { type: 'subscribe', job: 'j1', results: false },
      { type: 'subscribe', job: 'j1', results: false },
    ])
    expect(server.subscription(last(), 'j1')).toEqual({ results: false })
  })

  it('drops a pending busy retry when the last listener leaves or the connection is replaced', () => {
    const server = new FakeServer()
    server.addJob('j1', 10)
    server.addJob('j2', 10)
    server.busy.set('j1', { times: 1, retryAfterMs: 500 })
    server.busy.set('j2', { times: 1, retryAfterMs: 500 })
    const c = client()
    const stop1 = c.subscribe('j1', { results: true })
    c.subscribe('j2', { results: true })
    c.start()
    server.attach(last(), HEARTBEAT)
    stop1()
    // The connection dies before the retry is due; the next hello re-sends j2 once.
    last().drop()
    vi.advanceTimersByTime(100)
    server.attach(last(), HEARTBEAT)
    expect(subscribes(last())).toEqual([{ type: 'subscribe', job: 'j2', after: 0 }])
    vi.advanceTimersByTime(5000)
    expect(subscribes(last())).toHaveLength(1)
    expect(subscribes(sockets[0]!).map((m) => m.job)).toEqual(['j1', 'j2'])
  })

  it('still treats other subscription errors as final', () => {
    const c = client()
    const errors: string[] = []
    c.subscribe('j1', { results: true, onError: (m) => errors.push(m.code) })
    c.start()
    last().open()
    last().hello(HEARTBEAT)
    last().recv({ type: 'error', ref: 'j1', code: 'too_many_subscriptions', message: 'limit 64', retry_after_ms: 100 })
    expect(errors).toEqual(['too_many_subscriptions'])
    expect(c.subscriptions()[0]!.state).toBe('failed')
    vi.advanceTimersByTime(10_000)
    expect(subscribes(last())).toHaveLength(1)
  })
})

describe('SocketClient re-subscribing on the same connection', () => {
  function openClient(): SocketClient {
    const c = client()
    c.start()
    last().open()
    last().hello()
    return c
  }
  const subscribed = (after: number, results: boolean, patch = {}) => ({
    type: 'subscribed',
    job: 'j1',
    after,
    results,
    status: status('j1', { total: 20, ...patch }),
  })
  const end = (lastSeq: number) => ({
    type: 'end',
    job: 'j1',
    status: status('j1', { state: 'completed', total: 20, done: 20 }),
    last_seq: lastSeq,
  })
  const results = (seq: number, from: number) => ({ type: 'results', job: 'j1', seq, chunk: from / 10, start: from, done: 10, failed: 0, items: items(from, 10) })

  it('ignores the end of a replaced progress-only stream that arrives before the new subscribed', () => {
    const c = openClient()
    const ends: number[] = []
    const got: number[] = []
    c.subscribe('j1', { onEnd: (m) => ends.push(m.last_seq) }) // the jobs list
    last().recv(subscribed(0, false))
    // The job page opens: results wanted, the server's subscription is replaced.
    c.subscribe('j1', { results: true, onResults: (m) => got.push(...m.items.map((i) => i.index)), onEnd: (m) => ends.push(m.last_seq) })
    expect(subscribes(last()).at(-1)).toEqual({ type: 'subscribe', job: 'j1', after: 0 })
    // The job had finished: the old progress-only stream's end was already on its way.
    last().recv(end(50))
    expect(ends).toEqual([])
    expect(c.subscriptions()[0]!.state).toBe('pending')
    // The new stream replays every result, then ends.
    last().recv(subscribed(0, true, { state: 'completed', done: 20 }))
    last().recv(results(40, 0))
    last().recv(results(50, 10))
    last().recv(end(50))
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i))
    expect(ends).toEqual([50, 50]) // once, to each listener
    expect(c.subscriptions()[0]!.state).toBe('ended')
  })

  it('counts unanswered subscribes: only the end after the last subscribed counts', () => {
    const c = openClient()
    const ends: number[] = []
    const got: number[] = []
    c.subscribe('j1', { results: true, onResults: (m) => got.push(...m.items.map((i) => i.index)), onEnd: (m) => ends.push(m.last_seq) })
    c.subscribe('j1', { results: true }) // before the first subscribed
    expect(subscribes(last())).toHaveLength(2)
    // Stream 1 runs to its end before the server handles the second subscribe.
    last().recv(subscribed(0, true))
    last().recv(results(40, 0))
    last().recv(end(40))
    expect(ends).toEqual([])
    // Stream 2: results with seq ≤ 40 are repeats and dropped.
    last().recv(subscribed(0, true))
    last().recv(results(40, 0))
    last().recv(results(50, 10))
    last().recv(end(50))
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i))
    expect(ends).toEqual([50])
    expect(c.snapshot.droppedResults).toBe(1)
  })

  it('a subscription whose old end was ignored is still followed after a reconnect', () => {
    const c = openClient()
    c.subscribe('j1', {})
    last().recv(subscribed(0, false))
    c.subscribe('j1', { results: true })
    last().recv(end(0))
    last().drop()
    vi.advanceTimersByTime(100)
    last().open()
    last().hello()
    expect(subscribes(last())).toEqual([{ type: 'subscribe', job: 'j1', after: 0 }])
  })

  it('takes an end that follows the latest subscribed', () => {
    const c = openClient()
    const ends: number[] = []
    c.subscribe('j1', { results: true, onEnd: (m) => ends.push(m.last_seq) })
    last().recv(subscribed(0, true))
    last().recv(results(40, 0))
    last().recv(end(40))
    expect(ends).toEqual([40])
    expect(c.subscriptions()[0]!.state).toBe('ended')
  })
})

describe('SocketClient requests', () => {
  function open(): SocketClient {
    const c = client({ requestTimeoutMs: 500 })
    c.start()
    last().open()
    last().hello()
    return c
  }

  it('predict resolves with the matching prediction', async () => {
    const c = open()
    const p = c.predict('digits', [[1, 2, 3]])
    const req = last().sent[0]!
    expect(req).toMatchObject({ type: 'predict', model: 'digits', inputs: [[1, 2, 3]] })
    const ref = (req as { ref: string }).ref
    last().recv({ type: 'prediction', ref: 'other', model: 'x', version: '1', items: [], latency_ms: 1 })
    last().recv({ type: 'prediction', ref, model: 'digits', version: '1', items: items(0, 1), latency_ms: 3 })
    await expect(p).resolves.toMatchObject({ latency_ms: 3 })
  })

  it('predict rejects on an error with its ref, on close, on timeout, and when not connected', async () => {
    const c = open()
    const p1 = c.predict('digits', [[1]])
    const ref = (last().sent[0] as { ref: string }).ref
    last().recv({ type: 'error', ref, code: 'invalid_input', message: 'expected 64 values, got 1' })
    await expect(p1).rejects.toMatchObject({ code: 'invalid_input' })

    const p2 = c.predict('digits', [[1]])
    last().drop()
    await expect(p2).rejects.toMatchObject({ code: 'connection_lost' })
    await expect(c.predict('digits', [[1]])).rejects.toMatchObject({ code: 'not_connected' })

    vi.advanceTimersByTime(100)
    last().open()
    last().hello()
    const p3 = c.predict('digits', [[1]])
    vi.advanceTimersByTime(500)
    await expect(p3).rejects.toMatchObject({ code: 'timeout' })
  })

  it('ignores malformed frames', () => {
    const c = open()
    last().onmessage?.({ data: 'not json' } as MessageEvent)
    last().onmessage?.({ data: '{"no":"type"}' } as MessageEvent)
    expect(c.snapshot.state).toBe('open')
  })
})

describe('SocketClient authentication', () => {
  const HEARTBEAT = 600_000
  const KEY = 'bi_test_key'

  function authServer(): FakeServer {
    const server = new FakeServer()
    server.keys.set(KEY, 'acme')
    return server
  }

  it('sends auth as the very first message, then the subscriptions once authenticated', () => {
    let key: string | null = KEY
    const c = client({ token: () => key })
    const states: string[] = []
    c.onState((s) => states.push(s.state))
    c.subscribe('j1', { results: true })
    c.start()
    const s = last()
    s.open()
    expect(s.sent).toEqual([]) // nothing before hello
    // hello with auth_required: the client answers with auth and nothing else.
    s.helloAuth(HEARTBEAT)
    expect(s.sent).toEqual([{ type: 'auth', token: KEY }])
    expect(c.snapshot.state).toBe('authenticating')
    expect(c.isOpen).toBe(false)
    c.subscribe('j2', {}) // made meanwhile: waits too
    expect(s.sent).toHaveLength(1)
    s.recv({ type: 'authenticated', tenant: 'acme' })
    expect(c.snapshot.state).toBe('open')
    expect(c.snapshot.tenant).toBe('acme')
    expect(s.sent.map((m) => m.type)).toEqual(['auth', 'subscribe', 'subscribe'])
    expect(states).toEqual(['idle', 'connecting', 'authenticating', 'open'])
    // The token is read per connection: a later key is used on the next one.
    key = 'bi_other'
    c.dropSocket()
    vi.advanceTimersByTime(100)
    last().open()
    last().helloAuth(HEARTBEAT)
    expect(last().sent[0]).toEqual({ type: 'auth', token: 'bi_other' })
  })

  it('works against the fake gateway: auth first, subscriptions and results after', () => {
    const server = authServer()
    server.addJob('j1', 20)
    server.produce('j1', 0, items(0, 10))
    const c = client({ token: () => KEY })
    const got: number[] = []
    c.subscribe('j1', { results: true, onResults: (m) => got.push(...m.items.map((i) => i.index)) })
    c.start()
    server.attach(last(), HEARTBEAT)
    expect(server.closes).toEqual([]) // a message before auth would have closed it with 4401
    expect(last().sent.map((m) => m.type)).toEqual(['auth', 'subscribe'])
    expect(server.tenants.get(last())).toBe('acme')
    server.produce('j1', 1, items(10, 10))
    server.finish('j1')
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i))
  })

  it('queues requests made while connecting or authenticating and sends them once authenticated', async () => {
    const server = authServer()
    const c = client({ token: () => KEY, requestTimeoutMs: 5000 })
    c.start()
    // Made before the socket is even open: queued, not refused.
    const p1 = c.predict('digits', [[1, 2]])
    const s = last()
    s.open()
    const p2 = c.ping()
    // The fake gateway closes with 4401 on anything but auth/ping before authenticated.
    server.attach(s, HEARTBEAT)
    expect(server.closes).toEqual([])
    expect(s.sent.map((m) => m.type)).toEqual(['auth', 'predict', 'ping'])
    await expect(p1).resolves.toMatchObject({ type: 'prediction', model: 'digits' })
    await expect(p2).resolves.toMatchObject({ type: 'pong' })
  })

  it('a queued request still times out, and fails when the connection closes before it opens', async () => {
    const c = client({ token: () => KEY, requestTimeoutMs: 500 })
    c.start()
    const p1 = c.predict('digits', [[1]])
    vi.advanceTimersByTime(500)
    await expect(p1).rejects.toMatchObject({ code: 'timeout' })
    const p2 = c.predict('digits', [[1]])
    last().open()
    last().helloAuth(HEARTBEAT)
    last().drop()
    await expect(p2).rejects.toMatchObject({ code: 'connection_lost' })
    // No connection under way: refused at once (the caller falls back to HTTP).
    await expect(c.predict('digits', [[1]])).rejects.toMatchObject({ code: 'not_connected' })
  })

  it('close 4401 (wrong key) stops reconnecting: no loop with a bad key', async () => {
    const server = authServer()
    server.addJob('j1', 10)
    let key = 'bi_wrong'
    const c = client({ token: () => key })
    c.subscribe('j1', { results: true })
    c.start()
    const p = c.predict('digits', [[1]])
    server.attach(last(), HEARTBEAT)
    expect(server.closes).toEqual([4401])
    expect(c.snapshot.state).toBe('unauthorized')
    expect(c.snapshot.lastClose?.code).toBe(4401)
    await expect(p).rejects.toMatchObject({ code: 'unauthorized' })
    // Nothing happens however long we wait, nor when the tab comes back or the network returns.
    vi.advanceTimersByTime(10 * 60_000)
    c.connectNow()
    c.setOffline(true)
    c.setOffline(false)
    expect(sockets).toHaveLength(1)
    expect(c.snapshot.state).toBe('unauthorized')
    // A new key (after sign-in): start() connects again and the subscription is resent.
    key = KEY
    c.start()
    expect(sockets).toHaveLength(2)
    server.attach(last(), HEARTBEAT)
    expect(c.snapshot.state).toBe('open')
    expect(subscribes(last())).toEqual([{ type: 'subscribe', job: 'j1', after: 0 }])
  })

  it('with no key to send, a server that wants one is not retried', () => {
    const c = client({ token: () => null })
    c.start()
    last().open()
    last().helloAuth(HEARTBEAT)
    expect(last().sent).toEqual([])
    expect(last().closedWith?.code).toBe(1000)
    expect(c.snapshot.state).toBe('unauthorized')
    vi.advanceTimersByTime(60_000)
    expect(sockets).toHaveLength(1)
  })

  it('sends no auth to a server that does not ask for it', () => {
    const c = client({ token: () => KEY })
    c.subscribe('j1', {})
    c.start()
    last().open()
    last().hello(HEARTBEAT)
    expect(c.snapshot.state).toBe('open')
    expect(c.snapshot.tenant).toBeNull()
    expect(last().sent.map((m) => m.type)).toEqual(['subscribe'])
  })

  it('close 4429 (tenant connection limit) backs off from limitBackoffMs, growing although hello arrives', () => {
    const server = authServer()
    server.tenantLimit.set('acme', 0)
    const c = client({ token: () => KEY, random: () => 0, limitBackoffMs: 2000, maxBackoffMs: 16_000 })
    c.start()
    const delays: number[] = []
    for (let i = 0; i < 5; i++) {
      server.attach(last(), HEARTBEAT) // hello, auth, closed with 4429
      expect(c.snapshot.state).toBe('reconnecting')
      expect(c.snapshot.lastClose?.code).toBe(4429)
      const d = c.snapshot.retryAt! - Date.now()
      delays.push(d)
      const n = sockets.length
      vi.advanceTimersByTime(d - 1)
      expect(sockets).toHaveLength(n)
      vi.advanceTimersByTime(1)
      expect(sockets).toHaveLength(n + 1)
    }
    // random()=0 → half of 2000, 4000, 8000, 16000 (cap), 16000
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000])
    expect(server.closes).toEqual([4429, 4429, 4429, 4429, 4429])
    // Room again: authenticated resets the backoff.
    server.tenantLimit.delete('acme')
    server.attach(last(), HEARTBEAT)
    expect(c.snapshot.state).toBe('open')
    expect(c.snapshot.attempt).toBe(0)
    last().drop()
    expect(c.snapshot.retryAt! - Date.now()).toBe(50) // the ordinary backoff again
  })

  it('retries a subscription refused with rate_limited after retry_after_ms', () => {
    const server = authServer()
    server.addJob('j1', 20)
    const c = client({ token: () => KEY })
    const got: number[] = []
    const errors: string[] = []
    server.rateLimited.set('subscribe', { times: 2, retryAfterMs: 750 })
    c.subscribe('j1', { results: true, onResults: (m) => got.push(...m.items.map((i) => i.index)), onError: (m) => errors.push(m.code) })
    c.start()
    server.attach(last(), HEARTBEAT)
    server.produce('j1', 0, items(0, 10), { silent: true })
    expect(subscribes(last())).toHaveLength(1)
    vi.advanceTimersByTime(749)
    expect(subscribes(last())).toHaveLength(1)
    vi.advanceTimersByTime(1)
    expect(subscribes(last())).toHaveLength(2) // refused again
    vi.advanceTimersByTime(750)
    expect(subscribes(last())).toHaveLength(3)
    server.produce('j1', 1, items(10, 10))
    server.finish('j1')
    expect(errors).toEqual([])
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i))
  })

  it('rejects predict and submit refused with rate_limited, with the wait', async () => {
    const server = authServer()
    const c = client({ token: () => KEY })
    c.start()
    server.attach(last(), HEARTBEAT)
    server.rateLimited.set('predict', { times: 1, retryAfterMs: 1200 })
    server.rateLimited.set('submit', { times: 1, retryAfterMs: 300 })
    await expect(c.predict('digits', [[1]])).rejects.toMatchObject({ name: 'SocketError', code: 'rate_limited', retryAfterMs: 1200 })
    await expect(c.submit('digits', [[1]])).rejects.toMatchObject({ code: 'rate_limited', retryAfterMs: 300 })
    // Not retried by the client: the next one goes through.
    await expect(c.predict('digits', [[1]])).resolves.toMatchObject({ type: 'prediction' })
    await expect(c.submit('digits', [[1], [2]])).resolves.toMatchObject({ total: 2 })
  })

  it('gives up on a server that never answers auth (connect timeout) and retries', () => {
    const c = client({ token: () => KEY })
    c.start()
    last().open()
    last().helloAuth(HEARTBEAT)
    expect(c.snapshot.state).toBe('authenticating')
    vi.advanceTimersByTime(1000)
    expect(sockets[0]!.closedWith?.code).toBe(4000)
    expect(c.snapshot.state).toBe('reconnecting')
  })
})
