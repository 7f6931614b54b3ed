import '../../src/shim.js'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { StreamState, YamuxStream } from '@chainsafe/libp2p-yamux/stream'
import { installYamuxWindowHysteresis } from '../../src/net/yamux-window.js'

const WINDOW = 256 * 1024

/** A stand-in with just what YamuxStream.sendWindowUpdate reads, recording the frames it sends. */
function fakeStream(state: StreamState, capacity: number): { stream: Record<string, unknown>; frames: Array<{ flag: number; length: number }> } {
  const frames: Array<{ flag: number; length: number }> = []
  const stream: Record<string, unknown> = {
    state,
    recvWindow: WINDOW,
    recvWindowCapacity: capacity,
    maxStreamWindowSize: 16 * 1024 * 1024,
    epochStart: Date.now(),
    getRTT: () => -1,
    getSendFlags(this: { state: StreamState }) {
      if (this.state === StreamState.Init) {
        this.state = StreamState.SYNSent
        return 1
      }
      return 0
    },
    sendFrame: (header: { flag: number; length: number }) => frames.push({ flag: header.flag, length: header.length }),
  }
  return { stream, frames }
}

const sendWindowUpdate = (stream: Record<string, unknown>): void => {
  ;(YamuxStream.prototype as unknown as { sendWindowUpdate(this: unknown): void }).sendWindowUpdate.call(stream)
}

test('yamux window updates go out once half the window is used, not after every frame', () => {
  installYamuxWindowHysteresis()
  const small = fakeStream(StreamState.Established, WINDOW - 600) // one small gossip frame consumed
  sendWindowUpdate(small.stream)
  assert.deepEqual(small.frames, [], 'no update while more than half the window is left')

  const half = fakeStream(StreamState.Established, WINDOW / 2 - 1)
  sendWindowUpdate(half.stream)
  assert.deepEqual(half.frames, [{ flag: 0, length: WINDOW / 2 + 1 }], 'the whole used part is granted back at once')
  assert.equal(half.stream.recvWindowCapacity, WINDOW)
})

test('a stream that still owes its SYN flag always sends the update', () => {
  installYamuxWindowHysteresis()
  const opening = fakeStream(StreamState.Init, WINDOW)
  sendWindowUpdate(opening.stream)
  assert.equal(opening.frames.length, 1)
  assert.equal(opening.frames[0]!.flag, 1)
})
