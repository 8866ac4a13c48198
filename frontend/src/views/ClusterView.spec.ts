import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { POLL_MS } from '@/stores/cluster'
import ClusterView from './ClusterView.vue'

function answer(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers })
}

const clusterInfo = {
  workers: [{ id: 'w1', host: 'h', models: ['digits:1'], started_at: '', last_seen: '', items_total: 0, batches_total: 0, items_per_sec: 5, in_flight: 0 }],
  queue: { pending_chunks: 0, in_flight_chunks: 0 },
}

beforeEach(() => {
  setActivePinia(createPinia())
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
})

describe('ClusterView', () => {
  it('a user key (403) gets a clear "needs an operator key" and polling stops', async () => {
    const fetch = vi.fn(async () => answer(403, { error: { code: 'forbidden', message: '/v1/cluster needs an operator key' } }))
    vi.stubGlobal('fetch', fetch)
    const w = mount(ClusterView)
    await flushPromises()
    const msg = w.get('[data-testid=cluster-forbidden]')
    expect(msg.text()).toContain('needs an operator key')
    expect(w.find('[data-testid=cluster-error]').exists()).toBe(false)
    expect(w.find('[data-testid=worker-count]').exists()).toBe(false)
    await vi.advanceTimersByTimeAsync(POLL_MS * 5)
    expect(fetch).toHaveBeenCalledTimes(1) // no 403 every 2 s
    w.unmount()
  })

  it('a 429 shows the Retry-After hint and the next poll waits for it', async () => {
    let n = 0
    const fetch = vi.fn(async () =>
      ++n === 1
        ? answer(429, { error: { code: 'rate_limited', message: 'key k1 is over its request rate' } }, { 'Retry-After': '7' })
        : answer(200, clusterInfo),
    )
    vi.stubGlobal('fetch', fetch)
    const w = mount(ClusterView)
    await flushPromises()
    expect(w.get('[data-testid=cluster-error]').text()).toContain('Try again in 7 s')
    await vi.advanceTimersByTimeAsync(POLL_MS)
    expect(fetch).toHaveBeenCalledTimes(1) // not after the usual 2 s
    await vi.advanceTimersByTimeAsync(7000 - POLL_MS)
    expect(fetch).toHaveBeenCalledTimes(2)
    await flushPromises()
    expect(w.find('[data-testid=cluster-error]').exists()).toBe(false)
    expect(w.get('[data-testid=worker-count]').text()).toBe('1')
    w.unmount()
  })
})
