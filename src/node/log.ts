/** The node's logger: one call per event, with a level; the process edge (cli/start.ts) decides where lines go. */
export type LogLevel = 'info' | 'warn' | 'error' | 'debug' | 'trace'
export type NodeLog = (level: LogLevel, event: string, fields?: Record<string, unknown>) => void

export const silentLog: NodeLog = () => undefined
