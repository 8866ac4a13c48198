// The dead-letter page (issue 18.6). Against the real gateway: it lists
// what GET /v1/deadletters answers, or says that the gateway has no such
// API. The flow (list, show the input, redrive, purge after a confirmation)
// runs against the agreed API contract, answered here by an in-memory
// server (src/api/testing/fakeDlq.ts) until the gateway serves the routes
// and a test can make a real dead letter.
import { FakeDlq } from '../src/api/testing/fakeDlq'
import { expect, test } from './fixtures'
import { apiKey, serveDlq } from './helpers'

test.describe('Dead letters', () => {
  test('the real gateway: the page shows its letters, or says it has no dead-letter API', async ({ page, request }) => {
    const r = await request.get('/v1/deadletters?limit=1', { headers: { Authorization: `Bearer ${apiKey()}` } })
    await page.goto('/deadletters')
    if (r.status() === 404) await expect(page.getByTestId('dlq-unavailable')).toBeVisible()
    else await expect(page.getByTestId('dlq-empty').or(page.locator('[data-testid^=dlq-dl]').first())).toBeVisible()
    await expect(page.getByTestId('dlq-error')).toHaveCount(0)
  })

  test('list, show the input, redrive, and purge only after the confirmation (the API contract)', async ({ page }) => {
    const api = new FakeDlq(60)
    await serveDlq(page, api)
    await page.goto('/deadletters')
    const first = page.getByTestId('dlq-dl1')
    await expect(first).toContainText('model crashed')
    await expect(first).toContainText('256–511')
    await expect(page.locator('ul.letters > li')).toHaveCount(50)
    await page.getByTestId('dlq-more').click()
    await expect(page.locator('ul.letters > li')).toHaveCount(60)

    await first.getByTestId('dlq-show').click()
    await expect(first.getByTestId('dlq-payload')).toContainText('Input (3 items)')

    await first.getByTestId('dlq-redrive').click()
    await expect(page.getByTestId('dlq-notice')).toContainText('Redriven: 256 items (256–511) of job job1')
    await expect(page.getByTestId('dlq-dl1')).toHaveCount(0)
    expect(api.redriven).toEqual(['dl1'])

    const second = page.getByTestId('dlq-dl2')
    await second.getByTestId('dlq-purge').click()
    await expect(page.getByTestId('confirm-keep')).toBeFocused()
    await page.keyboard.press('Escape')
    await expect(second).toBeVisible()
    expect(api.letters.some((l) => l.id === 'dl2')).toBe(true)
    await second.getByTestId('dlq-purge').click()
    await page.getByTestId('confirm-yes').click()
    await expect(page.getByTestId('dlq-notice')).toContainText('Purged')
    await expect(second).toHaveCount(0)
    expect(api.letters.some((l) => l.id === 'dl2')).toBe(false)

    // Filters go into the URL and the request.
    await page.getByTestId('dlq-filter-job').fill('job0')
    await page.getByTestId('dlq-filter-job').press('Enter')
    await expect(page).toHaveURL(/job=job0/)
    await expect(page.locator('ul.letters > li')).not.toHaveCount(0)
    for (const t of await page.locator('.letter__job').allTextContents()) expect(t).toContain('job0')
  })
})
