import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import ConnectionBadge from './ConnectionBadge.vue'
import { useConnectionStore } from '@/stores/connection'

beforeEach(() => {
  setActivePinia(createPinia())
  vi.useFakeTimers()
})
afterEach(() => vi.useRealTimers())

describe('ConnectionBadge', () => {
  it('announces the state, not a countdown that changes every second', async () => {
    const conn = useConnectionStore()
    conn.snap = { ...conn.snap, state: 'reconnecting', attempt: 2, retryAt: Date.now() + 5000 }
    const w = mount(ConnectionBadge)
    const live = w.get('[role=status]')
    const said = live.text()
    expect(said).toBe('Reconnecting (attempt 2)')
    await vi.advanceTimersByTimeAsync(2000)
    expect(live.text()).toBe(said)
    expect(w.text()).toContain('in 3 s') // shown, outside the live region
    expect(w.get('.conn__retry').attributes('aria-hidden')).toBe('true')
  })
})
