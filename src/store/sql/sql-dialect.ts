/**
 * What differs between the SQL engines Roster runs on, as a small object the filter compiler consults
 * (Kysely's dialect adapters, sized for SCIM). Every method returns SQL text; none takes a request
 * value: values travel as parameters, and JSON path segments come from attribute definitions.
 */
export interface SqlDialect {
  readonly name: 'sqlite' | 'postgres'
  /** The placeholder of the parameter at this 1-based position: `?` (positional) or `$3`. */
  placeholder(index: number): string
  /** SQL literals for the booleans: COALESCE's fallback under NOT, and comparisons with JSON booleans. */
  readonly trueLiteral: string
  readonly falseLiteral: string
  /** The value at `path` in a JSON column, read as text for strings; NULL when absent or JSON null. */
  jsonText(column: string, path: readonly JsonPathSegment[]): string
  /** The value at `path`, typed for comparison with a parameter of that type. */
  jsonValue(column: string, path: readonly JsonPathSegment[], type: JsonValueType): string
  /** A FROM item with one row per element of the array at `path`; elements read with elementValue. */
  jsonArrayElements(column: string, path: readonly JsonPathSegment[], alias: string): string
  /** The value at `path` inside an element produced by jsonArrayElements (`[]` is the element itself). */
  elementValue(alias: string, path: readonly JsonPathSegment[], type: JsonValueType): string
  /** Lower-cases with full Unicode rules (SQLite's built-in lower() only folds ASCII). */
  lower(expr: string): string
  /** `expr` matches the pattern made by `pattern` and bound at `placeholder`, case-sensitively. */
  matchPattern(expr: string, placeholder: string): string
  /** The parameter for co / sw / ew, with the dialect's wildcard characters escaped in `value`. */
  pattern(op: 'co' | 'sw' | 'ew', value: string): string
  /** A JS boolean as a parameter value the driver accepts and the JSON accessors compare equal to. */
  booleanParam(value: boolean): unknown
}

export type JsonValueType = 'text' | 'number' | 'boolean'
/** An object key, or an array index. */
export type JsonPathSegment = string | number

const quoteLiteral = (text: string) => `'${text.replaceAll("'", "''")}'`

/**
 * SQLite JSON path `$.a."urn:…:User".b[0]`. Keys that are not plain identifiers are double-quoted; a key
 * holding a double quote or backslash cannot be written in SQLite's path syntax and is refused (attribute
 * names cannot contain them, RFC 7643 §2.1 ATTRNAME).
 */
function sqlitePath(path: readonly JsonPathSegment[]): string {
  let out = '$'
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(seg)) out += `.${seg}`
    else if (/["\\]/.test(seg)) throw new Error(`JSON key ${JSON.stringify(seg)} cannot be addressed`)
    else out += `."${seg}"`
  }
  return quoteLiteral(out)
}

/** Postgres text[] literal `'{urn:…:User,department}'` for the #> / #>> operators. */
function postgresPath(path: readonly JsonPathSegment[]): string {
  const items = path.map((seg) => {
    const s = String(seg)
    if (/^[A-Za-z0-9_$:.\-]+$/.test(s) && s.toLowerCase() !== 'null') return s
    return `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`
  })
  return quoteLiteral(`{${items.join(',')}}`)
}

/** GLOB's wildcards `*`, `?` and `[` become one-character classes, the only escape GLOB has. */
const escapeGlob = (value: string) => value.replace(/[*?[]/g, (c) => `[${c}]`)
const escapeLike = (value: string) => value.replace(/[\\%_]/g, (c) => `\\${c}`)

/**
 * SQLite through better-sqlite3. Pattern operators use GLOB because LIKE folds ASCII case, which would
 * make `externalId co "ABC"` match "abc" although externalId is caseExact; case-insensitive compares lower
 * both sides first. `scim_lower` is JavaScript's toLowerCase, registered by the adapter as a deterministic
 * function, so it folds exactly as the `_ci` columns (filled in JavaScript) were folded.
 */
export const sqliteDialect: SqlDialect = {
  name: 'sqlite',
  placeholder: () => '?',
  trueLiteral: '1',
  falseLiteral: '0',
  // json_extract yields SQL text for JSON strings, integers/reals for numbers, 1/0 for booleans.
  jsonText: (column, path) => `json_extract(${column}, ${sqlitePath(path)})`,
  jsonValue: (column, path) => sqliteDialect.jsonText(column, path),
  jsonArrayElements: (column, path, alias) => `json_each(${column}, ${sqlitePath(path)}) AS ${alias}`,
  elementValue: (alias, path) => (path.length === 0 ? `${alias}.value` : `json_extract(${alias}.value, ${sqlitePath(path)})`),
  lower: (expr) => `scim_lower(${expr})`,
  matchPattern: (expr, placeholder) => `${expr} GLOB ${placeholder}`,
  pattern: (op, value) => {
    const v = escapeGlob(value)
    return op === 'co' ? `*${v}*` : op === 'sw' ? `${v}*` : `*${v}`
  },
  booleanParam: (value) => (value ? 1 : 0),
}

const castPostgres = (text: string, type: JsonValueType) =>
  type === 'number' ? `(${text})::numeric` : type === 'boolean' ? `(${text})::boolean` : text

/**
 * PostgreSQL over a jsonb `data` column. `#>>` yields text (NULL for absent and JSON null); typed reads
 * cast that text. The PG schema must declare the `_ci` columns COLLATE "C" so that the range compiled for
 * `sw` (code-point order) is the order its btree indexes keep.
 */
export const postgresDialect: SqlDialect = {
  name: 'postgres',
  placeholder: (index) => `$${index}`,
  trueLiteral: 'true',
  falseLiteral: 'false',
  jsonText: (column, path) => `${column} #>> ${postgresPath(path)}`,
  jsonValue: (column, path, type) => castPostgres(postgresDialect.jsonText(column, path), type),
  jsonArrayElements: (column, path, alias) => `jsonb_array_elements(${column} #> ${postgresPath(path)}) AS ${alias}(value)`,
  elementValue: (alias, path, type) => castPostgres(`${alias}.value #>> ${postgresPath(path)}`, type),
  lower: (expr) => `lower(${expr})`,
  matchPattern: (expr, placeholder) => `${expr} LIKE ${placeholder} ESCAPE '\\'`,
  pattern: (op, value) => {
    const v = escapeLike(value)
    return op === 'co' ? `%${v}%` : op === 'sw' ? `${v}%` : `%${v}`
  },
  booleanParam: (value) => value,
}
