// The web UI as a first-time user meets it (issue 17), against the real
// system: what each page shows before anything is done, wrong files, limits,
// cancelling, finding jobs again, and the numbers on the Cluster page.
import type { APIRequestContext, Page } from '@playwright/test'
import { expect, test } from './fixtures'
import { apiKey, digitsNdjson, shot, submitDigits, waitComplete, waitLive } from './helpers'

const PHONE = { width: 390, height: 844 }

function auth(): Record<string, string> {
  return { Authorization: `Bearer ${apiKey()}` }
}

/** Frames the page sends on its WebSockets. */
function sentFrames(page: Page): string[] {
  const out: string[] = []
  page.on('websocket', (ws) => ws.on('framesent', (f) => out.push(String(f.payload))))
  return out
}

/** POSTs of predictions and jobs the page makes over HTTP. */
function posts(page: Page, path: RegExp): string[] {
  const out: string[] = []
  page.on('request', (r) => {
    if (r.method() === 'POST' && path.test(new URL(r.url()).pathname)) out.push(r.url())
  })
  return out
}

async function noHorizontalScroll(page: Page): Promise<void> {
  const { scroll, view } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, view: window.innerWidth }))
  expect(scroll, 'the page is wider than the screen').toBeLessThanOrEqual(view)
}

/** Submits a job of n digit rows over the API; returns its id. */
async function apiJob(request: APIRequestContext, n: number, name?: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const r = await request.post(`/v1/jobs?model=digits${name ? `&name=${encodeURIComponent(name)}` : ''}`, {
      headers: { ...auth(), 'Content-Type': 'application/x-ndjson' },
      data: digitsNdjson(n),
    })
    if (r.status() === 429 && attempt < 50) {
      await new Promise((res) => setTimeout(res, Number(r.headers()['retry-after'] ?? 1) * 200))
      continue
    }
    expect(r.status(), await r.text()).toBe(202)
    return ((await r.json()) as { job: { id: string } }).job.id
  }
}

test.describe('Try', () => {
  test('digits shows no error before anything is drawn: opened directly, reloaded, or switched to from breast_cancer', async ({ page }) => {
    const frames = sentFrames(page)
    const predicts = posts(page, /\/predict$/)
    await page.goto('/try/digits')
    await waitLive(page)
    await expect(page.getByTestId('prediction-panel')).toContainText('Draw to get a prediction.')
    await page.reload()
    await waitLive(page)
    // The likely first path: the nav's Try opens breast_cancer, then the model is switched.
    await page.goto('/models')
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Try' }).click()
    await expect(page).toHaveURL(/\/try\/breast_cancer/)
    await expect(page.getByTestId('prediction-label')).toHaveText(/^(benign|malignant)$/)
    await page.getByTestId('model-select').selectOption('digits:1')
    await expect(page).toHaveURL(/\/try\/digits/)
    await page.waitForTimeout(1000) // the form's debounce is 250 ms: any stray prediction would have gone by now
    await expect(page.getByTestId('prediction-error')).toHaveCount(0)
    await expect(page.getByTestId('prediction-panel')).toContainText('Draw to get a prediction.')
    const digitPredicts = frames.filter((f) => f.includes('"predict"') && f.includes('"digits"'))
    expect(digitPredicts).toEqual([])
    expect(predicts.filter((u) => u.includes('/digits/'))).toEqual([])
  })

  test('breast_cancer starts from typical values, refuses impossible ones at the field, warns of unusual ones, and marks an old verdict', async ({
    page,
  }) => {
    await page.goto('/try/breast_cancer')
    const radius = page.getByLabel('mean radius', { exact: true })
    await expect(radius).toHaveValue('13.275') // the training split's median, not 0
    await expect(page.getByTestId('prediction-label')).toHaveText(/^(benign|malignant)$/)
    await expect(page.getByTestId('prediction-status')).toHaveText(/^Prediction: (benign|malignant), score \d+ %$/)

    await page.getByTestId('preset-example-0').click() // the typical malignant case of the training data
    await expect(page.getByTestId('prediction-label')).toHaveText('malignant')
    await page.getByTestId('preset-example-1').click()
    await expect(page.getByTestId('prediction-label')).toHaveText('benign')

    await radius.fill('-5')
    await expect(page.getByTestId('feature-field-0')).toContainText('at least 0')
    await expect(radius).toHaveAttribute('aria-invalid', 'true')
    await expect(page.getByTestId('prediction-stale')).toContainText('Out of date')
    await radius.fill('')
    await expect(page.getByTestId('prediction-stale')).toContainText('mean radius: required')
    await radius.fill('1e30')
    await expect(page.getByTestId('feature-field-0')).toContainText('outside the training data (6.981 to 28.11)')
    await expect(page.getByTestId('prediction-unusual')).toContainText('the prediction is unreliable')
    await expect(page.getByTestId('prediction-panel')).toHaveAttribute('data-stale', 'false')
  })

  test('on a phone the verdict stays in view while the fields scroll, and a drawn digit is predicted on the first screen', async ({ page }) => {
    await page.setViewportSize(PHONE)
    await page.goto('/try/breast_cancer')
    await expect(page.getByTestId('prediction-label')).toHaveText(/^(benign|malignant)$/)
    const last = page.getByLabel('worst fractal dimension', { exact: true })
    await last.scrollIntoViewIfNeeded()
    await last.fill('0.09')
    const bar = page.getByTestId('verdict-bar')
    await expect(bar).toBeInViewport()
    await expect(bar).toContainText(/benign|malignant/)
    await noHorizontalScroll(page)

    await page.goto('/try/digits')
    await waitLive(page)
    const canvas = page.getByTestId('draw-canvas')
    const box = (await canvas.boundingBox())!
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.2)
    await page.mouse.down()
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.2, { steps: 6 })
    await page.mouse.move(box.x + box.width * 0.45, box.y + box.height * 0.85, { steps: 6 })
    await page.mouse.up()
    await expect(page.getByTestId('prediction-label')).toHaveText(/^\d$/)
    await expect(page.getByTestId('prediction-label')).toBeInViewport()
    const header = await page.locator('header.top').boundingBox()
    expect(header!.height).toBeLessThan(PHONE.height * 0.1)
  })
})

