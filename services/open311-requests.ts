import type { CaseStatus, DeadlineView, TimelineEventType } from '../common/case';
import type { DefinitionSpec, Open311Parameter } from '../lang/definition';
import { maskIdentifiers, maskValue } from '../lang/mask';
import { allSteps } from '../lang/steps';
import { parameterFields, serviceCodeOf } from './open311-mapping';

/**
 * A case shown as an Open311 GeoReport v2 request (GET requests), as pure functions: its standard
 * parameters read back from the case data, personal data masked for callers who may not see the
 * case, and its status notes in the words residents read.
 */

export interface Open311Request {
  service_request_id: string;
  status: 'open' | 'closed';
  status_notes: string | null;
  service_name: string | null;
  service_code: string;
  description: string | null;
  agency_responsible: string | null;
  service_notice: string | null;
  requested_datetime: string;
  updated_datetime: string | null;
  expected_datetime: string | null;
  address: string | null;
  address_id: string | null;
  zipcode: string | null;
  lat: number | null;
  long: number | null;
  media_url: string | null;
}

/** What a case's document holds that an Open311 request shows. */
export interface CaseForOpen311 {
  id: string;
  status: CaseStatus;
  definitionKey: string;
  category: string | null;
  unitId: string | null;
  data: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
  closedAt: Date | null;
  deadlines: readonly DeadlineView[];
  lastEntry: { type: TimelineEventType; stepId?: string; detail?: Record<string, unknown> } | null;
}

/**
 * A case as an Open311 request. `visible`: the caller may see the case (its scope, or it filed
 * the case); otherwise personal fields are masked (lang/mask.ts), phone and identity numbers in
 * the description and address masked (maskIdentifiers), and personal coordinates and links left
 * out. Contact details are never shown: GeoReport v2 has no field for them.
 */
export function requestOf(
  doc: CaseForOpen311,
  spec: DefinitionSpec | null,
  options: { visible: boolean; agency: string | null },
): Open311Request {
  const fields = spec ? parameterFields(spec) : {};
  const category = spec?.categories?.find((c) => c.code === doc.category);
  const shown = (parameter: Open311Parameter): unknown => {
    const field = fields[parameter];
    const value = field ? doc.data[field.name] : undefined;
    if (value === undefined || value === null || value === '') return null;
    if (options.visible) return value;
    const freeText = parameter === 'description' || parameter === 'address_string';
    // Free text a resident typed may hold a phone or identity number even in a field that is
    // not personal: masked for whoever may not see the case.
    if (!field!.personal)
      return freeText && typeof value === 'string' ? maskIdentifiers(value) : value;
    return freeText ? maskIdentifiers(maskValue(field!.type, value)) : null;
  };
  const text = (value: unknown, max?: number) =>
    typeof value === 'string' ? (max ? [...value].slice(0, max).join('') : value) : null;
  const number = (value: unknown) =>
    typeof value === 'number' && Number.isFinite(value) ? value : null;
  const closed = doc.status !== 'open';
  const mediaUrl = text(shown('media_url'));
  return {
    service_request_id: doc.id,
    status: closed ? 'closed' : 'open',
    status_notes: spec ? statusNotesOf(doc.lastEntry, spec) : null,
    service_name: category?.name ?? spec?.name ?? null,
    service_code: serviceCodeOf(doc.definitionKey, doc.category),
    description: text(shown('description'), 4000),
    agency_responsible: options.agency,
    service_notice: null,
    requested_datetime: doc.createdAt.toISOString(),
    updated_datetime: (closed ? (doc.closedAt ?? doc.updatedAt) : doc.updatedAt).toISOString(),
    expected_datetime: expectedAt(doc.deadlines),
    address: text(shown('address_string')),
    address_id: doc.unitId,
    zipcode: null,
    lat: number(shown('lat')),
    long: number(shown('long')),
    media_url: mediaUrl !== null && isHttpUrl(mediaUrl) ? mediaUrl : null,
  };
}

