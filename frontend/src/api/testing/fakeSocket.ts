// Test doubles for the WebSocket client: a fake socket and a tiny in-memory
// server that follows api/websocket.md (subscribe replays chunks with
// seq > after unless results: false, then progress and end), including its
// authentication: with `keys` set, hello says auth_required and only `auth`
// (or `ping`) is accepted first; a wrong key or any other message closes
// with 4401, a tenant over `tenantLimit` connections with 4429.
import type { ClientMessage, ItemResult, JobStatus, ResultsMessage, ServerMessage } from '../types'
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

  hello(heartbeatMs = 1000, authRequired = false): void {
    this.recv({
      type: 'hello',
      server: 'fake/1',
      heartbeat_ms: heartbeatMs,
      max_message_bytes: 1 << 20,
      max_subscriptions: 64,
      auth_required: authRequired,
    })
  }

  /** hello with auth_required, as a gateway does for a browser's connection. */
  helloAuth(heartbeatMs = 1000): void {
    this.hello(heartbeatMs, true)
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
    skipped: 0,
    priority: 'normal',
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

type StoredChunk = Omit<ResultsMessage, 'type' | 'job'>

interface FakeJob {
  total: number
  chunks: StoredChunk[]
  ended: boolean
}

/** One socket's subscription to a job, as the server keeps it. */
interface FakeSub {
  results: boolean
}

/** Message types the key's request rate applies to. */
type Limited = 'subscribe' | 'submit' | 'predict'

/**
 * In-memory server for one or more FakeSockets. `ignoreAfter` makes it replay
 * every chunk regardless of `after` (a misbehaving server) to test the
 * client's duplicate filter; `busy` answers the next subscribes to a job with
 * `error` `busy`, as a gateway at GATEWAY_MAX_SUBSCRIPTIONS does.
 */
export class FakeServer {
  readonly jobs = new Map<string, FakeJob>()
  private seq = 100
  private readonly subs = new Map<FakeSocket, Map<string, FakeSub>>()
  ignoreAfter = false
  /** Job id → how many more subscribes to refuse with busy, and the retry_after_ms to send (none when undefined). */
  readonly busy = new Map<string, { times: number; retryAfterMs?: number }>()
  /** API key → tenant. Empty: no authentication (hello says auth_required: false). */
  readonly keys = new Map<string, string>()
  /** Tenant → connections it may have at once (close 4429 beyond). */
  readonly tenantLimit = new Map<string, number>()
  /** Message type → how many more to refuse with rate_limited, and the retry_after_ms to send. */
  readonly rateLimited = new Map<Limited, { times: number; retryAfterMs: number }>()
  /** Sockets that have authenticated, with their tenant. */
  readonly tenants = new Map<FakeSocket, string>()
  /** Every socket's close code, in order (4401, 4429, ...). */
  readonly closes: number[] = []

  attach(s: FakeSocket, heartbeatMs = 1000): void {
    this.subs.set(s, new Map())
    s.onSend = (m) => this.handle(s, m)
    s.open()
    s.hello(heartbeatMs, this.keys.size > 0)
  }

  /** Connections a tenant has open now. */
  connections(tenant: string): number {
    return [...this.tenants.values()].filter((t) => t === tenant).length
  }

  /** The server closes s with code (4401, 4429, ...). */
  close(s: FakeSocket, code: number, reason = ''): void {
    this.closes.push(code)
    this.tenants.delete(s)
    this.subs.delete(s)
    s.drop(code, reason)
  }

  private authenticate(s: FakeSocket, m: ClientMessage): boolean {
    if (this.keys.size === 0 || this.tenants.has(s)) return true
    if (m.type === 'ping') return true
    if (m.type !== 'auth') {
      this.close(s, 4401, 'authentication required')
      return false
    }
    const tenant = this.keys.get(m.token)
    if (tenant === undefined) {
      this.close(s, 4401, 'invalid credentials')
      return false
    }
    const limit = this.tenantLimit.get(tenant)
    if (limit !== undefined && this.connections(tenant) >= limit) {
      this.close(s, 4429, `tenant ${tenant} has ${limit} connections`)
      return false
    }
    this.tenants.set(s, tenant)
    s.recv({ type: 'authenticated', tenant })
    return false
  }

  /** Answers rate_limited when the key is over its rate for this message type. */
  private limited(s: FakeSocket, type: Limited, ref: string | undefined, job?: string): boolean {
    const l = this.rateLimited.get(type)
    if (!l || l.times <= 0) return false
    l.times -= 1
    s.recv({
      type: 'error',
      ...(ref === undefined ? {} : { ref }),
      ...(job === undefined ? {} : { job }),
      code: 'rate_limited',
      message: 'over the key\'s request rate',
      retry_after_ms: l.retryAfterMs,
    })
    return true
  }

  addJob(id: string, total: number): void {
    this.jobs.set(id, { total, chunks: [], ended: false })
  }

  /** A chunk of results is stored (and streamed to live subscribers unless `silent`). */
  produce(job: string, chunk: number, its: ItemResult[], opts: { silent?: boolean } = {}): number {
    const j = this.jobs.get(job)!
    this.seq += 3 // shared sequence: not contiguous
    const failed = its.filter((i) => 'error' in i).length
    const c: StoredChunk = { seq: this.seq, chunk, start: its[0]?.index ?? 0, done: its.length - failed, failed, items: its }
    j.chunks.push(c)
    if (!opts.silent) {
      for (const [s, m] of this.subs) if (m.get(job)?.results) s.recv({ type: 'results', job, ...c })
    }
    return c.seq
  }

  finish(job: string): void {
    const j = this.jobs.get(job)!
    j.ended = true
    for (const [s, m] of this.subs) if (m.has(job)) this.sendEnd(s, job)
  }

  /** Whether socket s follows job, and with results. */
  subscription(s: FakeSocket, job: string): FakeSub | undefined {
    return this.subs.get(s)?.get(job)
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
    if (!this.authenticate(s, m)) return
    if (m.type === 'auth') {
      s.recv({ type: 'error', code: 'invalid_message', message: 'already authenticated' })
    } else if (m.type === 'predict') {
      if (this.limited(s, 'predict', m.ref)) return
      s.recv({ type: 'prediction', ref: m.ref, model: m.model, version: m.version ?? '1', items: items(0, m.inputs.length), latency_ms: 1 })
    } else if (m.type === 'submit') {
      if (this.limited(s, 'submit', m.ref)) return
      const id = `job-${this.jobs.size + 1}`
      this.addJob(id, m.inputs.length)
      s.recv({ type: 'accepted', ref: m.ref, job: status(id, { state: 'queued', total: m.inputs.length }) })
    } else if (m.type === 'subscribe') {
      if (this.limited(s, 'subscribe', m.job, m.job)) return
      const j = this.jobs.get(m.job)
      if (!j) {
        s.recv({ type: 'error', ref: m.job, code: 'unknown_job', message: `no job ${m.job}` })
        return
      }
      const busy = this.busy.get(m.job)
      if (busy && busy.times > 0) {
        busy.times -= 1
        s.recv({
          type: 'error',
          ref: m.job,
          code: 'busy',
          message: 'too many subscriptions on this gateway',
          ...(busy.retryAfterMs === undefined ? {} : { retry_after_ms: busy.retryAfterMs }),
        })
        return
      }
      const after = m.after ?? 0
      const results = m.results ?? true
      this.subs.get(s)!.set(m.job, { results })
      const st = status(m.job, { total: j.total, done: this.done(m.job), state: j.ended ? 'completed' : 'running' })
      s.recv({ type: 'subscribed', job: m.job, after, results, status: st })
      if (results) {
        for (const c of j.chunks) {
          if (this.ignoreAfter || c.seq > after) s.recv({ type: 'results', job: m.job, ...c })
        }
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
