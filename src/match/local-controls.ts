/**
 * This node's local controls over matching (issue 18): the operator's switches and the flood quarantine,
 * read together by the matcher for every record a match would name. Both are local: nothing here is
 * signed or sent, and the replica keeps every record.
 */
import type { SignedRecord } from '../record/types.js'
import type { KeyValueStore } from '../store/level-db.js'
import type { ReplicaStore } from '../store/replica-store.js'
import { safetyCatch } from '../errors.js'
import { FloodQuarantine, type QuarantineSettings } from './flood-quarantine.js'
import { SwitchBook, type LocalSuppression } from './local-switches.js'

/** How often quarantined records are checked for automatic release (quarantine.autoRelease). */
export const AUTO_RELEASE_CHECK_MS = 5_000

export class LocalControls {
  private timer: NodeJS.Timeout | undefined

  private constructor(readonly switches: SwitchBook, readonly quarantine: FloodQuarantine) {}

  /** Loads both from the replica's key-value store; the quarantine counts every record `store` commits from now on. */
  static async open(store: ReplicaStore, kv: KeyValueStore, settings: QuarantineSettings, ownKey: string, incidentOf?: (record: SignedRecord) => string | undefined): Promise<LocalControls> {
    const controls = new LocalControls(await SwitchBook.open(kv), await FloodQuarantine.open(kv, settings, ownKey, incidentOf))
    store.onCommit((records) => controls.quarantine.observe(records))
    return controls
  }

  /** Why this carrier must not count in a match now; undefined (the common case) when nothing applies. */
  suppression(author: string, recordId: string, signalKey: string, now: number): LocalSuppression | undefined {
    return this.switches.suppression(author, recordId, signalKey, now) ?? this.quarantine.suppression(recordId)
  }

  /** Starts the automatic-release check (a running node). */
  start(): void {
    this.timer ??= setInterval(() => void this.quarantine.tick().catch(safetyCatch), AUTO_RELEASE_CHECK_MS).unref()
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    await this.quarantine.flushed().catch(safetyCatch)
  }
}

export function quarantineSettings(config: { enabled: boolean; burst: number; signalsPerMinute: number; signalsPerHour: number; autoRelease: boolean; incident: { burst: number; signalsPerMinute: number; signalsPerHour: number } }): QuarantineSettings {
  return {
    enabled: config.enabled,
    limits: { burst: config.burst, signalsPerMinute: config.signalsPerMinute, signalsPerHour: config.signalsPerHour },
    incidentLimits: { ...config.incident },
    autoRelease: config.autoRelease,
  }
}
