import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes the engine registers with Temporal (the local stack passes them to
 * the dev server; production registers them once, see deploy/). They are not encrypted, so they
 * hold ids and states only, never personal data.
 */
export const CASE_STATUS = defineSearchAttributeKey('CaseStatus', SearchAttributeType.KEYWORD);
export const CASE_DEFINITION_KEY = defineSearchAttributeKey(
  'CaseDefinitionKey',
  SearchAttributeType.KEYWORD,
);
export const CASE_UNIT_ID = defineSearchAttributeKey('CaseUnitId', SearchAttributeType.KEYWORD);

export const CUSTOM_SEARCH_ATTRIBUTES = [CASE_STATUS, CASE_DEFINITION_KEY, CASE_UNIT_ID];
