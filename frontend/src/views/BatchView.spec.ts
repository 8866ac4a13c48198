import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import BatchView from './BatchView.vue'
import { digits } from '@/lib/testModels'

let posts: string[]

function setup() {
  posts = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init?: RequestInit) => {
      if (init?.method === 'POST') {
        posts.push(url)
        return new Response(JSON.stringify({ job: { id: 'j1', model: 'digits', version: '1', state: 'queued', total: 2, done: 0, failed: 0, chunks: 1, created_at: '', elapsed_ms: 0, items_per_sec: 0 }, links: {} }), { status: 202 })
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

async function upload(w: ReturnType<typeof mount>, name: string, text: string) {
  const input = w.find('input[type=file]')
  const file = new File([text], name, { type: 'application/x-ndjson' })
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
    const router = setup()
    await router.push('/batch/digits')
    const w = mount(BatchView, { global: { plugins: [router] } })
    await flushPromises()
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

  it('submits a valid upload and opens the job page', async () => {
    const router = setup()
    await router.push('/batch/digits')
    const w = mount(BatchView, { global: { plugins: [router] } })
    await flushPromises()
    const good = JSON.stringify(Array(64).fill(1))
    await upload(w, 'ok.ndjson', `${good}\n${good}\n`)
    expect(w.find('[data-testid=upload-count]').text()).toBe('2')
    await w.find('[data-testid=submit-job]').trigger('click')
    await flushPromises()
    expect(posts).toEqual(['/v1/jobs'])
    expect(router.currentRoute.value.fullPath).toBe('/jobs/j1')
  })
})
