import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { setAuth } from '@/api/http'
import { KEY_STORAGE, useSessionStore } from '@/stores/session'
import SignInView from './SignInView.vue'

const GOOD = 'bi_good_key'
let urls: string[]

beforeEach(() => {
  setActivePinia(createPinia())
  sessionStorage.clear()
  urls = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init?: RequestInit) => {
      urls.push(url)
      const auth = (init?.headers as Record<string, string>).Authorization
      return auth === `Bearer ${GOOD}`
        ? new Response(JSON.stringify({ tenant: 'acme', role: 'user', key_id: 'k1', auth_required: true }))
        : new Response('{"error":{"code":"unauthorized","message":"invalid credentials"}}', { status: 401 })
    }),
  )
})
afterEach(() => {
  vi.unstubAllGlobals()
  setAuth(null)
})

async function signedOut() {
  const session = useSessionStore()
  await session.init()
  const w = mount(SignInView, { attachTo: document.body })
  return { session, w }
}

describe('SignInView', () => {
  it('explains where keys come from and keeps the key out of attributes and URLs', async () => {
    const { w } = await signedOut()
    // make run: a development key made on the first start, printed at every start, kept in data/dev-api-key.
    expect(w.text()).toMatch(/make run creates a development key .* on its first start, prints it at\s+every start and keeps it in data\/dev-api-key/)
    expect(w.text()).toMatch(/Operators issue keys/)
    const input = w.get<HTMLInputElement>('[data-testid=api-key]')
    expect(input.attributes('type')).toBe('password')
    expect(input.attributes('name')).toBeUndefined() // never part of a form submission / URL
    expect(document.activeElement).toBe(input.element)
    w.unmount()
  })

  it('a wrong key shows the error and stays signed out', async () => {
    const { session, w } = await signedOut()
    await w.get('[data-testid=api-key]').setValue('bi_wrong')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(w.get('[data-testid=sign-in-error]').text()).toMatch(/not accepted/)
    expect(w.get('[data-testid=api-key]').attributes('aria-invalid')).toBe('true')
    expect(w.html()).not.toContain('bi_wrong')
    expect(session.status).toBe('signed-out')
    expect(sessionStorage.getItem(KEY_STORAGE)).toBeNull()
    expect(urls.every((u) => !u.includes('bi_wrong'))).toBe(true)
    w.unmount()
  })

  it('a good key signs in and is cleared from the form', async () => {
    const { session, w } = await signedOut()
    await w.get('[data-testid=api-key]').setValue(GOOD)
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(session.status).toBe('signed-in')
    expect(sessionStorage.getItem(KEY_STORAGE)).toBe(GOOD)
    expect(urls).toEqual(['/v1/whoami', '/v1/whoami']) // the probe without a key, then the check of this one
    expect(session.tenant).toBe('acme')
    expect(session.role).toBe('user')
    expect((w.get('[data-testid=api-key]').element as HTMLInputElement).value).toBe('')
    w.unmount()
  })

  it('shows why the session ended', async () => {
    const { session, w } = await signedOut()
    await session.signIn(GOOD)
    session.expire('socket')
    await flushPromises()
    expect(w.get('[data-testid=sign-in-notice]').text()).toMatch(/refused/)
    w.unmount()
  })
})
