// End-to-end tests against the real system (gateway + worker + NATS) at
// E2E_BASE_URL. They use the app's debug hook window.__bi (see README).
import { expect, test, type Page, type WebSocketRoute } from '@playwright/test'
import { readFileSync } from 'node:fs'
import {
  digitLines,
  dropSocket,
  expectEveryRowOnce,
  jobStats,
  shot,
  socketInfo,
  submitDigits,
  waitComplete,
  waitLive,
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

    // CSV built client-side: a header plus one line per row.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-csv').click()])
    const csv = readFileSync((await download.path())!, 'utf8').trim().split('\n')
    expect(csv[0]).toMatch(/^index,label,class,score,error,p_0,/)
    expect(csv).toHaveLength(1001)

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
        const msg = JSON.parse(String(m)) as { type: string; job?: string; after?: number }
        if (msg.type === 'subscribe') subscribes.push({ conn, job: msg.job!, after: msg.after! })
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
    const rows = 3000 // 12 chunks of 256
    const id = await submitDigits(page, rows)
    await waitComplete(page, rows)
    await expectEveryRowOnce(page, id, rows)

    expect(connections).toBeGreaterThanOrEqual(2)
    const forJob = subscribes.filter((s) => s.job === id && s.after < Number.MAX_SAFE_INTEGER)
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

  test('cluster page shows workers and throughput; layout works at phone width', async ({ page }) => {
    await page.goto('/cluster')
    await expect(page.getByTestId('worker-count')).not.toHaveText('0')
    await expect(page.getByRole('img', { name: /Throughput/ })).toBeVisible()
    await page.setViewportSize({ width: 390, height: 844 })
    await page.goto('/try/digits')
    await waitLive(page)
    const width = await page.evaluate(() => document.documentElement.scrollWidth)
    expect(width).toBeLessThanOrEqual(390)
    await shot(page, 'phone-try')
  })
})
