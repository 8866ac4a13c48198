import { expect, type Page } from '@playwright/test'
import type { FakeDlq } from '../src/api/testing/fakeDlq'
import { mkdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))

/** Where screenshots go: e2e/screenshots-tmp (ignored) unless E2E_SCREENSHOT_DIR says otherwise. */
export const screenshotDir = resolve(here, '..', process.env.E2E_SCREENSHOT_DIR ?? 'e2e/screenshots-tmp')
mkdirSync(screenshotDir, { recursive: true })

export function shot(page: Page, name: string, fullPage = false): Promise<Buffer> {
  return page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage })
}

/**
 * The API key the suite signs in with. scripts/e2e.sh starts the standalone
 * system, reads the development key it creates on its first start (kept in
 * dev-api-key beside its data), and passes it as E2E_API_KEY.
 */
export function apiKey(): string {
  const key = process.env.E2E_API_KEY?.trim()
  if (!key) {
    throw new Error(
      'e2e: E2E_API_KEY is not set. The UI signs in with an API key: scripts/e2e.sh passes the development key ' +
        'the system creates on its first start; against your own system, run E2E_API_KEY=<key> npm run e2e ' +
        '(make run creates a development key on its first start, prints it at every start and keeps it in data/dev-api-key).',
    )
  }
  return key
}

/** Where the app keeps the key (src/stores/session.ts, KEY_STORAGE). */
export const KEY_STORAGE = 'batchinfer.apiKey'

/** Sends key through the real sign-in form (the page must show it), without waiting for the outcome. */
export async function submitKey(page: Page, key = apiKey()): Promise<void> {
  const form = page.getByTestId('sign-in-form')
  await expect(form).toBeVisible()
  await form.getByLabel('API key').fill(key)
  await form.getByRole('button', { name: 'Sign in' }).click()
}

/** Signs in through the real sign-in form (the page must show it). */
export async function signIn(page: Page, key = apiKey()): Promise<void> {
  await submitKey(page, key)
  await expect(page.getByTestId('sign-in')).toHaveCount(0)
  await expect(page.getByTestId('sign-out')).toBeVisible()
}

/** The key sessionStorage holds for the page's origin (null: signed out). */
export function storedKey(page: Page): Promise<string | null> {
  return page.evaluate((k) => sessionStorage.getItem(k), KEY_STORAGE)
}

/** The debug hook the app installs as window.__bi (src/composables/debugHook.ts). */
export interface DebugHook {
  dropSocket(): void
  socket(): { state: string; reconnects: number; droppedResults: number; tenant: string | null; lastClose: { code: number; reason: string } | null }
  session(): { status: string; tenant: string | null; role: string | null }
  jobIndexes(id: string): number[]
  jobStats(id: string): { total: number; received: number; duplicates: number; staleFrames: number; lastSeq: number }
}

type HookWindow = { __bi?: DebugHook }

export function dropSocket(page: Page): Promise<void> {
  return page.evaluate(() => (window as unknown as HookWindow).__bi!.dropSocket())
}

export function socketInfo(page: Page): Promise<ReturnType<DebugHook['socket']>> {
  return page.evaluate(() => (window as unknown as HookWindow).__bi!.socket())
}

export function sessionInfo(page: Page): Promise<ReturnType<DebugHook['session']>> {
  return page.evaluate(() => (window as unknown as HookWindow).__bi!.session())
}

/** GET /v1/whoami of the gateway under test (what the app asks when it checks a key). */
export interface Whoami {
  tenant: string
  role: 'user' | 'operator'
  key_id: string
  auth_required: boolean
}

export function jobIndexes(page: Page, id: string): Promise<number[]> {
  return page.evaluate((job) => (window as unknown as HookWindow).__bi!.jobIndexes(job), id)
}

export function jobStats(page: Page, id: string): Promise<ReturnType<DebugHook['jobStats']>> {
  return page.evaluate((job) => (window as unknown as HookWindow).__bi!.jobStats(job), id)
}

/** Lines of model/testdata/digits_sample.ndjson (64 numbers each). */
export function digitLines(): string[] {
  const file = resolve(here, '../../model/testdata/digits_sample.ndjson')
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
  if (lines.length === 0) throw new Error(`${file} is empty`)
  return lines
}

/** An NDJSON upload of n digit rows (the sample lines repeated). */
export function digitsNdjson(n: number): Buffer {
  const lines = digitLines()
  return Buffer.from(Array.from({ length: n }, (_, i) => lines[i % lines.length]).join('\n') + '\n')
}

export async function waitLive(page: Page): Promise<void> {
  await expect(page.getByTestId('conn-state')).toHaveAttribute('data-state', 'open')
}

/** Uploads an NDJSON body on the Batch page, submits it, and returns the job id from the URL. */
export async function submitDigits(page: Page, rows: number): Promise<string> {
  await page.goto('/batch/digits')
  await page.getByTestId('batch-file').setInputFiles({
    name: `digits-${rows}.ndjson`,
    mimeType: 'application/x-ndjson',
    buffer: digitsNdjson(rows),
  })
  await expect(page.getByTestId('upload-count')).toHaveText(rows.toLocaleString('en-US'))
  await page.getByTestId('submit-job').click()
  await page.waitForURL(/\/jobs\/[^/]+$/)
  return decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!)
}

/** Waits until the job page shows 100 % and holds `rows` result rows. */
export async function waitComplete(page: Page, rows: number): Promise<void> {
  await expect(page.getByTestId('job-progress')).toHaveText('100 %', { timeout: 60_000 })
  await expect(page.getByTestId('row-count')).toHaveAttribute('data-count', String(rows), { timeout: 60_000 })
  await expect(page.getByTestId('results-complete')).toBeVisible()
}

/** Asserts that the page applied each of 0..rows-1 exactly once. */
export async function expectEveryRowOnce(page: Page, id: string, rows: number): Promise<void> {
  const indexes = await jobIndexes(page, id)
  expect(indexes).toHaveLength(rows)
  expect(new Set(indexes).size).toBe(rows)
  expect([...indexes].sort((a, b) => a - b)).toEqual(Array.from({ length: rows }, (_, i) => i))
  const stats = await jobStats(page, id)
  expect(stats.duplicates).toBe(0)
  await expect(page.getByTestId('dup-count')).toHaveAttribute('data-count', '0')
}

/**
 * Serves /v1/deadletters from api (the contract of api/openapi.yaml, src/api/testing/fakeDlq.ts) for this page;
 * with listOnly, only the listings (GET /v1/deadletters?…): a letter's own routes go to the real gateway.
 */
export async function serveDlq(page: Page, api: FakeDlq, { listOnly = false } = {}): Promise<void> {
  await page.route(/\/v1\/deadletters(\/|\?|$)/, async (route) => {
    const req = route.request()
    if (listOnly && (req.method() !== 'GET' || new URL(req.url()).pathname !== '/v1/deadletters')) return route.fallback()
    const res = await api.fetch(req.url(), { method: req.method() })
    await route.fulfill({ status: res.status, headers: { 'Content-Type': 'application/json' }, body: await res.text() })
  })
}
