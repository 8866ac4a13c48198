// Who the UI acts for: the API key of this browser tab.
//
// The key lives in sessionStorage (this tab only, gone when it closes; never
// localStorage, never a URL, never a log line) and in a plain variable here,
// not in reactive state, so that it shows up in no devtools or state dump.
// The HTTP client sends it as `Authorization: Bearer` on every request, the
// WebSocket client as its first message (`auth`). Who the key makes the
// caller (tenant, role) comes from GET /v1/whoami: when the key is signed in,
// and again when a tab restores it; the WebSocket's `authenticated` tells the
// tenant too, used while whoami has not answered. A 401 for the current key
// or a WebSocket closed with 4401 signs out and shows the sign-in view with
// the reason; so does the sign-out button. Signing out forgets the socket
// client, the jobs, cluster and dead-letter state and stops an upload under
// way (resumable after the next sign-in), so that nothing of one key's tenant
// is shown under another key.
import { defineStore } from 'pinia'
import { computed, ref, watch } from 'vue'
import { ApiError, checkKey, probeOpen, setAuth, whoami } from '@/api/http'
import { CloseCode, type Role, type Whoami } from '@/api/types'
import { errorText } from '@/lib/errors'
import { useClusterStore } from './cluster'
import { useDeadLettersStore } from './deadletters'
import { useLimitsStore } from './limits'
import { useConnectionStore } from './connection'
import { useJobsStore } from './jobs'
import { useUploadStore } from './upload'

/** sessionStorage entries (the e2e tests set the key the same way). */
export const KEY_STORAGE = 'batchinfer.apiKey'
export const TENANT_STORAGE = 'batchinfer.tenant'
export const ROLE_STORAGE = 'batchinfer.role'

/**
 * checking: finding out whether the gateway wants a key (none stored);
 * signed-out: the sign-in view is shown; signed-in: a key is in use;
 * open: the gateway needs no key (started with -auth=none).
 */
export type SessionStatus = 'checking' | 'signed-out' | 'signed-in' | 'open'

/** Why the session ended: the sign-out button, an HTTP 401, a WebSocket close 4401. */
export type SignOutReason = 'user' | 'http' | 'socket'

const NOTICES: Record<SignOutReason, string | null> = {
  user: null,
  http: 'The gateway did not accept your API key any more (revoked or rotated?). Sign in again.',
  socket: 'The live connection was refused: the gateway did not accept your API key. Sign in again.',
}

function storage(): Storage | null {
  try {
    return window.sessionStorage
  } catch {
    return null // storage disabled: the key lasts until the page is reloaded
  }
}

function read(name: string): string | null {
  try {
    return storage()?.getItem(name) ?? null
  } catch {
    return null
  }
}

function readRole(): Role | null {
  const r = read(ROLE_STORAGE)
  return r === 'user' || r === 'operator' ? r : null
}

function write(name: string, value: string | null): void {
  try {
    if (value === null) storage()?.removeItem(name)
    else storage()?.setItem(name, value)
  } catch {
    /* quota or disabled: kept in memory only */
  }
}

