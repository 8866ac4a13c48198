// WebSocket client for /v1/ws (api/websocket.md), independent of Vue so that it
// can be unit-tested with a fake socket and fake timers.
//
// - Authentication: a browser cannot set the Authorization header of a
//   WebSocket, so when `hello` says `auth_required` the first message sent is
//   `auth` with the API key (options.token). Until `authenticated` the client
//   is not `open`: subscriptions and requests made meanwhile wait for it.
//   Close 4401 (key not accepted) ends reconnecting: the state becomes
//   `unauthorized` until start() is called again (after a new sign-in).
//   Close 4429 (the tenant's connection limit) reconnects with a backoff that
//   starts at limitBackoffMs.
// - Reconnects with exponential backoff and jitter after any close that the
//   client did not ask for; the attempt counter resets once the connection is
//   open (`hello`, and `authenticated` when it was required), so a server
//   that says hello and then refuses the connection is backed off from too.
// - Remembers, per job, the highest result `seq` it has applied and, after a
//   reconnect, re-subscribes every followed job with `after` = that value.
// - Drops any `results` frame whose seq is ≤ the last applied one (defence in
//   depth against replays) and results for subscriptions that do not want them.
// - Progress-only subscriptions send `results: false`.
// - A subscription refused with `busy` or `rate_limited` is retried after
//   `retry_after_ms` (1 s when absent) from the cursor of that moment; other
//   subscription errors are final. A `predict`/`submit` refused with
//   `rate_limited` rejects with a SocketError that carries retryAfterMs.
// - Re-subscribing a job on the same connection (a listener joins, or the
//   wish for results changes) replaces the server's subscription, and frames
//   of the replaced one may still arrive until the new `subscribed`: an `end`
//   before that is the old stream's and is ignored (see Subscription.awaiting).
// - Heartbeat watchdog: no frame for 2 × heartbeat_ms → the socket is treated
//   as dead and replaced.
import { CloseCode } from './types'
import type {
  AuthenticatedMessage,
  ClientMessage,
  EndMessage,
  ErrorMessage,
  HelloMessage,
  ItemInput,
  JobStatus,
  PredictionMessage,
  ResultsMessage,
  ServerMessage,
  SubscribeMessage,
  SubscribedMessage,
} from './types'

/**
 * connecting / reconnecting: a socket is being opened (or waits for its next
 * attempt); authenticating: `auth` sent, `authenticated` awaited; open: ready
 * for subscriptions and requests; unauthorized: the server refused the key
 * (close 4401, or no key to send), nothing is retried.
 */
export type ConnState = 'idle' | 'connecting' | 'authenticating' | 'open' | 'reconnecting' | 'offline' | 'closed' | 'unauthorized'

/** The subset of the browser WebSocket this client uses. */
export interface SocketLike {
  readonly readyState: number
  onopen: ((ev: Event) => void) | null
  onmessage: ((ev: MessageEvent) => void) | null
  onclose: ((ev: CloseEvent) => void) | null
  onerror: ((ev: Event) => void) | null
  send(data: string): void
  close(code?: number, reason?: string): void
}

export interface SocketClientOptions {
  url: string | (() => string)
  createSocket?: (url: string) => SocketLike
  /** Backoff: first retry after ~initialMs, doubling up to maxMs (with jitter). */
  initialBackoffMs?: number
  maxBackoffMs?: number
  random?: () => number
  /** Time allowed from creating the socket to being open (`hello`, and `authenticated` when required). */
  connectTimeoutMs?: number
  /** The API key for the `auth` message (null: none, and a server that requires one is not retried). */
  token?: () => string | null | undefined
  /** First backoff after close 4429 (the tenant's connection limit), doubling up to maxBackoffMs. */
  limitBackoffMs?: number
  /** Heartbeat assumed until `hello` says otherwise. */
  defaultHeartbeatMs?: number
  /** Time allowed for a `predict`/`submit` answer. */
  requestTimeoutMs?: number
  now?: () => number
}

export interface ConnSnapshot {
  state: ConnState
  /** Consecutive failed attempts since the connection was last open (`hello`, and `authenticated` when required). */
  attempt: number
  /** When the next attempt starts (ms since epoch), while reconnecting. */
  retryAt: number | null
  lastClose: { code: number; reason: string } | null
  server: HelloMessage | null
  /** The tenant of the `authenticated` answer (null: not told, e.g. a server without authentication). */
  tenant: string | null
  reconnects: number
  droppedResults: number
}

