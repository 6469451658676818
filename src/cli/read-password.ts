/** All of stdin as one password (`--password-stdin`), without the line end a pipe or heredoc adds. */
export async function readPasswordFromStdin(stdin: NodeJS.ReadStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer))
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
}

/**
 * Asks for a password on the terminal without echoing it (raw mode: each key is read, nothing is
 * printed). Enter ends it, Backspace deletes, Ctrl-C and Ctrl-D abort. The prompt goes to stderr, so
 * stdout keeps only the command's result.
 */
export function promptPassword(prompt: string, stdin: NodeJS.ReadStream = process.stdin, out: NodeJS.WritableStream = process.stderr): Promise<string> {
  if (!stdin.isTTY) return Promise.reject(new Error('no terminal to ask for the password on; pipe it in with --password-stdin'))
  out.write(prompt)
  return new Promise((resolve, reject) => {
    let value = ''
    const finish = (err?: Error) => {
      stdin.off('data', onData)
      stdin.setRawMode(false)
      stdin.pause()
      out.write('\n')
      if (err) reject(err)
      else resolve(value)
    }
    const onData = (data: Buffer) => {
      for (const ch of data.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish()
        if (ch === '\u0003' || ch === '\u0004') return finish(new Error('cancelled'))
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('')
        else if (ch >= ' ') value += ch
      }
    }
    stdin.setRawMode(true)
    stdin.resume()
    stdin.on('data', onData)
  })
}

/** The new password, typed twice. */
export async function promptNewPassword(): Promise<string> {
  const first = await promptPassword('Password: ')
  const second = await promptPassword('Repeat it: ')
  if (first !== second) throw new Error('the two passwords differ')
  return first
}
