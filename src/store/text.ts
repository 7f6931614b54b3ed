/** UTF-8 and JSON values of the store, through one encoder and decoder (not one per value). */
const encoder = new TextEncoder()
const decoder = new TextDecoder()

export const encodeText = (text: string): Uint8Array => encoder.encode(text)
export const decodeText = (bytes: Uint8Array): string => decoder.decode(bytes)
export const encodeJson = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value))
export const decodeJson = <T>(bytes: Uint8Array): T => JSON.parse(decoder.decode(bytes)) as T
