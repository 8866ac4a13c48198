import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { listModels } from '@/api/http'
import type { Alias, ModelInfo } from '@/api/types'
import { errorText } from '@/lib/errors'

/** Orders versions: numeric ones numerically, others lexically. */
export function compareVersions(a: string, b: string): number {
  const na = Number(a)
  const nb = Number(b)
  if (Number.isFinite(na) && Number.isFinite(nb)) return na - nb
  return a.localeCompare(b, 'en', { numeric: true })
}

/**
 * The newest version of a list sorted newest first that takes work: one
 * pushed to the registry and not loaded yet (`loading`), or retired
 * (`retiring`), is passed over while an older one serves.
 */
function newest(list: ModelInfo[]): ModelInfo {
  return list.find((x) => x.state !== 'loading' && x.state !== 'retiring') ?? list[0]!
}

export const useModelsStore = defineStore('models', () => {
  const models = ref<ModelInfo[]>([])
  const aliases = ref<Alias[]>([])
  const loading = ref(false)
  const error = ref<string | null>(null)
  const loadedAt = ref<number | null>(null)
  let inflight: Promise<void> | null = null

  async function load(force = false): Promise<void> {
    if (inflight) return inflight
    if (!force && loadedAt.value !== null && Date.now() - loadedAt.value < 10_000) return
    loading.value = true
    inflight = (async () => {
      try {
        const r = await listModels()
        models.value = [...r.models].sort((a, b) => a.name.localeCompare(b.name) || compareVersions(b.version, a.version))
        aliases.value = [...(r.aliases ?? [])].sort((a, b) => a.model.localeCompare(b.model) || a.name.localeCompare(b.name))
        error.value = null
        loadedAt.value = Date.now()
      } catch (e) {
        error.value = errorText(e)
      } finally {
        loading.value = false
        inflight = null
      }
    })()
    return inflight
  }

  /** Model names, each with its versions newest first. */
  const byName = computed(() => {
    const m = new Map<string, ModelInfo[]>()
    for (const x of models.value) {
      const list = m.get(x.name) ?? []
      list.push(x)
      m.set(x.name, list)
    }
    return m
  })

  /** The given version of a model, or its latest when version is omitted. */
  function find(name: string, version?: string): ModelInfo | undefined {
    const list = byName.value.get(name)
    if (!list) return undefined
    return version ? list.find((x) => x.version === version) : newest(list)
  }

  /** Latest version of each model, benchmark-only models last. */
  const latest = computed(() =>
    [...byName.value.values()]
      .map((l) => newest(l))
      .sort((a, b) => Number(!!a.benchmark_only) - Number(!!b.benchmark_only) || a.name.localeCompare(b.name)),
  )

  /** The aliases that route to a model version, each with its share of their traffic (%). */
  function aliasesOf(name: string, version: string): { name: string; weight: number }[] {
    const out: { name: string; weight: number }[] = []
    for (const a of aliases.value) {
      if (a.model !== name) continue
      const total = Object.values(a.weights).reduce((x, y) => x + y, 0)
      const w = a.weights[version] ?? 0
      if (w > 0) out.push({ name: a.name, weight: total > 0 ? Math.round((w * 100) / total) : 0 })
    }
    return out
  }

  return { models, aliases, loading, error, load, byName, find, latest, aliasesOf }
})
