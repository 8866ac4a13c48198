import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import TryView from './TryView.vue'
import type { ModelInfo } from '@/api/types'
import { digits, tabular } from '@/lib/testModels'

const cancer: ModelInfo = {
  ...tabular,
  name: 'cancer',
  labels: ['malignant', 'benign'],
  input: { ...tabular.input, min: 0 },
  feature_ranges: [
    { min: 6.981, max: 28.11, typical: 13.275 },
    { min: 9.71, max: 39.28, typical: 18.825 },
    { min: 43.79, max: 188.5, typical: 86.04 },
  ],
  examples: [{ label: 'malignant', values: [15.46, 19.48, 101.7] }],
}

let predictions: { url: string; inputs: unknown }[]

function setup() {
  predictions = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init?: RequestInit) => {
      if (init?.method === 'POST') {
        const body = JSON.parse(String(init.body)) as { inputs: unknown[] }
        predictions.push({ url, inputs: body.inputs })
        return new Response(JSON.stringify({ model: 'cancer', version: '2', latency_ms: 1, items: [{ index: 0, label: 'benign', class: 1, score: 0.9, probabilities: [0.1, 0.9] }] }))
      }
      return new Response(JSON.stringify({ models: [digits, cancer] }))
    }),
  )
  return createRouter({ history: createMemoryHistory(), routes: [{ path: '/try/:model?', name: 'try', component: TryView }] })
}

async function open(path: string) {
  const router = setup()
  await router.push(path)
  const w = mount(TryView, { global: { plugins: [router] } })
  await flushPromises()
  await vi.advanceTimersByTimeAsync(400)
  await flushPromises()
  return w
}

beforeEach(() => {
  setActivePinia(createPinia())
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
})

describe('TryView', () => {
  it('an image model sends nothing before something is drawn (no empty feature vector)', async () => {
    const w = await open('/try/digits')
    expect(predictions).toEqual([])
    expect(w.find('[data-testid=prediction-error]').exists()).toBe(false)
    expect(w.text()).toContain('Draw to get a prediction.')
  })

  it('a tabular model starts from the typical values of its training data and predicts them', async () => {
    const w = await open('/try/cancer')
    const inputs = w.findAll('input[type=number]').map((i) => (i.element as HTMLInputElement).value)
    expect(inputs).toEqual(['13.275', '18.825', '86.04'])
    expect(predictions).toEqual([{ url: '/v1/models/cancer/predict?version=2', inputs: [[13.275, 18.825, 86.04]] }])
    expect(w.get('[data-testid=prediction-label]').text()).toBe('benign')
    expect(w.get('[data-testid=prediction-status]').text()).toBe('Prediction: benign, score 90 %')
    // The examples of the metadata are offered too.
    await w.get('[data-testid=preset-example-0]').trigger('click')
    await vi.advanceTimersByTimeAsync(400)
    expect(predictions.at(-1)!.inputs).toEqual([[15.46, 19.48, 101.7]])
  })

  it('predicts the typical values when the models were already loaded (opened from another page)', async () => {
    const router = setup()
    const { useModelsStore } = await import('@/stores/models')
    await useModelsStore().load()
    await router.push('/try/cancer')
    mount(TryView, { global: { plugins: [router] } })
    await vi.advanceTimersByTimeAsync(400)
    await flushPromises()
    expect(predictions.map((p) => p.inputs)).toEqual([[[13.275, 18.825, 86.04]]])
  })

  it('refuses an impossible value at its field, warns of an unusual one, and marks a verdict that is out of date', async () => {
    const w = await open('/try/cancer')
    const first = w.findAll('input[type=number]')[0]!
    await first.setValue('-5')
    await vi.advanceTimersByTimeAsync(400)
    expect(w.get('[data-testid=feature-field-0]').text()).toContain('at least 0')
    expect(first.attributes('aria-invalid')).toBe('true')
    expect(predictions).toHaveLength(1) // nothing sent for -5
    expect(w.get('[data-testid=prediction-panel]').attributes('data-stale')).toBe('true')
    expect(w.get('[data-testid=prediction-stale]').text()).toContain('x: at least 0')
    expect(w.get('[data-testid=prediction-status]').text()).toBe('')

    await first.setValue('')
    await vi.advanceTimersByTimeAsync(400)
    expect(w.get('[data-testid=prediction-stale]').text()).toContain('x: required')

    await first.setValue('1e30')
    await vi.advanceTimersByTimeAsync(400)
    await flushPromises()
    expect(w.get('[data-testid=feature-field-0]').text()).toContain('outside the training data (6.981 to 28.11)')
    expect(predictions.at(-1)!.inputs).toEqual([[1e30, 18.825, 86.04]])
    expect(w.get('[data-testid=prediction-panel]').attributes('data-stale')).toBe('false')
    expect(w.get('[data-testid=prediction-unusual]').text()).toContain('1 value is outside the training data: the prediction is unreliable.')
  })

  it('announces the outcome in a small live region, not the whole panel', async () => {
    const w = await open('/try/cancer')
    expect(w.get('[data-testid=prediction-panel]').attributes('aria-live')).toBeUndefined()
    expect(w.get('[data-testid=prediction-status]').attributes('role')).toBe('status')
  })
})
