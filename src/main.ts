import { readConfig } from './config.js'
import { closeOnSignals, startServer } from './server.js'

// `npm start`: the composition root. Everything is read from the environment (see README).
try {
  const running = await startServer(readConfig())
  closeOnSignals(running)
} catch (err) {
  process.stderr.write(`roster: ${(err as Error).message}\n`)
  process.exit(1)
}
