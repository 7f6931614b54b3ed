/** Types of scripts/lib/status-wire.mjs. */
export declare const SEQ_HEADER: string
export declare function monotonicMs(): number
export declare function percentile(sorted: readonly number[], p: number): number
