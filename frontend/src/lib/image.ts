// Image preprocessing, as pure functions on arrays (the canvas parts live in
// components). It follows model.ImagePreprocessing: convert to the model's
// channels, resize to width×height by AREA AVERAGING, optionally invert, then
// scale 0..255 linearly to [range_min, range_max].
//
// For drawings the input is ink coverage (0..1) rather than grey levels. The
// scikit-learn digits were made from 32×32 binary bitmaps by counting the "on"
// pixels of each 4×4 block (0..16); area-averaging a 32×32 binary grid to 8×8
// and scaling [0,1] → [0,16] gives exactly those counts.
import type { ImagePreprocessing } from '@/api/types'

/**
 * Resizes a channels-interleaved image from sw×sh to dw×dh; every output pixel
 * is the mean of the source area it covers (fractional pixel overlaps are
 * weighted by their area). Works for both down- and up-scaling.
 */
export function areaResize(
  src: ArrayLike<number>,
  sw: number,
  sh: number,
  dw: number,
  dh: number,
  channels = 1,
): Float64Array {
  if (src.length !== sw * sh * channels) throw new Error(`areaResize: ${src.length} values for ${sw}×${sh}×${channels}`)
  const xw = weights(sw, dw)
  const yw = weights(sh, dh)
  // Horizontal pass: sh rows × dw columns.
  const tmp = new Float64Array(sh * dw * channels)
  for (let y = 0; y < sh; y++) {
    for (let dx = 0; dx < dw; dx++) {
      const spans = xw[dx]!
      for (let ch = 0; ch < channels; ch++) {
        let acc = 0
        for (const [sx, w] of spans) acc += w * src[(y * sw + sx) * channels + ch]!
        tmp[(y * dw + dx) * channels + ch] = acc
      }
    }
  }
  // Vertical pass.
  const out = new Float64Array(dw * dh * channels)
  for (let dy = 0; dy < dh; dy++) {
    const spans = yw[dy]!
    for (let dx = 0; dx < dw; dx++) {
      for (let ch = 0; ch < channels; ch++) {
        let acc = 0
        for (const [sy, w] of spans) acc += w * tmp[(sy * dw + dx) * channels + ch]!
        out[(dy * dw + dx) * channels + ch] = acc
      }
    }
  }
  return out
}

/** For each destination pixel, the source pixels it covers and their weights (summing to 1). */
function weights(sn: number, dn: number): [number, number][][] {
  const scale = sn / dn
  const out: [number, number][][] = []
  for (let d = 0; d < dn; d++) {
    const a = d * scale
    const b = (d + 1) * scale
    const spans: [number, number][] = []
    for (let s = Math.floor(a); s < Math.min(sn, Math.ceil(b)); s++) {
      const overlap = Math.min(b, s + 1) - Math.max(a, s)
      if (overlap > 1e-12) spans.push([s, overlap / scale])
    }
    out.push(spans)
  }
  return out
}

/** Number of "on" pixels (value ≥ 0.5) in each bw×bh block of a w×h binary grid. */
export function blockCounts(binary: ArrayLike<number>, w: number, h: number, bw: number, bh: number): number[] {
  const ow = Math.floor(w / bw)
  const oh = Math.floor(h / bh)
  const out = new Array<number>(ow * oh).fill(0)
  for (let y = 0; y < oh * bh; y++) {
    for (let x = 0; x < ow * bw; x++) {
      if (binary[y * w + x]! >= 0.5) out[Math.floor(y / bh) * ow + Math.floor(x / bw)]! += 1
    }
  }
  return out
}

function scale01(v: number, pre: Pick<ImagePreprocessing, 'range_min' | 'range_max'>): number {
  const r = pre.range_min + v * (pre.range_max - pre.range_min)
  // Remove floating-point noise such as 7.999999999999999.
  return Math.round(r * 1e9) / 1e9
}

