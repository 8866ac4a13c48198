import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { defineComponent, h, ref } from 'vue'
import JobOptionsFields from './JobOptionsFields.vue'
import type { JobPriority } from '@/api/types'
import type { DeadlineChoice } from '@/lib/deadline'

function host(error: string | null = null) {
  const priority = ref<JobPriority>('normal')
  const deadline = ref<DeadlineChoice>('')
  const at = ref('')
  const w = mount(
    defineComponent(() => () =>
      h(JobOptionsFields, {
        idPrefix: 't',
        deadlineError: error,
        priority: priority.value,
        'onUpdate:priority': (v: JobPriority) => (priority.value = v),
        deadline: deadline.value,
        'onUpdate:deadline': (v: DeadlineChoice) => (deadline.value = v),
        deadlineAt: at.value,
        'onUpdate:deadlineAt': (v: string) => (at.value = v),
      }),
    ),
  )
  return { w, priority, deadline, at }
}

describe('JobOptionsFields', () => {
  it('binds the priority and the deadline, each with its label', async () => {
    const { w, priority, deadline } = host()
    expect(w.get('label[for=t-priority]').text()).toBe('Priority')
    await w.get('[data-testid=job-priority]').setValue('low')
    expect(priority.value).toBe('low')
    await w.get('[data-testid=job-deadline]').setValue('1h')
    expect(deadline.value).toBe('1h')
    expect(w.find('[data-testid=job-deadline-at]').exists()).toBe(false)
  })

  it('offers a time for "by a time…" and shows its error at the field', async () => {
    const { w, at } = host('The deadline must be at least a minute from now.')
    await w.get('[data-testid=job-deadline]').setValue('at')
    const input = w.get('[data-testid=job-deadline-at]')
    await input.setValue('2030-01-02T03:04')
    expect(at.value).toBe('2030-01-02T03:04')
    expect(input.attributes('aria-invalid')).toBe('true')
    expect(w.get('#t-deadline-error').text()).toBe('The deadline must be at least a minute from now.')
    expect(input.attributes('aria-describedby')).toBe('t-deadline-error')
  })
})