export interface JobListener {
  /** Whether this listener wants per-item results (otherwise progress only). */
  results?: boolean
  onSubscribed?(m: SubscribedMessage): void
  onResults?(m: ResultsMessage): void
  onProgress?(status: JobStatus): void
  onEnd?(m: EndMessage): void
  onError?(m: ErrorMessage): void
}

/** Wait before retrying a subscription refused with `busy` without `retry_after_ms`. */
export const DEFAULT_BUSY_RETRY_MS = 1000
/** Longest wait honoured from `retry_after_ms`. */
const MAX_BUSY_RETRY_MS = 5 * 60_000

type SubState = 'pending' | 'active' | 'ended' | 'failed'

interface Subscription {
  job: string
  listeners: Set<JobListener>
  /**
   * pending: a `subscribe` is to be sent or answered; active: streaming;
   * ended: `end` received; failed: refused for good.
   */
  state: SubState
  results: boolean
  /**
   * `subscribe` messages sent on the current connection that no `subscribed`
   * or `error` has answered yet. Each one replaces the server's previous
   * subscription, whose frames may still arrive until its answer: only when
   * this is 0 do frames belong to the latest one, so an `end` is taken only
   * then (an earlier `end` may be that of a progress-only stream, which says
   * nothing about results).
   */
  awaiting: number
  /** Retry after `busy`. */
  retryTimer: ReturnType<typeof setTimeout> | null
}

interface Pending {
  expect: 'prediction' | 'accepted' | 'pong'
  resolve: (m: ServerMessage) => void
  reject: (e: Error) => void
  timer: ReturnType<typeof setTimeout>
  /** Not sent yet: the request was made while the connection was being opened. */
  queued: ClientMessage | null
}

export class SocketError extends Error {
  readonly code: string
  /** With `rate_limited` (and `busy`): when to try again. */
  readonly retryAfterMs: number | undefined
  constructor(code: string, message: string, retryAfterMs?: number) {
    super(message)
    this.name = 'SocketError'
    this.code = code
    this.retryAfterMs = retryAfterMs
  }
}

/** Subscription errors that are a limit of the moment, not an answer: retried. */
const RETRIED_SUBSCRIBE_ERRORS: ReadonlySet<string> = new Set(['busy', 'rate_limited'])

const OPEN = 1

export class SocketClient {
  private readonly opts: Required<Omit<SocketClientOptions, 'url'>> & { url: SocketClientOptions['url'] }
  private ws: SocketLike | null = null
  private snap: ConnSnapshot = {
    state: 'idle',
    attempt: 0,
    retryAt: null,
    lastClose: null,
    server: null,
    tenant: null,
    reconnects: 0,
    droppedResults: 0,
  }
  private readonly stateListeners = new Set<(s: ConnSnapshot) => void>()
  private readonly subs = new Map<string, Subscription>()
  private readonly lastSeq = new Map<string, number>()
  private readonly pending = new Map<string, Pending>()
  private retryTimer: ReturnType<typeof setTimeout> | null = null
  private connectTimer: ReturnType<typeof setTimeout> | null = null
  private watchdog: ReturnType<typeof setTimeout> | null = null
  private heartbeatMs: number
  private refCounter = 0
  private everConnected = false
  private started = false
  private offline = false

  constructor(options: SocketClientOptions) {
    this.opts = {
      createSocket: (url) => new WebSocket(url),
      initialBackoffMs: 500,
      maxBackoffMs: 30_000,
      random: Math.random,
      connectTimeoutMs: 10_000,
      defaultHeartbeatMs: 15_000,
      requestTimeoutMs: 15_000,
      token: () => null,
      limitBackoffMs: 5_000,
      now: Date.now,
      ...options,
    }
    this.heartbeatMs = this.opts.defaultHeartbeatMs
  }

  // ------------------------------------------------------------ state

  get snapshot(): ConnSnapshot {
    return this.snap
  }

  get isOpen(): boolean {
    return this.snap.state === 'open'
  }

  onState(cb: (s: ConnSnapshot) => void): () => void {
    this.stateListeners.add(cb)
    cb(this.snap)
    return () => this.stateListeners.delete(cb)
  }

  private setSnap(patch: Partial<ConnSnapshot>): void {
    this.snap = { ...this.snap, ...patch }
    for (const cb of this.stateListeners) cb(this.snap)
  }

  /** Highest result seq applied for a job (0 when none). */
  appliedSeq(job: string): number {
    return this.lastSeq.get(job) ?? 0
  }

