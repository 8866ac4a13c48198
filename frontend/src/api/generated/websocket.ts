// Generated from api/websocket.schema.json by json-schema-to-typescript 16.0.0: do not edit.
// Change the contract in api/ and run `npm run gen:api` (scripts/gen-api.mjs);
// src/api/generated/generated.spec.ts fails while this file is out of date.

import type { components } from './openapi'

/**
 * Every JSON text frame of the WebSocket protocol on GET /v1/ws (websocket.md beside this file): a ClientMessage (client → server) or a ServerMessage (server → client), each discriminated by its `type` const. The Go side defines the same messages in gateway/wsmsg.go (one struct per message; `omitempty` there = not required here). Shared shapes are referenced, not duplicated: JobStatus, ItemInput, ItemResult (its top-k entries are Go's Class, openapi's TopEntry), Detail (openapi's ErrorDetail) and the error codes are `$ref`s to openapi.yaml's components/schemas, relative to this file, so the two documents cannot drift apart.
 */
export type WebSocketMessage = ClientMessage | ServerMessage
/**
 * A message the client sends.
 */
export type ClientMessage =
  SubscribeMessage | UnsubscribeMessage | SubmitMessage | PredictMessage | PingMessage | AuthMessage
/**
 * A message the server sends.
 */
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
  | AuthenticatedMessage

/**
 * Start streaming a job's results with seq > `after`, then its progress; answered by `subscribed` (or `error` with `ref` = the job id). Subscribing again to a job already followed on this connection replaces that subscription: the stream restarts from the new `after`, and frames of the replaced one may still arrive until the new `subscribed`. Go: wsSubscribe.
 */
export interface SubscribeMessage {
  type: 'subscribe'
  job: string
  /**
   * Highest result seq the client has applied; 0 replays the job from its start.
   */
  after?: number
  /**
   * false follows progress only: no `results` frames, just `subscribed`, `progress` and `end`.
   */
  results?: boolean
}
/**
 * Stop streaming a job; answered by `unsubscribed`, after which nothing more of that job arrives. Go: wsUnsubscribe.
 */
export interface UnsubscribeMessage {
  type: 'unsubscribe'
  job: string
}
/**
 * Queue a batch job; answered by `accepted` (and, with `subscribe`, the stream starts as if `subscribe` with `after: 0` had been sent). Go: wsSubmit.
 */
export interface SubmitMessage {
  type: 'submit'
  /**
   * Client string, echoed in the answer (at most GATEWAY_WS_MAX_REF_BYTES, 256 bytes).
   */
  ref?: string
  model: string
  /**
   * The latest version when omitted.
   */
  version?: string
  /**
   * A name for the input, listed with the job (as `name` in POST /v1/jobs).
   */
  name?: string
  inputs: components['schemas']['ItemInput'][]
  subscribe?: boolean
  /**
   * high, normal (default) or low: the order of the tenant's jobs within its share.
   */
  priority?: 'high' | 'normal' | 'low'
  /**
   * RFC 3339 time or a duration from now ("30m"): items not started by then are skipped (deadline_exceeded).
   */
  deadline?: string
  /**
   * A URL the job's end is POSTed to, signed (as `webhook` in POST /v1/jobs): `none` for no webhook, omitted for the tenant's default.
   */
  webhook?: string
}
/**
 * Synchronous prediction through the priority queue (at most GATEWAY_MAX_SYNC_ITEMS inputs); answered by `prediction` or `error`. Go: wsPredict.
 */
export interface PredictMessage {
  type: 'predict'
  /**
   * Client string, echoed in the answer (at most GATEWAY_WS_MAX_REF_BYTES, 256 bytes).
   */
  ref?: string
  model: string
  /**
   * The latest version when omitted.
   */
  version?: string
  inputs: components['schemas']['ItemInput'][]
}
/**
 * Answered by `pong` with the same `ref`. Go: wsPing.
 */
export interface PingMessage {
  type: 'ping'
  ref?: string
}
/**
 * The first message of a connection opened without credentials (browsers cannot set the Authorization header of a WebSocket): the API key (or a JWT). Answered by `authenticated`; a wrong token closes with 4401. Until it is accepted every other message but `ping` closes the connection with 4401. Go: api.Auth.
 */
export interface AuthMessage {
  type: 'auth'
  /**
   * An API key or a JWT, as sent in an Authorization: Bearer header.
   */
  token: string
}
/**
 * The first message of every connection. Go: wsHello.
 */