export const useSessionStore = defineStore('session', () => {
  let key: string | null = null
  const status = ref<SessionStatus>('checking')
  const tenant = ref<string | null>(null)
  /** The key's role (GET /v1/whoami); null while unknown. Only `operator` may see the Cluster page. */
  const role = ref<Role | null>(null)
  /** Why the user is signed out (shown above the sign-in form). */
  const notice = ref<string | null>(null)
  const signingIn = ref(false)
  const signInError = ref<string | null>(null)
  let installed = false
  /** Whether tenant and role are whoami's answer for the key in use (not stored ones or the socket's). */
  let known = false

  /** Whether the app may talk to the gateway (a key is signed in, or none is needed). */
  const active = computed(() => status.value === 'signed-in' || status.value === 'open')
  /**
   * Whether to offer the operator pages (Cluster): not for a user key. While
   * the role is unknown they are offered; the page says so when it is refused.
   */
  const operator = computed(() => role.value !== 'user')

  function token(): string | null {
    return key
  }

  function install(): void {
    if (installed) return
    installed = true
    const conn = useConnectionStore()
    conn.setToken(token)
    setAuth({
      token,
      // Only a 401 for the key in use now: an answer to a request sent with
      // an earlier key must not sign out the current one.
      onUnauthorized: (sent) => {
        if (sent === key) expire('http')
      },
    })
    watch(
      () => conn.state,
      (s) => {
        if (s === 'unauthorized' && conn.snap.lastClose?.code === CloseCode.Unauthorized) expire('socket')
      },
      { flush: 'sync' },
    )
    // The socket's `authenticated` names the tenant too: used until whoami answers.
    watch(
      () => conn.tenant,
      (t) => {
        if (t && active.value && !known) {
          tenant.value = t
          if (key) write(TENANT_STORAGE, t)
        }
      },
      { flush: 'sync' },
    )
  }

  /** Takes whoami's answer for the key in use (null: none, they are unknown). */
  function identify(w: Whoami | null): void {
    known = w !== null
    tenant.value = w?.tenant ?? null
    role.value = w?.role ?? null
    if (key) {
      write(TENANT_STORAGE, tenant.value)
      write(ROLE_STORAGE, role.value)
    }
  }

  /**
   * Asks the gateway again who the key in use makes the caller (GET
   * /v1/whoami). A 401 signs out as any other request's does; other
   * failures keep what is known. An answer for a key no longer in use is
   * dropped.
   */
  async function refresh(): Promise<void> {
    const sent = key
    if (!sent) return
    try {
      const w = await whoami()
      if (key === sent && status.value === 'signed-in') identify(w)
    } catch {
      /* 401: signed out by onUnauthorized; unreachable or 429: keep the stored tenant and role */
    }
  }

  /** Restores the tab's key, or finds out whether the gateway needs one. */
  async function init(): Promise<void> {
    install()
    key = read(KEY_STORAGE)
    if (key) {
      // The page opens at once with what the tab knew; whoami then confirms
      // the key (a revoked one signs out) and who it is.
      known = false
      tenant.value = read(TENANT_STORAGE)
      role.value = readRole()
      status.value = 'signed-in'
      await refresh()
      return
    }
    status.value = 'checking'
    let open: Whoami | null = null
    try {
      open = await probeOpen()
    } catch {
      // Gateway unreachable: the sign-in check will say so.
    }
    if (key) return // signed in meanwhile
    identify(open)
    status.value = open ? 'open' : 'signed-out'
  }

  /** Checks a key with the gateway and signs it in; false (with signInError) when it is refused. */
  async function signIn(candidate: string): Promise<boolean> {
    install()
    const k = candidate.trim()
    if (!k) {
      signInError.value = 'Enter your API key.'
      return false
    }
    signingIn.value = true
    signInError.value = null
    let me: Whoami | null
    try {
      me = await checkKey(k)
    } catch (e) {
      signInError.value =
        e instanceof ApiError && e.status === 401
          ? 'That API key was not accepted. Check that you copied all of it and that it has not been revoked.'
          : `Could not check the key: ${errorText(e)}`
      return false
    } finally {
      signingIn.value = false
    }
    clearTenantData()
    key = k
    write(KEY_STORAGE, k)
    identify(me) // null (a 429): the socket's `authenticated` tells the tenant
    notice.value = null
    status.value = 'signed-in'
    return true
  }

  /** Forgets the key, closes the socket, drops the tenant's data, and shows the sign-in view. */
  function signOut(reason: SignOutReason = 'user'): void {
    key = null
    write(KEY_STORAGE, null)
    write(TENANT_STORAGE, null)
    write(ROLE_STORAGE, null)
    known = false
    tenant.value = null
    role.value = null
    clearTenantData()
    signInError.value = null
    notice.value = NOTICES[reason]
    status.value = 'signed-out'
  }

  /** The gateway refused the key in use: sign out, once. */
  function expire(reason: Exclude<SignOutReason, 'user'>): void {
    if (!active.value) return
    signOut(reason)
  }

  function clearTenantData(): void {
    useConnectionStore().reset()
    useJobsStore().clear()
    useClusterStore().clear()
    useLimitsStore().clear()
    useDeadLettersStore().clear()
    useUploadStore().release()
  }

  return { status, active, tenant, role, operator, notice, signingIn, signInError, token, init, refresh, signIn, signOut, expire }
})
