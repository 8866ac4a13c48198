import { describe, expect, it } from 'vitest'
import { ApiError } from '@/api/http'
import { SocketError } from '@/api/ws'
import { errorText, waitText } from './errors'

describe('errorText', () => {
  it('adds the Retry-After hint to limits', () => {
    expect(errorText(new ApiError(429, 'quota_exceeded', 'tenant acme has 10 unfinished jobs', [], 5000))).toBe(
      'Over your quota: tenant acme has 10 unfinished jobs. Try again in 5 s.',
    )
    expect(errorText(new ApiError(429, 'rate_limited', 'slow down', [], 200))).toBe('Too many requests: slow down. Try again in 1 s.')
    expect(errorText(new SocketError('rate_limited', 'over the rate', 2500))).toBe('Too many requests: over the rate. Try again in 3 s.')
    expect(errorText(new ApiError(429, 'rate_limited', 'slow down'))).toBe('Too many requests: slow down')
  })

  it('names the operator key for 403 and the sign-in for 401', () => {
    expect(errorText(new ApiError(403, 'forbidden', '/v1/cluster needs an operator key'))).toBe('This needs an operator key: /v1/cluster needs an operator key')
    expect(errorText(new ApiError(401, 'unauthorized', 'invalid credentials'))).toBe('The API key was not accepted; sign in again.')
    expect(errorText(new Error('boom'))).toBe('boom')
  })

  it('formats waits', () => {
    expect(waitText(0)).toBe('1 s')
    expect(waitText(119_000)).toBe('119 s')
    expect(waitText(180_000)).toBe('3 min')
  })
})