  /** Forget a job's applied seq, e.g. when its results are discarded. */
  forget(job: string): void {
    this.lastSeq.delete(job)
  }

  // ------------------------------------------------------------ lifecycle

  /** Connect (again after `unauthorized`, e.g. once a new key is signed in). */
  start(): void {
    if (this.started && this.snap.state !== 'unauthorized') return
    this.started = true
    this.connect()
  }

  /** Close for good (component/app teardown). */
  stop(): void {
    this.started = false
    this.clearTimers()
    for (const s of this.subs.values()) this.clearRetry(s)
    this.failPending(new SocketError('closed', 'connection closed'))
    const ws = this.ws
    this.ws = null
    if (ws) {
      this.detach(ws)
      try {
        ws.close(1000, 'client closing')
      } catch {
        /* already closed */
      }
    }
    this.setSnap({ state: 'closed', retryAt: null })
  }

  /** Browser connectivity changed (navigator.onLine / online / offline events). */
  setOffline(offline: boolean): void {
    if (this.offline === offline) return
    this.offline = offline
    if (!this.started || this.snap.state === 'unauthorized') return
    if (offline) {
      if (this.retryTimer) clearTimeout(this.retryTimer)
      this.retryTimer = null
      if (!this.ws) this.setSnap({ state: 'offline', retryAt: null })
    } else if (this.snap.state === 'offline' || this.snap.state === 'reconnecting') {
      this.connectNow()
    }
  }

  /** Skip the backoff wait, e.g. when the tab becomes visible again. */
  connectNow(): void {
    if (!this.started || this.ws || this.snap.state === 'unauthorized') return
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.retryTimer = null
    this.connect()
  }

  /**
   * Drop the current connection as if the network had failed (debug hook and
   * tests): frames in flight are lost, then the client reconnects and resumes.
   */
  dropSocket(): void {
    const ws = this.ws
    if (!ws) return
    this.handleClose(ws, 4000, 'dropped by client')
    try {
      ws.close(4000, 'dropped by client')
    } catch {
      /* ignore */
    }
  }

  private url(): string {
    return typeof this.opts.url === 'function' ? this.opts.url() : this.opts.url
  }

  private connect(): void {
    if (!this.started) return
    if (this.offline) {
      this.setSnap({ state: 'offline', retryAt: null })
      return
    }
    let ws: SocketLike
    try {
      ws = this.opts.createSocket(this.url())
    } catch {
      this.scheduleReconnect()
      return
    }
    this.ws = ws
    this.setSnap({ state: this.everConnected ? 'reconnecting' : 'connecting', retryAt: null })
    this.connectTimer = setTimeout(() => {
      this.connectTimer = null
      if (this.ws === ws) this.abandon(ws, this.snap.state === 'authenticating' ? 'no authenticated from server' : 'no hello from server')
    }, this.opts.connectTimeoutMs)
    ws.onmessage = (ev) => {
      if (this.ws === ws) this.handleRaw(ev.data)
    }
    ws.onclose = (ev) => this.handleClose(ws, ev.code, ev.reason)
    ws.onerror = () => {
      /* a close event follows */
    }
  }

  private detach(ws: SocketLike): void {
    ws.onopen = null
    ws.onmessage = null
    ws.onclose = null
    ws.onerror = null
  }

  /** Give up on a socket that looks dead and reconnect. */
  private abandon(ws: SocketLike, reason: string): void {
    this.handleClose(ws, 4000, reason)
    try {
      ws.close(4000, reason.slice(0, 100))
    } catch {
      /* ignore */
    }
  }

  private handleClose(ws: SocketLike, code: number, reason: string): void {
    if (this.ws !== ws) return
    this.detach(ws)
    this.ws = null
    this.clearTimers()
    const refused = code === CloseCode.Unauthorized
    this.failPending(refused ? new SocketError('unauthorized', 'the API key was not accepted') : new SocketError('connection_lost', 'connection lost'))
    // Live subscriptions end with the connection; they are re-sent on the next
    // connection once it is open (busy retries included, so their timers are dropped).
    for (const s of this.subs.values()) {
      if (s.state === 'active') s.state = 'pending'
      s.awaiting = 0
      this.clearRetry(s)
    }
    this.setSnap({ lastClose: { code, reason } })
    if (!this.started) {
      this.setSnap({ state: 'closed' })
      return
    }
    if (refused) {
      // The same key would be refused again: no reconnect loop. Subscriptions
      // stay pending for a start() after a new sign-in.
      this.setSnap({ state: 'unauthorized', retryAt: null, tenant: null })
      return
    }
    this.scheduleReconnect(code === CloseCode.TooManyTenantConnections ? this.opts.limitBackoffMs : undefined)
  }

