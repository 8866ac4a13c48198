import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import { FakeDlq } from '@/api/testing/fakeDlq'
import DeadLettersView from './DeadLettersView.vue'

let api: FakeDlq

async function mounted(path = '/deadletters') {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/deadletters', name: 'deadletters', component: DeadLettersView },
      { path: '/jobs/:id', name: 'job', component: { template: '<div/>' } },
    ],
  })
  await router.push(path)
  const w = mount(DeadLettersView, { global: { plugins: [router] }, attachTo: document.body })
  await flushPromises()
  return { w, router }
}

beforeEach(() => {
  setActivePinia(createPinia())
  api = new FakeDlq(3)
  vi.stubGlobal('fetch', vi.fn(api.fetch))
  HTMLDialogElement.prototype.showModal ??= function (this: HTMLDialogElement) {
    this.setAttribute('open', '')
  }
  HTMLDialogElement.prototype.close ??= function (this: HTMLDialogElement) {
    this.removeAttribute('open')
  }
})
afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

describe('DeadLettersView', () => {
  it('lists the letters with their job, reason and items; shows the input', async () => {
    const { w } = await mounted()
    const first = w.get('[data-testid=dlq-dl1]')
    expect(first.text()).toContain('job job1')
    expect(first.text()).toContain('model crashed')
    expect(first.text()).toContain('256–511')
    await first.get('[data-testid=dlq-show]').trigger('click')
    await flushPromises()
    expect(first.get('[data-testid=dlq-payload]').text()).toContain('Input (3 items)')
  })

  it('purges only after the confirmation', async () => {
    const { w } = await mounted()
    await w.get('[data-testid=dlq-dl2] [data-testid=dlq-purge]').trigger('click')
    await flushPromises()
    expect(api.calls.some((c) => c.startsWith('DELETE'))).toBe(false)
    const dialog = document.querySelector('dialog[open]')!
    expect(dialog.textContent).toContain('This cannot be undone')
    ;(Array.from(dialog.querySelectorAll('button')).find((b) => b.textContent?.trim() === 'Purge') as HTMLButtonElement).click()
    await flushPromises()
    expect(api.calls).toContain('DELETE /v1/deadletters/dl2')
    expect(w.find('[data-testid=dlq-dl2]').exists()).toBe(false)
    expect(w.get('[data-testid=dlq-notice]').text()).toContain('Purged')
  })

  it('redrives, and filters from the URL', async () => {
    const { w } = await mounted('/deadletters?job=job1')
    expect(api.calls[0]).toBe('GET /v1/deadletters?limit=50&job=job1')
    await w.get('[data-testid=dlq-dl1] [data-testid=dlq-redrive]').trigger('click')
    await flushPromises()
    expect(api.redriven).toEqual(['dl1'])
    expect(w.get('[data-testid=dlq-empty]').text()).toBe('No dead letters match these filters.')
  })
})
