/**
 * Roster proposals a member is asked to sign (files written by `hashmesh roster propose`), held in
 * memory by the node's service so the console can list them, show what each one changes against the
 * current roster, and sign one with the member key. Once a majority of the current members signed, the
 * signed version is installed like `hashmesh roster install` (and gossiped from there). A restart
 * forgets proposals; the signed file the console hands back is what travels between members.
 */
import { fail } from '../errors.js'
import type { Signer } from '../record/crypto.js'
import { rosterFromJson, rosterId, rosterToJson, signRoster, type RosterDocument, type SignedRoster } from '../record/roster.js'
import type { RosterJson } from './contract.js'

/** Proposals kept at once; the oldest is dropped past this. */
export const MAX_ROSTER_PROPOSALS = 16

export interface RosterChange {
  added: Array<{ name: string; key: string; peers: string[] }>
  removed: Array<{ name: string; key: string }>
  renamed: Array<{ key: string; from: string; to: string }>
  peersChanged: Array<{ name: string; key: string; added: string[]; removed: string[] }>
}

export interface RosterProposalView {
  id: string
  federation: string
  serial: number
  /** Whether the proposal follows the current version (serial + 1, prev = current id). */
  followsCurrent: boolean
  changes: RosterChange
  signedBy: Array<{ key: string; name: string | null }>
  signedByMe: boolean
  /** Signatures of current members it has, and how many a change needs (a strict majority). */
  votes: number
  needed: number
  /** The proposal as a roster file (JSON), with every signature it has: what to pass on to the next member. */
  json: RosterJson
}

export interface ProposalDeps {
  current(): SignedRoster | undefined
  signer: Signer
  install(roster: RosterJson): Promise<{ verdict: string; code?: string; message?: string }>
}

export class RosterProposals {
  private readonly proposals = new Map<string, Omit<SignedRoster, 'id'>>()

  constructor(private readonly deps: ProposalDeps) {}

  list(): RosterProposalView[] {
    const current = this.deps.current()
    // a proposal the current roster already passed is no longer pending
    for (const [id, p] of this.proposals) if (current && p.document.serial <= current.document.serial) this.proposals.delete(id)
    return [...this.proposals.entries()].map(([id, p]) => this.view(id, p))
  }

  /** Adds (or merges the signatures of) a proposal given as roster JSON. */
  add(json: RosterJson): RosterProposalView {
    const proposal = rosterFromJson(JSON.stringify(json))
    const current = this.deps.current()
    if (!current) fail('ROSTER_INVALID', 'no roster installed yet: the genesis is installed with "hashmesh roster install"')
    if (proposal.document.serial <= current.document.serial) fail('ROSTER_INVALID', `roster serial ${proposal.document.serial} is not newer than the current ${current.document.serial}`)
    if (proposal.document.federation !== current.document.federation) fail('ROSTER_INVALID', 'roster belongs to another federation')
    const id = rosterId(proposal.document)
    const known = this.proposals.get(id)
    const signatures = new Map((known?.signatures ?? []).map((s) => [s.key, s]))
    for (const s of proposal.signatures) signatures.set(s.key, s)
    this.proposals.set(id, { document: proposal.document, signatures: [...signatures.values()] })
    while (this.proposals.size > MAX_ROSTER_PROPOSALS) this.proposals.delete(this.proposals.keys().next().value!)
    return this.view(id, this.proposals.get(id)!)
  }

  /** Signs a proposal with the member key; installs it when that made a majority. */
  async sign(id: string): Promise<{ proposal: RosterProposalView; installed: boolean; install?: { verdict: string; code?: string; message?: string } }> {
    const proposal = this.proposals.get(id.toLowerCase())
    if (!proposal) fail('NOT_FOUND', `no roster proposal ${id}`)
    const signed = signRoster(proposal, this.deps.signer)
    this.proposals.set(signed.id, { document: signed.document, signatures: signed.signatures })
    const view = this.view(signed.id, signed)
    if (!view.followsCurrent || view.votes < view.needed) return { proposal: view, installed: false }
    const install = await this.deps.install(view.json)
    if (install.verdict === 'accepted' || install.verdict === 'duplicate') this.proposals.delete(signed.id)
    return { proposal: view, installed: install.verdict === 'accepted', install }
  }

  private view(id: string, p: Omit<SignedRoster, 'id'>): RosterProposalView {
    const current = this.deps.current()
    const members = current?.document.members ?? []
    const names = new Map([...members, ...p.document.members].map((m) => [m.key, m.name]))
    const signers = new Set(p.signatures.map((s) => s.key))
    return {
      id,
      federation: p.document.federation,
      serial: p.document.serial,
      followsCurrent: current !== undefined && p.document.serial === current.document.serial + 1 && p.document.prev === current.id,
      changes: rosterChanges(current?.document, p.document),
      signedBy: p.signatures.map((s) => ({ key: s.key, name: names.get(s.key) ?? null })),
      signedByMe: signers.has(this.deps.signer.publicKeyHex),
      votes: members.filter((m) => signers.has(m.key)).length,
      needed: Math.floor(members.length / 2) + 1,
      json: JSON.parse(rosterToJson(p)) as RosterJson,
    }
  }
}

/** What a roster version changes against another: members added, removed, renamed, peer ids changed. */
export function rosterChanges(before: RosterDocument | undefined, after: RosterDocument): RosterChange {
  const old = new Map((before?.members ?? []).map((m) => [m.key, m]))
  const next = new Map(after.members.map((m) => [m.key, m]))
  const change: RosterChange = { added: [], removed: [], renamed: [], peersChanged: [] }
  for (const m of after.members) {
    const was = old.get(m.key)
    if (!was) {
      change.added.push({ name: m.name, key: m.key, peers: m.peers })
      continue
    }
    if (was.name !== m.name) change.renamed.push({ key: m.key, from: was.name, to: m.name })
    const added = m.peers.filter((p) => !was.peers.includes(p))
    const removed = was.peers.filter((p) => !m.peers.includes(p))
    if (added.length + removed.length > 0) change.peersChanged.push({ name: m.name, key: m.key, added, removed })
  }
  for (const m of before?.members ?? []) if (!next.has(m.key)) change.removed.push({ name: m.name, key: m.key })
  return change
}