export interface HelloMessage {
  type: 'hello'
  /**
   * Server name/version.
   */
  server: string
  /**
   * A `heartbeat` is sent this often.
   */
  heartbeat_ms: number
  /**
   * Largest inbound message; beyond it the connection is closed with 1009.
   */
  max_message_bytes: number
  /**
   * Jobs one connection may follow at once.
   */
  max_subscriptions: number
  /**
   * true when the upgrade carried no credentials: send `auth` first.
   */
  auth_required: boolean
}
/**
 * Answer to `subscribe`; everything of that job after it belongs to this subscription. Go: wsSubscribed.
 */
export interface SubscribedMessage {
  type: 'subscribed'
  job: string
  after: number
  /**
   * Whether results are streamed (false: progress only).
   */
  results: boolean
  status: components['schemas']['JobStatus']
}
/**
 * Answer to `unsubscribe`. Go: wsUnsubscribed.
 */
export interface UnsubscribedMessage {
  type: 'unsubscribed'
  job: string
}
/**
 * One stored chunk of results with its stream sequence: the stored chunk result (Go wire.ChunkResult: job, chunk, start, done, failed, skipped, redrive, worker, items) with `type` and `seq` spliced in front. Go: wsResults.
 */
export interface ResultsMessage {
  type: 'results'
  /**
   * Strictly increasing within a job, not contiguous.
   */
  seq: number
  job: string
  /**
   * Chunk index within the job.
   */
  chunk: number
  /**
   * Item index of the chunk's first item.
   */
  start: number
  /**
   * Successful items in this chunk.
   */
  done: number
  /**
   * Failed items in this chunk.
   */
  failed: number
  /**
   * Items of this chunk not run (cancelled job).
   */
  skipped?: number
  /**
   * The dead letter the chunk ran again from (absent: its first run). A redriven chunk's results come again, with their new outcome.
   */
  redrive?: number
  /**
   * Id of the worker that ran the chunk.
   */
  worker?: string
  /**
   * One result per item of the chunk, each with its item `index`.
   */
  items: components['schemas']['ItemResult'][]
}
/**
 * Sent when progress changes, at most every GATEWAY_PROGRESS_INTERVAL per job, and once on subscribe. Go: wsProgress.
 */
export interface ProgressMessage {
  type: 'progress'
  job: string
  status: components['schemas']['JobStatus']
}
/**
 * The job is in a terminal state and every stored result chunk has been sent; the subscription ends. Go: wsEnd.
 */
export interface EndMessage {
  type: 'end'
  job: string
  status: components['schemas']['JobStatus']
  /**
   * Seq of the job's last result chunk (0 when none).
   */
  last_seq: number
}
/**
 * Answer to `submit`. Go: wsAccepted.
 */
export interface AcceptedMessage {
  type: 'accepted'
  /**
   * The submit's `ref`.
   */
  ref?: string
  job: components['schemas']['JobStatus']
}
/**
 * Answer to `predict`. Go: wsPrediction.
 */
export interface PredictionMessage {
  type: 'prediction'
  /**
   * The predict's `ref`.
   */
  ref?: string
  model: string
  version: string
  items: components['schemas']['ItemResult'][]
  latency_ms: number
}
/**
 * A request or subscription failed, or a message was invalid (the connection stays open). Go: wsError.
 */
export interface ErrorMessage {
  type: 'error'
  /**
   * The request's `ref`, or the job id for subscription errors.
   */
  ref?: string
  job?: string
  /**
   * The HTTP API's error codes (openapi.yaml, Error). `busy` (a limit of the server) and `rate_limited` (the key's request rate) come with `retry_after_ms` and are not final.
   */
  code: components['schemas']['Error']['error']['code']
  message: string
  details?: components['schemas']['ErrorDetail'][]
  /**
   * With `busy` and `rate_limited`: when to try again, in milliseconds.
   */
  retry_after_ms?: number
}
/**
 * Sent every `heartbeat_ms` so that browsers (which cannot see WebSocket pings) can tell a live connection from a dead one. Go: wsHeartbeat.
 */
export interface HeartbeatMessage {
  type: 'heartbeat'
  /**
   * RFC 3339.
   */
  time: string
}
/**
 * Answer to `ping`. Go: wsPong.
 */
export interface PongMessage {
  type: 'pong'
  /**
   * The ping's `ref`.
   */
  ref?: string
}
/**
 * Answers `auth`: the connection now acts for this tenant. Go: api.Authenticated.
 */
export interface AuthenticatedMessage {
  type: 'authenticated'
  tenant: string
}
/**
 * WebSocket close codes of the protocol (websocket.md, Close codes); not a message, listed so that clients can share the numbers.
 */
export type CloseCode = number & (1000 | 1001 | 1003 | 1007 | 1009 | 4008 | 4009 | 4401 | 4429)
