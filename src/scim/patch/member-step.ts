/**
 * A change to a group's membership, by member id. A PATCH on members becomes a list of these, applied in
 * order, so the store can change membership rows without loading or rewriting the whole member list.
 */
export type MemberStep =
  | { readonly op: 'add'; readonly ids: readonly string[] }
  | { readonly op: 'remove'; readonly ids: readonly string[] }
  | { readonly op: 'replace'; readonly ids: readonly string[] }
