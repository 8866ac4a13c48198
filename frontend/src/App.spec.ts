import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import { listJobs, setAuth } from '@/api/http'
import { FakeServer, FakeSocket } from '@/api/testing/fakeSocket'
import { SocketClient } from '@/api/ws'
import { useConnectionStore } from '@/stores/connection'
import { KEY_STORAGE, useSessionStore } from '@/stores/session'
import App from './App.vue'

const GOOD = 'bi_dev_key'
const USER = 'bi_user_key'
/** GET /v1/whoami of the keys the fake gateway takes. */
const WHO: Record<string, object> = {
  [GOOD]: { tenant: 'acme', role: 'operator', key_id: 'dev', auth_required: true },
  [USER]: { tenant: 'beta', role: 'user', key_id: 'u1', auth_required: true },
}
let sockets: FakeSocket[]
let server: FakeServer
let pinia: Pinia

function router() {
  const page = { template: '<p data-testid="page">models page</p>' }
  return createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/', redirect: '/models' },
      { path: '/models', name: 'models', component: page },
      { path: '/try/:model?', name: 'try', component: page },
      { path: '/batch/:model?', name: 'batch', component: page },
      { path: '/jobs', name: 'jobs', component: page },
      { path: '/deadletters', name: 'deadletters', component: page },
      { path: '/cluster', name: 'cluster', component: page },
    ],
  })
}

async function boot() {
  const r = router()
  await r.push('/models')
  await useSessionStore().init()
  const w = mount(App, { global: { plugins: [pinia, r] } })
  await flushPromises()
  return w
}

beforeEach(() => {
  pinia = createPinia()
  setActivePinia(pinia)
  sessionStorage.clear()
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init?: RequestInit) => {
      const who = WHO[(init?.headers as Record<string, string>).Authorization?.replace(/^Bearer /, '') ?? '']
      if (!who) return new Response('{"error":{"code":"unauthorized","message":"invalid credentials"}}', { status: 401 })
      return new Response(url === '/v1/whoami' ? JSON.stringify(who) : '{"models":[],"jobs":[]}')
    }),
  )
  sockets = []
  server = new FakeServer()
  server.keys.set(GOOD, 'acme')
  server.keys.set(USER, 'beta')
  useConnectionStore().setFactory(
    (token) =>
      new SocketClient({
        url: 'ws://test/v1/ws',
        token,
        createSocket: (u) => {
          const s = new FakeSocket(u)
          sockets.push(s)
          queueMicrotask(() => server.attach(s, 600_000))
          return s
        },
      }),
  )
})
afterEach(() => {
  vi.unstubAllGlobals()
  setAuth(null)
})

describe('App shell and session', () => {
  it('shows the sign-in instead of the page and no socket while signed out', async () => {
    const w = await boot()
    expect(w.find('[data-testid=sign-in]').exists()).toBe(true)
    expect(w.find('[data-testid=page]').exists()).toBe(false)
    expect(w.find('nav').exists()).toBe(false)
    expect(sockets).toHaveLength(0)
    w.unmount()
  })

  it('signs in through the form, authenticates the socket, shows the tenant; sign-out returns to the sign-in', async () => {
    const w = await boot()
    await w.get('[data-testid=api-key]').setValue(GOOD)
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(w.find('[data-testid=page]').exists()).toBe(true)
    expect(sockets).toHaveLength(1)
    expect(sockets[0]!.sent[0]).toEqual({ type: 'auth', token: GOOD })
    expect(w.get('[data-testid=conn-state]').attributes('data-state')).toBe('open')
    expect(w.get('[data-testid=session-tenant]').text()).toContain('acme')
    expect(w.html()).not.toContain(GOOD)

    await w.get('[data-testid=sign-out]').trigger('click')
    await flushPromises()
    expect(w.find('[data-testid=sign-in]').exists()).toBe(true)
    expect(w.find('[data-testid=page]').exists()).toBe(false)
    expect(w.find('[data-testid=session-tenant]').exists()).toBe(false)
    expect(sessionStorage.getItem(KEY_STORAGE)).toBeNull()
    expect(sockets[0]!.closedWith?.code).toBe(1000)
    expect(sockets).toHaveLength(1) // no new connection
    w.unmount()
  })

  it('offers the Cluster link to an operator key, not to a user key (whoami\'s role)', async () => {
    const navLinks = (w: Awaited<ReturnType<typeof boot>>) => w.get('nav').findAll('a').map((a) => a.text())
    const w = await boot()
    await w.get('[data-testid=api-key]').setValue(GOOD)
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(navLinks(w)).toEqual(['Models', 'Try', 'Batch', 'Jobs', 'Dead letters', 'Cluster'])

    await w.get('[data-testid=sign-out]').trigger('click')
    await flushPromises()
    await w.get('[data-testid=api-key]').setValue(USER)
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(useSessionStore().role).toBe('user')
    expect(w.get('[data-testid=session-tenant]').text()).toContain('beta')
    expect(navLinks(w)).toEqual(['Models', 'Try', 'Batch', 'Jobs', 'Dead letters'])
    w.unmount()
  })

  it('a restored user key gets no Cluster link; the page still opens by its URL', async () => {
    sessionStorage.setItem(KEY_STORAGE, USER)
    const r = router()
    await r.push('/cluster')
    await useSessionStore().init()
    const w = mount(App, { global: { plugins: [pinia, r] } })
    await flushPromises()
    expect(w.get('nav').findAll('a').map((a) => a.text())).not.toContain('Cluster')
    expect(w.find('[data-testid=page]').exists()).toBe(true) // its own 403 handling: ClusterView.spec.ts
    w.unmount()
  })

  it('a gateway without authentication: no sign-in, and the Cluster link (whoami says operator)', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) =>
        new Response(url === '/v1/whoami' ? '{"tenant":"anonymous","role":"operator","key_id":"none","auth_required":false}' : '{"models":[],"jobs":[]}'),
      ),
    )
    server.keys.clear() // nor does its socket
    const w = await boot()
    expect(w.find('[data-testid=sign-in]').exists()).toBe(false)
    expect(w.find('[data-testid=page]').exists()).toBe(true)
    expect(w.get('nav').findAll('a').map((a) => a.text())).toContain('Cluster')
    expect(w.get('[data-testid=session]').text()).toContain('no authentication')
    w.unmount()
  })

  it('an HTTP 401 while signed in returns to the sign-in with the reason', async () => {
    sessionStorage.setItem(KEY_STORAGE, GOOD)
    const w = await boot()
    expect(w.find('[data-testid=page]').exists()).toBe(true)
    // The key is revoked.
    vi.stubGlobal('fetch', vi.fn(async () => new Response('{"error":{"code":"unauthorized","message":"invalid credentials"}}', { status: 401 })))
    await listJobs().catch(() => {})
    await flushPromises()
    expect(w.find('[data-testid=sign-in]').exists()).toBe(true)
    expect(w.get('[data-testid=sign-in-notice]').text()).toMatch(/did not accept/)
    w.unmount()
  })
})
