/** stream-json 1.x ships no types; the two modules src/lists/json-items.ts uses. */
declare module 'stream-json/Parser.js' {
  import type { Transform } from 'node:stream'
  const Parser: { parser(options?: Record<string, unknown>): Transform }
  export default Parser
}
declare module 'stream-json/Assembler.js' {
  export default class Assembler {
    done: boolean
    current: unknown
    consume(token: { name: string; value?: unknown }): this
  }
}
