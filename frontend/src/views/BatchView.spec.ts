import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import BatchView from './BatchView.vue'
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
  for (let i = 0; i < 5; i++) {
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
    expect(posts).toHaveLength(1)
    const raw = posts[0]!.body as ArrayBuffer
    const body = JSON.parse(String.fromCharCode(...new Uint8Array(raw))) as { name: string; inputs: number[][] }
    expect(body.name).toBe('cases.csv')
    expect(body.inputs).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ])
    const { useJobsStore } = await import('@/stores/jobs')
    expect(useJobsStore().inputRefs.get('j2')?.ids).toEqual(['A-1', 'A-2'])
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
    const limits = { max_job_items: 2, max_body_bytes: 1 << 20, max_upload_bytes: 1 << 30, max_sync_items: 64, tenant: { max_jobs: 16, max_items_in_flight: 1000 } }
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
})
