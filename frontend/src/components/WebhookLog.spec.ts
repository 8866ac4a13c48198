import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import WebhookLog from './WebhookLog.vue'

const delivery = (state: string, extra = {}) => ({
  id: 'msg_j1_completed',
  type: 'job.completed',
  url: 'https://hooks.example/x',
  state,
  attempts: 2,
  created_at: '2030-01-01T00:00:00Z',
  log: [{ n: 2, at: '2030-01-01T00:00:05Z', status: 503, duration_ms: 40 }],
  ...extra,
})

afterEach(() => {
  vi.unstubAllGlobals()
  vi.useRealTimers()
})

describe('WebhookLog', () => {
  it('asks nothing before the job ends', () => {
    const fetchFn = vi.fn()
    vi.stubGlobal('fetch', fetchFn)
    const w = mount(WebhookLog, { props: { jobId: 'j1', url: 'https://hooks.example/x', finished: false } })
    expect(w.text()).toContain('It is sent when the job ends.')
    expect(fetchFn).not.toHaveBeenCalled()
  })

  it('shows each delivery, and asks again while one is retrying', async () => {
    vi.useFakeTimers()
    const answers = [
      { job: 'j1', url: 'https://hooks.example/x', deliveries: [delivery('retrying', { next_attempt_at: '2030-01-01T00:00:10Z' })] },
      { job: 'j1', url: 'https://hooks.example/x', deliveries: [delivery('delivered', { attempts: 3 })] },
    ]
    const fetchFn = vi.fn(async () => new Response(JSON.stringify(answers.shift())))
    vi.stubGlobal('fetch', fetchFn)
    const w = mount(WebhookLog, { props: { jobId: 'j1', url: 'https://hooks.example/x', finished: true } })
    await flushPromises()
    expect(w.get('[data-testid=webhook-state]').text()).toMatch(/^retrying, next /)
    expect(w.get('tbody tr').text()).toContain('HTTP 503 in 40 ms')
    await vi.advanceTimersByTimeAsync(5000)
    await flushPromises()
    expect(w.get('[data-testid=webhook-state]').text()).toBe('delivered')
    await vi.advanceTimersByTimeAsync(20_000)
    expect(fetchFn).toHaveBeenCalledTimes(2) // delivered: no more asking
  })
})
