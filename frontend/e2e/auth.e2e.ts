// Signing in and out against the real gateway, with E2E_API_KEY (the
// development key scripts/e2e.sh reads from the system's first start).
// These pages start signed out and go through the real sign-in form.
import type { Page, WebSocket as PwWebSocket } from '@playwright/test'
import { expect, test } from './fixtures'
import { apiKey, KEY_STORAGE, sessionInfo, shot, signIn, socketInfo, storedKey, submitKey, waitLive, type Whoami } from './helpers'

test.use({ signedIn: false })

test.describe('sign-in', () => {
  test('signs in through the form: the key goes only into Authorization headers and the socket auth message', async ({ page, request }) => {
    const key = apiKey()
    const me = (await (await request.get('/v1/whoami', { headers: { Authorization: `Bearer ${key}` } })).json()) as Whoami
    const urls: string[] = []
    const apiAuth: (string | undefined)[] = []
    const apiPaths: string[] = []
    page.on('request', (r) => {
      urls.push(r.url())
      const path = new URL(r.url()).pathname
      if (path.startsWith('/v1/') && r.resourceType() !== 'websocket') {
        apiAuth.push(r.headers()['authorization'])
        apiPaths.push(`${r.method()} ${path}`)
      }
    })
    const sockets: PwWebSocket[] = []
    const firstFrames: string[] = []
    page.on('websocket', (ws) => {
      sockets.push(ws)
      let first = true
      ws.on('framesent', (f) => {
        if (first) firstFrames.push(String(f.payload))
        first = false
      })
    })

    await page.goto('/jobs')
    await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible()
    await expect(page.getByTestId('sign-in')).toContainText('make run')
    await expect(page.getByRole('navigation', { name: 'Main' })).toHaveCount(0)

    await signIn(page)
    // The page asked for opens, live, with the tenant in the header.
    await expect(page).toHaveURL(/\/jobs$/)
    await expect(page.getByRole('heading', { name: 'Jobs' })).toBeVisible()
    await waitLive(page)
    // Who the key is comes from GET /v1/whoami: the tenant in the header, the
    // role deciding whether the Cluster page is offered.
    await expect(page.getByTestId('session-tenant')).toHaveAttribute('data-tenant', me.tenant)
    expect(await sessionInfo(page)).toEqual({ status: 'signed-in', tenant: me.tenant, role: me.role })
    expect((await socketInfo(page)).tenant).toBe(me.tenant)
    await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Cluster' })).toHaveCount(me.role === 'operator' ? 1 : 0)
    await shot(page, 'signed-in')

    // Kept for this tab only.
    expect(await storedKey(page)).toBe(key)
    expect(await page.evaluate(() => localStorage.length)).toBe(0)
    // Never in a URL; on every API request after the first (GET /v1/whoami
    // without a key asks whether the gateway wants one; the second, with the
    // key, checks it).
    expect(urls.filter((u) => u.includes(key))).toEqual([])
    expect(apiPaths.slice(0, 2)).toEqual(['GET /v1/whoami', 'GET /v1/whoami'])
    expect(apiAuth.length).toBeGreaterThan(2)
    expect(apiAuth[0]).toBeUndefined()
    expect(apiAuth.slice(1).every((h) => h === `Bearer ${key}`)).toBe(true)
    // The socket's first message is auth.
    expect(sockets.length).toBeGreaterThanOrEqual(1)
    expect(sockets.every((s) => !s.url().includes(key))).toBe(true)
    expect(JSON.parse(firstFrames[0]!)).toEqual({ type: 'auth', token: key })
  })

  test('a wrong key shows the error and stays signed out', async ({ page }) => {
    await page.goto('/')
    await signInExpectingError(page, `bi_wrong_${Date.now()}`)
    await expect(page.getByTestId('sign-in-error')).toContainText('not accepted')
    await expect(page.getByLabel('API key')).toHaveAttribute('aria-invalid', 'true')
    await shot(page, 'sign-in-error')
    await expect(page.getByTestId('sign-out')).toHaveCount(0)
    await expect(page.getByRole('navigation', { name: 'Main' })).toHaveCount(0)
    expect(await storedKey(page)).toBeNull()
    // Still signed out after a reload, and the right key then works.
    await page.reload()
    await expect(page.getByTestId('sign-in-form')).toBeVisible()
    await signIn(page)
    await waitLive(page)
  })

  test('sign-out returns to the sign-in view, closes the socket, and stays signed out', async ({ page }) => {
    const closed: PwWebSocket[] = []
    page.on('websocket', (ws) => ws.on('close', () => closed.push(ws)))
    await page.goto('/models')
    await signIn(page)
    await waitLive(page)
    await page.getByTestId('sign-out').click()
    await expect(page.getByTestId('sign-in-form')).toBeVisible()
    await expect(page.getByTestId('sign-in-notice')).toHaveCount(0)
    await expect(page.getByTestId('session-tenant')).toHaveCount(0)
    await expect(page.getByTestId('conn-state')).toHaveCount(0)
    expect(await storedKey(page)).toBeNull()
    await expect.poll(() => closed.length).toBeGreaterThanOrEqual(1)
    await page.reload()
    await expect(page.getByTestId('sign-in-form')).toBeVisible()
    await page.goto('/jobs')
    await expect(page.getByTestId('sign-in-form')).toBeVisible()
  })

  test('an HTTP 401 while signed in returns to the sign-in with the reason', async ({ page }) => {
    await page.goto('/models')
    await signIn(page)
    // The key is revoked meanwhile (simulated: the jobs list answers 401 as the gateway would).
    await page.route(/\/v1\/jobs(\?|$)/, (route) =>
      route.fulfill({
        status: 401,
        contentType: 'application/json',
        headers: { 'WWW-Authenticate': 'Bearer realm="batchinfer", error="invalid_token"' },
        body: JSON.stringify({ error: { code: 'unauthorized', message: 'invalid credentials' } }),
      }),
    )
    await page.getByRole('link', { name: 'Jobs' }).click()
    await expect(page.getByTestId('sign-in-notice')).toContainText('did not accept your API key')
    expect(await storedKey(page)).toBeNull()
  })

  test('a WebSocket closed with 4401 by the gateway shows the sign-in and is not retried', async ({ page }) => {
    // The socket's auth carries a wrong token (the HTTP side keeps the right one):
    // the real gateway closes it with 4401.
    let connections = 0
    await page.routeWebSocket(/\/v1\/ws$/, (ws) => {
      connections++
      const server = ws.connectToServer()
      ws.onMessage((m) => {
        const msg = JSON.parse(String(m)) as { type: string; token?: string }
        if (msg.type === 'auth') msg.token = 'bi_not_a_key'
        server.send(JSON.stringify(msg))
      })
    })
    await page.goto('/models')
    // The 4401 may come before the signed-in page has shown: only the end state counts.
    await submitKey(page)
    await expect(page.getByTestId('sign-in-notice')).toContainText('live connection was refused')
    expect(await storedKey(page)).toBeNull()
    await page.waitForTimeout(3000)
    expect(connections).toBe(1) // no reconnect loop with a bad key
  })

  test('a WebSocket closed with 4429 (tenant connection limit) backs off, then connects', async ({ page }) => {
    // The first two connections are refused as a tenant at its limit would be.
    const opened: number[] = []
    await page.routeWebSocket(/\/v1\/ws$/, (ws) => {
      opened.push(Date.now())
      if (opened.length <= 2) {
        void ws.close({ code: 4429, reason: 'test: tenant connection limit' })
        return
      }
      ws.connectToServer()
    })
    await page.goto('/models')
    await signIn(page)
    await expect(page.getByTestId('conn-state')).toContainText('Too many connections')
    await waitLive(page)
    expect(opened.length).toBe(3)
    // Backed off from 5 s (with jitter: at least half of it each time), not the 0.5 s of a network failure.
    expect(opened[1]! - opened[0]!).toBeGreaterThanOrEqual(2400)
    expect(opened[2]! - opened[1]!).toBeGreaterThanOrEqual(4900)
    expect(await page.evaluate((k) => sessionStorage.getItem(k), KEY_STORAGE)).toBe(apiKey())
  })
})

async function signInExpectingError(page: Page, key: string): Promise<void> {
  const form = page.getByTestId('sign-in-form')
  await expect(form).toBeVisible()
  await form.getByLabel('API key').fill(key)
  await form.getByRole('button', { name: 'Sign in' }).click()
  await expect(page.getByTestId('sign-in-error')).toBeVisible()
}
