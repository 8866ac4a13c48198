import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { listJobs, setAuth } from '@/api/http'
import { FakeServer, FakeSocket, status } from '@/api/testing/fakeSocket'
import type { Whoami } from '@/api/types'
import { SocketClient } from '@/api/ws'
import { useConnectionStore } from './connection'
import { useJobsStore } from './jobs'
import { KEY_STORAGE, ROLE_STORAGE, TENANT_STORAGE, useSessionStore } from './session'

const GOOD = 'bi_dev_good'
const USER = 'bi_user_key'
/** GET /v1/whoami of the keys the fake gateway takes. */
const WHO: Record<string, Whoami> = {
  [GOOD]: { tenant: 'acme', role: 'operator', key_id: 'k-good', auth_required: true },
  [USER]: { tenant: 'beta', role: 'user', key_id: 'k-user', auth_required: true },
}

let sockets: FakeSocket[]
let server: FakeServer
let calls: { url: string; auth: string | undefined }[]
/** Answers held back, to answer (as of then) after the key changed. */
let hold: (() => void)[] | null
/** Keys refused from now on. */
let revoked: Set<string>
/** Keys whose whoami is answered 429 (over their request rate). */
let limited: Set<string>

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers })
}

function respond(url: string, auth: string | undefined): Response {
  const key = auth?.replace(/^Bearer /, '')
  const who = key && !revoked.has(key) ? WHO[key] : undefined
  if (!who) return json({ error: { code: 'unauthorized', message: 'invalid credentials' } }, 401, { 'WWW-Authenticate': 'Bearer realm="batchinfer"' })
  if (url === '/v1/whoami') {
    return limited.has(key!) ? json({ error: { code: 'rate_limited', message: 'over its rate' } }, 429, { 'Retry-After': '1' }) : json(who)
  }
  return json(url.includes('/jobs') ? { jobs: [status(`j-${who.tenant}`)] } : { models: [] })
}

function gateway() {
  calls = []
  hold = null
  revoked = new Set()
  limited = new Set()
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init?: RequestInit) => {
      const auth = (init?.headers as Record<string, string> | undefined)?.Authorization
      calls.push({ url, auth })
      if (hold) return new Promise<Response>((resolve) => hold!.push(() => resolve(respond(url, auth))))
      return respond(url, auth)
    }),
  )
}

function fakeSockets() {
  sockets = []
  server = new FakeServer()
  server.keys.set(GOOD, 'acme')
  useConnectionStore().setFactory(
    (token) =>
      new SocketClient({
        url: 'ws://test/v1/ws',
        token,
        random: () => 0.5,
        initialBackoffMs: 100,
        createSocket: (u) => {
          const s = new FakeSocket(u)
          sockets.push(s)
          return s
        },
      }),
  )
}

beforeEach(() => {
  setActivePinia(createPinia())
  sessionStorage.clear()
  localStorage.clear()
  gateway()
  fakeSockets()
})
afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
  setAuth(null)
})

