// End-to-end tests against the real system (gateway + worker + NATS) at
// E2E_BASE_URL. They use the app's debug hook window.__bi (see README). Every
// page starts signed in with E2E_API_KEY (e2e/fixtures.ts); the sign-in
// itself is tested in auth.e2e.ts.
import type { Page, WebSocketRoute } from '@playwright/test'
import { readFileSync } from 'node:fs'
import { expect, test } from './fixtures'
import {
  apiKey,
  digitLines,
  dropSocket,
  expectEveryRowOnce,
  jobStats,
  shot,
  sessionInfo,
  socketInfo,
  submitDigits,
  waitComplete,
  waitLive,
  type Whoami,
} from './helpers'

/** Draws polylines given in 0..1 coordinates of the canvas. */
async function draw(page: Page, strokes: [number, number][][]): Promise<void> {
  const canvas = page.getByTestId('draw-canvas')
  const box = (await canvas.boundingBox())!
  for (const s of strokes) {
    const [x0, y0] = s[0]!
    await page.mouse.move(box.x + x0 * box.width, box.y + y0 * box.height)
    await page.mouse.down()
    for (const [x, y] of s.slice(1)) await page.mouse.move(box.x + x * box.width, box.y + y * box.height, { steps: 8 })
    await page.mouse.up()
  }
}

