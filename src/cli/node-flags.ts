/**
 * The flags the hashmesh command gives node. --v8-pool-size=0 sizes V8's background threads (its compiler's
 * and collectors' helpers) to the machine, cores - 1, where node's default is 4 whatever the cores: on 2 cores,
 * 4 such threads at the normal priority took the CPUs for several ms at a time while the index was rebuilt, and
 * HMA's /status waited behind them (bench-hma, four restarts each way, alternately: p99.9 of the 503 answers
 * 5.9-7.2 ms with it, 7.5-11.1 ms without).
 *
 * A command line gives node flags only in front of the script, so the CLI's file begins with two lines that
 * are a shell script to sh and a hashbang and a comment to node: the kernel runs it with sh, which runs node
 * on the same file with the flags (CLI_HEADER; a test checks that main.ts begins with it). This needs a POSIX
 * sh (/bin/sh, /bin/true), as a node's Linux host has; on Windows npm's shim for the bin would call sh.
 */
export const NODE_FLAGS: readonly string[] = ['--v8-pool-size=0']

export const CLI_HEADER: readonly string[] = ['#!/bin/sh', `//bin/true; exec node ${NODE_FLAGS.join(' ')} "$0" "$@"`]

/** Whether this process was given a V8 pool size, by the hashmesh command or by its operator (NODE_OPTIONS included). */
export function hasV8PoolSize(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): boolean {
  return [...execArgv, ...nodeOptions.split(/\s+/)].some((flag) => flag.startsWith('--v8-pool-size'))
}
