import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { h, nextTick } from 'vue'
import VirtualTable from './VirtualTable.vue'

function mountTable(count: number) {
  return mount(VirtualTable, {
    props: { count, label: 'rows', rowHeight: 20, overscan: 2 },
    slots: {
      header: () => h('span', 'head'),
      row: ({ index }: { index: number }) => h('span', { class: 'cell' }, `row ${index}`),
      empty: () => h('span', 'nothing'),
    },
    attachTo: document.body,
  })
}

describe('VirtualTable', () => {
  it('renders only the visible window of 100k rows', async () => {
    const w = mountTable(100_000)
    const body = w.find('.vt__body')
    expect(body.attributes('style')).toContain('height: 2000000px')
    const rows = w.findAll('.vt__row:not(.vt__row--head)')
    // jsdom has no layout: the default viewport of 480 px → 24 rows + overscan.
    expect(rows.length).toBeGreaterThan(10)
    expect(rows.length).toBeLessThan(40)
    expect(rows[0]!.text()).toBe('row 0')
    expect(w.attributes('aria-rowcount')).toBe('100001')
    w.unmount()
  })

  it('moves the window when scrolled', async () => {
    const w = mountTable(100_000)
    const el = w.element as HTMLElement
    el.scrollTop = 50_000 * 20
    await w.trigger('scroll')
    await new Promise((r) => requestAnimationFrame(() => r(null)))
    await nextTick()
    const rows = w.findAll('.vt__row:not(.vt__row--head)')
    expect(rows[0]!.text()).toBe('row 49998')
    expect(rows[0]!.attributes('aria-rowindex')).toBe('50000')
    expect(w.find('.vt__window').attributes('style')).toContain('translateY(999960px)')
    w.unmount()
  })

  it('shows the empty slot', () => {
    const w = mountTable(0)
    expect(w.text()).toContain('nothing')
    w.unmount()
  })
})