describe('session store', () => {
  it('without a stored key asks GET /v1/whoami without one, and shows the sign-in (the gateway answers 401)', async () => {
    const session = useSessionStore()
    expect(session.status).toBe('checking')
    await session.init()
    expect(session.status).toBe('signed-out')
    expect(session.active).toBe(false)
    expect(session.role).toBeNull()
    expect(calls).toEqual([{ url: '/v1/whoami', auth: undefined }])
  })

  it('needs no sign-in when the gateway runs without authentication (whoami answers, auth_required false)', async () => {
    const urls: string[] = []
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string, init?: RequestInit) => {
        urls.push(url)
        expect((init?.headers as Record<string, string>).Authorization).toBeUndefined()
        return json({ tenant: 'anonymous', role: 'operator', key_id: 'none', auth_required: false })
      }),
    )
    const session = useSessionStore()
    await session.init()
    expect(urls).toEqual(['/v1/whoami'])
    expect(session.status).toBe('open')
    expect(session.active).toBe(true)
    expect(session.role).toBe('operator')
    expect(session.operator).toBe(true)
    expect(sessionStorage.length).toBe(0) // nothing to keep without a key
  })

  it('an unreachable gateway shows the sign-in (its check says why)', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))))
    const session = useSessionStore()
    await session.init()
    expect(session.status).toBe('signed-out')
    expect(await session.signIn(GOOD)).toBe(false)
    expect(session.signInError).toMatch(/Could not check the key: .*network/)
  })

  it('a wrong key shows an error and stays signed out; nothing is stored', async () => {
    const session = useSessionStore()
    await session.init()
    expect(await session.signIn('bi_wrong')).toBe(false)
    expect(session.status).toBe('signed-out')
    expect(session.signInError).toMatch(/not accepted/)
    expect(session.signInError).not.toContain('bi_wrong')
    expect(sessionStorage.getItem(KEY_STORAGE)).toBeNull()
    expect(calls.at(-1)).toEqual({ url: '/v1/whoami', auth: 'Bearer bi_wrong' })
    expect(await session.signIn('   ')).toBe(false)
    expect(session.signInError).toMatch(/Enter your API key/)
  })

  it('signs in: the key goes to sessionStorage (not localStorage) and on every request', async () => {
    const session = useSessionStore()
    await session.init()
    expect(await session.signIn(`  ${GOOD}\n`)).toBe(true)
    expect(session.status).toBe('signed-in')
    expect(session.signInError).toBeNull()
    expect(sessionStorage.getItem(KEY_STORAGE)).toBe(GOOD)
    expect(localStorage.length).toBe(0)
    // The key was checked with GET /v1/whoami, and its answer kept.
    expect(calls).toEqual([
      { url: '/v1/whoami', auth: undefined },
      { url: '/v1/whoami', auth: `Bearer ${GOOD}` },
    ])
    expect(session.tenant).toBe('acme')
    expect(session.role).toBe('operator')
    expect(session.operator).toBe(true)
    expect(sessionStorage.getItem(TENANT_STORAGE)).toBe('acme')
    expect(sessionStorage.getItem(ROLE_STORAGE)).toBe('operator')
    await listJobs()
    expect(calls.at(-1)).toEqual({ url: '/v1/jobs?limit=50', auth: `Bearer ${GOOD}` })
    for (const c of calls) expect(c.url).not.toContain(GOOD)
    // The key is no reactive state (no devtools, no state dumps).
    expect(JSON.stringify(session.$state)).not.toContain(GOOD)
  })

  it('keeps the role of a user key: no operator pages', async () => {
    const session = useSessionStore()
    await session.init()
    expect(await session.signIn(USER)).toBe(true)
    expect(session.tenant).toBe('beta')
    expect(session.role).toBe('user')
    expect(session.operator).toBe(false)
    session.signOut()
    expect(session.role).toBeNull()
    expect(session.operator).toBe(true) // unknown: offered, the page says when it is refused
    expect(sessionStorage.getItem(ROLE_STORAGE)).toBeNull()
  })

  it('restores the key of this tab at once, then asks whoami who it is', async () => {
    sessionStorage.setItem(KEY_STORAGE, USER)
    sessionStorage.setItem(TENANT_STORAGE, 'beta') // no role stored (as the e2e fixture seeds it)
    const session = useSessionStore()
    hold = []
    const init = session.init()
    expect(session.status).toBe('signed-in') // the page opens without waiting
    expect(session.tenant).toBe('beta')
    expect(session.role).toBeNull()
    expect(calls).toEqual([{ url: '/v1/whoami', auth: `Bearer ${USER}` }])
    hold.splice(0).forEach((answer) => answer())
    await init
    expect(session.status).toBe('signed-in')
    expect(session.role).toBe('user')
    expect(sessionStorage.getItem(ROLE_STORAGE)).toBe('user')
  })

  it('a restored key the gateway no longer takes signs out at once, with the reason', async () => {
    sessionStorage.setItem(KEY_STORAGE, GOOD)
    sessionStorage.setItem(ROLE_STORAGE, 'operator')
    revoked.add(GOOD)
    const session = useSessionStore()
    await session.init()
    expect(session.status).toBe('signed-out')
    expect(session.notice).toMatch(/did not accept your API key/)
    expect(session.role).toBeNull()
    expect(sessionStorage.getItem(KEY_STORAGE)).toBeNull()
  })

  it('a restored key whose whoami fails otherwise (429) stays signed in with what the tab knew', async () => {
    sessionStorage.setItem(KEY_STORAGE, USER)
    sessionStorage.setItem(TENANT_STORAGE, 'beta')
    sessionStorage.setItem(ROLE_STORAGE, 'user')
    limited.add(USER)
    const session = useSessionStore()
    await session.init()
    expect(session.status).toBe('signed-in')
    expect(session.tenant).toBe('beta')
    expect(session.role).toBe('user')
  })

  it('a whoami answer for an earlier key does not change the current one', async () => {
    sessionStorage.setItem(KEY_STORAGE, USER)
    const session = useSessionStore()
    hold = []
    const init = session.init()
    await vi.waitFor(() => expect(hold).toHaveLength(1))
    const answerOld = hold[0]!
    hold = null
    session.signOut()
    await session.signIn(GOOD)
    answerOld() // beta, user: for the key signed out
    await init
    expect(session.tenant).toBe('acme')
    expect(session.role).toBe('operator')
    expect(sessionStorage.getItem(ROLE_STORAGE)).toBe('operator')
  })

  it('authenticates the WebSocket with the key and shows the tenant it answers with', async () => {
    const session = useSessionStore()
    const conn = useConnectionStore()
    await session.init()
    await session.signIn(GOOD)
    conn.start()
    server.attach(sockets[0]!)
    expect(sockets[0]!.sent[0]).toEqual({ type: 'auth', token: GOOD })
    expect(conn.state).toBe('open')
    expect(session.tenant).toBe('acme')
    expect(sessionStorage.getItem(TENANT_STORAGE)).toBe('acme')
  })

  it('a key taken but over its rate at the check (429) signs in; the socket then tells the tenant', async () => {
    limited.add(GOOD)
    const session = useSessionStore()
    const conn = useConnectionStore()
    await session.init()
    expect(await session.signIn(GOOD)).toBe(true)
    expect(session.status).toBe('signed-in')
    expect(session.tenant).toBeNull()
    expect(session.role).toBeNull()
    conn.start()
    server.attach(sockets[0]!)
    expect(session.tenant).toBe('acme')
    expect(sessionStorage.getItem(TENANT_STORAGE)).toBe('acme')
  })

  it('an HTTP 401 for the key in use signs out, with the reason', async () => {
    const session = useSessionStore()
    await session.init()
    await session.signIn(USER) // accepted over HTTP...
    server.keys.set(USER, 'beta')
    useConnectionStore().start()
    server.attach(sockets[0]!)
    // ...then revoked.
    vi.stubGlobal('fetch', vi.fn(async () => new Response('{"error":{"code":"unauthorized","message":"invalid credentials"}}', { status: 401 })))
    await expect(listJobs()).rejects.toMatchObject({ status: 401 })
    expect(session.status).toBe('signed-out')
    expect(session.notice).toMatch(/did not accept your API key/)
    expect(sessionStorage.getItem(KEY_STORAGE)).toBeNull()
    expect(sockets[0]!.closedWith?.code).toBe(1000) // the socket is closed too
  })

  it('a 401 to a request sent with an earlier key does not sign out the current one', async () => {
    const session = useSessionStore()
    sessionStorage.setItem(KEY_STORAGE, USER)
    await session.init()
    hold = []
    const late = listJobs().catch((e: unknown) => e)
    await vi.waitFor(() => expect(hold).toHaveLength(1))
    const answerOld = hold[0]!
    hold = null
    // Signed out and in again with a good key meanwhile; the old key is revoked.
    session.signOut()
    await session.signIn(GOOD)
    revoked.add(USER)
    answerOld()
    expect(await late).toMatchObject({ status: 401 })
    expect(session.status).toBe('signed-in')
    expect(sessionStorage.getItem(KEY_STORAGE)).toBe(GOOD)
  })

  it('a WebSocket closed with 4401 shows the sign-in and does not reconnect', async () => {
    vi.useFakeTimers()
    sessionStorage.setItem(KEY_STORAGE, USER) // the HTTP side took it; the socket does not (no such key there)
    const session = useSessionStore()
    const conn = useConnectionStore()
    await session.init()
    conn.start()
    server.attach(sockets[0]!)
    expect(server.closes).toEqual([4401])
    expect(session.status).toBe('signed-out')
    expect(session.notice).toMatch(/live connection was refused/)
    expect(sessionStorage.getItem(KEY_STORAGE)).toBeNull()
    vi.advanceTimersByTime(5 * 60_000)
    expect(sockets).toHaveLength(1)
    // Signing in with a good key connects again.
    await session.signIn(GOOD)
    conn.start()
    expect(sockets).toHaveLength(2)
    server.attach(sockets[1]!)
    expect(conn.state).toBe('open')
    expect(session.status).toBe('signed-in')
  })

  it('sign-out clears sessionStorage, closes the socket and forgets the tenant and its jobs', async () => {
    const session = useSessionStore()
    const conn = useConnectionStore()
    const jobs = useJobsStore()
    await session.init()
    await session.signIn(GOOD)
    conn.start()
    server.attach(sockets[0]!)
    await jobs.fetchList()
    expect(jobs.list.map((j) => j.id)).toEqual(['j-acme'])
    expect(session.tenant).toBe('acme')

    session.signOut()
    expect(session.status).toBe('signed-out')
    expect(session.notice).toBeNull()
    expect(session.tenant).toBeNull()
    expect(sessionStorage.getItem(KEY_STORAGE)).toBeNull()
    expect(sessionStorage.getItem(TENANT_STORAGE)).toBeNull()
    expect(sockets[0]!.closedWith?.code).toBe(1000)
    expect(conn.state).toBe('idle')
    expect(jobs.list).toEqual([])
    // Requests now carry no key.
    await listJobs().catch(() => {})
    expect(calls.at(-1)!.auth).toBeUndefined()
  })

  it('an answer of the previous session that arrives after sign-out is dropped', async () => {
    const session = useSessionStore()
    const jobs = useJobsStore()
    await session.init()
    await session.signIn(GOOD)
    hold = []
    const p = jobs.fetchList()
    await vi.waitFor(() => expect(hold).toHaveLength(1))
    const answer = hold[0]!
    hold = null
    session.signOut()
    answer()
    await p
    expect(jobs.list).toEqual([])
  })
})
