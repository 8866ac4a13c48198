import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { FakeDlq } from '@/api/testing/fakeDlq'
import { DLQ_PAGE, useDeadLettersStore } from './deadletters'

let api: FakeDlq

beforeEach(() => {
  setActivePinia(createPinia())
  api = new FakeDlq(DLQ_PAGE + 10)
  vi.stubGlobal('fetch', vi.fn(api.fetch))
})
afterEach(() => vi.unstubAllGlobals())

describe('useDeadLettersStore', () => {
  it('pages through the letters and filters by job and model', async () => {
    const s = useDeadLettersStore()
    await s.load()
    expect(s.letters).toHaveLength(DLQ_PAGE)
    expect(s.nextCursor).toBe(String(DLQ_PAGE))
    await s.more()
    expect(s.letters).toHaveLength(DLQ_PAGE + 10)
    expect(s.nextCursor).toBeNull()
    await s.load({ job: ' job1 ', model: 'digits' })
    expect(api.calls.at(-1)).toBe('GET /v1/deadletters?limit=50&job=job1&model=digits')
    expect(s.letters.every((l) => l.job === 'job1' && l.model === 'digits')).toBe(true)
  })

  it('shows the payload, redrives and purges, each once; a letter gone meanwhile leaves the list with the reason', async () => {
    const s = useDeadLettersStore()
    await s.load()
    const [a, b, c] = s.letters
    await s.show(a!)
    expect(s.details[a!.id]!.items).toHaveLength(3)
    await s.redrive(a!)
    expect(api.redriven).toEqual([a!.id])
    expect(s.notice).toBe(`Redriven: 256 items (256–511) of job ${a!.job} are back in its queue.`)
    expect(s.letters.find((l) => l.id === a!.id)).toBeUndefined()
    await s.purge(b!)
    expect(s.notice).toContain('Purged: 256 items')
    expect(api.letters.find((l) => l.id === b!.id)).toBeUndefined()
    api.letters = api.letters.filter((l) => l.id !== c!.id) // purged by someone else
    await s.redrive(c!)
    expect(s.error).toContain(`unknown dead letter ${c!.id}`)
    expect(s.letters.find((l) => l.id === c!.id)).toBeUndefined()
    expect(api.redriven).toEqual([a!.id])
  })

  it('says that a gateway without the API has none, and forgets everything on clear', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ error: { code: 'not_found', message: 'no route for GET /v1/deadletters' } }), { status: 404 })))
    const s = useDeadLettersStore()
    await s.load()
    expect(s.unavailable).toBe(true)
    expect(s.error).toBeNull()
    s.clear()
    expect(s.unavailable).toBe(false)
  })
})
