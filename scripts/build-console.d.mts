/** Types of scripts/build-console.mjs (plain JavaScript so that it runs before anything is compiled). */
export declare const CONSOLE_OUT: string
export declare function buildConsole(options?: { minify?: boolean; quiet?: boolean }): Promise<unknown>