/** The earliest running case deadline (办结时限): when the request is expected to be served. */
function expectedAt(deadlines: readonly DeadlineView[]): string | null {
  const due = deadlines
    .filter((d) => d.key.startsWith('case/') && !d.stopped && d.dueAt !== null)
    .map((d) => d.dueAt!)
    .sort();
  return due[0] ?? null;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** Timeline events in the words residents read (zh-CN). */
const EVENT_NOTES: Record<TimelineEventType, string> = {
  'case.started': '已受理',
  'step.entered': '正在办理',
  'step.completed': '环节完成',
  'notification.sent': '已安排通知',
  'notification.failed': '通知发送失败',
  'timer.fired': '等待结束',
  'decision.taken': '已研判',
  'task.opened': '已派单',
  'task.unstaffed': '待调度',
  'task.requester-unreachable': '由工作人员代为补充',
  'task.stand-in': '由AB岗人员代办',
  'catalogue.routed': '已按派单目录派单',
  'catalogue.unmatched': '派单目录未覆盖，转中心调度',
  'case.arbitrated': '非本部门职责，中心仲裁',
  'task.claimed': '已签收',
  'task.released': '待重新签收',
  'task.completed': '已办理',
  'task.checked-in': '工作人员已到场签到',
  'attachment.added': '已上传现场照片',
  'task.returned': '已退单',
  'task.reassigned': '已转派',
  'task.cancelled': '任务已取消',
  'claim.closed': '认领已截止',
  'supervision.opened': '已发督办单',
  'supervision.overdue': '督办回复超期',
  'supervision.replied': '督办已回复',
  'supervision.moot': '督办单已撤销',
  'deadline.reminded': '临近时限',
  'deadline.missed': '已超时',
  'deadline.escalated': '已督办',
  'deadline.unresolved': '督办待处理',
  'clock.paused': '已挂起',
  'clock.resumed': '已恢复办理',
  'feedback.rated': '已评价',
  'feedback.missing': '未评价',
  'case.published': '已公示',
  'subprocess.started': '已转办',
  'subprocess.ended': '转办完成',
  'subprocess.refused': '下级单位过多，未能分派',
  'evaluation.opened': '评议已开始',
  'evaluation.scored': '已评分',
  'evaluation.closed': '评议已结束',
  'evaluation.refused': '评议未能开始',
  'recurrence.analysed': '高频诉求已分析',
  'recurrence.refused': '高频诉求分析未能完成',
  'assessment.computed': '部门考核已计分',
  'assessment.recorded': '部门考核结果已记录',
  'assessment.refused': '部门考核未能计分',
  'lookup.read': '已读取登记数据',
  'lookup.refused': '登记数据未能读取',
  'org.granted': '已登记到组织架构',
  'org.refused': '未能登记到组织架构',
  'case.failed': '办理异常终止',
  'case.cancelled': '已撤销',
  'case.retried': '已恢复办理',
  'case.closed': '已办结',
};

const CLOSED_NOTES: Partial<Record<CaseStatus, string>> = {
  rejected: '不予受理',
  cancelled: '已撤销',
  failed: '办理异常终止',
};

/** The last timeline entry in words: what happened, and in which step (`已签收：网格员办理`). */
export function statusNotesOf(
  entry: CaseForOpen311['lastEntry'],
  spec: DefinitionSpec,
): string | null {
  if (!entry) return null;
  const status = entry.detail?.status;
  const note =
    entry.type === 'case.closed' && typeof status === 'string'
      ? (CLOSED_NOTES[status as CaseStatus] ?? EVENT_NOTES['case.closed'])
      : EVENT_NOTES[entry.type];
  const step =
    entry.stepId === undefined
      ? undefined
      : allSteps(spec).find(({ step: s }) => s.id === entry.stepId)?.step;
  return step ? `${note}：${step.name}` : note;
}
