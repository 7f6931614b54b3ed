/**
 * Items of a JSON document, streamed: the values at the paths a caller wants (the attributes of a MISP event,
 * the objects of a STIX bundle) are assembled one at a time, with their path, and everything else is passed
 * over token by token. No string (key or value) may pass `maxStringChars` and no assembled item `maxItemChars`:
 * the document is refused (PAYLOAD_TOO_LARGE) as soon as one does, without holding it whole.
 */
import type { Readable } from 'node:stream'
import Parser from 'stream-json/Parser.js'
import Assembler from 'stream-json/Assembler.js'
import { fail } from '../errors.js'

export type JsonPath = Array<string | number>

interface Token { name: string; value?: unknown }
type Frame = { array: false; key: string | undefined } | { array: true; index: number }

export interface JsonItemOptions { maxStringChars?: number; maxItemChars?: number; name?: string; signal?: AbortSignal }

const VALUE_STARTS = new Set(['startObject', 'startArray', 'startString', 'startNumber', 'nullValue', 'trueValue', 'falseValue'])

export async function* jsonItems(stream: Readable, wanted: (path: JsonPath) => boolean, options: JsonItemOptions = {}): AsyncGenerator<{ path: JsonPath; value: unknown }> {
  const maxString = options.maxStringChars ?? 1 << 20
  const maxItem = options.maxItemChars ?? 16 << 20
  const name = options.name ?? 'input'
  const tokens = stream.pipe(Parser.parser())
  stream.on('error', (err) => tokens.destroy(err))
  const stack: Frame[] = []
  let assembler: Assembler | undefined
  let itemPath: JsonPath = []
  let itemChars = 0
  let stringChars = 0
  try {
    for await (const token of tokens as AsyncIterable<Token>) {
      if (VALUE_STARTS.has(token.name)) {
        const top = stack[stack.length - 1]
        if (top?.array) top.index++
        if (!assembler) {
          const path = stack.map((f) => (f.array ? f.index : f.key ?? ''))
          if (wanted(path)) {
            assembler = new Assembler()
            itemPath = path
            itemChars = 0
          }
        }
        if (token.name === 'startObject') stack.push({ array: false, key: undefined })
        else if (token.name === 'startArray') stack.push({ array: true, index: -1 })
      } else if (token.name === 'keyValue') {
        const top = stack[stack.length - 1]
        if (top && !top.array) top.key = token.value as string
      } else if (token.name === 'endObject' || token.name === 'endArray') stack.pop()
      else if (token.name === 'stringChunk' || token.name === 'numberChunk') {
        const length = (token.value as string).length
        stringChars += length
        itemChars += assembler ? length : 0
        if (stringChars > maxString) fail('PAYLOAD_TOO_LARGE', `${name}: a JSON string longer than ${maxString} characters; refused without reading it whole`)
        if (itemChars > maxItem) fail('PAYLOAD_TOO_LARGE', `${name}: an item over ${maxItem} characters at ${itemPath.join('.')}; refused`)
      } else if (token.name === 'endString' || token.name === 'endKey' || token.name === 'endNumber') stringChars = 0
      if (assembler) {
        assembler.consume(token)
        const scalarStart = token.name === 'startString' || token.name === 'startNumber'
        if (assembler.done && !scalarStart && !token.name.endsWith('Chunk') && token.name !== 'endString' && token.name !== 'endNumber') {
          const value = assembler.current
          assembler = undefined
          options.signal?.throwIfAborted()
          yield { path: itemPath, value }
        }
      }
    }
  } catch (err) {
    if (err instanceof Error && !('code' in err) && /Parser cannot parse input/.test(err.message)) {
      fail('BAD_REQUEST', `${name}: not valid JSON (${err.message})`, { cause: err })
    }
    throw err
  } finally {
    tokens.destroy()
    stream.destroy()
  }
}
