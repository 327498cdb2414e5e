/**
 * Chinese labels the guide shows beside the English keys of account roles, unit types and case
 * end statuses. Kept together so that they can give way to one shared vocabulary.
 */

export const ROLE_LABELS: Readonly<Record<string, string>> = {
  admin: '管理员',
  dispatcher: '派单员',
  staff: '工作人员',
  resident: '居民',
  system: '系统（API key）',
};
export const UNIT_TYPE_LABELS: Readonly<Record<string, string>> = {
  county: '县/区',
  street: '街道',
  community: '社区',
  grid: '网格',
  compound: '小区',
  building: '楼栋',
  entrance: '单元',
  floor: '楼层',
  cobuilding: '共建单位',
  department: '职能部门',
};
export const STATUS_LABELS: Readonly<Record<string, string>> = {
  closed: 'closed (办结)',
  rejected: 'rejected (不予受理)',
  cancelled: 'cancelled (撤销)',
};
