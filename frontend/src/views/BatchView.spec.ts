import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import BatchView from './BatchView.vue'
import { FakeTusServer } from '@/api/testing/fakeTus'
import { configureUploads } from '@/stores/upload'
import { digits, tabular } from '@/lib/testModels'

let posts: { url: string; contentType: string; body: unknown }[]

interface Answers {
  limits?: unknown
  /** The answer to POST /v1/jobs. */
  submit?: { status: number; body: unknown }
}

function setup(a: Answers = {}) {
  posts = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init?: RequestInit) => {
      if (init?.method === 'POST') {
        posts.push({ url, contentType: (init.headers as Record<string, string>)['Content-Type']!, body: init.body })
        const r = a.submit ?? {
          status: 202,
          body: { job: { id: 'j1', model: 'digits', version: '1', state: 'queued', total: 2, done: 0, failed: 0, chunks: 1, created_at: '', elapsed_ms: 0, items_per_sec: 0 }, links: {} },
        }
        return new Response(JSON.stringify(r.body), { status: r.status })
      }
      if (url === '/v1/limits') {
        return a.limits
          ? new Response(JSON.stringify(a.limits))
          : new Response(JSON.stringify({ error: { code: 'not_found', message: 'no route' } }), { status: 404 })
      }
      return new Response(JSON.stringify({ models: [digits] }))
    }),
  )
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/batch/:model?', name: 'batch', component: BatchView },
      { path: '/jobs/:id', name: 'job', component: { template: '<div>job</div>' } },
    ],
  })
  return router
}

async function mounted(a: Answers = {}) {
  const router = setup(a)
  await router.push('/batch/digits')
  const w = mount(BatchView, { global: { plugins: [router] } })
  await flushPromises()
  return { w, router }
}

async function upload(w: ReturnType<typeof mount>, name: string, text: string | Uint8Array) {
  const input = w.find('input[type=file]')
  const file = new File([text as BlobPart], name, { type: name.endsWith('.ndjson') ? 'application/x-ndjson' : '' })
  Object.defineProperty(input.element, 'files', { value: [file], configurable: true })
  await input.trigger('change')
  // until the check is done (the summary or an error is shown)
  for (let i = 0; i < 5 || (w.find('.parse-progress').exists() && i < 1000); i++) {
    await flushPromises()
    await new Promise((r) => setTimeout(r, 5))
  }
}

beforeEach(() => setActivePinia(createPinia()))
afterEach(() => vi.unstubAllGlobals())

