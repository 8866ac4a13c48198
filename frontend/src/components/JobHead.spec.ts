import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { h } from 'vue'
import JobHead from './JobHead.vue'

describe('JobHead', () => {
  it('shows the model tag and the state between its slots', () => {
    const w = mount(JobHead, {
      props: { job: { model: 'digits', version: '1', state: 'running', done: 1, failed: 0, total: 4 }, stateTestid: 'job-state' },
      slots: { before: () => h('a', 'j1'), default: () => h('span', 'created now') },
    })
    expect(w.text()).toBe('j1digits v1runningcreated now')
    const state = w.get('[data-testid=job-state]')
    expect(state.classes()).toEqual(['state', 'state--accent'])
    expect(w.get('.tag').text()).toBe('digits v1')
  })

  it('says "completed with failures" for a completed job with failed items', () => {
    const w = mount(JobHead, { props: { job: { model: 'digits', version: '1', state: 'completed', done: 9, failed: 1, total: 10 } } })
    expect(w.get('.state').text()).toBe('completed with failures')
    expect(w.get('.state').attributes('data-state')).toBe('completed_with_failures')
  })

  it('tags a priority other than normal', async () => {
    const job = { model: 'digits', version: '1', state: 'queued' as const, done: 0, failed: 0, total: 4, priority: 'normal' as const }
    const w = mount(JobHead, { props: { job } })
    expect(w.find('[data-testid=priority-tag]').exists()).toBe(false)
    await w.setProps({ job: { ...job, priority: 'low' } })
    expect(w.get('[data-testid=priority-tag]').text()).toBe('low priority')
  })
})
