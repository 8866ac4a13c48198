import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import { FakeDlq } from '@/api/testing/fakeDlq'
import { useSessionStore } from '@/stores/session'
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

function dialogButton(text: string): HTMLButtonElement {
  const dialog = document.querySelector('dialog[open]')!
  return Array.from(dialog.querySelectorAll('button')).find((b) => b.textContent?.trim() === text) as HTMLButtonElement
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
  it('lists the letters with their job, reason and items; shows the input in words, and hides it', async () => {
    const { w } = await mounted()
    const first = w.get('[data-testid=dlq-1]')
    expect(first.text()).toContain('job job1')
    expect(first.text()).toContain('every worker that took this chunk crashed')
    expect(first.text()).toContain('256–511')
    expect(first.get('[data-testid=dlq-tenant]').text()).toBe('acme') // an operator key (the default role)
    await first.get('[data-testid=dlq-show]').trigger('click')
    await flushPromises()
    const payload = first.get('[data-testid=dlq-payload]')
    expect(payload.text()).toContain('Input (3 of 256 items shown)')
    expect(payload.findAll('li')[1]!.text()).toBe('item 257, line 258 3 values: 1, 1, 0.5')
    expect(first.get('[data-testid=dlq-show]').attributes('aria-expanded')).toBe('true')
    await first.get('[data-testid=dlq-show]').trigger('click')
    expect(first.find('[data-testid=dlq-payload]').exists()).toBe(false)
  })

  it('purges only after the confirmation', async () => {
    const { w } = await mounted()
    await w.get('[data-testid=dlq-2] [data-testid=dlq-purge]').trigger('click')
    await flushPromises()
    expect(api.calls.some((c) => c.startsWith('DELETE'))).toBe(false)
    expect(document.querySelector('dialog[open]')!.textContent).toContain('This cannot be undone')
    dialogButton('Purge').click()
    await flushPromises()
    expect(api.calls).toContain('DELETE /v1/deadletters/2')
    expect(w.find('[data-testid=dlq-2]').exists()).toBe(false)
    expect(w.get('[data-testid=dlq-notice]').text()).toContain('Purged')
  })

  it('redrives, and filters from the URL; a job’s letters are purged together after the confirmation', async () => {
    api = new FakeDlq(6)
    vi.stubGlobal('fetch', vi.fn(api.fetch))
    const { w } = await mounted('/deadletters?job=job1')
    expect(api.calls[0]).toBe('GET /v1/deadletters?limit=50&job=job1')
    expect(w.findAll('ul.letters > li').map((li) => li.attributes('data-testid'))).toEqual(['dlq-1', 'dlq-4'])
    await w.get('[data-testid=dlq-1] [data-testid=dlq-redrive]').trigger('click')
    await flushPromises()
    expect(api.redriven).toEqual(['1'])
    expect(w.get('[data-testid=dlq-notice]').text()).toContain('of job job1 are back in its queue')

    await w.get('[data-testid=dlq-purge-job]').trigger('click')
    await flushPromises()
    expect(document.querySelector('dialog[open]')!.textContent).toContain('Every dead letter of job job1')
    dialogButton('Keep them').click()
    await flushPromises()
    expect(api.calls.some((c) => c.startsWith('DELETE'))).toBe(false)
    await w.get('[data-testid=dlq-purge-job]').trigger('click')
    await flushPromises()
    dialogButton('Purge all').click()
    await flushPromises()
    expect(api.calls).toContain('DELETE /v1/deadletters?job=job1')
    expect(w.get('[data-testid=dlq-notice]').text()).toBe('Purged 1 dead letter of job job1.')
    expect(w.get('[data-testid=dlq-empty]').text()).toBe('No dead letters match these filters.')
    expect(api.letters).toHaveLength(4)
  })

  it('an operator filters by tenant and reads the synchronous requests’ letters (never redriven); a user key has neither filter', async () => {
    api = new FakeDlq(4, (n) => (n > 2 ? { kind: 'sync', job: 'sync', tenant: undefined } : {}))
    vi.stubGlobal('fetch', vi.fn(api.fetch))
    const { w, router } = await mounted()
    await w.get('[data-testid=dlq-filter-tenant]').setValue('globex')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(router.currentRoute.value.query).toEqual({ tenant: 'globex' })
    expect(api.calls.at(-1)).toBe('GET /v1/deadletters?limit=50&tenant=globex')
    expect(w.findAll('ul.letters > li').map((li) => li.attributes('data-testid'))).toEqual(['dlq-2'])

    await w.get('[data-testid=dlq-filter-kind]').setValue('sync')
    expect(w.find('[data-testid=dlq-filter-job]').exists()).toBe(false)
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(router.currentRoute.value.query).toEqual({ kind: 'sync' })
    expect(api.calls.at(-1)).toBe('GET /v1/deadletters?limit=50&kind=sync')
    const sync = w.get('[data-testid=dlq-3]')
    expect(sync.text()).toContain('synchronous request')
    expect(sync.find('a').exists()).toBe(false)
    expect(sync.find('[data-testid=dlq-redrive]').exists()).toBe(false)
    expect(sync.find('[data-testid=dlq-purge]').exists()).toBe(true)
    w.unmount()

    setActivePinia(createPinia())
    useSessionStore().role = 'user'
    const user = await mounted()
    expect(user.w.find('[data-testid=dlq-filter-kind]').exists()).toBe(false)
    expect(user.w.find('[data-testid=dlq-filter-tenant]').exists()).toBe(false)
    expect(user.w.find('[data-testid=dlq-tenant]').exists()).toBe(false)
  })
})