test.describe('batch inference UI', () => {
  test('models page lists the served models', async ({ page }) => {
    await page.goto('/')
    await expect(page).toHaveURL(/\/models$/)
    const card = page.getByTestId('model-digits')
    await expect(card).toContainText('digits')
    await expect(card).toContainText(/[1-9]\d* workers?/)
    await expect(card).toContainText(/Accuracy\s*\d+(\.\d)? %/)
    await waitLive(page)
    // The socket authenticated: the header names the key's tenant.
    await expect(page.getByTestId('session-tenant')).toHaveAttribute('data-tenant', /.+/)
  })

  test('draw a digit → a prediction is shown', async ({ page }) => {
    await page.goto('/try/digits')
    await waitLive(page)
    // A "7": top bar, then the down stroke.
    await draw(page, [
      [
        [0.25, 0.2],
        [0.75, 0.2],
        [0.45, 0.85],
      ],
    ])
    const label = page.getByTestId('prediction-label')
    await expect(label).toHaveText(/^[0-9]$/)
    await expect(page.getByTestId('prediction-panel')).toContainText('via WebSocket')
    await expect(label).toHaveText('7')
    await expect(page.getByTestId('input-preview')).toBeVisible()
    await shot(page, 'try')

    // The clear button works from the keyboard.
    await page.getByTestId('clear-canvas').focus()
    await page.keyboard.press('Enter')
    await expect(label).toHaveCount(0)
  })

  test('drawing works from the keyboard', async ({ page }) => {
    await page.goto('/try/digits')
    await waitLive(page)
    await page.getByTestId('draw-canvas').focus()
    // Pen down, a "7": right along the top, then down-left.
    await page.keyboard.press('ArrowUp')
    await page.keyboard.press('ArrowUp')
    await page.keyboard.press('ArrowUp')
    await page.keyboard.press('ArrowUp')
    await page.keyboard.press('ArrowUp')
    await page.keyboard.press('Space')
    for (let i = 0; i < 6; i++) await page.keyboard.press('ArrowRight')
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('ArrowDown')
      if (i % 3 === 0) await page.keyboard.press('ArrowLeft')
    }
    await page.keyboard.press('Space')
    await expect(page.getByTestId('prediction-label')).toHaveText(/^[0-9]$/)
    await page.keyboard.press('Delete')
    await expect(page.getByTestId('prediction-label')).toHaveCount(0)
  })

  test('a 1,000-row NDJSON upload completes with every row exactly once', async ({ page }) => {
    await page.goto('/jobs')
    await waitLive(page)
    const id = await submitDigits(page, 1000)
    await waitComplete(page, 1000)
    await expectEveryRowOnce(page, id, 1000)
    await expect(page.getByTestId('job-state')).toHaveText('completed')
    // The table is virtualised: far fewer DOM rows than results.
    const domRows = await page.locator('[data-testid=row-index]').count()
    expect(domRows).toBeGreaterThan(5)
    expect(domRows).toBeLessThan(100)
    await shot(page, 'job')

    // CSV built client-side: a header plus one line per row, each with its input line.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-csv').click()])
    const csv = readFileSync((await download.path())!, 'utf8').trim().split('\n')
    expect(csv[0]).toMatch(/^index,line,id,status,label,class,score,error,p_0,/)
    expect(csv).toHaveLength(1001)
    expect(csv[1]).toMatch(/^0,1,,ok,\d,/)
    expect(csv[1000]).toMatch(/^999,1000,,ok,\d,/)

    // The jobs list shows it finished.
    await page.goto('/jobs')
    await expect(page.getByTestId(`job-${id}`)).toContainText('completed')
  })

  test('a WebSocket dropped mid-stream resumes from the last seq: no gap, no duplicate', async ({ page }) => {
    // Proxy the socket: the first connection is cut after it has delivered two
    // results frames (later frames are lost, as on a real network failure).
    let connections = 0
    const subscribes: { conn: number; job: string; after: number }[] = []
    let lastSeqBeforeDrop = -1
    await page.routeWebSocket(/\/v1\/ws$/, (ws: WebSocketRoute) => {
      const conn = ++connections
      const server = ws.connectToServer()
      let results = 0
      let cut = false
      ws.onMessage((m) => {
        const msg = JSON.parse(String(m)) as { type: string; job?: string; after?: number; results?: boolean }
        // Results subscriptions only (the jobs list follows progress only, results: false).
        if (msg.type === 'subscribe' && msg.results !== false) subscribes.push({ conn, job: msg.job!, after: msg.after ?? 0 })
        server.send(m)
      })
      server.onMessage((m) => {
        if (cut) return
        const msg = JSON.parse(String(m)) as { type: string; seq?: number }
        ws.send(m)
        if (conn === 1 && msg.type === 'results' && ++results === 2) {
          cut = true
          lastSeqBeforeDrop = msg.seq!
          void ws.close({ code: 4000, reason: 'test: network drop' })
          void server.close()
        }
      })
    })
    const rows = 3000 // 6 chunks of 512
    const id = await submitDigits(page, rows)
    await waitComplete(page, rows)
    await expectEveryRowOnce(page, id, rows)

    expect(connections).toBeGreaterThanOrEqual(2)
    const forJob = subscribes.filter((s) => s.job === id)
    expect(forJob[0]).toEqual({ conn: 1, job: id, after: 0 })
    expect(lastSeqBeforeDrop).toBeGreaterThan(0)
    // The resume asks for exactly what came after the last applied frame.
    expect(forJob.find((s) => s.conn === 2)).toEqual({ conn: 2, job: id, after: lastSeqBeforeDrop })
    expect((await socketInfo(page)).reconnects).toBeGreaterThanOrEqual(1)
  })

  test('window.__bi.dropSocket() during a job: the page resumes and the job completes once', async ({ page }) => {
    await page.goto('/jobs')
    await waitLive(page)
    const rows = 5000
    const id = await submitDigits(page, rows)
    // Drop as soon as the first results are in (or right away if the job was quick).
    await expect
      .poll(async () => (await jobStats(page, id)).received, { timeout: 30_000 })
      .toBeGreaterThan(0)
    await dropSocket(page)
    await expect(page.getByTestId('conn-state')).not.toHaveAttribute('data-state', 'open', { timeout: 2000 }).catch(() => {})
    await waitLive(page)
    await waitComplete(page, rows)
    await expectEveryRowOnce(page, id, rows)
    const info = await socketInfo(page)
    expect(info.reconnects).toBeGreaterThanOrEqual(1)
  })

  test('image files are resized client-side and predicted in a batch', async ({ page }) => {
    const png = readFileSync(new URL('../../model/testdata/digits_7.png', import.meta.url))
    await page.goto('/batch/digits')
    await page.getByTestId('batch-file').setInputFiles([
      { name: 'a.png', mimeType: 'image/png', buffer: png },
      { name: 'b.png', mimeType: 'image/png', buffer: png },
    ])
    await expect(page.getByTestId('upload-count')).toHaveText('2')
    await expect(page.getByTestId('upload-summary').getByTestId('input-preview')).toHaveCount(2)
    await page.getByTestId('submit-job').click()
    await page.waitForURL(/\/jobs\/[^/]+$/)
    await waitComplete(page, 2)
    await expect(page.getByTestId('results-table')).toContainText('7')
    const labels = await page.locator('.vt__row:not(.vt__row--head) .c-label').allTextContents()
    expect(labels.map((l) => l.trim())).toEqual(['7', '7'])
  })

  test('with the WebSocket unavailable the job page falls back to HTTP', async ({ page }) => {
    // Every WebSocket is refused: the client keeps retrying with backoff.
    await page.routeWebSocket(/\/v1\/ws$/, (ws) => void ws.close({ code: 1011, reason: 'test: refused' }))
    const id = await submitDigits(page, 600)
    await expect(page.getByTestId('conn-state')).toHaveAttribute('data-state', /reconnecting|connecting/)
    await expect(page.getByText('polling over HTTP')).toBeVisible({ timeout: 20_000 })
    await waitComplete(page, 600)
    await expectEveryRowOnce(page, id, 600)
  })

  test('a malformed upload shows a clear message and sends nothing', async ({ page }) => {
    const posts: string[] = []
    page.on('request', (r) => {
      if (r.method() === 'POST' && /\/v1\/jobs(\?|$)/.test(new URL(r.url()).pathname + new URL(r.url()).search)) posts.push(r.url())
    })
    await page.goto('/batch/digits')
    const good = digitLines()[0]!
    const tooBig = JSON.stringify(Array.from({ length: 64 }, (_, i) => (i === 10 ? 99 : 0)))
    const body = [good, '[1,2,3]', '{not json', tooBig, good].join('\n')
    await page.getByTestId('batch-file').setInputFiles({ name: 'bad.ndjson', mimeType: 'application/x-ndjson', buffer: Buffer.from(body) })
    const err = page.getByTestId('upload-error')
    await expect(err).toContainText('3 of 5 rows are invalid')
    const bad = page.getByTestId('bad-rows')
    await expect(bad).toContainText('line 2 (item 1): expected 64 values, got 3')
    await expect(bad).toContainText('line 3 (item 2): invalid JSON')
    await expect(bad).toContainText('line 4 (item 3): value 10 = 99 is above the maximum 16')
    const submit = page.getByTestId('submit-job')
    await expect(submit).toHaveAttribute('aria-disabled', 'true')
    await submit.click({ force: true }) // a click anyway is refused
    await expect(page.getByText('Nothing was sent.')).toBeVisible()
    await shot(page, 'batch-invalid')

    // A CSV whose rows have the wrong width.
    await page.getByTestId('batch-file').setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('1,2,3\n4,5,6\n') })
    await expect(err).toContainText('2 of 2 rows are invalid')
    await expect(page.getByTestId('bad-rows')).toContainText('line 1 (item 0): expected 64 values, got 3')
    await submit.click({ force: true })
    await expect(page.getByText('Nothing was sent.')).toBeVisible()
    await page.waitForTimeout(500)
    expect(posts).toEqual([])
  })

  test('cluster page shows workers and throughput (or, for a user key, that it needs an operator key); layout works at phone width', async ({
    page,
    request,
  }) => {
    // Whether E2E_API_KEY is an operator key decides what the page shows.
    const auth = { Authorization: `Bearer ${apiKey()}` }
    const me = (await (await request.get('/v1/whoami', { headers: auth })).json()) as Whoami
    const cluster = await request.get('/v1/cluster', { headers: auth })
    expect(cluster.status()).toBe(me.role === 'operator' ? 200 : 403)
    await page.goto('/models')
    await expect.poll(async () => (await sessionInfo(page)).role).toBe(me.role)
    const link = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Cluster' })
    await expect(link).toHaveCount(me.role === 'operator' ? 1 : 0)
    if (me.role === 'operator') await link.click()
    else await page.goto('/cluster')
    await expect(page.getByRole('heading', { name: 'Cluster', level: 1 })).toBeVisible()
    if (cluster.status() === 200) {
      await expect(page.getByTestId('worker-count')).not.toHaveText('0')
      await expect(page.getByRole('img', { name: /Throughput/ })).toBeVisible()
    } else {
      await expect(page.getByTestId('cluster-forbidden')).toContainText('needs an operator key')
      await expect(page.getByTestId('worker-count')).toHaveCount(0)
    }
    await page.setViewportSize({ width: 390, height: 844 })
    await page.goto('/try/digits')
    await waitLive(page)
    const width = await page.evaluate(() => document.documentElement.scrollWidth)
    expect(width).toBeLessThanOrEqual(390)
    await shot(page, 'phone-try')
  })
})

