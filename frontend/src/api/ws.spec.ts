import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { FakeServer, FakeSocket, items, status } from './testing/fakeSocket'
import type { ResultsMessage, SubscribeMessage } from './types'
import { PROGRESS_ONLY_AFTER, SocketClient, type SocketClientOptions } from './ws'

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

  it('follows progress only with after = PROGRESS_ONLY_AFTER and ignores results', () => {
    const c = client()
    const progress: number[] = []
    const results: ResultsMessage[] = []
    c.subscribe('j1', { onProgress: (s) => progress.push(s.done), onResults: (m) => results.push(m) })
    c.start()
    last().open()
    last().hello()
    expect(subscribes(last())).toEqual([{ type: 'subscribe', job: 'j1', after: PROGRESS_ONLY_AFTER }])
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
    expect(subscribes(last()).map((m) => m.after)).toEqual([PROGRESS_ONLY_AFTER, 0, PROGRESS_ONLY_AFTER])
    c.subscribe('j1', { results: true })
    expect(subscribes(last()).at(-1)?.after).toBe(7)
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
