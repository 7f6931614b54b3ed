/** Multiaddr checks for config written by `hashmesh init` and read by `hashmesh doctor` (libp2p stays in net/). */
import { multiaddr } from '@multiformats/multiaddr'
import { fail, safetyCatch } from '../errors.js'

export interface AddressFacts { host?: string; port?: number; peerId?: string }

/** The host, TCP port and /p2p peer id of a multiaddr; CONFIG_INVALID naming `what` when it does not parse. */
export function parseAddress(addr: string, what: string): AddressFacts {
  let components: Array<{ name: string; value?: string }>
  try {
    components = multiaddr(addr).getComponents()
  } catch (err) {
    safetyCatch(err) // InvalidMultiaddrError: the operator's typo
    fail('CONFIG_INVALID', `${what} "${addr}" is not a multiaddr (e.g. /ip4/203.0.113.7/tcp/4001 or /dns4/node.example.org/tcp/4001)`)
  }
  const host = components.find((c) => ['ip4', 'ip6', 'dns4', 'dns6', 'dns'].includes(c.name))?.value
  const tcp = components.find((c) => c.name === 'tcp')?.value
  const peerId = components.findLast((c) => c.name === 'p2p')?.value
  return { host, port: tcp === undefined ? undefined : Number(tcp), peerId }
}
