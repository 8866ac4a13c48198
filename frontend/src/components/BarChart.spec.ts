import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import BarChart from './BarChart.vue'

const texts = (w: ReturnType<typeof mount>) => w.findAll('text').map((t) => t.text())

describe('BarChart', () => {
  it('writes whole class labels and compact axis numbers (10k, not a clipped "0,000")', () => {
    const w = mount(BarChart, { props: { labels: ['malignant', 'benign'], counts: [3500, 10_000], title: 'Predicted classes' } })
    const t = texts(w)
    expect(t).toContain('malignant')
    expect(t).toContain('benign')
    expect(t).toContain('10k')
    expect(t.some((x) => x.includes('…'))).toBe(false)
    expect(w.get('svg').attributes('aria-label')).toBe('Predicted classes: malignant 3500, benign 10000')
  })

  it('draws in real pixels: the viewBox is the element width, so text is never scaled down', () => {
    const w = mount(BarChart, { props: { labels: ['a'], counts: [1], title: 't' } })
    expect(w.get('svg').attributes('viewBox')).toMatch(/^0 0 640 \d+$/)
    expect(w.get('svg').attributes('width')).toBe('640')
  })

  it('slants and clips long labels that do not fit, the full label in a tooltip', () => {
    const labels = Array.from({ length: 12 }, (_, i) => `a rather long class name ${i}`)
    const w = mount(BarChart, { props: { labels, counts: labels.map(() => 1), title: 't' } })
    const x = w.findAll('text.chart__xlabel')
    expect(x[0]!.attributes('transform')).toMatch(/^rotate\(-40/)
    expect(x[0]!.text()).toBe('a rather long…')
    expect(w.findAll('g > title')[0]!.text()).toBe('a rather long class name 0')
  })
})
