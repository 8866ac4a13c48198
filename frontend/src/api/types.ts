// Wire types shared with the gateway. They follow api/openapi.yaml (HTTP) and
// api/websocket.md (WebSocket); keep the three in step.

// ---------------------------------------------------------------- schemas

/** One input item. See ItemInput in openapi.yaml. */
export type NestedNumbers = number | NestedNumbers[]
export type ItemInput =
  | NestedNumbers[]
  | { b64: string }
  | { image: string }
  | { features: Record<string, number> }

export interface TopEntry {
  label: string
  class: number
  score: number
}

export interface ItemSuccess {
  index: number
  label: string
  class: number
  score: number
  top?: TopEntry[]
  /** Only for models with at most 32 classes. */
  probabilities?: number[]
}

export interface ItemFailure {
  index: number
  error: string
}

export type ItemResult = ItemSuccess | ItemFailure

export function isFailure(r: ItemResult): r is ItemFailure {
  return typeof (r as ItemFailure).error === 'string'
}

export type JobState = 'queued' | 'running' | 'completed' | 'cancelled'

export const TERMINAL_STATES: readonly JobState[] = ['completed', 'cancelled']

export interface JobStatus {
  id: string
  model: string
  version: string
  state: JobState
  total: number
  /** Successful items. */
  done: number
  /** Failed items. */
  failed: number
  chunks: number
  created_at: string
  started_at?: string
  updated_at?: string
  finished_at?: string
  elapsed_ms: number
  items_per_sec: number
  eta_ms?: number
}

export interface TensorSpec {
  key: string
  dtype: string
  /** Batch dimension first, as -1. */
  shape: number[]
  min?: number
  max?: number
}

export interface ImagePreprocessing {
  width: number
  height: number
  channels: number
  invert?: boolean
  range_min: number
  range_max: number
}

export interface Preprocessing {
  note?: string
  image?: ImagePreprocessing
}

export type ModelKind = 'image' | 'tabular'

export interface ModelInfo {
  name: string
  version: string
  description: string
  kind: ModelKind
  benchmark_only?: boolean
  signature?: string
  input: TensorSpec
  output: TensorSpec
  labels: string[]
  features?: string[]
  preprocessing: Preprocessing
  top_k?: number
  chunk_size?: number
  metrics?: Record<string, number>
  tensorflow_version?: string
  /** Elements per item: product of input.shape without the batch dimension. */
  item_size: number
  /** Number of workers serving this model version now. */
  workers: number
  ready: boolean
}

export interface WorkerInfo {
  id: string
  host: string
  /** "name:version" */
  models: string[]
  started_at: string
  last_seen: string
  items_total: number
  batches_total: number
  items_per_sec: number
  in_flight: number
}

export interface QueueStats {
  pending_chunks?: number
  pending_items?: number
  in_flight_chunks?: number
}

export interface ClusterInfo {
  workers: WorkerInfo[]
  queue: {
    pending_chunks: number
    pending_items?: number
    in_flight_chunks: number
    /** Keyed by model ("name" or "name:version"). */
    by_model?: Record<string, QueueStats>
  }
}

export interface ErrorDetail {
  item?: number
  /** Line of an NDJSON/CSV body, when the problem is tied to one. */
  line?: number
  message: string
}

export interface ErrorBody {
  error: {
    code: string
    message: string
    details?: ErrorDetail[]
  }
}

// ---------------------------------------------------------------- HTTP bodies

export interface ModelsResponse {
  models: ModelInfo[]
}

export interface ModelVersionsResponse {
  name: string
  versions: ModelInfo[]
}

export interface PredictRequest {
  inputs: ItemInput[]
}

export interface PredictResponse {
  model: string
  version: string
  items: ItemResult[]
  latency_ms: number
}

export interface SubmitJobRequest {
  model: string
  version?: string
  inputs: ItemInput[]
}

export interface SubmitJobResponse {
  job: JobStatus
  links: { self: string; results: string; ws: string }
}

export interface JobsResponse {
  jobs: JobStatus[]
}

export interface ResultsPage {
  job: string
  offset: number
  limit: number
  items: ItemResult[]
  next_offset: number | null
  complete: boolean
}

// ---------------------------------------------------------------- WebSocket

export interface SubscribeMessage {
  type: 'subscribe'
  job: string
  after: number
}
export interface UnsubscribeMessage {
  type: 'unsubscribe'
  job: string
}
export interface SubmitMessage {
  type: 'submit'
  ref: string
  model: string
  version?: string
  inputs: ItemInput[]
  subscribe?: boolean
}
export interface PredictMessage {
  type: 'predict'
  ref: string
  model: string
  version?: string
  inputs: ItemInput[]
}
export interface PingMessage {
  type: 'ping'
  ref?: string
}
export type ClientMessage = SubscribeMessage | UnsubscribeMessage | SubmitMessage | PredictMessage | PingMessage

export interface HelloMessage {
  type: 'hello'
  server: string
  heartbeat_ms: number
  max_message_bytes: number
  max_subscriptions: number
}
export interface SubscribedMessage {
  type: 'subscribed'
  job: string
  after: number
  status: JobStatus
}
export interface UnsubscribedMessage {
  type: 'unsubscribed'
  job: string
}
export interface ResultsMessage {
  type: 'results'
  job: string
  seq: number
  chunk: number
  items: ItemResult[]
}
export interface ProgressMessage {
  type: 'progress'
  job: string
  status: JobStatus
}
export interface EndMessage {
  type: 'end'
  job: string
  status: JobStatus
  last_seq: number
}
export interface AcceptedMessage {
  type: 'accepted'
  ref: string
  job: JobStatus
}
export interface PredictionMessage {
  type: 'prediction'
  ref: string
  model: string
  version: string
  items: ItemResult[]
  latency_ms: number
}
export interface ErrorMessage {
  type: 'error'
  ref?: string
  job?: string
  code: string
  message: string
  details?: ErrorDetail[]
}
export interface HeartbeatMessage {
  type: 'heartbeat'
  time: string
}
export interface PongMessage {
  type: 'pong'
  ref?: string
}
export type ServerMessage =
  | HelloMessage
  | SubscribedMessage
  | UnsubscribedMessage
  | ResultsMessage
  | ProgressMessage
  | EndMessage
  | AcceptedMessage
  | PredictionMessage
  | ErrorMessage
  | HeartbeatMessage
  | PongMessage

/** WebSocket close codes of websocket.md. */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  Unsupported: 1003,
  TooBig: 1009,
  SlowConsumer: 4008,
  TooManyInvalid: 4009,
} as const
