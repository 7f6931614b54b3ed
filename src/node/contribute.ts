/** Turning a contribution request into the node's own signed records (batches of up to 1,000 signals). */
import { RECORD_LIMITS } from '../constants.js'
import { fail } from '../errors.js'
import { hexOfLengthCase, hexValue, SIGNAL_VALUE_BYTES, vpdqValue } from '../record/body-wire.js'
import { SIGNAL_TYPES, type Signal, type SignalsBody } from '../record/types.js'
import { checkAgainstTaxonomy, type TaxonomyRules } from '../record/taxonomy.js'

export interface ContributionInput {
  signals: Array<{ type: string; value?: string; quality?: number; frames?: Signal['frames'] }>
  contentType?: string
  labels?: string[]
  note?: string
}

export interface ContributionPlan {
  bodies: SignalsBody[]
  /** Signals left out by the quality gate. */
  skipped: Array<{ type: string; value: string; quality?: number; reason: string }>
}

/** Normalises and validates signals; lowercases hex; applies the quality gate and the taxonomy. */
export function planContribution(input: ContributionInput, taxonomy: TaxonomyRules, gate: { minQuality: number; contributeLowQuality: boolean }): ContributionPlan {
  if (!Array.isArray(input.signals) || input.signals.length === 0) fail('SIGNAL_INVALID', 'a contribution needs at least one signal')
  const contentType = input.contentType ?? (input.signals.some((s) => s.type === 'vpdq') ? 'video' : 'photo')
  const labels = input.labels ?? []
  checkAgainstTaxonomy(labels, contentType, taxonomy)
  if (input.note !== undefined && (typeof input.note !== 'string' || input.note.length > RECORD_LIMITS.maxNoteLength)) {
    fail('RECORD_INVALID', `note must be at most ${RECORD_LIMITS.maxNoteLength} characters`)
  }
  const kept: Signal[] = []
  const skipped: ContributionPlan['skipped'] = []
  const seen: Partial<Record<Signal['type'], Set<string>>> = {}
  for (const raw of input.signals) {
    const signal = normaliseSignal(raw)
    const values = (seen[signal.type] ??= new Set())
    if (values.has(signal.value)) continue
    values.add(signal.value)
    if (signal.type === 'pdq' && signal.quality !== undefined && signal.quality < gate.minQuality && !gate.contributeLowQuality) {
      skipped.push({ type: signal.type, value: signal.value, quality: signal.quality, reason: `quality ${signal.quality} < ${gate.minQuality}` })
      continue
    }
    if (signal.type === 'vpdq') {
      signal.frames = signal.frames!.filter((f) => gate.contributeLowQuality || f.quality >= gate.minQuality)
      if (signal.frames.length === 0) {
        skipped.push({ type: 'vpdq', value: signal.value, reason: `no frame reaches quality ${gate.minQuality}` })
        continue
      }
      signal.value = vpdqValue(signal.frames)
    }
    kept.push(signal)
  }
  if (kept.length === 0) fail('QUALITY_TOO_LOW', `every signal was left out by the quality gate (${skipped.map((s) => s.reason).join('; ')})`)
  const bodies: SignalsBody[] = []
  for (let i = 0; i < kept.length; i += RECORD_LIMITS.maxSignalsPerRecord) {
    const body: SignalsBody = { signals: kept.slice(i, i + RECORD_LIMITS.maxSignalsPerRecord), contentType, labels }
    if (input.note !== undefined) body.note = input.note
    bodies.push(body)
  }
  return { bodies, skipped }
}

function normaliseSignal(raw: ContributionInput['signals'][number]): Signal {
  if (typeof raw !== 'object' || raw === null) fail('SIGNAL_INVALID', 'each signal must be an object')
  const type = raw.type as Signal['type']
  if (!SIGNAL_TYPES.includes(type)) fail('SIGNAL_INVALID', `signal type must be one of ${SIGNAL_TYPES.join(', ')}, got ${JSON.stringify(raw.type)}`)
  if (raw.quality !== undefined && (!Number.isInteger(raw.quality) || raw.quality < 0 || raw.quality > 100)) {
    fail('SIGNAL_INVALID', 'quality must be an integer from 0 to 100')
  }
  if (type === 'vpdq') {
    if (!Array.isArray(raw.frames) || raw.frames.length === 0 || raw.frames.length > RECORD_LIMITS.maxVpdqFrames) {
      fail('SIGNAL_INVALID', `a vpdq signal needs 1 to ${RECORD_LIMITS.maxVpdqFrames} frames`)
    }
    const frames = raw.frames.map((f) => {
      hexValue(f.hash, 32, 'vpdq frame hash')
      if (!Number.isInteger(f.quality) || f.quality < 0 || f.quality > 100) fail('SIGNAL_INVALID', 'frame quality must be 0..100')
      if (!Number.isInteger(f.ms) || f.ms < 0) fail('SIGNAL_INVALID', 'frame ms must be a non-negative integer')
      return { hash: f.hash.toLowerCase(), quality: f.quality, ms: f.ms }
    })
    return { type, value: vpdqValue(frames), frames, ...(raw.quality !== undefined ? { quality: raw.quality } : {}) }
  }
  const given = String(raw.value ?? '')
  const hex = hexOfLengthCase(given, SIGNAL_VALUE_BYTES[type])
  if (hex === 0) hexValue(given, SIGNAL_VALUE_BYTES[type], `${type} value`) // throws, saying why
  const signal: Signal = { type, value: hex === 2 ? given.toLowerCase() : given }
  if (raw.quality !== undefined) signal.quality = raw.quality
  return signal
}
