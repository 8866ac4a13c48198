import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import UploadProgress from './UploadProgress.vue'
import type { Transfer } from '@/stores/upload'

const base: Transfer = {
  name: 'rows.ndjson',
  size: 200 * 2 ** 20,
  sent: 50 * 2 ** 20,
  rate: 5 * 2 ** 20,
  etaMs: 30_000,
  phase: 'uploading',
  error: null,
  resumedFrom: null,
  retry: 0,
}

describe('UploadProgress', () => {
  it('shows bytes, speed and time left, and pauses', async () => {
    const w = mount(UploadProgress, { props: { transfer: base } })
    expect(w.get('[data-testid=upload-figures]').text()).toBe('50 MiB of 200 MiB · 5 MiB/s · about 30 s left')
    expect(w.get('[data-testid=upload-percent]').text()).toBe('25.0 %')
    await w.get('[data-testid=upload-pause]').trigger('click')
    expect(w.emitted('pause')).toHaveLength(1)
    expect(w.find('[data-testid=upload-resume]').exists()).toBe(false)
  })

  it('says why it stopped and offers Resume; says a retry is under way', async () => {
    const w = mount(UploadProgress, { props: { transfer: { ...base, phase: 'failed', error: 'The gateway could not be reached.', rate: null } } })
    expect(w.text()).toContain('Upload stopped')
    expect(w.get('[role=alert]').text()).toContain('The gateway could not be reached. The bytes sent so far are kept')
    expect(w.get('[data-testid=upload-figures]').text()).toBe('50 MiB of 200 MiB')
    await w.get('[data-testid=upload-resume]').trigger('click')
    expect(w.emitted('resume')).toHaveLength(1)
    await w.setProps({ transfer: { ...base, retry: 2 } })
    expect(w.text()).toContain('Connection lost — trying again (attempt 2)')
  })

  it('says where a resumed upload started, and offers nothing once uploaded', async () => {
    const w = mount(UploadProgress, { props: { transfer: { ...base, resumedFrom: 48 * 2 ** 20 } } })
    expect(w.get('[data-testid=upload-resumed]').text()).toContain('at 48 MiB')
    await w.setProps({ transfer: { ...base, phase: 'done', sent: base.size } })
    expect(w.find('button').exists()).toBe(false)
    expect(w.attributes('data-phase')).toBe('done')
  })
})
