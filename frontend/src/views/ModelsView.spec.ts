import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import ModelsView from './ModelsView.vue'
import { digits } from '@/lib/testModels'

beforeEach(() => setActivePinia(createPinia()))
afterEach(() => vi.unstubAllGlobals())

function router() {
  const r = createRouter({ history: createMemoryHistory(), routes: [{ path: '/:pathMatch(.*)*', name: 'any', component: { template: '<div />' } }] })
  r.addRoute({ path: '/try/:model?', name: 'try', component: { template: '<div />' } })
  r.addRoute({ path: '/batch/:model?', name: 'batch', component: { template: '<div />' } })
  return r
}

describe('ModelsView', () => {
  it('shows each version with where it comes from, its state when not ready, and the aliases that route to it', async () => {
    const d2 = { ...digits, version: '2', state: 'loading', source: 'registry', ready: false, workers: 0 }
    const aliases = [{ model: 'digits', name: 'canary', weights: { '1': 9, '2': 1 }, updated_at: '2026-12-06T00:00:00Z' }]
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ models: [{ ...digits, state: 'ready', source: 'disk' }, d2], aliases }))))
    const w = mount(ModelsView, { global: { plugins: [router()] } })
    await flushPromises()
    expect(w.get('[data-testid=model-aliases-digits-1]').text()).toBe('canary (90 % of its traffic)')
    expect(w.get('[data-testid=model-aliases-digits-2]').text()).toBe('canary (10 % of its traffic)')
    expect(w.find('[data-testid=model-state-digits-1]').exists()).toBe(false)
    expect(w.get('[data-testid=model-state-digits-2]').text()).toContain('not routed to until a worker has warmed it up')
    expect(w.text()).toContain('pushed to the registry')
    w.unmount()
  })
})