describe('BatchView', () => {
  it('lists bad rows with reasons and sends nothing', async () => {
    const { w } = await mounted()
    const good = JSON.stringify(Array(64).fill(1))
    await upload(w, 'bad.ndjson', `${good}\n[1,2,3]\n${good.replace('[1,', '[99,')}\n`)
    expect(w.find('[data-testid=upload-error]').text()).toContain('2 of 3 rows are invalid')
    const bad = w.findAll('[data-testid=bad-rows] li').map((l) => l.text())
    expect(bad).toEqual(['line 2 (item 1): expected 64 values, got 3', 'line 3 (item 2): value 0 = 99 is above the maximum 16'])
    await w.find('[data-testid=submit-job]').trigger('click')
    await flushPromises()
    expect(posts).toEqual([])
    expect(w.text()).toContain('Nothing was sent.')
  })

  it('sends a valid NDJSON file as it is, with its name, and opens the job page', async () => {
    const { w, router } = await mounted()
    const good = JSON.stringify(Array(64).fill(1))
    await upload(w, 'ok.ndjson', `${good}\n${good}\n`)
    expect(w.find('[data-testid=upload-count]').text()).toBe('2')
    await w.find('[data-testid=submit-job]').trigger('click')
    await flushPromises()
    expect(posts.map((p) => [p.url, p.contentType])).toEqual([['/v1/jobs?model=digits&version=1&name=ok.ndjson', 'application/x-ndjson']])
    expect(posts[0]!.body).toBeInstanceOf(Blob)
    expect(router.currentRoute.value.fullPath).toBe('/jobs/j1')
  })

  it('reads a CSV id column when the user says it is one, and keeps it out of the inputs', async () => {
    const router = setup()
    const { useModelsStore } = await import('@/stores/models')
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string, init?: RequestInit) => {
        if (init?.method === 'POST') {
          posts.push({ url, contentType: (init.headers as Record<string, string>)['Content-Type']!, body: init.body })
          return new Response(JSON.stringify({ job: { id: 'j2', model: 'iris', version: '2', state: 'queued', total: 2, done: 0, failed: 0, chunks: 1, created_at: '', elapsed_ms: 0, items_per_sec: 0 }, links: {} }), { status: 202 })
        }
        if (url === '/v1/limits') return new Response('{}', { status: 404 })
        return new Response(JSON.stringify({ models: [tabular] }))
      }),
    )
    await useModelsStore().load(true)
    await router.push('/batch/iris')
    const w = mount(BatchView, { global: { plugins: [router] } })
    await flushPromises()
    await upload(w, 'cases.csv', 'case,z,x,y\nA-1,3,1,2\nA-2,6,4,5\n')
    expect(w.find('[data-testid=upload-error]').text()).toContain('not features of iris ("case")')
    await w.get('[data-testid=use-id-column]').trigger('click')
    for (let i = 0; i < 5; i++) {
      await flushPromises()
      await new Promise((r) => setTimeout(r, 5))
    }
    expect(w.find('[data-testid=upload-error]').exists()).toBe(false)
    expect(w.get('[data-testid=id-column]').text()).toContain('“case” is each row’s id')
    await w.get('[data-testid=submit-job]').trigger('click')
    await flushPromises()
    // The file goes as it is: the gateway reads the id column (ItemResult.id).
    expect(posts.map((p) => [p.url, p.contentType])).toEqual([['/v1/jobs?model=iris&version=2&name=cases.csv&id_column=case', 'text/csv']])
    expect(posts[0]!.body).toBeInstanceOf(Blob)
  })

  it('refuses a spreadsheet with what it is and what to do, not as "0 items"', async () => {
    const { w } = await mounted()
    await upload(w, 'rows.xlsx', new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 6, 0, 8, 0, 0, 0, 0x21, 0]))
    expect(w.find('[data-testid=upload-error]').text()).toMatch(/spreadsheet \(\.xlsx\), not a CSV file: save it as CSV/)
    expect(w.find('[data-testid=upload-count]').exists()).toBe(false)
    await w.find('[data-testid=submit-job]').trigger('click')
    await flushPromises()
    expect(posts).toEqual([])
  })

  it('explains an upload over the limits before sending anything', async () => {
    const limits = {
      max_job_items: 2,
      max_body_bytes: 1 << 20,
      max_json_body_bytes: 1 << 20,
      max_upload_bytes: 1 << 30,
      max_sync_items: 64,
      tenant: { max_jobs: 16, max_items_in_flight: 1000, max_uploads: 20, max_upload_bytes: 1 << 30, max_result_bytes: 1 << 31 },
    }
    const { w } = await mounted({ limits })
    const good = JSON.stringify(Array(64).fill(1))
    await upload(w, 'three.ndjson', `${good}\n${good}\n${good}\n`)
    expect(w.find('[data-testid=upload-error]').text()).toContain(
      'This file has 3 items; one job may have at most 2. Split it into 2 files of at most 2 items each.',
    )
    expect(w.find('[data-testid=submit-job]').attributes('aria-disabled')).toBe('true')
    await w.find('[data-testid=submit-job]').trigger('click')
    await flushPromises()
    expect(posts).toEqual([])
  })

  it('explains a refusal in words and does not offer the same upload again', async () => {
    const { w } = await mounted({
      submit: { status: 413, body: { error: { code: 'too_many_items', message: '3 items, the limit is 2' } } },
    })
    const good = JSON.stringify(Array(64).fill(1))
    await upload(w, 'three.ndjson', `${good}\n${good}\n${good}\n`)
    await w.find('[data-testid=submit-job]').trigger('click')
    await flushPromises()
    expect(w.find('[data-testid=submit-error]').text()).toBe(
      'The upload has more items than one job may have; split it into smaller files: 3 items, the limit is 2.',
    )
    expect(w.find('[data-testid=submit-job]').attributes('aria-disabled')).toBe('true')
    await w.find('[data-testid=submit-job]').trigger('click')
    await flushPromises()
    expect(posts).toHaveLength(1)
  })

  it('sends the priority and the deadline, and refuses a deadline in the past at its field', async () => {
    const { w } = await mounted()
    const good = JSON.stringify(Array(64).fill(1))
    await upload(w, 'ok.ndjson', `${good}\n`)
    await w.get('[data-testid=job-priority]').setValue('high')
    await w.get('[data-testid=job-deadline]').setValue('at')
    await w.get('[data-testid=job-deadline-at]').setValue('2001-01-01T00:00')
    await w.get('[data-testid=submit-job]').trigger('click')
    await flushPromises()
    expect(posts).toEqual([])
    expect(w.get('#batch-deadline-error').text()).toContain('at least a minute from now')
    await w.get('[data-testid=job-deadline]').setValue('6h')
    await w.get('[data-testid=submit-job]').trigger('click')
    await flushPromises()
    expect(posts.map((p) => p.url)).toEqual(['/v1/jobs?model=digits&version=1&name=ok.ndjson&priority=high&deadline=6h'])
  })

  it('lets invalid rows of a file sent as it is fail as items (max_invalid), when asked', async () => {
    const { w } = await mounted()
    const good = JSON.stringify(Array(64).fill(1))
    await upload(w, 'some-bad.ndjson', `${good}\n[1,2]\n${good}\n`)
    expect(w.get('[data-testid=upload-error]').text()).toContain('1 of 3 rows are invalid')
    await w.get('[data-testid=allow-invalid]').setValue(true)
    expect(w.find('[data-testid=upload-error]').exists()).toBe(false)
    await w.get('[data-testid=submit-job]').trigger('click')
    await flushPromises()
    expect(posts.map((p) => p.url)).toEqual(['/v1/jobs?model=digits&version=1&name=some-bad.ndjson&max_invalid=1'])
  })

  it('says how long the check took', async () => {
    const { w } = await mounted()
    await upload(w, 'ok.ndjson', `${JSON.stringify(Array(64).fill(1))}\n`)
    const t = w.get('[data-testid=parse-time]')
    expect(t.text()).toMatch(/^Checked in \d+ ms\.$/)
    expect(Number(t.attributes('data-ms'))).toBeGreaterThanOrEqual(0)
  })

  it('uploads a file of 4 MiB or more resumably, then creates the job from the upload', async () => {
    const tus = new FakeTusServer()
    configureUploads({ httpStack: tus })
    try {
      const { w, router } = await mounted()
      const line = JSON.stringify(Array(64).fill(16))
      const rows = Math.ceil((4 << 20) / (line.length + 1))
      await upload(w, 'big.ndjson', `${line}\n`.repeat(rows))
      expect(w.get('[data-testid=upload-count]').text()).toBe(rows.toLocaleString('en-US'))
      await w.get('[data-testid=submit-job]').trigger('click')
      for (let i = 0; i < 50 && posts.length === 0; i++) {
        await flushPromises()
        await new Promise((r) => setTimeout(r, 5))
      }
      expect(tus.log.map((r) => r.method)).toEqual(['POST', 'PATCH', 'PATCH', 'PATCH', 'PATCH', 'PATCH'])
      expect(tus.uploads.get('u1')!.offset).toBe(rows * (line.length + 1))
      expect(posts.map((p) => p.url)).toEqual(['/v1/jobs?model=digits&version=1&upload=u1&format=ndjson&name=big.ndjson'])
      await flushPromises()
      expect(router.currentRoute.value.fullPath).toBe('/jobs/j1')
      expect(localStorage.length).toBe(0) // the browser forgets an upload that became a job
    } finally {
      configureUploads({})
    }
  })
})
