// Typed HTTP client for the gateway's /v1 API (api/openapi.yaml). Same origin:
// the gateway serves the UI, and Vite proxies /v1 in development.
import type {
  ClusterInfo,
  ErrorBody,
  ErrorDetail,
  ItemInput,
  JobPriority,
  JobStatus,
  JobWebhooks,
  JobsResponse,
  Limits,
  ModelsResponse,
  ModelVersionsResponse,
  PredictResponse,
  ResultsPage,
  SubmitJobRequest,
  SubmitJobResponse,
  Whoami,
} from './types'

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly details: ErrorDetail[]
  /** From `Retry-After` (429 and 503 limits), in milliseconds. */
  readonly retryAfterMs: number | undefined
  constructor(status: number, code: string, message: string, details: ErrorDetail[] = [], retryAfterMs?: number) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.details = details
    this.retryAfterMs = retryAfterMs
  }
}

/** `Retry-After`: delay-seconds or an HTTP date (RFC 9110 §10.2.3), in ms from now. */
export function parseRetryAfter(v: string | null, now = Date.now()): number | undefined {
  if (!v) return undefined
  const t = v.trim()
  if (/^\d+$/.test(t)) return Number(t) * 1000
  const at = Date.parse(t)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/**
 * Credentials for every request: the session store installs them (setAuth).
 * The API layer knows nothing of Vue or storage; it asks for the token per
 * request and reports each 401 with the token that request carried, so that
 * an answer to a request sent with an older key does not sign out a newer one.
 */
export interface AuthHooks {
  /** The API key to send as `Authorization: Bearer` (null: no header). */
  token(): string | null
  onUnauthorized?(token: string | null, err: ApiError): void
}

let auth: AuthHooks = { token: () => null }

export function setAuth(hooks: AuthHooks | null): void {
  auth = hooks ?? { token: () => null }
}

function isErrorBody(v: unknown): v is ErrorBody {
  if (typeof v !== 'object' || v === null) return false
  const e = (v as { error?: unknown }).error
  return typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string'
}

export interface RequestOptions {
  signal?: AbortSignal
  headers?: Record<string, string>
  /** Send this token instead of the session's (the sign-in check of a key not yet stored); 401 is then not reported. */
  token?: string
}

export const API_BASE = '/v1'

/**
 * One request to the API under /v1 with the session's key: the JSON answer,
 * or an ApiError (a 401 for the key in use signs out).
 */
export async function request<T>(method: string, path: string, body?: BodyInit, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers }
  const token = opts.token ?? auth.token()
  // Only ever in this header: never in a URL, a log line or an error message.
  if (token) headers.Authorization = `Bearer ${token}`
  let res: Response
  try {
    res = await fetch(API_BASE + path, { method, body, headers, signal: opts.signal })
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e
    throw new ApiError(0, 'network', `network error: ${e instanceof Error ? e.message : String(e)}`)
  }
  const text = await res.text()
  let data: unknown = undefined
  if (text) {
    try {
      data = JSON.parse(text)
    } catch {
      if (res.ok) throw new ApiError(res.status, 'invalid_response', `invalid JSON from ${path}`)
    }
  }
  if (!res.ok) {
    const err = errorOf(res.status, res.statusText, data, res.headers.get('Retry-After'))
    if (res.status === 401 && opts.token === undefined) auth.onUnauthorized?.(token ?? null, err)
    throw err
  }
  return data as T
}

/** The ApiError of a refused request: its JSON error body, else its status. */
function errorOf(status: number, statusText: string, data: unknown, retryAfterHeader: string | null): ApiError {
  const retryAfter = parseRetryAfter(retryAfterHeader)
  return isErrorBody(data)
    ? new ApiError(status, data.error.code, data.error.message, data.error.details ?? [], retryAfter)
    : new ApiError(status, `http_${status}`, `${status} ${statusText || 'error'}`.trim(), [], retryAfter)
}

