// The app's single WebSocket connection, exposed as reactive state.
import { defineStore } from 'pinia'
import { computed, shallowRef } from 'vue'
import { defaultSocketUrl, SocketClient, type ConnSnapshot } from '@/api/ws'

export const useConnectionStore = defineStore('connection', () => {
  let client: SocketClient | null = null
  let unwatch: (() => void) | null = null
  const snap = shallowRef<ConnSnapshot>({
    state: 'idle',
    attempt: 0,
    retryAt: null,
    lastClose: null,
    server: null,
    reconnects: 0,
    droppedResults: 0,
  })

  /** Use a given client (tests) instead of one for the page's host. */
  function use(c: SocketClient): SocketClient {
    unwatch?.()
    client = c
    unwatch = c.onState((s) => (snap.value = s))
    return c
  }

  function getClient(): SocketClient {
    return client ?? use(new SocketClient({ url: () => defaultSocketUrl() }))
  }

  function start(): void {
    getClient().start()
  }

  function stop(): void {
    client?.stop()
  }

  const state = computed(() => snap.value.state)
  const isOpen = computed(() => snap.value.state === 'open')

  const label = computed(() => {
    switch (snap.value.state) {
      case 'open':
        return 'Live'
      case 'connecting':
        return 'Connecting…'
      case 'reconnecting':
        return snap.value.retryAt ? `Reconnecting (attempt ${snap.value.attempt})` : 'Reconnecting…'
      case 'offline':
        return 'Offline'
      case 'closed':
        return 'Disconnected'
      default:
        return 'Not connected'
    }
  })

  return { snap, state, isOpen, label, client: getClient, use, start, stop }
})
