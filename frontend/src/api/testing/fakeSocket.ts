// Test doubles for the WebSocket client: a fake socket and a tiny in-memory
// server that follows api/websocket.md (subscribe replays chunks with
// seq > after, then progress and end).
import type { ClientMessage, ItemResult, JobStatus, ServerMessage } from '../types'
import type { SocketLike } from '../ws'

export class FakeSocket implements SocketLike {
  readyState = 0
  onopen: ((ev: Event) => void) | null = null
  onmessage: ((ev: MessageEvent) => void) | null = null
  onclose: ((ev: CloseEvent) => void) | null = null
  onerror: ((ev: Event) => void) | null = null
  readonly sent: ClientMessage[] = []
  closedWith: { code: number; reason: string } | null = null
  readonly url: string
  /** Called for every client frame (the fake server hooks in here). */
  onSend: ((m: ClientMessage) => void) | null = null

  constructor(url: string) {
    this.url = url
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open')
    const m = JSON.parse(data) as ClientMessage
    this.sent.push(m)
    this.onSend?.(m)
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState >= 2) return
    this.readyState = 3
    this.closedWith = { code, reason }
  }

  // ---- driven by the test / fake server

  open(): void {
    this.readyState = 1
    this.onopen?.(new Event('open'))
  }

  recv(m: ServerMessage | Record<string, unknown>): void {
    if (this.readyState !== 1) return
    this.onmessage?.({ data: JSON.stringify(m) } as MessageEvent)
  }

  hello(heartbeatMs = 1000): void {
    this.recv({ type: 'hello', server: 'fake/1', heartbeat_ms: heartbeatMs, max_message_bytes: 1 << 20, max_subscriptions: 64 })
  }

  /** The connection dies (server side or network). */
  drop(code = 1006, reason = ''): void {
    this.readyState = 3
    this.onclose?.({ code, reason, wasClean: false } as CloseEvent)
  }
}

export function status(job: string, patch: Partial<JobStatus> = {}): JobStatus {
  return {
    id: job,
    model: 'digits',
    version: '1',
    state: 'running',
    total: 0,
    done: 0,
    failed: 0,
    chunks: 0,
    created_at: '2024-01-01T00:00:00Z',
    elapsed_ms: 0,
    items_per_sec: 0,
    ...patch,
  }
}

export function items(from: number, n: number): ItemResult[] {
  return Array.from({ length: n }, (_, k) => ({
    index: from + k,
    label: String((from + k) % 10),
    class: (from + k) % 10,
    score: 0.9,
    top: [],
  }))
}

interface FakeJob {
  total: number
  chunks: { seq: number; chunk: number; items: ItemResult[] }[]
  ended: boolean
}

/**
 * In-memory server for one or more FakeSockets. `ignoreAfter` makes it replay
 * every chunk regardless of `after` (a misbehaving server) to test the
 * client's duplicate filter.
 */
export class FakeServer {
  readonly jobs = new Map<string, FakeJob>()
  private seq = 100
  private readonly subs = new Map<FakeSocket, Set<string>>()
  ignoreAfter = false

  attach(s: FakeSocket, heartbeatMs = 1000): void {
    this.subs.set(s, new Set())
    s.onSend = (m) => this.handle(s, m)
    s.open()
    s.hello(heartbeatMs)
  }

  addJob(id: string, total: number): void {
    this.jobs.set(id, { total, chunks: [], ended: false })
  }

  /** A chunk of results is stored (and streamed to live subscribers unless `silent`). */
  produce(job: string, chunk: number, its: ItemResult[], opts: { silent?: boolean } = {}): number {
    const j = this.jobs.get(job)!
    this.seq += 3 // shared sequence: not contiguous
    const c = { seq: this.seq, chunk, items: its }
    j.chunks.push(c)
    if (!opts.silent) {
      for (const [s, set] of this.subs) if (set.has(job)) s.recv({ type: 'results', job, ...c })
    }
    return c.seq
  }

  finish(job: string): void {
    const j = this.jobs.get(job)!
    j.ended = true
    for (const [s, set] of this.subs) if (set.has(job)) this.sendEnd(s, job)
  }

  private done(job: string): number {
    return this.jobs.get(job)!.chunks.reduce((a, c) => a + c.items.length, 0)
  }

  private sendEnd(s: FakeSocket, job: string): void {
    const j = this.jobs.get(job)!
    s.recv({
      type: 'end',
      job,
      status: status(job, { state: 'completed', total: j.total, done: this.done(job) }),
      last_seq: j.chunks.at(-1)?.seq ?? 0,
    })
    this.subs.get(s)?.delete(job)
  }

  private handle(s: FakeSocket, m: ClientMessage): void {
    if (m.type === 'subscribe') {
      const j = this.jobs.get(m.job)
      if (!j) {
        s.recv({ type: 'error', ref: m.job, code: 'unknown_job', message: `no job ${m.job}` })
        return
      }
      this.subs.get(s)!.add(m.job)
      const st = status(m.job, { total: j.total, done: this.done(m.job), state: j.ended ? 'completed' : 'running' })
      s.recv({ type: 'subscribed', job: m.job, after: m.after, status: st })
      for (const c of j.chunks) {
        if (this.ignoreAfter || c.seq > m.after) s.recv({ type: 'results', job: m.job, ...c })
      }
      s.recv({ type: 'progress', job: m.job, status: st })
      if (j.ended) this.sendEnd(s, m.job)
    } else if (m.type === 'unsubscribe') {
      this.subs.get(s)?.delete(m.job)
      s.recv({ type: 'unsubscribed', job: m.job })
    } else if (m.type === 'ping') {
      s.recv({ type: 'pong', ref: m.ref })
    }
  }
}
