// The model chosen on the Try and Batch pages, kept in the URL
// (/try/:model?version=) so that it survives reloads and can be linked.
import { computed, onMounted, watch } from 'vue'
import { useRoute, useRouter } from 'vue-router'
import { useModelsStore } from '@/stores/models'
import type { ModelInfo } from '@/api/types'

export function useModelChoice(routeName: string, accept: (m: ModelInfo) => boolean = () => true) {
  const models = useModelsStore()
  const route = useRoute()
  const router = useRouter()
  onMounted(() => void models.load())

  const candidates = computed(() => models.models.filter(accept))

  const model = computed<ModelInfo | undefined>(() => {
    const name = typeof route.params.model === 'string' ? route.params.model : ''
    const version = typeof route.query.version === 'string' ? route.query.version : undefined
    if (name) return models.find(name, version)
    return candidates.value.find((m) => !m.benchmark_only) ?? candidates.value[0]
  })

  const choice = computed<string>({
    get: () => (model.value ? `${model.value.name}:${model.value.version}` : ''),
    set: (v) => {
      const i = v.lastIndexOf(':')
      void router.replace({ name: routeName, params: { model: v.slice(0, i) }, query: { version: v.slice(i + 1) } })
    },
  })

  // Without a model in the URL, put the default there once models are known.
  watch(
    model,
    (m) => {
      if (m && !route.params.model) choice.value = `${m.name}:${m.version}`
    },
    { immediate: true },
  )

  return { models, model, choice, candidates }
}
