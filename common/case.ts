import type { DefinitionSnapshot } from './definition';
import type { Role } from './roles';

/**
 * Shapes that cross the API ↔ Temporal ↔ activity boundaries. Types only (plus constants), so
 * workflow code may import them.
 */

export const CASE_WORKFLOW_TYPE = 'caseWorkflow';

export type CaseStatus = 'open' | 'closed' | 'rejected' | 'cancelled' | 'failed';

/** Who acted: a person's account or a system's API key. Ids only, never names or contacts. */
export interface Actor {
  kind: 'user' | 'apiKey' | 'system';
  id: string;
}

export interface CaseWorkflowInput {
  caseId: string;
  definition: DefinitionSnapshot;
  data: Record<string, unknown>;
  startedBy: Actor & { roles: Role[] };
  /** The org unit the case belongs to (scope of who may see it). */
  unitId?: string;
  /** Hash of the start request, to tell a retry from a conflicting reuse of an Idempotency-Key. */
  requestHash: string;
  /** ISO instant the API accepted the request. */
  receivedAt: string;
  /** Where the request came from (`api`, later `open311`, `console`, `schedule`). */
  channel: string;
}

export type TimelineEventType =
  | 'case.started'
  | 'step.entered'
  | 'step.completed'
  | 'notification.sent'
  | 'notification.failed'
  | 'timer.fired'
  | 'case.closed';

export interface TimelineEntry {
  /** Position in the case's timeline, 1-based; with the case id it identifies the entry. */
  seq: number;
  type: TimelineEventType;
  at: string;
  actor: Actor;
  stepId?: string;
  /** Small structured detail (a template name, an outcome); never personal data. */
  detail?: Record<string, string | number | boolean>;
}

export interface CurrentStep {
  id: string;
  name: string;
  type: string;
}

/** Initial fields of the case document, written once with revision 1. */
export interface CaseOpening {
  definitionKey: string;
  definitionVersion: number;
  definitionName: string;
  data: Record<string, unknown>;
  createdBy: Actor;
  unitId?: string;
  channel: string;
  requestHash: string;
  createdAt: string;
}

/**
 * One projection step of a case into its MongoDB document. Revision n applies only on top of
 * revision n-1, which makes the activity idempotent under retries and replays.
 */
export interface CaseProgress {
  caseId: string;
  revision: number;
  status: CaseStatus;
  currentStep: CurrentStep | null;
  events: TimelineEntry[];
  opening?: CaseOpening;
  closedAt?: string;
}

export interface NotificationRequest {
  /** Business key: the same key is sent at most once (case, step, kind, recipient slot). */
  businessKey: string;
  caseId: string;
  template: string;
  to: string;
  context: Record<string, unknown>;
}

export interface NotificationResult {
  status: 'sent' | 'already-sent';
  messageId: string;
}
