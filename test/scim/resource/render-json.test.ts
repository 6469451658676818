import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { parseExtensionSchemas } from '../../../src/scim/schema/parse-extension-schemas.js'
import { projectResource } from '../../../src/scim/resource/project-resource.js'
import { answersStoredDocument, listsOnlySchemasOf, renderStoredJson, splitStoredJson } from '../../../src/scim/resource/render-json.js'
import { validateResource } from '../../../src/scim/resource/validate-resource.js'
import type { ScimObject } from '../../../src/scim/schema/attribute.js'
import { SchemaRegistry } from '../../../src/scim/schema/schema-registry.js'
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA } from '../../../src/scim/urns.js'

const registry = SchemaRegistry.withCoreSchemas()
const NOT_STORED = new Set(['password'])
const fixture = (name: string) => JSON.parse(readFileSync(join(process.cwd(), 'test/fixtures/rfc7643', name), 'utf8')) as ScimObject

describe('splitStoredJson: a stored document cut after its schemas array', () => {
  const cases: { name: string; json: string; schemas?: string[]; tail?: string }[] = [
    { name: 'one schema and attributes', json: `{"schemas":["${USER_SCHEMA}"],"userName":"bjensen"}`, schemas: [USER_SCHEMA], tail: ',"userName":"bjensen"' },
    { name: 'two schemas', json: `{"schemas":["${USER_SCHEMA}","${ENTERPRISE_USER_SCHEMA}"],"a":1}`, schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA], tail: ',"a":1' },
    { name: 'schemas alone', json: `{"schemas":["${GROUP_SCHEMA}"]}`, schemas: [GROUP_SCHEMA], tail: '' },
    { name: 'an empty schemas array', json: '{"schemas":[],"a":1}', schemas: [], tail: ',"a":1' },
    { name: 'escaped quotes and brackets inside a URI', json: '{"schemas":["urn:x:a\\"],b","urn:y"],"k":"v"}', schemas: ['urn:x:a"],b', 'urn:y'], tail: ',"k":"v"' },
    { name: 'schemas not first', json: `{"userName":"b","schemas":["${USER_SCHEMA}"]}` },
    { name: 'schemas holding a number', json: '{"schemas":[1],"a":1}' },
    { name: 'not an object', json: `["${USER_SCHEMA}"]` },
    { name: 'a cut document', json: `{"schemas":["${USER_SCHEMA}"` },
  ]
  for (const c of cases) {
    test(c.name, () => {
      const parts = splitStoredJson(c.json)
      if (c.schemas === undefined) return assert.equal(parts, undefined)
      assert.ok(parts)
      assert.deepEqual(parts.schemas, c.schemas)
      assert.equal(parts.tail, c.tail)
      assert.equal(`${parts.head}${parts.tail}}`, c.json, 'head and tail are the document')
    })
  }
})

describe('answersStoredDocument: when a stored document is what a response without projection carries', () => {
  const extension = (returned: string, sub = false) =>
    SchemaRegistry.withCoreSchemas(
      parseExtensionSchemas([
        {
          id: 'urn:example:params:scim:schemas:extension:acme:2.0:User',
          name: 'Acme',
          attributes: sub
            ? [{ name: 'badge', type: 'complex', subAttributes: [{ name: 'pin', type: 'string', returned }] }]
            : [{ name: 'badge', type: 'string', returned }],
        },
      ]),
    )
  const cases: { name: string; registry: SchemaRegistry; resourceType: string; expected: boolean }[] = [
    { name: 'core User: only password is returned "never", and it is stored apart', registry, resourceType: 'User', expected: true },
    { name: 'core Group', registry, resourceType: 'Group', expected: true },
    { name: 'an extension attribute returned "default"', registry: extension('default'), resourceType: 'User', expected: true },
    { name: 'an extension attribute returned "request"', registry: extension('request'), resourceType: 'User', expected: false },
    { name: 'an extension attribute returned "never"', registry: extension('never'), resourceType: 'User', expected: false },
    { name: 'an extension sub-attribute returned "never"', registry: extension('never', true), resourceType: 'User', expected: false },
    { name: 'the extension does not apply to Groups', registry: extension('never'), resourceType: 'Group', expected: true },
  ]
  for (const c of cases) {
    test(c.name, () => assert.equal(answersStoredDocument(c.registry, c.resourceType, NOT_STORED), c.expected))
  }
  test('without password among the attributes stored apart, User is not answered as stored', () => {
    assert.equal(answersStoredDocument(registry, 'User', new Set()), false)
  })
})

describe('renderStoredJson gives what projecting the object rendering gives (RFC 7643 §8 examples)', () => {
  const meta = { resourceType: 'User', created: '2010-01-23T04:56:22Z', lastModified: '2011-05-13T04:42:34Z', location: 'https://example.com/v2/Users/u1', version: 'W/"3"' }
  const groups = [{ value: 'g1', $ref: 'https://example.com/v2/Groups/g1', display: 'Tour Guides', type: 'direct' }]
  const minimal: ScimObject = { schemas: [USER_SCHEMA], userName: 'bjensen' }
  for (const [name, body] of [
    ['a minimal User', minimal],
    ['§8.2 full User', fixture('8.2-full-user.json')],
    ['§8.3 Enterprise User', fixture('8.3-enterprise-user.json')],
  ] as const) {
    test(name, () => {
      const data = validateResource(body, { registry, resourceType: 'User', context: 'create' })
      const { password: _password, ...stored } = data
      const parts = splitStoredJson(JSON.stringify(stored))
      assert.ok(parts)
      assert.ok(listsOnlySchemasOf(registry, 'User', parts.schemas))
      const text = renderStoredJson(parts, 'u1', `,"groups":${JSON.stringify(groups)},"meta":${JSON.stringify(meta)}`)
      const object = projectResource({ schemas: stored.schemas, id: 'u1', ...stored, groups, meta }, { registry, resourceType: 'User' })
      assert.deepStrictEqual(JSON.parse(text), object)
      assert.deepStrictEqual(Object.keys(JSON.parse(text)), Object.keys(object), 'the same key order')
    })
  }
  test('a schema the registry no longer has for the type is not answered as stored', () => {
    assert.equal(listsOnlySchemasOf(registry, 'User', [USER_SCHEMA, 'urn:example:gone']), false)
    assert.equal(listsOnlySchemasOf(registry, 'Group', [USER_SCHEMA]), false)
  })
})
