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
})
