import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { ApiError } from '@/api/http'
import { SocketError } from '@/api/ws'
import { CODE_TEXT, errorText, isRetryable, waitText } from './errors'

/** The error codes openapi.yaml lists (Error.error.code's enum). */
function documentedCodes(): string[] {
  const yaml = readFileSync(resolve(__dirname, '../../../api/openapi.yaml'), 'utf8')
  const m = /code:\s*\n\s*type: string\s*\n\s*description: \|[\s\S]*?\n\s*enum: \[([^\]]+)\]/.exec(yaml)
  if (!m) throw new Error('no Error code enum in openapi.yaml')
  return m[1]!.split(',').map((s) => s.trim())
}

describe('errorText', () => {
  it('has words for every code the gateway sends', () => {
    const codes = documentedCodes()
    expect(codes.length).toBeGreaterThan(20)
    expect(Object.keys(CODE_TEXT).sort()).toEqual([...codes].sort())
    for (const code of codes) {
      const status = code === 'internal' ? 500 : 400
      const text = errorText(new ApiError(status, code, 'the detail'))
      expect(text, code).not.toContain(`(${code})`)
      if (code.includes('_')) expect(text, code).not.toContain(code)
      expect(text, code).toMatch(/^[A-Z].*\.$/)
      expect(text, code).not.toBe('the detail')
    }
  })

  it('keeps the server message that names the problem', () => {
    expect(errorText(new ApiError(413, 'too_many_items', '150000 items, the limit is 100000'))).toBe(
      'The upload has more items than one job may have; split it into smaller files: 150000 items, the limit is 100000.',
    )
    expect(errorText(new ApiError(404, 'unknown_job', 'unknown job "j1"'))).toBe(
      'There is no such job: it may have expired, or belong to another API key’s tenant.',
    )
    expect(errorText(new ApiError(500, 'internal', 'internal error'))).toBe(
      'Something went wrong on the server. Try again; if it keeps happening, tell an operator.',
    )
    expect(errorText(new ApiError(502, 'http_502', '502 Bad Gateway'))).toBe('The gateway answered with an error: 502 Bad Gateway.')
    expect(errorText(new ApiError(0, 'network', 'network error: Failed to fetch'))).toBe(
      'Could not reach the gateway: check the network connection.',
    )
  })

  it('adds the Retry-After hint to limits', () => {
    expect(errorText(new ApiError(429, 'quota_exceeded', 'tenant acme has 10 unfinished jobs', [], 5000))).toBe(
      'Over your quota: tenant acme has 10 unfinished jobs. Try again in 5 s.',
    )
    expect(errorText(new ApiError(429, 'rate_limited', 'slow down', [], 200))).toBe('Too many requests: slow down. Try again in 1 s.')
    expect(errorText(new SocketError('rate_limited', 'over the rate', 2500))).toBe('Too many requests: over the rate. Try again in 3 s.')
    expect(errorText(new ApiError(429, 'rate_limited', 'slow down'))).toBe('Too many requests: slow down.')
    expect(errorText(new ApiError(503, 'queue_full', 'the queue holds 1000000 items', [], 30_000))).toBe(
      'The job queue is full: the queue holds 1000000 items. Try again in 30 s.',
    )
  })

  it('names the operator key for 403 and the sign-in for 401', () => {
    expect(errorText(new ApiError(403, 'forbidden', '/v1/cluster needs an operator key'))).toBe(
      'This needs an operator key: /v1/cluster needs an operator key.',
    )
    expect(errorText(new ApiError(401, 'unauthorized', 'invalid credentials'))).toBe('The API key was not accepted; sign in again.')
    expect(errorText(new Error('boom'))).toBe('boom')
  })

  it('tells answers from what is worth retrying', () => {
    expect(isRetryable(new ApiError(413, 'too_many_items', 'x'))).toBe(false)
    expect(isRetryable(new ApiError(400, 'invalid_input', 'x'))).toBe(false)
    expect(isRetryable(new ApiError(429, 'quota_exceeded', 'x'))).toBe(true)
    expect(isRetryable(new ApiError(503, 'busy', 'x'))).toBe(true)
    expect(isRetryable(new ApiError(0, 'network', 'x'))).toBe(true)
  })

  it('formats waits', () => {
    expect(waitText(0)).toBe('1 s')
    expect(waitText(119_000)).toBe('119 s')
    expect(waitText(180_000)).toBe('3 min')
  })
})
