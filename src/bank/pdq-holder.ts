/**
 * Where the bank store keeps its content's PDQ hashes. A serving node gives the node's PDQ catalog
 * (match/pdq-catalog.ts): near-neighbour searches, one index with the federation's signals. A process
 * that only writes banks (an offline `hashmesh import`) gives an ExactPdqHolder: exact lookups for the
 * duplicate check and no match index, so a million hashes cost ~60 MB instead of ~200 MB. The node
 * builds its index from the store when it starts.
 */
import { fail } from '../errors.js'
import type { Hash256 } from '../hash/hash256.js'
import { ExactIndex } from '../match/exact-index.js'
import { wordsToHash } from '../match/pdq-index.js'

export interface BankPdqHolder {
  /** Bank content items with a PDQ hash here. */
  readonly bankSize: number
  /** Resolves when no build runs (searches and writes wait for it). */
  idle(): Promise<void>
  /** At open: contentIds[i]'s hash is packed[i * 8 .. i * 8 + 8) (hashToWords). */
  addBankContentWordsAsync(contentIds: Uint32Array, packed: Uint32Array): Promise<void>
  /** Bank content added now; the caller waits for idle() first. */
  addBankContentWords(contentIds: Uint32Array, packed: Uint32Array): void
  removeBankContent(contentId: number): void
  /** Content ids whose hash is exactly `hash`. */
  bankContentWith(hash: Hash256): number[]
  /** Content within `threshold` of `hash`. */
  searchBanks(hash: Hash256, threshold: number): Array<{ contentId: number; distance: number }>
}

export class ExactPdqHolder implements BankPdqHolder {
  private readonly hashes = new ExactIndex({ digestBytes: 32 })

  get bankSize(): number {
    return this.hashes.size
  }

  idle(): Promise<void> {
    return Promise.resolve()
  }

  async addBankContentWordsAsync(contentIds: Uint32Array, packed: Uint32Array): Promise<void> {
    this.addBankContentWords(contentIds, packed)
  }

  addBankContentWords(contentIds: Uint32Array, packed: Uint32Array): void {
    for (let i = 0; i < contentIds.length; i++) this.hashes.add(contentIds[i]!, wordsToHash(packed, i * 8))
  }

  removeBankContent(contentId: number): void {
    this.hashes.remove(contentId)
  }

  bankContentWith(hash: Hash256): number[] {
    return this.hashes.lookup(hash)
  }

  searchBanks(): never {
    fail('INTERNAL', 'the banks were opened to write only (an offline import): they have no match index')
  }
}
