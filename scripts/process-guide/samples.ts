/**
 * The example data: which demo unit each process's example case is for, and sample values for its
 * input and forms, checked against the fields as the API checks them.
 */

import { validateCaseData } from '../../lang/case-data';
import type { FieldSpec } from '../../lang/definition';

/** The demo unit a case of each process is started for (default: 文化路社区). */
export const EXAMPLE_UNITS: Readonly<Record<string, string>> = {
  'resident-request': 'demo-wenhualu-g1-c1-b1-e1-f3',
  'grid-event': 'demo-wenhualu-g1',
  'property-54321': 'demo-wenhualu-g1-c1',
  'dispute-report': 'demo-wenhualu-g1',
  'dispute-screening': 'demo-chengguan',
  'quarterly-round': 'demo-chengguan',
  'evaluation-round': 'demo-chengguan',
  'department-assessment': 'demo-chengguan',
  'emergency-compound': 'demo-wenhualu-g1-c1',
  'three-lists-resource': 'demo-cb-peoples-hospital',
  'whistle-department': 'demo-dept-housing',
  'special-campaign': 'demo-chengguan',
  'campaign-compound': 'demo-wenhualu-g1-c1',
  'joint-enforcement': 'demo-chengguan',
  'joint-enforcement-team': 'demo-dept-urban-management',
  'three-party-meeting': 'demo-wenhualu-g1-c1',
  'interview-day-round': 'demo-chengguan',
  'grid-patrol-round': 'demo-chengguan',
  'grid-patrol': 'demo-wenhualu-g1',
  'secretary-review-round': 'demo-chengguan',
  'party-member-households': 'demo-wenhualu-g1-c1-b1',
  'dual-report-unit-assessment': 'demo-dept-civil-affairs',
};
export const DEFAULT_EXAMPLE_UNIT = 'demo-wenhualu';

/** Example values by field name (checked against each field like any other value). */
const SAMPLE_VALUES: Readonly<Record<string, unknown>> = {
  title: '小区南门路灯损坏',
  description: '小区南门两盏路灯不亮，夜间出行不便。',
  location: '文化路惠民小区南门',
  address: '惠民小区 1 号楼 1 单元 301',
  contactEmail: 'resident@example.com',
  reporterEmail: 'resident@example.com',
  residentName: '王秀英',
  wish: '为独居老人更换一台电饭煲',
  reason: '暴雨红色预警，启动防汛应急响应',
  year: 2026,
  quarterEnd: '2026-06-30',
  period: '2026-06-01',
  departments: ['demo-dept-housing', 'demo-dept-urban-management'],
  requestingUnit: 'demo-dept-civil-affairs',
  caller: 'demo-wenhualu',
  lead: true,
};
/** Per process, where a generic value would read oddly. */
const PROCESS_SAMPLES: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  'closed-loop-demand': {
    title: '老旧小区加装电梯政策宣讲',
    description: '向居民宣讲加装电梯补贴政策。',
  },
  'three-lists': { title: '老年人助餐服务', description: '为辖区 80 岁以上独居老人提供助餐。' },
  'three-lists-resource': { title: '义诊进社区', description: '每月一次，内科、眼科医生坐诊。' },
  'work-admission': {
    title: '流动人口信息登记',
    description: '协助派出所登记辖区新增流动人口信息。',
    items: ['协办·流动人口信息登记'],
  },
  'four-step-service': { title: '办理居住证明' },
  'hotline-12345': { category: '供水', description: '3 号楼停水一天，事先没有通知。' },
  'joint-meeting': {
    topic: '四季度党建联席会议',
    chair: 'demo-cb-peoples-hospital',
    agenda: '1. 无人认领的老年助餐需求；2. 逾期未办结的小区路灯维修。',
  },
  'joint-meeting-item': { title: '县人民医院每月一次义诊进社区', owner: 'demo-p0092' }, // demo-grid-worker
  'special-campaign': { description: '清理楼道堆物，检查消防通道和消防设施。' },
  'campaign-compound': { description: '清理楼道堆物，检查消防通道和消防设施。' },
  'three-party-meeting': {
    topic: '地下车库漏水',
    description: '地下车库顶板漏水，业主要求物业维修，物业称需动用维修资金。',
    place: '小区党群驿站',
  },
  'secretary-direct-line': {
    title: '老旧小区加装电梯审批难',
    description: '6 个老旧小区居民申请加装电梯，规划审批涉及多个部门，一年未落地。',
  },
  'interview-day': { day: '2026-06-03' },
  'grid-patrol': { day: '2026-06-01', note: '惠民小区南门路灯不亮，已按网格事件上报' },
  'secretary-review': { opened: '2026-01-10' },
  'five-star': { year: 2027 },
  'dual-report': {
    member: 'demo-p0250', // demo-party-member
    workUnit: 'demo-dept-civil-affairs',
    services: ['政策宣传', '关爱帮扶'],
  },
  'party-member-households': { member: 'demo-p0250', households: 24 }, // demo-party-member
  'dual-report-assessment': {
    members: ['demo-p0250'], // demo-party-member
    excellent: ['demo-p0250'],
    workUnits: ['demo-dept-civil-affairs'],
    basis: '全年服务积分 36 分，参加社区工作日 10 次（双报到积分报表）。',
  },
  'dual-report-unit-assessment': {
    community: 'demo-wenhualu',
    members: ['demo-p0250'],
    communityExcellent: ['demo-p0250'],
    excellent: ['demo-p0250'],
    opinion: '该同志在单位和社区表现均突出，同意评为优秀。',
  },
  'volunteer-activity': {
    title: '周五志愿服务日：楼道清理',
    description: '清理惠民小区楼道堆物。',
    places: 10,
  },
  'volunteer-registration': {
    applicantName: '王秀英',
    phone: '13800138000',
    skills: ['助老助残', '政策宣传'],
    availability: ['周末', '周五志愿服务日'],
    serviceArea: 'demo-wenhualu-g1-c1',
    opinion: '材料齐全，同意注册。',
    volunteer: 'demo-p0112', // a volunteer of 文化路社区
  },
  'joint-enforcement': {
    title: '文化路占道经营联合整治',
    description: '文化路惠民小区南门早市占道经营，堵塞消防通道；城管、市场监管联合整治。',
    place: 'demo-wenhualu-g1-c1',
    location: '惠民小区南门',
    findings: '南门外 6 个摊位占道经营，消防通道堵塞。',
    problems: 6,
    orders: '3 日内撤离占道摊位，恢复消防通道畅通。',
    rectifyBy: '2026-06-04',
  },
  'joint-enforcement-team': {
    title: '文化路占道经营联合整治',
    problem: '占道经营',
    place: 'demo-wenhualu-g1-c1',
    street: 'demo-chengguan',
    teamLeader: 'demo-p0038', // an officer of 城市管理执法局
    members: 4,
  },
  mediation: {
    description: '楼上住户装修噪音扰民，双方多次争执。',
    parties: 2,
    record: '约双方当面协商，确定每日施工时段。',
    agreement: '每日 8:00–12:00、14:00–18:00 施工，周末不施工。',
  },
};

