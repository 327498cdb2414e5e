/**
 * The words a definition shares with the world outside it: the unit types of the org tree and the
 * post roles people hold in units, each with its name once. The validator, the org tree, the
 * console, the mails and the generated guides all call a unit type or a post by these names.
 * Account roles (admin, dispatcher…) are permissions, not org words: they live in common/roles.ts.
 */

/** A name in the console's two languages. */
export interface Label {
  zh: string;
  en: string;
}

/**
 * Unit types from the top of the tree down (county → … → floor), then co-building units and
 * departments, which hang under the unit they serve.
 */
export const UNIT_TYPES = [
  'county',
  'street',
  'community',
  'grid',
  'compound',
  'building',
  'entrance',
  'floor',
  'cobuilding',
  'department',
] as const;
export type UnitType = (typeof UNIT_TYPES)[number];

/** A unit type or a list of them (a schedule's `unitsOfType`) as a list, in its order. */
export function unitTypesOf(typeOrTypes: UnitType | readonly UnitType[]): UnitType[] {
  return typeof typeOrTypes === 'string' ? [typeOrTypes] : [...typeOrTypes];
}

/**
 * `zh` and `en` are the everyday names (tables, charts, guides). `zhFormal` is the name the org
 * administration shows, where it differs: it says what else the type stands for (a 镇 ranks with
 * a 街道, a 村 with a 社区, a 驻区单位 is a co-building unit).
 */
export const UNIT_TYPE_LABELS: Readonly<Record<UnitType, Label & { zhFormal?: string }>> = {
  county: { zh: '县/区', en: 'county', zhFormal: '县（区）' },
  street: { zh: '街道', en: 'street', zhFormal: '街道（镇）' },
  community: { zh: '社区', en: 'community', zhFormal: '社区（村）' },
  grid: { zh: '网格', en: 'grid' },
  compound: { zh: '小区', en: 'compound' },
  building: { zh: '楼栋', en: 'building' },
  entrance: { zh: '单元', en: 'entrance' },
  floor: { zh: '楼层', en: 'floor' },
  cobuilding: { zh: '共建单位', en: 'co-building unit', zhFormal: '驻区（共建）单位' },
  department: { zh: '职能部门', en: 'department' },
};

/**
 * Post roles known to every installation, with their names (the org import may hold others; a
 * definition that uses another role declares it, with its label, under `roles`).
 */
export const POST_ROLE_LABELS: Readonly<Record<string, Label>> = {
  secretary: { zh: '党组织书记', en: 'party secretary' },
  director: { zh: '主任', en: 'director' },
  'deputy-director': { zh: '副主任', en: 'deputy director' },
  leader: { zh: '分管领导', en: 'leader in charge' },
  officer: { zh: '工作人员', en: 'officer' },
  dispatcher: { zh: '派单员', en: 'dispatcher' },
  'duty-officer': { zh: '值班员', en: 'duty officer' },
  'grid-leader': { zh: '网格长', en: 'grid leader' },
  'grid-worker': { zh: '网格员', en: 'grid worker' },
  /**
   * 流动网格员: riders, drivers and others registered to report what they see (seeds/004,
   * Hanzhong: 4,800 riders, couriers and drivers) without a staff account, by the quick report verified with an SMS code.
   */
  'mobile-grid-member': { zh: '流动网格员', en: 'mobile grid member' },
  'committee-member': { zh: '两委委员', en: 'committee member' },
  'building-head': { zh: '楼栋长', en: 'building head' },
  'entrance-head': { zh: '单元长', en: 'entrance head' },
  'floor-group-head': { zh: '分楼层长', en: 'floor group head' },
  'floor-head': { zh: '楼层长', en: 'floor head' },
  'party-member': { zh: '党员', en: 'party member' },
  volunteer: { zh: '志愿者', en: 'volunteer' },
  liaison: { zh: '共建单位联络员', en: 'co-building liaison' },
  'resident-rep': { zh: '居民代表', en: 'resident representative' },
};

/** The built-in post roles by key with their Chinese names, as definitions and the docs write them. */
export const BUILTIN_POST_ROLES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(POST_ROLE_LABELS).map(([key, label]) => [key, label.zh]),
);

/**
 * Kinds of 包联 (pairing) a unit may have, each with its name: who looks after a unit besides the
 * people posted in it (../shared/DOMAIN.md; Xixiang: 县级领导包联社区, 92 units and 2,500 cadres
 * sunk to 273 grids). Org data and definitions name a kind by its key; a new kind is a new entry.
 */
export const PAIRING_KIND_LABELS: Readonly<Record<string, Label>> = {
  leader: { zh: '领导包联', en: 'leader pairing' },
  unit: { zh: '单位包联（共建）', en: 'unit pairing' },
  cadre: { zh: '干部包联', en: 'cadre pairing' },
};
export const PAIRING_KINDS: readonly string[] = Object.keys(PAIRING_KIND_LABELS);

/**
 * The channels a notification can go out on (docs/definition-language.md, "Channels"): mail, a
 * text message over the configured SMS provider, and WeCom (企业微信) or DingTalk (钉钉) group
 * robots. Mail is the default.
 */
export const CHANNELS = ['mail', 'sms', 'wecom', 'dingtalk'] as const;
export type Channel = (typeof CHANNELS)[number];
/** The channels that post to a group robot's webhook. */
export const ROBOT_CHANNELS = ['wecom', 'dingtalk'] as const;
export type RobotChannel = (typeof ROBOT_CHANNELS)[number];
/** What a definition's `channels` lists: a channel, or `preferred` (the person's own order). */
export const CHANNEL_CHOICES = ['preferred', ...CHANNELS] as const;
export type ChannelChoice = (typeof CHANNEL_CHOICES)[number];
