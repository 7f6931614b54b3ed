/**
 * Local policy: which matches this node acts on. Pure: given what the replica knows about a matched
 * signal (its carriers and the members' opinions), decide its status and say why.
 */
export interface MatchPolicy {
  /** Members whose contributions count; null = every roster member (and this node). */
  members: string[] | null
  minQuality: number
  ignoreDisputed: boolean
  ignoreFalsePositive: boolean
  /** At least this many distinct members must back the signal (contributors plus true_positive opinions). */
  minAgreeingMembers: number
  /** Count contributions a forked feed made from its fork on (docs/protocol.md, "Forks"); default false. */
  actOnEquivocated: boolean
  /** Act on a contribution naming an open incident without minAgreeingMembers (config incident.autoAct). */
  incidentAutoAct?: boolean
}

/**
 * `equivocated`: the record is at or after the fork of its author's feed. `suppressed`: a local switch or
 * the flood quarantine leaves it out here (local-controls.ts), in words; it then counts for nothing.
 */
export interface CarrierFacts { author: string; quality?: number; equivocated?: boolean; suppressed?: string; incident?: string }
/** `suppressed`: the opinion's author is switched off here (a suspended member): it counts for nothing. */
export interface OpinionFacts { member: string; opinion: string; suppressed?: string }

export interface PolicyDecision { status: 'actionable' | 'filtered'; reasons: string[]; agreeingMembers: number }

export function decide(policy: MatchPolicy, carriers: CarrierFacts[], opinions: OpinionFacts[], isMember: (key: string) => boolean): PolicyDecision {
  const reasons: string[] = []
  const switchedOn = carriers.filter((c) => c.suppressed === undefined)
  // Every carrier switched off: nothing to act on, whatever opinions say (the switches' words are the reasons).
  if (switchedOn.length === 0 && carriers.length > 0) reasons.push('every contribution is switched off locally')
  const admitted = switchedOn.filter((c) => isMember(c.author) && (policy.members === null || policy.members.includes(c.author)))
  if (admitted.length === 0 && switchedOn.length > 0) reasons.push('no contributor is in the local member policy')
  const trusted = policy.actOnEquivocated ? admitted : admitted.filter((c) => !c.equivocated)
  if (admitted.length > 0 && trusted.length === 0) reasons.push('every contribution comes from a feed that forked (equivocation)')
  const goodQuality = trusted.filter((c) => c.quality === undefined || c.quality >= policy.minQuality)
  if (trusted.length > 0 && goodQuality.length === 0) reasons.push(`quality below ${policy.minQuality}`)
  const counted = opinions.filter((o) => isMember(o.member) && o.suppressed === undefined)
  if (policy.ignoreDisputed && counted.some((o) => o.opinion === 'disputed')) reasons.push('disputed by a member')
  if (policy.ignoreFalsePositive && counted.some((o) => o.opinion === 'false_positive')) reasons.push('flagged false positive by a member')
  const agreeing = new Set([...goodQuality.map((c) => c.author), ...counted.filter((o) => o.opinion === 'true_positive').map((o) => o.member)])
  // incident.autoAct: one good contribution naming an open incident is enough
  const incidentBacked = policy.incidentAutoAct === true && goodQuality.some((c) => c.incident !== undefined)
  if (agreeing.size < policy.minAgreeingMembers && !incidentBacked) reasons.push(`${agreeing.size} of ${policy.minAgreeingMembers} required members agree`)
  if (reasons.length === 0) return { status: 'actionable', reasons, agreeingMembers: agreeing.size }
  // Filtered: say first which contributions this node switched off (an actionable match shows them on its records).
  const switchedOff = [...new Set(carriers.map((c) => c.suppressed).filter((m): m is string => m !== undefined))]
  return { status: 'filtered', reasons: [...switchedOff, ...reasons], agreeingMembers: agreeing.size }
}

export function summariseOpinions(opinions: OpinionFacts[]): Record<string, number> {
  const summary: Record<string, number> = { seen: 0, true_positive: 0, false_positive: 0, disputed: 0 }
  for (const o of opinions) summary[o.opinion] = (summary[o.opinion] ?? 0) + 1
  return summary
}
