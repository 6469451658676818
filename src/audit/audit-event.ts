// The audit event types are part of the storage port (src/store/ports.ts), so adapters depend on the port only.
export type {
  AuditEvent,
  AuditActorType,
  AuditActor,
  KnownClientProduct,
  ClientProduct,
  AuditClient,
  AuditRequest,
  AuditResource,
  AuditOperation,
  AttributeChange,
  AuditOutcome,
} from '../store/ports.js'

/** What replaces a secret value in an AttributeChange. */
export const REDACTED = '[redacted]'
