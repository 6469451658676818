import Fastify from 'fastify'
import { sampleUserRepresentation } from './sample-user.js'

// The ceiling: a bare Fastify server on the same machine answering GET with a fixed SCIM User (about 1 KB
// of JSON, held in memory and serialised per request as Roster serialises its answers). No auth, no
// storage, no validation: what Node and Fastify alone cost per request. Started by bench/run.ts.
const user = sampleUserRepresentation()
const app = Fastify({ logger: false })
app.get('/scim/v2/Users/:id', async (_request, reply) => reply.type('application/scim+json; charset=utf-8').header('etag', 'W/"1"').send(user))
await app.listen({ host: '127.0.0.1', port: 0 })
const address = app.server.address()
if (!address || typeof address !== 'object') throw new Error('baseline server has no address')
process.stdout.write(`listening http://127.0.0.1:${address.port}\n`)
process.once('SIGTERM', () => {
  app.close().then(() => process.exit(0))
})