test.describe('Batch', () => {
  test('a spreadsheet or a binary file is refused with what it is, and never widens a phone screen', async ({ page }) => {
    await page.setViewportSize(PHONE)
    const sent = posts(page, /\/v1\/jobs$/)
    await page.goto('/batch/breast_cancer')
    const xlsx = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 6, 0]), Buffer.from('[Content_Types].xml'.repeat(200))])
    await page.getByTestId('batch-file').setInputFiles({ name: 'rows.xlsx', mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', buffer: xlsx })
    await expect(page.getByTestId('upload-error')).toContainText('This is a spreadsheet (.xlsx), not a CSV file: save it as CSV')
    await expect(page.getByTestId('upload-count')).toHaveCount(0)
    await noHorizontalScroll(page)

    const garbage = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 256))
    await page.getByTestId('batch-file').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: garbage })
    await expect(page.getByTestId('upload-error')).toContainText('This file is not text')
    await noHorizontalScroll(page)

    // A text file whose header is not the features: a short message, not a wall of names.
    const wide = 'x'.repeat(400)
    await page.getByTestId('batch-file').setInputFiles({ name: 'other.txt', mimeType: 'text/plain', buffer: Buffer.from(`${wide},b,c\n1,2,3\n`) })
    await expect(page.getByTestId('upload-error')).toContainText('30 missing')
    expect((await page.getByTestId('upload-error').textContent())!.length).toBeLessThan(300)
    await noHorizontalScroll(page)
    await page.getByTestId('submit-job').click({ force: true })
    await expect(page.getByText('Nothing was sent.')).toBeVisible()
    expect(sent).toEqual([])
  })

  test('an upload over the limits is explained before it is sent (GET /v1/limits)', async ({ page, request }) => {
    // The gateway's real limits, in the contract's shape...
    const real = await request.get('/v1/limits', { headers: auth() })
    expect(real.status()).toBe(200)
    const limits = (await real.json()) as { max_job_items: number; tenant: { max_items_in_flight: number } }
    expect(limits.max_job_items).toBeGreaterThan(0)
    // ...with a job limit of 100 for this page, so that a small file passes it.
    await page.route(/\/v1\/limits$/, (route) => route.fulfill({ json: { ...limits, max_job_items: 100 } }))
    const sent = posts(page, /\/v1\/jobs$/)
    await page.goto('/batch/digits')
    await page.getByTestId('batch-file').setInputFiles({ name: 'big.ndjson', mimeType: 'application/x-ndjson', buffer: digitsNdjson(150) })
    await expect(page.getByTestId('upload-error')).toContainText(
      'This file has 150 items; one job may have at most 100. Split it into 2 files of at most 100 items each.',
    )
    await expect(page.getByTestId('submit-job')).toHaveAttribute('aria-disabled', 'true')
    await page.getByTestId('submit-job').click({ force: true })
    await expect(page.getByText('Nothing was sent.')).toBeVisible()
    expect(sent).toEqual([])
  })

  test('a refusal of the gateway is said in words and the same upload is not offered again', async ({ page }) => {
    // Base64 that is not an image: the page takes it (it does not decode images), the gateway refuses it.
    const sent = posts(page, /\/v1\/jobs$/)
    await page.goto('/batch/digits')
    const rows = `${JSON.stringify({ image: Buffer.from('not an image').toString('base64') })}\n`
    await page.getByTestId('batch-file').setInputFiles({ name: 'not-images.ndjson', mimeType: 'application/x-ndjson', buffer: Buffer.from(rows) })
    await expect(page.getByTestId('upload-count')).toHaveText('1')
    await page.getByTestId('submit-job').click()
    await expect(page.getByTestId('submit-error')).toContainText('line 1', { timeout: 30_000 })
    await expect(page.getByTestId('submit-error')).not.toContainText('(invalid_input)')
    await expect(page.getByTestId('submit-job')).toHaveAttribute('aria-disabled', 'true')
    await page.getByTestId('submit-job').click({ force: true })
    expect(sent).toHaveLength(1)
  })
})

