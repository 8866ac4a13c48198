import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { compareVersions, useModelsStore } from './models'
import { digits, tabular } from '@/lib/testModels'

beforeEach(() => setActivePinia(createPinia()))
afterEach(() => vi.unstubAllGlobals())

describe('models store', () => {
  it('orders versions numerically', () => {
    expect(['1', '10', '2'].sort(compareVersions)).toEqual(['1', '2', '10'])
    expect(compareVersions('v2', 'v10')).toBeLessThan(0)
  })

  it('loads the catalogue and finds the latest version', async () => {
    const d2 = { ...digits, version: '2' }
    const bench = { ...digits, name: 'bench', benchmark_only: true }
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ models: [digits, bench, tabular, d2] }))))
    const m = useModelsStore()
    await m.load()
    expect(m.error).toBeNull()
    expect(m.find('digits')?.version).toBe('2')
    expect(m.find('digits', '1')?.version).toBe('1')
    expect(m.find('nope')).toBeUndefined()
    expect(m.latest.map((x) => x.name)).toEqual(['digits', 'iris', 'bench'])
  })

  it('passes over versions that take no work yet, or no more', async () => {
    const d2 = { ...digits, version: '2', state: 'retiring', source: 'registry' }
    const d3 = { ...digits, version: '3', state: 'loading', source: 'registry' }
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ models: [digits, d2, d3], aliases: [] }))))
    const m = useModelsStore()
    await m.load()
    expect(m.find('digits')?.version).toBe('1')
    expect(m.find('digits', '3')?.state).toBe('loading')
    expect(m.latest.map((x) => x.version)).toEqual(['1'])
  })

  it('tells which aliases route to a version, with their share of the traffic', async () => {
    const d2 = { ...digits, version: '2', state: 'ready', source: 'registry' }
    const aliases = [
      { model: 'digits', name: 'stable', weights: { '1': 100 }, updated_at: '2026-12-06T00:00:00Z' },
      { model: 'digits', name: 'canary', weights: { '1': 3, '2': 1 }, updated_at: '2026-12-06T00:00:00Z' },
      { model: 'iris', name: 'stable', weights: { '1': 100 }, updated_at: '2026-12-06T00:00:00Z' },
    ]
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ models: [digits, d2], aliases }))))
    const m = useModelsStore()
    await m.load()
    expect(m.aliases.map((a) => `${a.model}/${a.name}`)).toEqual(['digits/canary', 'digits/stable', 'iris/stable'])
    expect(m.aliasesOf('digits', '1')).toEqual([
      { name: 'canary', weight: 75 },
      { name: 'stable', weight: 100 },
    ])
    expect(m.aliasesOf('digits', '2')).toEqual([{ name: 'canary', weight: 25 }])
    expect(m.aliasesOf('digits', '3')).toEqual([])
  })

  it('reports errors', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('{"error":{"code":"unavailable","message":"down"}}', { status: 503 })))
    const m = useModelsStore()
    await m.load()
    expect(m.error).toBe('The service is unavailable right now: down.')
  })
})
