/**
 * The flags the hashmesh command gives node.
 * - `--v8-pool-size=0` sizes V8's background threads (its compiler's and collectors' helpers) to the machine,
 *   cores - 1, where node's default is 4 whatever the cores: on 2 cores, 4 such threads at the normal priority
 *   took the CPUs for several ms at a time while the index was rebuilt, and HMA's /status waited behind them
 *   (bench-hma, four restarts each way, alternately: p99.9 of the 503 answers 5.9-7.2 ms with it, 7.5-11.1 ms
 *   without).
 * - `--max-semi-space-size=2` keeps the young generation at 2 MB a half (node's default grows it to 16 MB). A
 *   young-generation collection stops the main thread for as long as it copies what survives, and in some
 *   restarts most of the HTTP requests' garbage survived (held by dead objects in the old generation, which
 *   the young collection counts as live): collections every 2 s of 15-40 ms, copying 4-5 MB each, in 1 of 4
 *   restarts or so (`--trace-gc`, a sampling heap profile of what survived). A smaller young generation bounds
 *   what one collection can copy: 10 restarts with it, none over 6.1 ms (44-51 collections each, all but two
 *   under 2.5 ms), where 10 without it had them up to 27.9 ms. The cost, measured alternately: contribution
 *   imports 11 % slower (59-60,000 lines/s against 66-67,000), bank imports and `/m/lookup` within a few %, sync
 *   catch-up 3 %. docs/hma.md has the figures.
 *
 * A command line gives node flags only in front of the script, so the CLI's file begins with two lines that
 * are a shell script to sh and a hashbang and a comment to node: the kernel runs it with sh, which runs node
 * on the same file with the flags (CLI_HEADER; a test checks that main.ts begins with it). This needs a POSIX
 * sh (/bin/sh, /bin/true), as a node's Linux host has; on Windows npm's shim for the bin would call sh.
 */
export const NODE_FLAGS: readonly string[] = ['--v8-pool-size=0', '--max-semi-space-size=2']

/**
 * The malloc setting the hashmesh command gives node, through glibc's GLIBC_TUNABLES (read as a process starts,
 * so it too is given in the header). A fixed mmap threshold: a block of 1 MiB or more gets pages of its own and
 * returns them when freed. glibc's default threshold follows the largest block freed, up to 32 MiB, so the
 * index build worker's typed arrays (most of them under 32 MiB) came from its thread's malloc arena, whose
 * freed heaps were unmapped only when the thread ended: 4 heaps of 64 MiB, 22 ms in which the main thread,
 * joining the thread, stopped (node joins a worker on its main thread), as /status turned 200 at the end of
 * a rebuild (bench-hma, 2026-12-01: answers of 13-34 ms there in 10 of 11 restarts without it, in none of the
 * first 5 with it; over the day, 9 of 56 with it had one of 12-49 ms in the second after the turn, cause not found;
 * RSS after the start 999-1,017 MiB with it, 1,008-1,194 without). Given ahead of the operator's own
 * tunables, so that theirs win (glibc takes the last value of a name). Other C libraries ignore it.
 */
export const MALLOC_TUNABLE = 'glibc.malloc.mmap_threshold=1048576'

/** The two lines that run a file under node with the flags and the malloc setting (`nodeArgs` after the flags). */
export function shHeader(nodeArgs: readonly string[] = []): readonly string[] {
  return ['#!/bin/sh', `//bin/true; export GLIBC_TUNABLES="${MALLOC_TUNABLE}\${GLIBC_TUNABLES:+:$GLIBC_TUNABLES}"; exec node ${[...NODE_FLAGS, ...nodeArgs].join(' ')} "$0" "$@"`]
}

export const CLI_HEADER: readonly string[] = shHeader()

/** `env` with the command's malloc setting ahead of its own GLIBC_TUNABLES (for a process started as the command starts node). */
export function withMallocTunable(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const own = env.GLIBC_TUNABLES
  return { ...env, GLIBC_TUNABLES: own ? `${MALLOC_TUNABLE}:${own}` : MALLOC_TUNABLE }
}

/** Whether GLIBC_TUNABLES sets a malloc mmap threshold (the command's or the operator's own). */
export function hasMmapThreshold(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.GLIBC_TUNABLES ?? '').split(':').some((tunable) => tunable.startsWith('glibc.malloc.mmap_threshold='))
}

/** Whether this process runs on glibc (where GLIBC_TUNABLES means something): Linux's usual C library, not musl's. */
export function runsOnGlibc(): boolean {
  if (process.platform !== 'linux') return false
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header
  return typeof header?.glibcVersionRuntime === 'string'
}

/** A flag's name: `--v8-pool-size` of `--v8-pool-size=0` (node also accepts underscores: `--v8_pool_size`). */
function flagName(flag: string): string {
  return flag.split('=')[0]!.replace(/_/g, '-')
}

/**
 * The command's node flags this process was not given, by the hashmesh command or by its operator (NODE_OPTIONS
 * included, and any value: an operator's own choice counts).
 */
export function missingNodeFlags(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): string[] {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)].map(flagName))
  return NODE_FLAGS.filter((flag) => !given.has(flagName(flag)))
}
