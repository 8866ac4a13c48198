import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { h } from 'vue'
import JobHead from './JobHead.vue'

describe('JobHead', () => {
  it('shows the model tag and the state between its slots', () => {
    const w = mount(JobHead, {
      props: { job: { model: 'digits', version: '1', state: 'running' }, stateTestid: 'job-state' },
      slots: { before: () => h('a', 'j1'), default: () => h('span', 'created now') },
    })
    expect(w.text()).toBe('j1digits v1runningcreated now')
    const state = w.get('[data-testid=job-state]')
    expect(state.classes()).toEqual(['state', 'state--running'])
    expect(w.get('.tag').text()).toBe('digits v1')
  })
})
