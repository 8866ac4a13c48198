// Runs the app's WebSocket while a session is active (a key signed in, or a
// gateway without authentication) and ties it to the page lifecycle: browser
// online/offline events, tab visibility (skip the backoff wait when the user
// comes back), and teardown. Also installs the debug hook (see README).
import { onBeforeUnmount, onMounted, watch } from 'vue'
import { useConnectionStore } from '@/stores/connection'
import { useSessionStore } from '@/stores/session'
import { installDebugHook } from './debugHook'

export function useSocketLifecycle(): void {
  const conn = useConnectionStore()
  const session = useSessionStore()
  const onOnline = () => conn.client().setOffline(false)
  const onOffline = () => conn.client().setOffline(true)
  const onVisible = () => {
    if (document.visibilityState === 'visible') conn.client().connectNow()
  }
  const onPageHide = (e: PageTransitionEvent) => {
    // Leaving for real (not into the back/forward cache): close cleanly.
    if (!e.persisted) conn.stop()
  }
  let stopWatch: (() => void) | null = null
  onMounted(() => {
    window.addEventListener('online', onOnline)
    window.addEventListener('offline', onOffline)
    document.addEventListener('visibilitychange', onVisible)
    window.addEventListener('pagehide', onPageHide)
    installDebugHook()
    // Signing out resets the connection itself (session store); signing in starts a new one.
    stopWatch = watch(
      () => session.active,
      (active) => {
        if (!active) return conn.stop()
        if (typeof navigator !== 'undefined' && navigator.onLine === false) conn.client().setOffline(true)
        conn.start()
      },
      { immediate: true },
    )
  })
  onBeforeUnmount(() => {
    stopWatch?.()
    window.removeEventListener('online', onOnline)
    window.removeEventListener('offline', onOffline)
    document.removeEventListener('visibilitychange', onVisible)
    window.removeEventListener('pagehide', onPageHide)
    conn.stop()
  })
}
