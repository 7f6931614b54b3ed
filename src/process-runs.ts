/** Whether process `pid` runs (signal 0: nothing is sent). EPERM: it runs, as another user. */
export function processRuns(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false // (0 and below name process groups, not a process)
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
