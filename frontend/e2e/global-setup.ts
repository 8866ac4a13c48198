// Fails fast, with a clear message, when the system under test is not up,
// or when the API key the suite signs in with is missing or not accepted.
import type { FullConfig } from '@playwright/test'
import { existsSync } from 'node:fs'
import { apiKey, type Whoami } from './helpers'

export default async function globalSetup(config: FullConfig): Promise<void> {
  const base = String(config.projects[0]?.use.baseURL ?? 'http://127.0.0.1:8000')
  const exe = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
  if (!existsSync(exe)) {
    throw new Error(`e2e: no Chromium at ${exe}. Install it (apt-get install -y chromium) or set CHROMIUM_PATH.`)
  }
  const key = apiKey() // throws the explanation when E2E_API_KEY is unset
  const check = async (path: string, what: (r: Response, body: string) => string | null, headers: Record<string, string> = {}) => {
    let res: Response
    let body: string
    try {
      res = await fetch(base + path, { headers, signal: AbortSignal.timeout(5000) })
      body = await res.text()
    } catch (e) {
      throw new Error(
        `e2e: the system under test does not answer at ${base}${path} (${e instanceof Error ? e.message : String(e)}). ` +
          'Start it (make run, or scripts/e2e.sh) or set E2E_BASE_URL.',
      )
    }
    const problem = what(res, body)
    if (problem) throw new Error(`e2e: ${base}${path}: ${problem}`)
  }
  // The suite tests the sign-in: the gateway must want a key (the app asks
  // GET /v1/whoami without one to find out, and with one to check it).
  await check('/v1/whoami', (r) =>
    r.status === 401 ? null : `without a key this answered HTTP ${r.status}, not 401: the gateway runs without authentication`,
  )
  const withKey = { Authorization: `Bearer ${key}` }
  await check(
    '/v1/whoami',
    (r, body) => {
      if (r.status === 401) {
        return 'E2E_API_KEY was not accepted (401): pass the development key this system created on its first start (it prints it at every start and keeps it in dev-api-key beside its data), or another valid key'
      }
      if (!r.ok) return `HTTP ${r.status}: ${body.slice(0, 200)}`
      try {
        const me = JSON.parse(body) as Partial<Whoami>
        if (typeof me.tenant !== 'string' || (me.role !== 'user' && me.role !== 'operator') || me.auth_required !== true) {
          return `GET /v1/whoami answered ${body.slice(0, 200)}, not a Whoami of a gateway with authentication`
        }
      } catch {
        return 'GET /v1/whoami did not return JSON'
      }
      return null
    },
    withKey,
  )
  await check(
    '/v1/models',
    (r, body) => {
      if (!r.ok) return `HTTP ${r.status}: ${body.slice(0, 200)}`
      try {
        const models = (JSON.parse(body) as { models: { name: string; ready: boolean }[] }).models
        const digits = models.find((m) => m.name === 'digits')
        if (!digits) return 'the digits model is not served'
        if (!digits.ready) return 'the digits model is not ready (no worker?)'
      } catch {
        return 'GET /v1/models did not return JSON'
      }
      return null
    },
    withKey,
  )
  await check('/', (r, body) =>
    r.ok && body.includes('<div id="app">') ? null : `the UI is not served (HTTP ${r.status}); build it (npm run build) and pass --ui-dir frontend/dist`,
  )
}