/**
 * Ink coverage (0..1, one channel, w×h) → model input: area average to
 * pre.width×pre.height, scale to [range_min, range_max]; replicated across
 * channels when the model wants 3. Ink is what the model calls "on", so
 * `invert` does not apply (it is for grey-level photos of dark ink).
 */
export function inkToInput(coverage: ArrayLike<number>, w: number, h: number, pre: ImagePreprocessing): number[] {
  const small = areaResize(coverage, w, h, pre.width, pre.height, 1)
  const out: number[] = []
  for (const v of small) {
    const s = scale01(v, pre)
    for (let c = 0; c < pre.channels; c++) out.push(s)
  }
  return out
}

/**
 * RGBA pixels (w×h, 0..255, e.g. from canvas getImageData) → model input.
 * Transparent pixels are composited over the background implied by `invert`
 * (white for dark-on-light images, black otherwise).
 */
export function rgbaToInput(rgba: ArrayLike<number>, w: number, h: number, pre: ImagePreprocessing): number[] {
  const ch = pre.channels === 3 ? 3 : 1
  const bg = pre.invert ? 255 : 0
  const px = new Float64Array(w * h * ch)
  for (let i = 0; i < w * h; i++) {
    const a = rgba[i * 4 + 3]! / 255
    const r = rgba[i * 4]! * a + bg * (1 - a)
    const g = rgba[i * 4 + 1]! * a + bg * (1 - a)
    const b = rgba[i * 4 + 2]! * a + bg * (1 - a)
    if (ch === 1) px[i] = 0.299 * r + 0.587 * g + 0.114 * b
    else {
      px[i * 3] = r
      px[i * 3 + 1] = g
      px[i * 3 + 2] = b
    }
  }
  const small = areaResize(px, w, h, pre.width, pre.height, ch)
  return Array.from(small, (v) => scale01((pre.invert ? 255 - v : v) / 255, pre))
}

export interface Point {
  x: number
  y: number
}

export interface Box {
  x: number
  y: number
  w: number
  h: number
}

/** Bounding box of stroke points, or null when there are none. */
export function strokesBox(strokes: Point[][]): Box | null {
  let minX = Infinity
  let minY = Infinity
  let maxX = -Infinity
  let maxY = -Infinity
  for (const s of strokes) {
    for (const p of s) {
      minX = Math.min(minX, p.x)
      minY = Math.min(minY, p.y)
      maxX = Math.max(maxX, p.x)
      maxY = Math.max(maxY, p.y)
    }
  }
  if (!Number.isFinite(minX)) return null
  return { x: minX, y: minY, w: maxX - minX, h: maxY - minY }
}

/**
 * The transform that fits the strokes' box into a gw×gh grid, leaving room for
 * a pen `penGrid` grid pixels wide, keeping the aspect ratio and centring it,
 * like the size normalisation of the UCI digit bitmaps. grid = point × scale + d.
 */
export function fitTransform(box: Box, penGrid: number, gw: number, gh: number): { scale: number; dx: number; dy: number } {
  // A straight stroke has zero width or height; a single dot has both.
  const longest = Math.max(box.w, box.h)
  const eps = longest > 0 ? longest * 1e-3 : 1
  const scale = Math.min((gw - penGrid) / Math.max(box.w, eps), (gh - penGrid) / Math.max(box.h, eps))
  const cx = box.x + box.w / 2
  const cy = box.y + box.h / 2
  return { scale, dx: gw / 2 - cx * scale, dy: gh / 2 - cy * scale }
}

/** Alpha channel of RGBA pixels → binary grid (1 where alpha ≥ threshold). */
export function alphaToBinary(rgba: ArrayLike<number>, w: number, h: number, threshold = 128): Uint8Array {
  const out = new Uint8Array(w * h)
  for (let i = 0; i < w * h; i++) out[i] = rgba[i * 4 + 3]! >= threshold ? 1 : 0
  return out
}