/** The ApiError of a response another client received (the tus uploads): its body as text. */
export function errorFromResponse(status: number, body: string, retryAfterHeader: string | null = null): ApiError {
  let data: unknown = undefined
  try {
    data = body ? JSON.parse(body) : undefined
  } catch {
    /* not JSON: the status says it */
  }
  return errorOf(status, '', data, retryAfterHeader)
}

/** The key requests are sent with now (for clients other than request(): the tus uploads). */
export function authToken(): string | null {
  return auth.token()
}

/** Reports a 401 another client received with `token` (signs out when it is the key in use). */
export function reportUnauthorized(token: string | null, err: ApiError): void {
  auth.onUnauthorized?.(token, err)
}

function json(v: unknown): string {
  return JSON.stringify(v)
}

const jsonHeaders = { 'Content-Type': 'application/json' }

function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v))
  const s = q.toString()
  return s ? `?${s}` : ''
}

export function listModels(opts?: RequestOptions): Promise<ModelsResponse> {
  return request('GET', '/models', undefined, opts)
}

/** GET /v1/whoami: the tenant, role and key id of the credentials sent. */
export function whoami(opts?: RequestOptions): Promise<Whoami> {
  return request('GET', '/whoami', undefined, opts)
}

/**
 * Checks an API key before it is stored (sign-in) with GET /v1/whoami, and
 * says who it makes the caller. A 429 comes only after authentication: the
 * gateway took the key, but who it is stays unknown (null). 401 (and any
 * other failure) throws.
 */
export async function checkKey(token: string, opts: RequestOptions = {}): Promise<Whoami | null> {
  try {
    return await whoami({ ...opts, token })
  } catch (e) {
    if (e instanceof ApiError && e.status === 429) return null
    throw e
  }
}

/**
 * Asks the gateway, without a key, whether it wants one: GET /v1/whoami is
 * 401 unless it runs without authentication (-auth=none), which answers
 * with `auth_required: false`. Returns that answer, or null when a key is
 * needed; other failures (unreachable, 5xx) throw.
 */
export async function probeOpen(opts: RequestOptions = {}): Promise<Whoami | null> {
  try {
    const w = await whoami({ ...opts, token: '' })
    return w.auth_required ? null : w
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null
    throw e
  }
}

export function getModel(name: string, opts?: RequestOptions): Promise<ModelVersionsResponse> {
  return request('GET', `/models/${encodeURIComponent(name)}`, undefined, opts)
}

export function predict(
  name: string,
  inputs: ItemInput[],
  p: { version?: string; timeout?: string } = {},
  opts: RequestOptions = {},
): Promise<PredictResponse> {
  return request(
    'POST',
    `/models/${encodeURIComponent(name)}/predict${query({ version: p.version, timeout: p.timeout })}`,
    json({ inputs }),
    { ...opts, headers: { ...jsonHeaders, ...opts.headers } },
  )
}

/** How a job is run, in POST /v1/jobs's query (every input form takes them). */
export interface JobOptions {
  priority?: JobPriority
  /** An RFC 3339 time or a duration from now ("30m"). */
  deadline?: string
  /** NDJSON and CSV read by the gateway: up to this many invalid rows fail as items instead of the job. */
  maxInvalid?: number
  /** CSV: the header column that is each row's id. */
  idColumn?: string
}

function jobQuery(o: JobOptions = {}): Record<string, string | number | undefined> {
  return { priority: o.priority, deadline: o.deadline, max_invalid: o.maxInvalid || undefined, id_column: o.idColumn }
}

/**
 * POST /v1/jobs with a JSON body. `body` may be a prebuilt JSON document (the
 * parse worker builds large bodies off the main thread) or a request object.
 */
