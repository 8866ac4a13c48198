// @vitest-environment node
// The committed generated types must be what the contract in api/ produces
// now: change api/, run `npm run gen:api`, commit both.
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { generate, outDir, websocketFile } from '../../../scripts/gen-api.mjs'

describe('generated API types', () => {
  it('are up to date with api/openapi.yaml and api/websocket.schema.json', async () => {
    const files = await generate()
    expect(Object.keys(files).sort()).toEqual(['openapi.ts', 'websocket.ts'])
    for (const [name, text] of Object.entries(files)) {
      const committed = await readFile(join(outDir, name), 'utf8').catch(() => '(missing)')
      expect(committed, `src/api/generated/${name} is out of date: run npm run gen:api`).toBe(text)
    }
    // Nothing else lives there but this test.
    const present = (await readdir(outDir)).sort()
    expect(present).toEqual(['generated.spec.ts', 'openapi.ts', 'websocket.ts'])
  })

  it('the WebSocket schema names every message in its unions, each with a type const and no other fields', async () => {
    type Def = { title?: string; oneOf?: { $ref: string }[]; properties?: Record<string, { const?: string }>; additionalProperties?: boolean; required?: string[] }
    const schema = JSON.parse(await readFile(websocketFile, 'utf8')) as { $defs: Record<string, Def> }
    const defs = schema.$defs
    const members = (union: string) => (defs[union]?.oneOf ?? []).map((r) => r.$ref.replace('#/$defs/', ''))
    const client = members('ClientMessage')
    const server = members('ServerMessage')
    expect(client).toEqual(['Subscribe', 'Unsubscribe', 'Submit', 'Predict', 'Ping', 'Auth'])
    expect(server).toEqual(['Hello', 'Subscribed', 'Unsubscribed', 'Results', 'Progress', 'End', 'Accepted', 'Prediction', 'Error', 'Heartbeat', 'Pong', 'Authenticated'])
    const types = new Set<string>()
    for (const name of [...client, ...server]) {
      const d = defs[name]!
      const t = d.properties?.type?.const
      expect(t, name).toBe(name.toLowerCase())
      expect(types.has(t!), `${name}: type ${t} is taken`).toBe(false)
      types.add(t!)
      expect(d.additionalProperties, name).toBe(false)
      expect(d.required, name).toContain('type')
      expect(d.title, name).toBe(`${name}Message`)
    }
  })
})
