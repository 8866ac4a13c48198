// Model metadata fixtures for unit tests, shaped like model/models/*/metadata.json.
import type { ModelInfo } from '@/api/types'

export const digits: ModelInfo = {
  name: 'digits',
  version: '1',
  description: 'digits',
  kind: 'image',
  input: { key: 'pixels', dtype: 'float32', shape: [-1, 8, 8, 1], min: 0, max: 16 },
  output: { key: 'probabilities', dtype: 'float32', shape: [-1, 10] },
  labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  preprocessing: {
    image: { width: 8, height: 8, channels: 1, invert: true, range_min: 0, range_max: 16 },
  },
  top_k: 3,
  chunk_size: 256,
  metrics: { test_accuracy: 0.98 },
  item_size: 64,
  workers: 1,
  ready: true,
}

export const tabular: ModelInfo = {
  name: 'iris',
  version: '2',
  description: 'tabular',
  kind: 'tabular',
  input: { key: 'features', dtype: 'float32', shape: [-1, 3] },
  output: { key: 'probabilities', dtype: 'float32', shape: [-1, 2] },
  labels: ['a', 'b'],
  features: ['x', 'y', 'z'],
  preprocessing: {},
  item_size: 3,
  workers: 2,
  ready: true,
}
