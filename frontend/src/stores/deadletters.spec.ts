import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { FakeDlq, LETTER_ITEMS } from '@/api/testing/fakeDlq'
import { DLQ_PAGE, itemsText, useDeadLettersStore } from './deadletters'

let api: FakeDlq

beforeEach(() => {
  setActivePinia(createPinia())
  api = new FakeDlq(DLQ_PAGE + 10)
  vi.stubGlobal('fetch', vi.fn(api.fetch))
})
afterEach(() => vi.unstubAllGlobals())

describe('useDeadLettersStore', () => {
  it('pages through the letters and filters by job, model, tenant and kind', async () => {
    const s = useDeadLettersStore()
    await s.load()
    expect(api.calls.at(-1)).toBe(`GET /v1/deadletters?limit=${DLQ_PAGE}`)
    expect(s.letters).toHaveLength(DLQ_PAGE)
    expect(s.nextCursor).toBe(String(DLQ_PAGE))
    await s.more()
    expect(api.calls.at(-1)).toBe(`GET /v1/deadletters?limit=${DLQ_PAGE}&cursor=${DLQ_PAGE}`)
    expect(s.letters).toHaveLength(DLQ_PAGE + 10)
    expect(s.nextCursor).toBeNull()
    await s.load({ job: ' job1 ', model: 'digits:1', tenant: 'acme', kind: 'batch' })
    expect(api.calls.at(-1)).toBe(`GET /v1/deadletters?limit=${DLQ_PAGE}&job=job1&model=digits%3A1&tenant=acme`)
    expect(s.letters.length).toBeGreaterThan(0)
    expect(s.letters.every((l) => l.job === 'job1' && l.model === 'digits' && l.tenant === 'acme')).toBe(true)
    await s.load({ kind: 'sync' })
    expect(api.calls.at(-1)).toBe(`GET /v1/deadletters?limit=${DLQ_PAGE}&kind=sync`)
    expect(s.letters).toEqual([])
  })

  it('reads a letter’s input a page at a time', async () => {
    const s = useDeadLettersStore()
    await s.load()
    const a = s.letters[0]!
    await s.show(a)
    expect(api.calls.at(-1)).toBe(`GET /v1/deadletters/${a.id}?limit=20`)
    expect(s.details[a.id]!.items).toHaveLength(LETTER_ITEMS)
    expect(s.details[a.id]!.items[0]).toMatchObject({ index: a.start, line: a.start + 1, kind: 'tensor' })
    expect(s.details[a.id]!.nextOffset).toBeNull()
    s.hide(a)
    expect(s.details[a.id]).toBeUndefined()
  })

  it('follows next_offset for the rest of a long input', async () => {
    const s = useDeadLettersStore()
    await s.load()
    const a = s.letters[0]!
    // A gateway that answers with fewer items than asked (its byte bound): the rest from next_offset.
    const real = api.fetch
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string, init?: RequestInit) => {
        const u = new URL(url, 'http://x')
        if (u.pathname.endsWith(`/${a.id}`)) u.searchParams.set('limit', '2')
        return real(u.pathname + u.search, init)
      }),
    )
    await s.show(a)
    expect(s.details[a.id]!.items.map((i) => i.index)).toEqual([a.start, a.start + 1])
    expect(s.details[a.id]!.nextOffset).toBe(2)
    await s.showMore(a)
    expect(api.calls.at(-1)).toBe(`GET /v1/deadletters/${a.id}?offset=2&limit=2`)
    expect(s.details[a.id]!.items.map((i) => i.index)).toEqual([a.start, a.start + 1, a.start + 2])
    expect(s.details[a.id]!.nextOffset).toBeNull()
  })

  it('redrives and purges, each once; a letter gone meanwhile leaves the list with the reason; a refused redrive keeps it', async () => {
    const s = useDeadLettersStore()
    await s.load()
    const [a, b, c] = s.letters
    await s.show(a!)
    await s.redrive(a!)
    expect(api.calls.at(-1)).toBe(`POST /v1/deadletters/${a!.id}/redrive`)
    expect(api.redriven).toEqual([a!.id])
    expect(s.notice).toBe(`Redriven: 256 items (256–511) of job ${a!.job} are back in its queue (each lands in it once).`)
    expect(s.letters.find((l) => l.id === a!.id)).toBeUndefined()
    expect(s.details[a!.id]).toBeUndefined()
    await s.purge(b!)
    expect(api.calls.at(-1)).toBe(`DELETE /v1/deadletters/${b!.id}`)
    expect(s.notice).toBe(`Purged: ${itemsText(b!)} of job ${b!.job} stay failed; their input is gone.`)
    expect(api.letters.find((l) => l.id === b!.id)).toBeUndefined()
    api.letters = api.letters.filter((l) => l.id !== c!.id) // purged by someone else
    await s.redrive(c!)
    expect(s.error).toContain(`no dead letter "${c!.id}"`)
    expect(s.letters.find((l) => l.id === c!.id)).toBeUndefined()
    expect(api.redriven).toEqual([a!.id])
    // 409 (e.g. a synchronous request's letter, or one being purged): said, and the letter stays.
    const d = s.letters[0]!
    api.letters = api.letters.map((l) => (l.id === d.id ? { ...l, kind: 'sync' } : l))
    await s.redrive(d)
    expect(s.error).toContain('That conflicts with the current state')
    expect(s.letters[0]!.id).toBe(d.id)
  })

  it('purges every letter of a job, then lists again', async () => {
    const s = useDeadLettersStore()
    await s.load({ job: 'job1' })
    const n = s.letters.length
    expect(n).toBeGreaterThan(0)
    await s.purgeJob('job1')
    expect(api.calls.slice(-2)).toEqual(['DELETE /v1/deadletters?job=job1', `GET /v1/deadletters?limit=${DLQ_PAGE}&job=job1`])
    expect(s.notice).toBe(`Purged ${n} dead letters of job job1.`)
    expect(s.letters).toEqual([])
    expect(api.letters.some((l) => l.job === 'job1')).toBe(false)
    expect(api.letters.length).toBe(DLQ_PAGE + 10 - n)
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
