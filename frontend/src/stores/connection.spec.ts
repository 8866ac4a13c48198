import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { FakeSocket } from '@/api/testing/fakeSocket'
import { SocketClient } from '@/api/ws'
import { useConnectionStore } from './connection'

beforeEach(() => setActivePinia(createPinia()))

describe('connection store', () => {
  it('mirrors the client state', () => {
    const sockets: FakeSocket[] = []
    const conn = useConnectionStore()
    conn.use(
      new SocketClient({
        url: 'ws://x',
        createSocket: (u) => {
          const s = new FakeSocket(u)
          sockets.push(s)
          return s
        },
      }),
    )
    expect(conn.label).toBe('Not connected')
    conn.start()
    expect(conn.state).toBe('connecting')
    sockets[0]!.open()
    sockets[0]!.hello()
    expect(conn.isOpen).toBe(true)
    expect(conn.label).toBe('Live')
    sockets[0]!.drop()
    expect(conn.label).toBe('Reconnecting (attempt 1)')
    conn.stop()
    expect(conn.label).toBe('Disconnected')
  })

  it('labels authentication and the tenant connection limit', () => {
    const sockets: FakeSocket[] = []
    const conn = useConnectionStore()
    conn.use(
      new SocketClient({
        url: 'ws://x',
        token: () => 'k',
        random: () => 0,
        limitBackoffMs: 4000,
        createSocket: (u) => {
          const s = new FakeSocket(u)
          sockets.push(s)
          return s
        },
      }),
    )
    conn.start()
    sockets[0]!.open()
    sockets[0]!.helloAuth()
    expect(conn.label).toBe('Signing in…')
    sockets[0]!.recv({ type: 'authenticated', tenant: 'acme' })
    expect(conn.tenant).toBe('acme')
    sockets[0]!.drop(4429, 'tenant acme has 2 connections')
    expect(conn.atConnectionLimit).toBe(true)
    expect(conn.label).toBe('Too many connections for your tenant, retrying')
    expect(conn.snap.retryAt! - Date.now()).toBeGreaterThan(1500) // half of limitBackoffMs at least
    conn.stop()
  })

  it('reset() forgets the client and its state', () => {
    const conn = useConnectionStore()
    const first = conn.client()
    conn.reset()
    expect(conn.state).toBe('idle')
    expect(conn.client()).not.toBe(first)
  })
})
