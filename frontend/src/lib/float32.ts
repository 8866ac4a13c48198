// float32 values as the gateway carries them in base64 (little-endian),
// without imports: the e2e's in-memory API uses it under Node too.

/** base64 of float32 values, little-endian (a tensor item's payload). */
export function float32Base64(values: number[]): string {
  const b = new Uint8Array(values.length * 4)
  const view = new DataView(b.buffer)
  values.forEach((v, i) => view.setFloat32(i * 4, v, true))
  let s = ''
  for (const x of b) s += String.fromCharCode(x)
  return btoa(s)
}