test.describe('Jobs', () => {
  test('cancel asks first; Escape (or "Keep running") keeps the job; a cancelled job says so', async ({ page, request }) => {
    // Two large jobs of the same tenant go first; ours, of low priority, waits behind them (a tenant's
    // jobs are served by priority), long enough to be cancelled while nothing of it has run.
    await page.goto('/batch/digits')
    await page.getByTestId('batch-file').setInputFiles({ name: 'to-cancel.ndjson', mimeType: 'application/x-ndjson', buffer: digitsNdjson(300) })
    await expect(page.getByTestId('upload-count')).toHaveText('300')
    await page.getByTestId('job-priority').selectOption('low')
    const blockers = await Promise.all([apiJob(request, 100_000, 'blocker-1.ndjson'), apiJob(request, 100_000, 'blocker-2.ndjson')])
    try {
      await page.getByTestId('submit-job').click()
      await page.waitForURL(/\/jobs\/[^/]+$/)
      const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!)
      await expect(page.getByTestId('job-state')).toHaveText('queued')
      await page.getByTestId('cancel-job').click()
      const dialog = page.getByTestId('confirm-dialog')
      await expect(dialog).toContainText('will be skipped; this cannot be undone')
      await expect(page.getByTestId('confirm-keep')).toBeFocused()
      await page.keyboard.press('Escape')
      await expect(dialog).toBeHidden()
      await page.getByTestId('cancel-job').click()
      await page.getByTestId('confirm-yes').click()
      await expect(page.getByTestId('job-state')).toHaveText('cancelled')
      await expect(page.getByTestId('job-summary')).toContainText(/^cancelled: /)
      await expect(page.getByTestId('cancel-job')).toHaveCount(0)
      const st = (await (await request.get(`/v1/jobs/${id}`, { headers: auth() })).json()) as { state: string }
      expect(st.state).toBe('cancelled')
    } finally {
      for (const b of blockers) await request.post(`/v1/jobs/${b}/cancel`, { headers: auth() })
    }
  })

  test('a queued job shows its place in the queue and when it should start, never "running"; its priority and deadline are shown', async ({
    page,
    request,
  }) => {
    // The file is checked first; then a backlog of 400,000 items of the same tenant goes in, and ours,
    // of low priority, waits behind all of it.
    await page.goto('/batch/digits')
    await page.getByTestId('batch-file').setInputFiles({ name: 'behind.ndjson', mimeType: 'application/x-ndjson', buffer: digitsNdjson(500) })
    await expect(page.getByTestId('upload-count')).toHaveText('500')
    await page.getByTestId('job-priority').selectOption('low')
    await page.getByTestId('job-deadline').selectOption('1h')
    // (two at a time: the tenant may upload two submissions at once)
    const blockers = await Promise.all([1, 2].map((i) => apiJob(request, 100_000, `backlog-${i}.ndjson`)))
    blockers.push(...(await Promise.all([3, 4].map((i) => apiJob(request, 100_000, `backlog-${i}.ndjson`)))))
    try {
      await page.getByTestId('submit-job').click()
      await page.waitForURL(/\/jobs\/[^/]+$/)
      const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!)
      // The scheduler's snapshot (every second) places it: items ahead and an estimated start.
      await expect(page.getByTestId('job-queue')).toContainText(/[\d,]+ items? ahead/, { timeout: 15_000 })
      await expect(page.getByTestId('job-summary')).toHaveText(/^queued — [\d,]+ items? ahead(, starts (in ~\d+ (s|min)|any moment))?$/)
      await expect(page.getByTestId('job-state')).toHaveText('queued')
      await expect(page.getByTestId('job-priority')).toHaveText('low')
      await expect(page.getByTestId('job-deadline')).not.toBeEmpty()
      await expect(page.getByTestId('priority-tag')).toHaveText('low priority')
      await page.evaluate(() => window.scrollTo(0, 0))
      await shot(page, 'job-queued')
      // Once it runs, the place in the queue goes; it never showed "running" while queued.
      await expect(page.getByTestId('job-state')).toHaveText(/running|completed/, { timeout: 60_000 })
      await expect(page.getByTestId('job-queue')).toHaveCount(0)
      await waitComplete(page, 500)
      const st = (await (await request.get(`/v1/jobs/${id}`, { headers: auth() })).json()) as { priority: string; deadline?: string }
      expect(st.priority).toBe('low')
      expect(st.deadline).toBeTruthy()
    } finally {
      for (const b of blockers) await request.post(`/v1/jobs/${b}/cancel`, { headers: auth() })
    }
  })

  test('a missing job is one clear message', async ({ page }) => {
    await page.goto('/jobs/j0000000000000000000000')
    await expect(page.getByTestId('job-not-found')).toContainText('No job with id j0000000000000000000000')
    await page.waitForTimeout(500)
    await expect(page.getByRole('alert')).toHaveCount(1)
    await expect(page.getByText('Waiting for results')).toHaveCount(0)
    await expect(page.getByText('Live updates failed')).toHaveCount(0)
  })

  test('a small finished job has a speed; its name is its file name', async ({ page }) => {
    const id = await submitDigits(page, 10)
    await waitComplete(page, 10)
    await expect(page.getByTestId('job-speed')).toHaveText(/^[\d,.]+\/s$/)
    await expect(page.getByTestId('job-speed')).not.toHaveText('0.00/s')
    await expect(page.getByRole('heading', { level: 1 })).toContainText('digits-10.ndjson')
    await page.goto('/jobs')
    await expect(page.getByTestId(`job-${id}`)).toContainText('digits-10.ndjson')
  })

  test('the jobs list pages, filters by model and state, and keeps the filters in the URL', async ({ page, request }) => {
    // More than one page of the tenant's jobs (50), small ones.
    for (let i = 0; i < 52; i++) await apiJob(request, 1, `tiny-${i}.ndjson`)
    await page.goto('/jobs')
    await expect(page.getByTestId('jobs-count')).toHaveText(/^50 of \d+ jobs$/)
    await page.getByTestId('jobs-more').click()
    await expect(page.getByTestId('jobs-count')).not.toHaveText(/^50 of/)
    await expect(page.getByTestId('job-link').first()).toHaveText(/\.ndjson$/)

    await page.getByTestId('filter-state').selectOption('completed')
    await expect(page).toHaveURL(/state=completed/)
    await expect(page.locator('[data-testid=job-state]:not([data-state^="completed"])')).toHaveCount(0)
    await page.getByTestId('filter-model').selectOption('breast_cancer')
    await expect(page).toHaveURL(/model=breast_cancer/)
    await page.reload()
    await expect(page.getByTestId('filter-model')).toHaveValue('breast_cancer')
    await expect(page.getByTestId('filter-state')).toHaveValue('completed')
  })
})

test.describe('Cluster', () => {
  test('each model has its own rate: breast_cancer ran nothing and shows 0 while digits runs', async ({ page, request }) => {
    const me = (await (await request.get('/v1/whoami', { headers: auth() })).json()) as { role: string }
    test.skip(me.role !== 'operator', 'the Cluster page needs an operator key')
    await page.setViewportSize(PHONE)
    await page.goto('/cluster')
    const blocker = await apiJob(request, 60_000)
    try {
      const digits = page.getByTestId('model-rate-digits:1')
      await expect(digits.locator('td').nth(2)).not.toHaveText('0.00/s', { timeout: 20_000 })
      await expect(page.getByTestId('model-rate-breast_cancer:1').locator('td').nth(2)).toHaveText('0.00/s')
      await noHorizontalScroll(page)
    } finally {
      await request.post(`/v1/jobs/${blocker}/cancel`, { headers: auth() })
    }
  })
})