function sampleValue(key: string, field: FieldSpec, unitId: string): unknown {
  const known = PROCESS_SAMPLES[key]?.[field.name] ?? SAMPLE_VALUES[field.name];
  if (known !== undefined) {
    return field.multiple && !Array.isArray(known) ? [known] : known;
  }
  let value: unknown;
  switch (field.type) {
    case 'string':
      value = field.options?.[0] ?? `示例${field.label}`;
      break;
    case 'text':
      value = field.options?.[0] ?? `示例：${field.label}`;
      break;
    case 'integer':
    case 'number':
      value = Math.min(field.max ?? Infinity, Math.max(field.min ?? 1, 1));
      break;
    case 'boolean':
      value = true;
      break;
    case 'email':
      value = 'resident@example.com';
      break;
    case 'phone':
      value = '010-00000000';
      break;
    case 'date':
      value = '2026-12-31';
      break;
    case 'datetime':
      value = '2026-06-01T09:00:00+08:00';
      break;
    case 'unit':
      value = unitId;
      break;
    default:
      value = `示例${field.label}`;
  }
  if (typeof value === 'string' && field.maxLength !== undefined) {
    value = value.slice(0, field.maxLength);
  }
  return field.multiple ? [value] : value;
}

/**
 * Required fields, e-mail addresses (so the mails go somewhere) and optional fields the process
 * has a sample for (准入: the listed items), checked as the API checks them.
 */
export function sampleData(
  key: string,
  fields: readonly FieldSpec[],
  unitId: string,
  prefix: 'data' | 'form',
  alsoRequired: readonly string[] = [],
): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const field of fields) {
    if (
      field.required ||
      field.type === 'email' ||
      alsoRequired.includes(field.name) ||
      PROCESS_SAMPLES[key]?.[field.name] !== undefined
    )
      data[field.name] = sampleValue(key, field, unitId);
  }
  const checked = validateCaseData(fields, data, prefix);
  if (!checked.ok) {
    const problems = checked.problems.map((p) => `${p.path}: ${p.message}`).join('; ');
    throw new Error(`${key}: the example ${prefix} is not valid: ${problems}`);
  }
  return data;
}
