// Every page at phone width (390×844) and on a desktop (1400×900), light and
// dark: axe-core finds no violation (WCAG 2.2 A/AA and best practices), the
// page is never wider than the screen, and chart text is drawn at a readable
// size. A few of these pages are the README's screenshots.
import AxeBuilder from '@axe-core/playwright'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from '@playwright/test'
import { expect, test } from './fixtures'
import { FakeDlq } from '../src/api/testing/fakeDlq'
import { apiKey, digitLines, digitsNdjson, serveDlq, shot, waitLive } from './helpers'

const SIZES = { phone: { width: 390, height: 844 }, desktop: { width: 1400, height: 900 } } as const
const SCHEMES = ['light', 'dark'] as const

type Size = keyof typeof SIZES
type Scheme = (typeof SCHEMES)[number]

/** The README's screenshots: page-size-scheme. */
const README_SHOTS = new Set([
  'try-tabular-desktop-light',
  'try-tabular-phone-dark',
  'batch-phone-light',
  'job-desktop-dark',
  'jobs-desktop-light',
  'cluster-phone-dark',
  'batch-upload-desktop-light',
  'deadletters-desktop-dark',
])

let jobId = ''
let big = ''
const answering = new WeakSet<Page>()

/** A file that goes by resumable upload (4 MiB and more), on disk: every look resumes the same upload. */
function bigFile(): string {
  if (!big) {
    big = join(mkdtempSync(join(tmpdir(), 'bi-a11y-')), 'dataset.ndjson')
    writeFileSync(big, digitsNdjson(30_000))
  }
  return big
}

/** A finished job to show: its name, chart and results. */
async function finishedJob(page: Page): Promise<string> {
  if (jobId) return jobId
  const r = await page.request.post('/v1/jobs?model=digits&name=digits-500.ndjson', {
    headers: { Authorization: `Bearer ${apiKey()}`, 'Content-Type': 'application/x-ndjson' },
    data: digitsNdjson(500),
  })
  expect(r.status()).toBe(202)
  jobId = ((await r.json()) as { job: { id: string } }).job.id
  return jobId
}

async function drawSeven(page: Page): Promise<void> {
  const box = (await page.getByTestId('draw-canvas').boundingBox())!
  await page.mouse.move(box.x + box.width * 0.25, box.y + box.height * 0.2)
  await page.mouse.down()
  await page.mouse.move(box.x + box.width * 0.75, box.y + box.height * 0.2, { steps: 6 })
  await page.mouse.move(box.x + box.width * 0.45, box.y + box.height * 0.85, { steps: 6 })
  await page.mouse.up()
}

