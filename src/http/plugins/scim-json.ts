import type { FastifyInstance } from 'fastify'
import { unsupportedMediaType } from '../../scim/index.js'

/**
 * RFC 7644 §3.1/§8.1: requests and responses are application/scim+json. Plain application/json is
 * accepted too (RFC 7644 §8.1 allows it, and Okta and Entra send it), as is a JSON body sent without a
 * Content-Type at all (some scripted clients do). Other media types answer 415. Every route of the SCIM
 * API sets application/scim+json on what it answers (no onSend hook rewrites it: that costs every request).
 */
export function registerScimJson(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeAllContentTypeParsers()
  app.addContentTypeParser(['application/json', 'application/scim+json'], { parseAs: 'string' }, parseJson)
  app.addContentTypeParser('*', { parseAs: 'string' }, (request, body, done) => {
    if (request.headers['content-type'] !== undefined && !/\+json\s*(;|$)/i.test(request.headers['content-type'])) {
      done(unsupportedMediaType(`Unsupported Content-Type "${request.headers['content-type']}"; send application/scim+json`), undefined)
      return
    }
    parseJson(request, body as string, done)
  })
}
