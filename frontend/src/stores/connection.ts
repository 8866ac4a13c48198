// The app's single WebSocket connection, exposed as reactive state.
import { defineStore } from 'pinia'
import { computed, shallowRef } from 'vue'
import { CloseCode } from '@/api/types'
import { defaultSocketUrl, SocketClient, type ConnSnapshot } from '@/api/ws'

function initialSnapshot(): ConnSnapshot {
  return {
    state: 'idle',
    attempt: 0,
    retryAt: null,
    lastClose: null,
    server: null,
    tenant: null,
    reconnects: 0,
    droppedResults: 0,
  }
}

export const useConnectionStore = defineStore('connection', () => {
  let client: SocketClient | null = null
  let unwatch: (() => void) | null = null
  /** Where the client gets the API key for its `auth` message (the session store sets it). */
  let tokenSource: () => string | null = () => null
  let factory = (token: () => string | null) => new SocketClient({ url: () => defaultSocketUrl(), token })
  const snap = shallowRef<ConnSnapshot>(initialSnapshot())

  /** How clients are made after reset() (tests: fake sockets); `token` gives the session's key. */
  function setFactory(f: (token: () => string | null) => SocketClient): void {
    factory = f
  }

  /** Use a given client (tests) instead of one for the page's host. */
  function use(c: SocketClient): SocketClient {
    unwatch?.()
    client = c
    unwatch = c.onState((s) => (snap.value = s))
    return c
  }

  function getClient(): SocketClient {
    return client ?? use(factory(() => tokenSource()))
  }

  function setToken(fn: () => string | null): void {
    tokenSource = fn
  }

  function start(): void {
    getClient().start()
  }

  function stop(): void {
    client?.stop()
  }

  /**
   * Close the connection and forget the client, with its subscriptions and
   * applied seqs (sign-out: nothing of the previous key's tenant is kept); the
   * next use creates a new one.
   */
  function reset(): void {
    client?.stop()
    unwatch?.()
    unwatch = null
    client = null
    snap.value = initialSnapshot()
  }

  const state = computed(() => snap.value.state)
  const isOpen = computed(() => snap.value.state === 'open')
  const tenant = computed(() => snap.value.tenant)
  /** The last close was the tenant's connection limit (4429): the client is backing off. */
  const atConnectionLimit = computed(
    () => snap.value.state === 'reconnecting' && snap.value.lastClose?.code === CloseCode.TooManyTenantConnections,
  )

  const label = computed(() => {
    switch (snap.value.state) {
      case 'open':
        return 'Live'
      case 'connecting':
        return 'Connecting…'
      case 'authenticating':
        return 'Signing in…'
      case 'reconnecting':
        if (atConnectionLimit.value) return 'Too many connections for your tenant, retrying'
        return snap.value.retryAt ? `Reconnecting (attempt ${snap.value.attempt})` : 'Reconnecting…'
      case 'offline':
        return 'Offline'
      case 'closed':
        return 'Disconnected'
      case 'unauthorized':
        return 'Not signed in'
      default:
        return 'Not connected'
    }
  })

  return { snap, state, isOpen, tenant, atConnectionLimit, label, client: getClient, use, setFactory, setToken, start, stop, reset }
})