  /** Gives up on the current socket without retrying: the server wants a key and there is none. */
  private refuse(ws: SocketLike, reason: string): void {
    this.handleClose(ws, CloseCode.Unauthorized, reason)
    try {
      ws.close(1000, reason)
    } catch {
      /* ignore */
    }
  }

  private scheduleReconnect(initialMs?: number): void {
    if (this.offline) {
      this.setSnap({ state: 'offline', retryAt: null })
      return
    }
    const attempt = this.snap.attempt + 1
    const delay = this.backoff(attempt, initialMs)
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      this.connect()
    }, delay)
    this.setSnap({ state: 'reconnecting', attempt, retryAt: this.opts.now() + delay })
  }

  /** Exponential backoff with "equal jitter": half fixed, half random. */
  backoff(attempt: number, initialMs = this.opts.initialBackoffMs): number {
    const exp = Math.min(Math.max(this.opts.maxBackoffMs, initialMs), initialMs * 2 ** Math.max(0, attempt - 1))
    return Math.round(exp / 2 + this.opts.random() * (exp / 2))
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer)
    if (this.connectTimer) clearTimeout(this.connectTimer)
    if (this.watchdog) clearTimeout(this.watchdog)
    this.retryTimer = this.connectTimer = this.watchdog = null
  }

  private armWatchdog(): void {
    if (this.watchdog) clearTimeout(this.watchdog)
    const ws = this.ws
    this.watchdog = setTimeout(() => {
      this.watchdog = null
      if (ws && this.ws === ws) this.abandon(ws, 'heartbeat timeout')
    }, 2 * this.heartbeatMs)
  }

  // ------------------------------------------------------------ frames

  private send(msg: ClientMessage): boolean {
    const ws = this.ws
    if (!ws || ws.readyState !== OPEN || this.snap.state !== 'open') return false
    ws.send(JSON.stringify(msg))
    return true
  }

  /** Sends on the socket whatever the state (the `auth` message, before the connection is open). */
  private sendRaw(msg: ClientMessage): boolean {
    const ws = this.ws
    if (!ws || ws.readyState !== OPEN) return false
    ws.send(JSON.stringify(msg))
    return true
  }

  private handleRaw(data: unknown): void {
    if (typeof data !== 'string') return
    let m: ServerMessage
    try {
      m = JSON.parse(data) as ServerMessage
    } catch {
      return
    }
    if (typeof m !== 'object' || m === null || typeof m.type !== 'string') return
    if (this.snap.state === 'open' || this.snap.state === 'authenticating' || m.type === 'hello') this.armWatchdog()
    this.dispatch(m)
  }

  private dispatch(m: ServerMessage): void {
    switch (m.type) {
      case 'hello':
        return this.onHello(m)
      case 'authenticated':
        return this.onAuthenticated(m)
      case 'subscribed': {
        const s = this.subs.get(m.job)
        if (!s) return
        if (s.awaiting > 0) s.awaiting -= 1
        if (s.state === 'pending' && s.awaiting === 0) s.state = 'active'
        for (const l of [...s.listeners]) l.onSubscribed?.(m)
        for (const l of [...s.listeners]) l.onProgress?.(m.status)
        return
      }
      case 'results':
        return this.onResults(m)
      case 'progress': {
        const s = this.subs.get(m.job)
        if (s) for (const l of [...s.listeners]) l.onProgress?.(m.status)
        return
      }
      case 'end': {
        const s = this.subs.get(m.job)
        // Only the end of the latest subscription counts: while one sent on
        // this connection is unanswered (or waits for a busy retry), an end
        // is that of a replaced stream, and the latest one will end itself.
        if (!s || s.state !== 'active' || s.awaiting > 0) return
        s.state = 'ended'
        for (const l of [...s.listeners]) l.onProgress?.(m.status)
        for (const l of [...s.listeners]) l.onEnd?.(m)
        return
      }
      case 'prediction':
      case 'accepted':
      case 'pong': {
        const ref = m.ref
        const p = ref === undefined ? undefined : this.pending.get(ref)
        if (p && ref !== undefined && p.expect === m.type) {
          this.pending.delete(ref)
          clearTimeout(p.timer)
          p.resolve(m)
        }
        return
      }
      case 'error':
        return this.onError(m)
      case 'heartbeat':
      case 'unsubscribed':
        return
    }
  }

  private onHello(m: HelloMessage): void {
    const ws = this.ws
    if (!ws || this.snap.state === 'open' || this.snap.state === 'authenticating') return
    if (Number.isFinite(m.heartbeat_ms) && m.heartbeat_ms > 0) this.heartbeatMs = m.heartbeat_ms
    if (!m.auth_required) {
      this.onOpen(null, m)
      return
    }
    const token = this.opts.token()
    if (!token) {
      this.setSnap({ server: m })
      this.refuse(ws, 'no API key')
      return
    }
    // The first message of the connection; nothing else is sent before `authenticated`.
    this.setSnap({ state: 'authenticating', server: m })
    this.armWatchdog()
    if (!this.sendRaw({ type: 'auth', token })) this.abandon(ws, 'could not send auth')
  }

  private onAuthenticated(m: AuthenticatedMessage): void {
    if (this.snap.state !== 'authenticating') return
    this.onOpen(typeof m.tenant === 'string' ? m.tenant : null)
  }

  /** The connection is ready: (re)send every subscription, then the requests made meanwhile. */
  private onOpen(tenant: string | null, server: HelloMessage | null = this.snap.server): void {
    if (this.connectTimer) clearTimeout(this.connectTimer)
    this.connectTimer = null
    const reconnect = this.everConnected
    this.everConnected = true
    this.setSnap({
      state: 'open',
      attempt: 0,
      retryAt: null,
      server,
      tenant: tenant ?? this.snap.tenant,
      reconnects: this.snap.reconnects + (reconnect ? 1 : 0),
    })
    this.armWatchdog()
    for (const s of this.subs.values()) {
      if (s.state === 'pending' || s.state === 'active') this.sendSubscribe(s)
    }
    for (const p of this.pending.values()) {
      if (p.queued && this.send(p.queued)) p.queued = null
    }
  }

  private onResults(m: ResultsMessage): void {
    const s = this.subs.get(m.job)
    const last = this.lastSeq.get(m.job) ?? 0
    if (!s || !s.results || !(m.seq > last) || !Array.isArray(m.items)) {
      this.setSnap({ droppedResults: this.snap.droppedResults + 1 })
      return
    }
    this.lastSeq.set(m.job, m.seq)
    for (const l of [...s.listeners]) if (l.results) l.onResults?.(m)
  }

  private onError(m: ErrorMessage): void {
    const ref = m.ref
    if (ref !== undefined) {
      const p = this.pending.get(ref)
      if (p) {
        this.pending.delete(ref)
        clearTimeout(p.timer)
        p.reject(new SocketError(m.code, m.message, m.retry_after_ms))
        return
      }
    }
    const job = m.job ?? ref
    const s = job === undefined ? undefined : this.subs.get(job)
    if (!s) return
    if (s.awaiting > 0) s.awaiting -= 1
    if (RETRIED_SUBSCRIBE_ERRORS.has(m.code)) {
      // A limit of the server (busy) or of the key's request rate
      // (rate_limited), not final: subscribe again later, from the cursor of
      // that moment.
      s.state = 'pending'
      this.scheduleRetry(s, m.retry_after_ms)
      return
    }
    s.state = 'failed'
    for (const l of [...s.listeners]) l.onError?.(m)
  }

  // ------------------------------------------------------------ subscriptions

  /**
   * Follow a job. Results are delivered only to listeners with `results: true`
   * and only for seq greater than the highest seq already applied. Returns a
   * function that removes the listener (and unsubscribes when it was the last).
   */
  subscribe(job: string, listener: JobListener): () => void {
    let s = this.subs.get(job)
    if (!s) {
      s = { job, listeners: new Set(), state: 'pending', results: false, awaiting: 0, retryTimer: null }
      this.subs.set(job, s)
    }
    s.listeners.add(listener)
    // (Re)subscribe so that the new listener gets a fresh `subscribed` status
    // snapshot. This replaces the server's subscription when it is live;
    // restarting from the applied seq cannot duplicate results (any frame of
    // the old stream still in flight has seq ≤ applied or is dropped as a
    // repeat once the new stream delivers it), and the old stream's `end` is
    // ignored (Subscription.awaiting).
    s.results = [...s.listeners].some((l) => l.results)
    this.sendSubscribe(s)
    const sub = s
    return () => this.removeListener(sub, listener)
  }

  private removeListener(s: Subscription, listener: JobListener): void {
    if (!s.listeners.delete(listener)) return
    if (this.subs.get(s.job) !== s) return
    if (s.listeners.size === 0) {
      this.subs.delete(s.job)
      this.clearRetry(s)
      if (s.state === 'pending' || s.state === 'active') this.send({ type: 'unsubscribe', job: s.job })
      return
    }
    const wantResults = [...s.listeners].some((l) => l.results)
    if (wantResults !== s.results) {
      s.results = wantResults
      if (s.state !== 'ended') this.sendSubscribe(s)
    }
  }

  /** Sends `subscribe` now, or leaves it to the next `hello` when not connected. */
  private sendSubscribe(s: Subscription): void {
    this.clearRetry(s)
    s.state = 'pending'
    const msg: SubscribeMessage = s.results
      ? { type: 'subscribe', job: s.job, after: this.lastSeq.get(s.job) ?? 0 }
      : { type: 'subscribe', job: s.job, results: false }
    // Counted before sending: an answer may come back before send() returns (fake sockets do that).
    s.awaiting += 1
    if (!this.send(msg)) s.awaiting -= 1
  }

  private scheduleRetry(s: Subscription, retryAfterMs: number | undefined): void {
    this.clearRetry(s)
    const ms =
      retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs > 0
        ? Math.min(retryAfterMs, MAX_BUSY_RETRY_MS)
        : DEFAULT_BUSY_RETRY_MS
    s.retryTimer = setTimeout(() => {
      s.retryTimer = null
      if (this.subs.get(s.job) === s && s.state === 'pending') this.sendSubscribe(s)
    }, ms)
  }

  private clearRetry(s: Subscription): void {
    if (s.retryTimer) clearTimeout(s.retryTimer)
    s.retryTimer = null
  }

  /** Jobs currently followed (for tests and the debug hook). */
  subscriptions(): { job: string; state: SubState; results: boolean; listeners: number }[] {
    return [...this.subs.values()].map((s) => ({
      job: s.job,
      state: s.state,
      results: s.results,
      listeners: s.listeners.size,
    }))
  }

  // ------------------------------------------------------------ requests

  private nextRef(prefix: string): string {
    this.refCounter += 1
    return `${prefix}${this.refCounter.toString(36)}`
  }

  /**
   * Sends a request and waits for its answer. Made while a connection is
   * being opened (or authenticated), it is queued and sent once the
   * connection is open; with no connection under way it fails at once
   * (`not_connected`) so that callers can fall back to HTTP.
   */
  private request<T extends ServerMessage>(
    expect: Pending['expect'],
    build: (ref: string) => ClientMessage,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const open = this.snap.state === 'open'
      if (!open && (!this.started || !this.ws)) {
        reject(new SocketError('not_connected', 'not connected'))
        return
      }
      const ref = this.nextRef(expect[0] ?? 'r')
      const msg = build(ref)
      const timer = setTimeout(() => {
        if (this.pending.delete(ref)) reject(new SocketError('timeout', `no ${expect} within ${this.opts.requestTimeoutMs} ms`))
      }, this.opts.requestTimeoutMs)
      const p: Pending = { expect, resolve: resolve as (m: ServerMessage) => void, reject, timer, queued: null }
      this.pending.set(ref, p)
      if (!open) {
        p.queued = msg
        return
      }
      if (!this.send(msg)) {
        this.pending.delete(ref)
        clearTimeout(timer)
        reject(new SocketError('not_connected', 'not connected'))
      }
    })
  }

  predict(model: string, inputs: ItemInput[], version?: string): Promise<PredictionMessage> {
    return this.request('prediction', (ref) => ({ type: 'predict', ref, model, version, inputs }))
  }

  /** Submit a job over the socket; follow it with subscribe() (subscribe:false is sent). */
  async submit(model: string, inputs: ItemInput[], version?: string): Promise<JobStatus> {
    const m = await this.request<Extract<ServerMessage, { type: 'accepted' }>>('accepted', (ref) => ({
      type: 'submit',
      ref,
      model,
      version,
      inputs,
      subscribe: false,
    }))
    return m.job
  }

  ping(): Promise<unknown> {
    return this.request('pong', (ref) => ({ type: 'ping', ref }))
  }

  private failPending(err: Error): void {
    for (const [ref, p] of this.pending) {
      clearTimeout(p.timer)
      this.pending.delete(ref)
      p.reject(err)
    }
  }
}

/** ws(s)://<page host>/v1/ws */
export function defaultSocketUrl(loc: Pick<Location, 'protocol' | 'host'> = window.location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/v1/ws`
}