/** How to open each page and what says it is ready. */
const PAGES: Record<string, (page: Page) => Promise<void>> = {
  models: async (page) => {
    await page.goto('/models')
    await expect(page.getByTestId('model-digits')).toContainText(/workers?/)
  },
  'try-digits': async (page) => {
    await page.goto('/try/digits')
    await waitLive(page)
    await drawSeven(page)
    await expect(page.getByTestId('prediction-label')).toHaveText(/^\d$/)
  },
  'try-tabular': async (page) => {
    await page.goto('/try/breast_cancer')
    await expect(page.getByTestId('prediction-label')).toHaveText(/^(benign|malignant)$/)
  },
  batch: async (page) => {
    await page.goto('/batch/digits')
    const lines = digitLines()
    const body = [lines[0], '[1,2,3]', lines[1], JSON.stringify(Array(64).fill(99))].join('\n')
    await page.getByTestId('batch-file').setInputFiles({ name: 'mixed.ndjson', mimeType: 'application/x-ndjson', buffer: Buffer.from(body) })
    await expect(page.getByTestId('bad-rows')).toBeVisible()
  },
  'batch-upload': async (page) => {
    // A large file's resumable upload, paused: its PATCHes after the first get no answer. Leaving
    // the page asks first (beforeunload): the next look's navigation says yes.
    if (!answering.has(page)) {
      answering.add(page)
      page.on('dialog', (d) => void d.accept().catch(() => undefined))
    }
    await page.route(/\/v1\/uploads\/[^/]+$/, async (route) => {
      if (route.request().method() === 'PATCH' && Number(route.request().headers()['upload-offset'] ?? 0) > 0) return
      await route.continue()
    })
    await page.goto('/batch/digits')
    await page.getByTestId('batch-file').setInputFiles(bigFile())
    await expect(page.getByTestId('upload-count')).toHaveText('30,000')
    await page.getByTestId('job-priority').selectOption('high')
    await page.getByTestId('submit-job').click()
    await expect(page.getByTestId('upload-percent')).not.toHaveText('0 %')
    await page.getByTestId('upload-pause').click()
    await expect(page.getByTestId('upload-progress')).toHaveAttribute('data-phase', 'paused')
  },
  deadletters: async (page) => {
    await serveDlq(page, new FakeDlq(3))
    await page.goto('/deadletters')
    await page.getByTestId('dlq-1').getByTestId('dlq-show').click()
    await expect(page.getByTestId('dlq-payload')).toBeVisible()
  },
  jobs: async (page) => {
    await finishedJob(page)
    await page.goto('/jobs')
    await expect(page.getByTestId('job-link').first()).toBeVisible()
  },
  job: async (page) => {
    await page.goto(`/jobs/${await finishedJob(page)}`)
    await expect(page.getByTestId('results-complete')).toBeVisible({ timeout: 30_000 })
  },
  cluster: async (page) => {
    await page.goto('/cluster')
    await expect(page.getByRole('heading', { name: 'Cluster', level: 1 })).toBeVisible()
    await expect(page.getByTestId('worker-count').or(page.getByTestId('cluster-forbidden'))).toBeVisible()
  },
  'not-found': async (page) => {
    await page.goto('/no/such/page')
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible()
  },
}

async function check(page: Page, name: string, size: Size, scheme: Scheme): Promise<void> {
  const where = `${name} at ${size} width, ${scheme}`
  const axe = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']).analyze()
  const found = axe.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
  expect(found, `axe on ${where}`).toEqual([])
  const { scroll, view } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, view: window.innerWidth }))
  expect(scroll, `${where}: the page is wider than the screen`).toBeLessThanOrEqual(view)
  // Chart text: 12 px in the SVG's own units, times its scale on screen.
  const textPx = await page.evaluate(() =>
    Array.from(document.querySelectorAll<SVGSVGElement>('svg.chart__svg')).map((svg) => {
      const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width
      const t = svg.querySelector('text')
      return t ? parseFloat(getComputedStyle(t).fontSize) * scale : 12
    }),
  )
  for (const px of textPx) expect(px, `${where}: chart text size`).toBeGreaterThanOrEqual(11)
}

async function eachLook(page: Page, name: string, open: (page: Page) => Promise<void>): Promise<void> {
  for (const size of Object.keys(SIZES) as Size[]) {
    for (const scheme of SCHEMES) {
      await page.setViewportSize(SIZES[size])
      await page.emulateMedia({ colorScheme: scheme })
      await open(page)
      await check(page, name, size, scheme)
      const id = `${name}-${size}-${scheme}`
      if (README_SHOTS.has(id)) await shot(page, id)
    }
  }
}

test.describe('every page, phone and desktop, light and dark', () => {
  for (const [name, open] of Object.entries(PAGES)) {
    test(`${name}: axe finds nothing, nothing is wider than the screen`, async ({ page }) => {
      await eachLook(page, name, open)
    })
  }

  test('sign-in: axe finds nothing, nothing is wider than the screen', async ({ browser }: { browser: Browser }) => {
    const context = await browser.newContext() // no key: the sign-in view
    const page = await context.newPage()
    try {
      await eachLook(page, 'sign-in', async (p) => {
        await p.goto('/models')
        await expect(p.getByTestId('sign-in-form')).toBeVisible()
      })
    } finally {
      await context.close()
    }
  })
})
