import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { setAuth } from '@/api/http'
import JobFiles from './JobFiles.vue'

const job = { id: 'abc123def', state: 'completed' as const, failed: 2, name: 'rows 2024.csv', expires_at: '2030-01-01T00:00:00Z' }

afterEach(() => {
  vi.unstubAllGlobals()
  setAuth(null)
})

describe('JobFiles', () => {
  it('offers the output and errors files of a finished job, with the curl command', () => {
    const w = mount(JobFiles, { props: { job } })
    expect(w.findAll('button').map((b) => b.text())).toEqual(['Output (CSV)', 'Output (NDJSON)', 'Errors (CSV)', 'Errors (NDJSON)'])
    expect(w.get('.curl').text()).toContain("-o rows_2024-abc123de-output.csv '")
    expect(w.get('.curl').text()).toContain("/v1/jobs/abc123def/output?format=csv'")
    expect(w.get('.curl').text()).not.toContain('bik_') // never the key
  })

  it('says there is no errors file when nothing failed, none before the end, and none after expiry', async () => {
    const w = mount(JobFiles, { props: { job: { ...job, failed: 0 } } })
    expect(w.find('[data-testid=file-errors-csv]').exists()).toBe(false)
    expect(w.find('[data-testid=no-errors-file]').exists()).toBe(true)
    await w.setProps({ job: { ...job, state: 'running' } })
    expect(w.find('button').exists()).toBe(false)
    expect(w.get('[data-testid=files-later]').text()).toContain('once the job has finished')
    await w.setProps({ job: { ...job, state: 'expired' } })
    expect(w.get('[data-testid=files-expired]').text()).toContain('the files are gone')
  })

  it('fetches the file with the key in the header and says a refusal in words', async () => {
    setAuth({ token: () => 'bik_k' })
    const fetchFn = vi.fn(async () => new Response(JSON.stringify({ error: { code: 'expired', message: 'job abc expired' } }), { status: 410 }))
    vi.stubGlobal('fetch', fetchFn)
    const w = mount(JobFiles, { props: { job } })
    await w.get('[data-testid=file-errors-ndjson]').trigger('click')
    await flushPromises()
    expect(fetchFn).toHaveBeenCalledWith('/v1/jobs/abc123def/errors?format=ndjson', { headers: { Authorization: 'Bearer bik_k' } })
    expect(w.get('[data-testid=file-error]').text()).toContain('job abc expired')
  })
})
