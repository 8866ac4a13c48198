// Wire types shared with the gateway, under the names the app uses. They are
// not written by hand: each is an alias of a type generated from the contract
// in api/ (src/api/generated/, `npm run gen:api`):
//
//   openapi.ts    ← api/openapi.yaml            (HTTP; components/schemas)
//   websocket.ts  ← api/websocket.schema.json   (WebSocket messages)
//
// A change to the contract that the app does not follow fails vue-tsc, and
// generated files that lag behind api/ fail generated.spec.ts.
import type { components, operations } from './generated/openapi'
import type { CloseCode as CloseCodeValue } from './generated/websocket'

type Schemas = components['schemas']

// ---------------------------------------------------------------- schemas

/** One input item. See ItemInput in openapi.yaml. */
export type NestedNumbers = Schemas['NestedNumbers']
export type ItemInput = Schemas['ItemInput']

export type TopEntry = Schemas['TopEntry']

/** An item's prediction or its error (ItemResult in openapi.yaml). */
export type ItemResult = Schemas['ItemResult']
export type ItemFailure = Extract<ItemResult, { error: string }>
export type ItemSuccess = Exclude<ItemResult, ItemFailure>

export function isFailure(r: ItemResult): r is ItemFailure {
  return typeof (r as ItemFailure).error === 'string'
}

/** An item not run (its job was cancelled or passed its deadline): not a failure. */
export function isSkipped(r: ItemResult): r is ItemFailure {
  return isFailure(r) && r.skipped === true
}

export type JobState = Schemas['JobState']

/** States after which nothing changes (every JobState but queued and running). */
export const TERMINAL_STATES: readonly JobState[] = ['completed', 'cancelled', 'failed', 'expired', 'deadline_exceeded']

// Does not compile while JobState has a state that is neither live nor terminal.
type UnclassifiedState = Exclude<JobState, 'queued' | 'running' | 'completed' | 'cancelled' | 'failed' | 'expired' | 'deadline_exceeded'>
type _EveryStateClassified = Assert<[UnclassifiedState] extends [never] ? true : false>

export type JobStatus = Schemas['JobStatus']
export type JobPriority = NonNullable<JobStatus['priority']>
export type QueuePosition = Schemas['QueuePosition']
/** GET /v1/jobs/{id}: the status and the job's links. */
export type Job = Schemas['Job']
export type JobLinks = Schemas['JobLinks']
export type JobWebhooks = Schemas['JobWebhooks']
export type WebhookDelivery = Schemas['WebhookDelivery']

export type TensorSpec = Schemas['TensorSpec']
export type ImagePreprocessing = Schemas['ImagePreprocessing']
export type ModelInfo = Schemas['ModelInfo']
export type Preprocessing = ModelInfo['preprocessing']
export type ModelKind = ModelInfo['kind']
/** A model's alias and its traffic weights by version (set by operators). */
export type Alias = Schemas['Alias']
export type ModelState = Schemas['ModelState']

export type WorkerInfo = Schemas['WorkerInfo']
export type QueueStats = Schemas['QueueStats']
export type ClusterInfo = Schemas['ClusterInfo']

/** Who the credentials make the caller (GET /v1/whoami). */
export type Whoami = Schemas['Whoami']
export type Role = Whoami['role']

/** The caller's limits (GET /v1/limits). */
export type Limits = Schemas['Limits']

/** Dead letters (GET /v1/deadletters): chunks the workers gave up on, with their payload. */
export type DeadLetter = Schemas['DeadLetter']
export type DeadLetterKind = DeadLetter['kind']
export type DeadLetterList = Schemas['DeadLetterList']
export type DeadLetterDetail = Schemas['DeadLetterDetail']
/** One input of a letter's payload: a tensor's float32 values, an image's bytes, or an invalid input's reason. */
export type DeadLetterItem = Schemas['DeadLetterItem']
export type DeadLetterQuery = NonNullable<operations['listDeadLetters']['parameters']['query']>
export type Redriven = Schemas['Redriven']
export type Purged = Schemas['Purged']

export type ErrorDetail = Schemas['ErrorDetail']
export type ErrorBody = Schemas['Error']

// ---------------------------------------------------------------- HTTP bodies

/** The JSON body of an operation's 200 response. */
type Json200<Op extends keyof operations> = operations[Op]['responses'] extends {
  200: { content: { 'application/json': infer T } }
}
  ? T
  : never

export type ModelsResponse = Json200<'listModels'>
export type ModelVersionsResponse = Json200<'getModel'>
export type PredictRequest = operations['predict']['requestBody']['content']['application/json']
export type PredictResponse = Json200<'predict'>
export type SubmitJobRequest = Schemas['SubmitJobRequest']
export type SubmitJobResponse = Schemas['SubmitJobResponse']
export type JobsResponse = Json200<'listJobs'>
export type ResultsPage = Schemas['ResultsPage']

// ---------------------------------------------------------------- WebSocket

export type {
  ClientMessage,
  SubscribeMessage,
  UnsubscribeMessage,
  SubmitMessage,
  PredictMessage,
  PingMessage,
  ServerMessage,
  HelloMessage,
  SubscribedMessage,
  UnsubscribedMessage,
  ResultsMessage,
  ProgressMessage,
  EndMessage,
  AcceptedMessage,
  PredictionMessage,
  ErrorMessage,
  HeartbeatMessage,
  PongMessage,
  AuthMessage,
  AuthenticatedMessage,
} from './generated/websocket'

/** WebSocket close codes of websocket.md (CloseCode in websocket.schema.json). */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  Unsupported: 1003,
  InvalidUtf8: 1007,
  TooBig: 1009,
  SlowConsumer: 4008,
  TooManyInvalid: 4009,
  /** The API key was not accepted (or no `auth` came in time): sign in again, do not retry. */
  Unauthorized: 4401,
  /** The tenant has as many connections as allowed: retry later, with backoff. */
  TooManyTenantConnections: 4429,
} as const satisfies Record<string, CloseCodeValue>

// Does not compile while the schema has a close code that CloseCode lacks.
type MissingCloseCode = Exclude<CloseCodeValue, (typeof CloseCode)[keyof typeof CloseCode]>
type Assert<T extends true> = T
type _EveryCloseCodeNamed = Assert<[MissingCloseCode] extends [never] ? true : false>
