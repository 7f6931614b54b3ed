/** Console test helpers: the bundle built once per process, a logged-in session over app.inject. */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { buildConsole } from '../../scripts/build-console.mjs'

let built: Promise<unknown> | undefined
/** Builds dist/ui once (~0.3 s); the console routes serve it. */
export function ensureConsoleBuilt(): Promise<unknown> {
  built ??= buildConsole({ minify: true, quiet: true })
  return built
}

export interface ConsoleLogin { cookie: string; csrf: string; response: LightMyRequestResponse }

export async function consoleLogin(app: FastifyInstance, token: string): Promise<ConsoleLogin> {
  const response = await app.inject({ method: 'POST', url: '/ui/api/login', payload: { token } })
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.statusCode} ${response.body}`)
  const setCookie = String(response.headers['set-cookie'])
  return { cookie: setCookie.split(';')[0]!, csrf: response.json().csrf as string, response }
}
