import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** Compiled entry points, resolved from dist/test/ to dist/src/. */
export const MAIN_JS = fileURLToPath(new URL('../src/main.js', import.meta.url))
export const CLI_JS = fileURLToPath(new URL('../src/cli/main.js', import.meta.url))

export interface ServerProcess {
  readonly child: ChildProcess
  readonly baseUrl: string
  /** The token printed on first start, if this start printed one. */
  readonly firstToken?: string
  /** Everything the process wrote to stdout so far. */
  output(): string
}

/** Starts `node dist/src/main.js` (what `npm start` runs) and waits for its banner. */
export function startServerProcess(env: Record<string, string>, timeoutMs = 15_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, [MAIN_JS], {
    env: { ...process.env, ROSTER_PORT: '0', ROSTER_LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`server did not start in ${timeoutMs} ms; stdout: ${out}; stderr: ${err}`))
    }, timeoutMs)
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()))
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString()
      const url = /SCIM base URL: (\S+)/.exec(out)?.[1]
      if (url && /\n\n/.test(out.slice(out.indexOf('SCIM base URL')))) {
        clearTimeout(timer)
        const token = /SCIM token \(shown once[^)]*\): (\S+)/.exec(out)?.[1]
        resolve({ child, baseUrl: url, ...(token ? { firstToken: token } : {}), output: () => out })
      }
    })
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`server exited (${code ?? signal}) before starting; stdout: ${out}; stderr: ${err}`))
    })
  })
}

export function waitForExit(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode })
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
}

/** Runs the CLI to completion: `roster <args>`. */
export function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI_JS, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
}

export const scimHeaders = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' })
