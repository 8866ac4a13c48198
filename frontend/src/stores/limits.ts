import { defineStore } from 'pinia'
import { ref } from 'vue'
import { getLimits } from '@/api/http'
import type { Limits } from '@/api/types'

/**
 * The caller's limits (GET /v1/limits), asked once per sign-in. `limits`
 * stays null while unknown, and when the gateway does not offer them: the
 * page then relies on the gateway's answer to explain a refusal.
 */
export const useLimitsStore = defineStore('limits', () => {
  const limits = ref<Limits | null>(null)
  let asked: Promise<void> | null = null

  function load(): Promise<void> {
    asked ??= getLimits()
      .then((l) => {
        limits.value = l
      })
      .catch(() => {
        asked = null // asked again next time
      })
    return asked
  }

  function clear(): void {
    limits.value = null
    asked = null
  }

  return { limits, load, clear }
})