export function submitJob(
  body: SubmitJobRequest | Blob | ArrayBuffer,
  idempotencyKey?: string,
  opts: RequestOptions = {},
  job: JobOptions = {},
): Promise<SubmitJobResponse> {
  const headers: Record<string, string> = { ...jsonHeaders, ...opts.headers }
  if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey
  // (ArrayBuffer by its tag: one made in a worker or another realm fails instanceof)
  const binary = body instanceof Blob || Object.prototype.toString.call(body) === '[object ArrayBuffer]'
  const payload: BodyInit = binary ? (body as Blob | ArrayBuffer) : json(body)
  return request('POST', `/jobs${query(jobQuery(job))}`, payload, { ...opts, headers })
}

/**
 * POST /v1/jobs with an NDJSON or CSV file as it is: the gateway numbers
 * its lines (ItemResult.line). Model, version and the input's name go in
 * the query.
 */
export function submitJobFile(
  file: Blob,
  p: { contentType: 'application/x-ndjson' | 'text/csv'; model: string; version?: string; name?: string } & JobOptions,
  idempotencyKey?: string,
  opts: RequestOptions = {},
): Promise<SubmitJobResponse> {
  const headers: Record<string, string> = { 'Content-Type': p.contentType, ...opts.headers }
  if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey
  return request('POST', `/jobs${query({ model: p.model, version: p.version, name: p.name, ...jobQuery(p) })}`, file, { ...opts, headers })
}

/**
 * POST /v1/jobs?upload=ID: a job reading a finished upload (a dataset). The
 * gateway answers at once (202) and reads the upload in the background
 * (`ingesting`, `read` in the job's status meanwhile).
 */
export function submitJobFromUpload(
  upload: string,
  p: { model: string; version?: string; name?: string; format: 'ndjson' | 'csv' } & JobOptions,
  opts: RequestOptions = {},
): Promise<SubmitJobResponse> {
  const q = query({ model: p.model, version: p.version, upload, format: p.format, name: p.name, ...jobQuery(p) })
  return request('POST', `/jobs${q}`, undefined, opts)
}

/** GET /v1/jobs's query: a page size, the previous page's next_cursor, filters. */
export interface ListJobsQuery {
  limit?: number
  cursor?: string
  /** Model name, or name:version. */
  model?: string
  /** Comma-separated states. */
  state?: string
}

export function listJobs(q: ListJobsQuery = {}, opts?: RequestOptions): Promise<JobsResponse> {
  return request('GET', `/jobs${query({ limit: q.limit ?? 50, cursor: q.cursor, model: q.model, state: q.state })}`, undefined, opts)
}

/**
 * GET /v1/limits: the caller's limits, known before an upload. Null when
 * the gateway does not offer the route (404): the page then checks only
 * what it knows and the gateway's answer explains the rest.
 */
export async function getLimits(opts?: RequestOptions): Promise<Limits | null> {
  try {
    return await request<Limits>('GET', '/limits', undefined, opts)
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 405)) return null
    throw e
  }
}

export function getJob(id: string, opts?: RequestOptions): Promise<JobStatus> {
  return request('GET', `/jobs/${encodeURIComponent(id)}`, undefined, opts)
}

export function getResults(id: string, offset = 0, limit = 1000, opts?: RequestOptions): Promise<ResultsPage> {
  return request('GET', `/jobs/${encodeURIComponent(id)}/results${query({ offset, limit })}`, undefined, opts)
}

/** GET /v1/jobs/{id}/webhooks: the job's webhook and its deliveries. */
export function getWebhooks(id: string, opts?: RequestOptions): Promise<JobWebhooks> {
  return request('GET', `/jobs/${encodeURIComponent(id)}/webhooks`, undefined, opts)
}

export function cancelJob(id: string, opts?: RequestOptions): Promise<JobStatus> {
  return request('POST', `/jobs/${encodeURIComponent(id)}/cancel`, undefined, opts)
}

export function getCluster(opts?: RequestOptions): Promise<ClusterInfo> {
  return request('GET', '/cluster', undefined, opts)
}

/** A random key for Idempotency-Key / WebSocket refs; works outside secure contexts too. */
export function randomId(prefix = ''): string {
  const b = new Uint8Array(12)
  crypto.getRandomValues(b)
  return prefix + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
}
