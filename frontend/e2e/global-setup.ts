// Fails fast, with a clear message, when the system under test is not up.
import type { FullConfig } from '@playwright/test'
import { existsSync } from 'node:fs'

export default async function globalSetup(config: FullConfig): Promise<void> {
  const base = String(config.projects[0]?.use.baseURL ?? 'http://127.0.0.1:8000')
  const exe = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
  if (!existsSync(exe)) {
    throw new Error(`e2e: no Chromium at ${exe}. Install it (apt-get install -y chromium) or set CHROMIUM_PATH.`)
  }
  const check = async (path: string, what: (r: Response, body: string) => string | null) => {
    let res: Response
    let body: string
    try {
      res = await fetch(base + path, { signal: AbortSignal.timeout(5000) })
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
  await check('/v1/models', (r, body) => {
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
  })
  await check('/', (r, body) =>
    r.ok && body.includes('<div id="app">') ? null : `the UI is not served (HTTP ${r.status}); build it (npm run build) and pass --ui-dir frontend/dist`,
  )
}
