import type { SearchAttributePair } from '@temporalio/common';
import type { CaseWorkflowInput } from './case';
import { CASE_DEFINITION_KEY, CASE_STATUS, CASE_UNIT_ID } from './search-attributes';

/**
 * What starting a case gives Temporal, built in one place for every way a case starts (the API,
 * a schedule's fire, a sub-process step): the interpreter's input, the memo and the search
 * attributes. Pure and sandbox-safe (types, lang/ and pure common/ only), so workflow code may
 * build its starts with it too. For the same request it gives the same values, key for key, as
 * each starter wrote by hand before: start commands in recorded histories stay the same.
 */

/**
 * Everything a start needs to know: the interpreter's input itself, which the builder copies key
 * by key in one fixed order, so the payload does not depend on how a starter built its request.
 */
export type CaseStartRequest = CaseWorkflowInput;

/**
 * What the workflow memo keeps about the request that started a case (ids and hashes only, no
 * personal data): before the read model has projected a case, it says whose the case is (its
 * creator and unit) and what it is. A type alias, not an interface, so it is a memo
 * (`Record<string, unknown>`) as it stands.
 */
export type CaseStartMemo = {
  requestHash: string;
  /** Sub-processes only: the child's own id, since their request hash repeats per step visit. */
  requestNonce?: string;
  createdBy: { kind: string; id: string };
  unitId: string | null;
  /** Absent for sub-processes, whose memos never carried it. */
  category?: string | null;
  definitionKey: string;
  definitionVersion: number;
  definitionName: string;
  channel: string;
};

export interface CaseStart {
  /** The interpreter workflow's arguments: `[input]`. */
  args: [CaseWorkflowInput];
  memo: CaseStartMemo;
  /** Open, of this process, and of its unit when it has one. */
  searchAttributes: SearchAttributePair[];
}

export function caseStartOf(request: CaseStartRequest): CaseStart {
  const { caseId, definition, startedBy, unitId, category, requestHash, parentCaseId } = request;
  const isSubprocess = parentCaseId !== undefined;
  const input: CaseWorkflowInput = {
    caseId,
    definition,
    data: request.data,
    startedBy,
    ...(unitId !== undefined ? { unitId } : {}),
    ...(category !== undefined ? { category } : {}),
    requestHash,
    receivedAt: request.receivedAt,
    channel: request.channel,
    ...(isSubprocess ? { parentCaseId } : {}),
    // A retry only (services/case-failures.ts): ordinary starts stay as they were, key for key.
    ...(request.resume !== undefined ? { resume: request.resume } : {}),
  };
  const memo: CaseStartMemo = {
    requestHash,
    ...(isSubprocess ? { requestNonce: caseId } : {}),
    createdBy: { kind: startedBy.kind, id: startedBy.id },
    unitId: unitId ?? null,
    ...(isSubprocess ? {} : { category: category ?? null }),
    definitionKey: definition.key,
    definitionVersion: definition.version,
    definitionName: definition.spec.name,
    channel: request.channel,
  };
  const searchAttributes: SearchAttributePair[] = [
    { key: CASE_STATUS, value: 'open' },
    { key: CASE_DEFINITION_KEY, value: definition.key },
    ...(unitId !== undefined ? [{ key: CASE_UNIT_ID, value: unitId }] : []),
  ];
  return { args: [input], memo, searchAttributes };
}

/**
 * The start memo of a case as Temporal describes it, or null when the workflow carries none (it
 * is no case, or not one the starters above started). Every start writes a request hash, so that
 * is what tells.
 */
export function caseStartMemoOf(memo: Record<string, unknown> | undefined): CaseStartMemo | null {
  return typeof memo?.requestHash === 'string' && memo.requestHash !== ''
    ? (memo as CaseStartMemo)
    : null;
}