test.describe('refusals of the gateway', () => {
  test('a user key: no Cluster link; the page opened by its URL says "needs an operator key", and no polling of a refused route', async ({
    page,
  }) => {
    // The development key is an operator key: a user key's whoami and 403 are simulated, as the gateway answers them.
    await page.route(/\/v1\/whoami$/, async (route) => {
      const res = await route.fetch()
      const me = (await res.json()) as Whoami
      return route.fulfill({ response: res, json: { ...me, role: 'user' } })
    })
    let asked = 0
    await page.route(/\/v1\/cluster$/, (route) => {
      asked++
      return route.fulfill({
        status: 403,
        contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'forbidden', message: '/v1/cluster needs an operator key' } }),
      })
    })
    await page.goto('/models')
    const nav = page.getByRole('navigation', { name: 'Main' })
    await expect(nav.getByRole('link', { name: 'Jobs' })).toBeVisible()
    await expect.poll(async () => (await sessionInfo(page)).role).toBe('user')
    await expect(nav.getByRole('link', { name: 'Cluster' })).toHaveCount(0)
    expect(asked).toBe(0)
    await page.goto('/cluster')
    await expect(page.getByTestId('cluster-forbidden')).toContainText('needs an operator key')
    await expect(page.getByTestId('worker-count')).toHaveCount(0)
    await expect(nav.getByRole('link', { name: 'Cluster' })).toHaveCount(0)
    await page.waitForTimeout(4500) // two polling periods
    expect(asked).toBe(1)
  })

  test('a job over the tenant quota (429) shows the Retry-After hint', async ({ page }) => {
    await page.route(/\/v1\/jobs(\?|$)/, (route) =>
      route.request().method() === 'POST'
        ? route.fulfill({
            status: 429,
            contentType: 'application/json',
            headers: { 'Retry-After': '30' },
            body: JSON.stringify({ error: { code: 'quota_exceeded', message: 'tenant dev has 16 unfinished jobs, its limit' } }),
          })
        : route.fallback(),
    )
    await page.goto('/batch/digits')
    await page.getByTestId('batch-file').setInputFiles({ name: 'd.ndjson', mimeType: 'application/x-ndjson', buffer: Buffer.from(digitLines()[0]! + '\n') })
    await expect(page.getByTestId('upload-count')).toHaveText('1')
    await page.getByTestId('submit-job').click()
    const alert = page.getByRole('alert').filter({ hasText: 'quota' })
    await expect(alert).toContainText('Over your quota: tenant dev has 16 unfinished jobs, its limit. Try again in 30 s.')
    await expect(page).toHaveURL(/\/batch\/digits$/)
  })
})
