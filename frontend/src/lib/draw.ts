// Canvas rasterisation of a drawing into the model's input (browser only; the
// arithmetic is in lib/image.ts and unit-tested there).
import type { ImagePreprocessing } from '@/api/types'
import { alphaToBinary, fitTransform, inkToInput, rgbaToInput, strokesBox, type Point } from './image'

/** Sub-pixels per model pixel: 8×8 models get a 32×32 binary bitmap, as in the UCI digits. */
export const SUPERSAMPLE = 4
/** Pen width as a fraction of the bitmap height (about 3.5 px of 32). */
export const PEN_FRACTION = 0.11

/**
 * Renders strokes (in any coordinate space) into a (width·4)×(height·4)
 * binary bitmap, size-normalised and centred, then area-averages it to the
 * model's width×height scaled to [range_min, range_max] (0..16 for digits).
 * Returns null when there is no ink.
 */
export function strokesToInput(strokes: Point[][], pre: ImagePreprocessing): { values: number[]; bitmap: Uint8Array; gw: number; gh: number } | null {
  const box = strokesBox(strokes)
  if (!box) return null
  const gw = pre.width * SUPERSAMPLE
  const gh = pre.height * SUPERSAMPLE
  const pen = Math.max(1, gh * PEN_FRACTION)
  const canvas = document.createElement('canvas')
  canvas.width = gw
  canvas.height = gh
  const ctx = canvas.getContext('2d', { willReadFrequently: true })
  if (!ctx) return null
  const { scale, dx, dy } = fitTransform(box, pen, gw, gh)
  ctx.lineCap = 'round'
  ctx.lineJoin = 'round'
  ctx.lineWidth = pen
  ctx.strokeStyle = '#000'
  ctx.fillStyle = '#000'
  for (const s of strokes) {
    if (s.length === 0) continue
    const p0 = s[0]!
    if (s.length === 1) {
      ctx.beginPath()
      ctx.arc(p0.x * scale + dx, p0.y * scale + dy, pen / 2, 0, Math.PI * 2)
      ctx.fill()
      continue
    }
    ctx.beginPath()
    ctx.moveTo(p0.x * scale + dx, p0.y * scale + dy)
    for (let i = 1; i < s.length; i++) ctx.lineTo(s[i]!.x * scale + dx, s[i]!.y * scale + dy)
    ctx.stroke()
  }
  const bitmap = alphaToBinary(ctx.getImageData(0, 0, gw, gh).data, gw, gh)
  return { values: inkToInput(bitmap, gw, gh, pre), bitmap, gw, gh }
}

/** Decodes an image file and converts it to the model's input through a canvas. */
export async function imageFileToInput(file: Blob, pre: ImagePreprocessing): Promise<number[]> {
  const bmp = await createImageBitmap(file)
  try {
    // Rasterise at a bounded size (keeps memory low for photos), then area-average exactly.
    const maxSide = Math.max(pre.width, pre.height) * 16
    const k = Math.min(1, maxSide / Math.max(bmp.width, bmp.height))
    const w = Math.max(pre.width, Math.round(bmp.width * k))
    const h = Math.max(pre.height, Math.round(bmp.height * k))
    const canvas = document.createElement('canvas')
    canvas.width = w
    canvas.height = h
    const ctx = canvas.getContext('2d', { willReadFrequently: true })
    if (!ctx) throw new Error('canvas 2D context unavailable')
    ctx.imageSmoothingQuality = 'high'
    ctx.drawImage(bmp, 0, 0, w, h)
    return rgbaToInput(ctx.getImageData(0, 0, w, h).data, w, h, pre)
  } finally {
    bmp.close()
  }
}
