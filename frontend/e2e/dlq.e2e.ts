// The dead-letters page (issue 18.6).
//
// Against the real gateway: the page's listings (filters by job, model,
// tenant; the synchronous requests' letters) are answered without an error,
// and a letter's own routes (show, redrive, purge) and a job's purge are the
// real gateway's: a letter that is not there is said in words and leaves the
// list. A real dead letter needs a chunk that every worker crashes or times
// out on, which the standalone system cannot be made to do from a browser
// (the system tests make them with a failing predictor: test/system); so the
// whole flow (list, show the input, redrive, purge after a confirmation)
// also runs against the contract of api/openapi.yaml, answered by an
// in-memory server (src/api/testing/fakeDlq.ts).
import { FakeDlq } from '../src/api/testing/fakeDlq'
import { expect, test } from './fixtures'
import { apiKey, digitsNdjson, serveDlq } from './helpers'

const auth = () => ({ Authorization: `Bearer ${apiKey()}` })

test.describe('Dead letters', () => {
  test('the real gateway answers every listing the page asks for', async ({ page, request }) => {
    const r = await request.get('/v1/deadletters?limit=1', { headers: auth() })
    expect(r.status()).toBe(200)
    const asked: string[] = []
    page.on('request', (req) => {
      const u = new URL(req.url())
      if (u.pathname === '/v1/deadletters') asked.push(u.search)
    })
    const answered: number[] = []
    page.on('response', (res) => {
      if (new URL(res.url()).pathname === '/v1/deadletters') answered.push(res.status())
    })
    await page.goto('/deadletters')
    await expect(page.getByTestId('dlq-empty').or(page.locator('ul.letters > li').first())).toBeVisible()
    await page.getByTestId('dlq-filter-job').fill('j0000000000000000000000')
    await page.getByTestId('dlq-filter-model').fill('digits:1')
    await page.getByTestId('dlq-filter-tenant').fill('dev')
    await page.getByTestId('dlq-filter-job').press('Enter')
    await expect(page).toHaveURL(/job=j0+&model=digits(%3A|:)1&tenant=dev/)
    await expect(page.getByTestId('dlq-empty')).toHaveText('No dead letters match these filters.')
    await page.getByTestId('dlq-filter-kind').selectOption('sync')
    await page.getByRole('button', { name: 'Filter' }).click()
    await expect(page).toHaveURL(/\?model=digits(%3A|:)1&kind=sync$/)
    await expect(page.getByTestId('dlq-empty')).toBeVisible()
    await expect(page.getByTestId('dlq-error')).toHaveCount(0)
    expect(asked).toEqual(['?limit=50', '?limit=50&job=j0000000000000000000000&model=digits%3A1&tenant=dev', '?limit=50&model=digits%3A1&kind=sync'])
    expect(answered).toEqual([200, 200, 200])
  })

  test('a letter gone from the real gateway is said in words and leaves the list; a job’s purge is the real gateway’s', async ({ page, request }) => {
    // The list names letters the gateway does not have, of a real job; everything else goes to the gateway.
    const sub = await request.post('/v1/jobs?model=digits&name=letters.ndjson', {
      headers: { ...auth(), 'Content-Type': 'application/x-ndjson' },
      data: digitsNdjson(10),
    })
    expect(sub.status()).toBe(202)
    const job = ((await sub.json()) as { job: { id: string } }).job.id
    const api = new FakeDlq(3, (n) => ({ id: String(999_999_000 + n), job }))
    await serveDlq(page, api, { listOnly: true })
    await page.goto(`/deadletters?job=${job}`)
    const [a, b, c] = api.letters.map((l) => page.getByTestId(`dlq-${l.id}`))

    await a!.getByTestId('dlq-show').click()
    await expect(page.getByTestId('dlq-error')).toContainText(/Not found: no dead letter "999999001"/i)
    await expect(a!).toHaveCount(0)
    await b!.getByTestId('dlq-redrive').click()
    await expect(page.getByTestId('dlq-error')).toContainText(/no dead letter "999999002"/i)
    await expect(b!).toHaveCount(0)
    await c!.getByTestId('dlq-purge').click()
    await page.locator('dialog[open]').getByTestId('confirm-yes').click()
    await expect(page.getByTestId('dlq-error')).toContainText(/no dead letter "999999003"/i)
    await expect(c!).toHaveCount(0)
    await expect(page.locator('ul.letters > li')).toHaveCount(0)

    // Every letter of the job: the gateway purges what it has (none), and the list is read again.
    await page.goto(`/deadletters?job=${job}`)
    await page.getByTestId('dlq-purge-job').click()
    await expect(page.locator('dialog[open]').getByTestId('confirm-keep')).toBeFocused()
    await page.locator('dialog[open]').getByTestId('confirm-yes').click()
    await expect(page.getByTestId('dlq-notice')).toHaveText(`Purged 0 dead letters of job ${job}.`)
    await expect(page.locator('ul.letters > li')).toHaveCount(3)
    await expect(page.getByTestId('dlq-error')).toHaveCount(0)
  })

  test('list, show the input, redrive, and purge only after the confirmation (the API contract)', async ({ page }) => {
    const api = new FakeDlq(60)
    await serveDlq(page, api)
    await page.goto('/deadletters')
    const first = page.getByTestId('dlq-1')
    await expect(first).toContainText('every worker that took this chunk crashed or timed out')
    await expect(first).toContainText('256–511')
    await expect(page.locator('ul.letters > li')).toHaveCount(50)
    await page.getByTestId('dlq-more').click()
    await expect(page.locator('ul.letters > li')).toHaveCount(60)

    await first.getByTestId('dlq-show').click()
    await expect(first.getByTestId('dlq-payload')).toContainText('Input (3 of 256 items shown)')
    await expect(first.getByTestId('dlq-payload')).toContainText('item 256, line 257 3 values: 1, 0, 0.5')

    await first.getByTestId('dlq-redrive').click()
    await expect(page.getByTestId('dlq-notice')).toContainText('Redriven: 256 items (256–511) of job job1 are back in its queue')
    await expect(first).toHaveCount(0)
    expect(api.redriven).toEqual(['1'])

    const second = page.getByTestId('dlq-2')
    await second.getByTestId('dlq-purge').click()
    await expect(page.locator('dialog[open]').getByTestId('confirm-keep')).toBeFocused()
    await page.keyboard.press('Escape')
    await expect(second).toBeVisible()
    expect(api.letters.some((l) => l.id === '2')).toBe(true)
    await second.getByTestId('dlq-purge').click()
    await page.locator('dialog[open]').getByTestId('confirm-yes').click()
    await expect(page.getByTestId('dlq-notice')).toContainText('Purged')
    await expect(second).toHaveCount(0)
    expect(api.letters.some((l) => l.id === '2')).toBe(false)

    // Filters go into the URL and the request.
    await page.getByTestId('dlq-filter-job').fill('job0')
    await page.getByTestId('dlq-filter-job').press('Enter')
    await expect(page).toHaveURL(/job=job0/)
    await expect(page.locator('ul.letters > li')).not.toHaveCount(0)
    for (const t of await page.locator('.letter__job').allTextContents()) expect(t).toContain('job0')
  })
})
