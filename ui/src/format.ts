/** Small formatting helpers shared by the pages. */
export function ago(ms: number | null | undefined): string {
  if (!ms) return '—'
  const s = Math.round((Date.now() - ms) / 1000)
  if (s < 60) return `${Math.max(0, s)} s ago`
  if (s < 3600) return `${Math.round(s / 60)} min ago`
  return `${Math.round(s / 3600)} h ago`
}

export function short(hex: string, n = 10): string {
  return hex.length > n + 4 ? `${hex.slice(0, n)}…` : hex
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`
  return `${(n / 1024 / 1024).toFixed(1)} MB`
}

export function when(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + ' UTC'
}

/** "1 signal", "2 signals". */
export function count(n: number, noun: string): string {
  return `${n.toLocaleString('en')} ${noun}${n === 1 ? '' : 's'}`
}
