/**
 * The node's view of the federation roster: a chain of signed versions from the pinned genesis.
 * Answers "is this key a member?" (records) and "is this peer id allowed?" (connections).
 */
import { fail, isHashmeshError } from '../errors.js'
import { decodeSignedRoster, encodeSignedRoster, verifyGenesis, verifySuccessor, type SignedRoster } from '../record/roster.js'
import type { ReceiveResult } from '../sync/types.js'

export class RosterState {
  private chain: SignedRoster[] = []
  private memberKeys = new Map<string, string>()
  private peerIds = new Map<string, string>()

  constructor(private genesisPin: string | null, private readonly ownKey: string) {}

  get current(): SignedRoster | undefined {
    return this.chain.at(-1)
  }

  get pin(): string | null {
    return this.genesisPin
  }

  versions(): SignedRoster[] {
    return [...this.chain]
  }

  /** Members are the current roster's keys; a node without a roster knows only itself. */
  isMember(key: string): boolean {
    return key === this.ownKey || this.memberKeys.has(key)
  }

  memberName(key: string): string | undefined {
    return this.memberKeys.get(key)
  }

  isAllowedPeer(peerId: string): boolean {
    return this.peerIds.has(peerId)
  }

  /** Peer ids of every member node in the current roster. */
  allowedPeers(): string[] {
    return [...this.peerIds.keys()]
  }

  memberOfPeer(peerId: string): string | undefined {
    return this.peerIds.get(peerId)
  }

  /**
   * Adds a version: the genesis (must equal the pin; `trustLocal` lets the operator install and pin it),
   * or the successor of the current version. Returns a verdict; never throws for bad input.
   */
  accept(bytes: Uint8Array, trustLocal = false): ReceiveResult & { roster?: SignedRoster } {
    try {
      const decoded = decodeSignedRoster(bytes)
      const known = this.chain.find((r) => r.id === decoded.id)
      if (known) return { verdict: 'duplicate', id: decoded.id }
      let verified: SignedRoster
      if (decoded.document.serial === 1) {
        if (this.chain.length > 0) fail('ROSTER_INVALID', 'a different genesis roster is already installed')
        if (this.genesisPin === null && !trustLocal) fail('ROSTER_INVALID', 'no roster genesis is pinned; install it locally with "hashmesh roster install"')
        if (this.genesisPin !== null && decoded.id !== this.genesisPin) fail('ROSTER_INVALID', `genesis ${decoded.id} is not the pinned ${this.genesisPin}`)
        verified = verifyGenesis(decoded)
        this.genesisPin = verified.id
      } else {
        const current = this.current
        if (!current) return { verdict: 'pending', id: decoded.id, code: 'ROSTER_INVALID', message: 'no genesis roster yet' }
        if (decoded.document.serial > current.document.serial + 1) return { verdict: 'pending', id: decoded.id, code: 'SEQ_GAP' }
        if (decoded.document.serial <= current.document.serial) fail('ROSTER_INVALID', `roster serial ${decoded.document.serial} is not newer than ${current.document.serial}`)
        verified = verifySuccessor(current, decoded)
      }
      this.chain.push(verified)
      this.index()
      return { verdict: 'accepted', id: verified.id, roster: verified }
    } catch (err) {
      if (!isHashmeshError(err)) throw err
      return { verdict: 'rejected', code: err.code, message: err.message }
    }
  }

  encodedVersions(): Uint8Array[] {
    return this.chain.map(encodeSignedRoster)
  }

  private index(): void {
    this.memberKeys = new Map()
    this.peerIds = new Map()
    for (const m of this.current?.document.members ?? []) {
      this.memberKeys.set(m.key, m.name)
      for (const p of m.peers) this.peerIds.set(p, m.key)
    }
  }
}
