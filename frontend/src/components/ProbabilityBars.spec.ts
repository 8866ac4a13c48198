import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import ProbabilityBars from './ProbabilityBars.vue'
import BarChart from './BarChart.vue'

describe('ProbabilityBars', () => {
  it('shows a bar per class and marks the predicted one', () => {
    const w = mount(ProbabilityBars, {
      props: { labels: ['cat', 'dog'], result: { index: 0, label: 'dog', class: 1, score: 0.8, probabilities: [0.2, 0.8] } },
    })
    const rows = w.findAll('li')
    expect(rows).toHaveLength(2)
    expect(rows[1]!.classes()).toContain('probs__row--top')
    expect(rows[1]!.text()).toContain('80.0 %')
    expect(w.find('.probs__bar').attributes('style')).toContain('width: 20%')
  })

  it('falls back to the top-k entries', () => {
    const w = mount(ProbabilityBars, {
      props: {
        labels: [],
        result: { index: 0, label: 'a', class: 3, score: 0.6, top: [{ label: 'a', class: 3, score: 0.6 }, { label: 'b', class: 1, score: 0.3 }] },
      },
    })
    expect(w.findAll('li').map((l) => l.find('.probs__label').text())).toEqual(['a', 'b'])
  })
})

describe('BarChart', () => {
  it('draws one bar per class with an accessible summary', () => {
    const w = mount(BarChart, { props: { labels: ['0', '1', '2'], counts: [5, 0, 10], title: 'Predicted' } })
    expect(w.findAll('rect.chart__bar')).toHaveLength(3)
    expect(w.find('svg').attributes('aria-label')).toBe('Predicted: 0 5, 1 0, 2 10')
  })
})
