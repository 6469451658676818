import { invalidPath } from '../errors.js'

/**
 * RFC 7644 §3.10 attrPath: [URI ":"] ATTRNAME ["." subAttr]. Names are kept as written; the SchemaRegistry
 * matches them case-insensitively (RFC 7643 §2.1) and gives back canonical names.
 */
export interface AttributePath {
  readonly schema?: string
  readonly attribute: string
  readonly subAttribute?: string
}

const ATTRNAME = /^[A-Za-z$][\w$-]*$/

/**
 * Parses `urn:…:User:name.givenName`, `name.givenName` or `userName`.
 * The URN prefix, when present, ends at the last ':' (attribute names cannot contain ':').
 * Throws ScimError 400 invalidPath when the text is not an attribute path.
 */
export function parseAttributePath(text: string): AttributePath {
  const trimmed = text.trim()
  let schema: string | undefined
  let rest = trimmed
  if (/^urn:/i.test(trimmed)) {
    const colon = trimmed.lastIndexOf(':')
    schema = trimmed.slice(0, colon)
    rest = trimmed.slice(colon + 1)
  }
  const dot = rest.indexOf('.')
  const attribute = dot === -1 ? rest : rest.slice(0, dot)
  const subAttribute = dot === -1 ? undefined : rest.slice(dot + 1)
  if (!ATTRNAME.test(attribute) || (subAttribute !== undefined && !ATTRNAME.test(subAttribute))) {
    throw invalidPath(`"${text}" is not a valid attribute path`)
  }
  return { ...(schema ? { schema } : {}), attribute, ...(subAttribute !== undefined ? { subAttribute } : {}) }
}

export function formatAttributePath(p: AttributePath): string {
  return `${p.schema ? `${p.schema}:` : ''}${p.attribute}${p.subAttribute ? `.${p.subAttribute}` : ''}`
}
