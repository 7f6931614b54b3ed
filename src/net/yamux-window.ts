/**
 * Yamux flow control with hysteresis. @chainsafe/libp2p-yamux 8 answers every data frame it receives
 * with a window-update frame (its own frame, noise-encrypted, one more socket write). Gossip is a stream
 * of small frames, so that doubled the frames and writes of every node. The yamux spec leaves the timing
 * to the receiver; like go-yamux and rust-yamux we send the update once half the window is used, or
 * whenever a SYN or ACK flag must go out, so a sender never stalls while the frame count halves.
 */
import { StreamState, YamuxStream } from '@chainsafe/libp2p-yamux/stream'

interface WindowState {
  recvWindow: number
  recvWindowCapacity: number
  state: StreamState
}

let installed = false

export function installYamuxWindowHysteresis(): void {
  if (installed) return
  installed = true
  const proto = YamuxStream.prototype as unknown as WindowState & { sendWindowUpdate(): void }
  const original = proto.sendWindowUpdate
  proto.sendWindowUpdate = function (this: WindowState): void {
    // Init and SYNReceived still owe the remote a SYN/ACK flag: those updates always go out.
    const owesFlags = this.state === StreamState.Init || this.state === StreamState.SYNReceived
    if (!owesFlags && this.recvWindowCapacity * 2 >= this.recvWindow) return
    original.call(this)
  }
}
