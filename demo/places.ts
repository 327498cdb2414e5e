/**
 * The fixed shape of the demo county: invented place and organisation names (any likeness to a
 * real place is a coincidence of common words). Below the grids the generator draws the rest.
 */

export const COUNTY = { id: 'demo-county', name: '桐川县' } as const;

export interface StreetPlace {
  id: string;
  name: string;
  communities: Array<{ id: string; name: string; grids: number }>;
}

/** 2 streets, 4 communities, 12 grids. */
export const STREETS: readonly StreetPlace[] = [
  {
    id: 'demo-chengguan',
    name: '城关街道',
    communities: [
      { id: 'demo-wenhualu', name: '文化路社区', grids: 3 },
      { id: 'demo-beiguan', name: '北关社区', grids: 3 },
    ],
  },
  {
    id: 'demo-donghu',
    name: '东湖街道',
    communities: [
      { id: 'demo-binhu', name: '滨湖社区', grids: 4 },
      { id: 'demo-xinhua', name: '新华社区', grids: 2 },
    ],
  },
];

/** Residential compound names, handed out in a shuffled order. */
export const COMPOUND_NAMES: readonly string[] = [
  '锦绣家园',
  '桐华苑',
  '幸福里小区',
  '翠湖小区',
  '阳光花园',
  '文昌苑',
  '康乐小区',
  '南苑新村',
  '滨江华庭',
  '和谐家园',
  '书香苑',
  '金桂园',
  '丽景湾',
  '润泽苑',
  '水岸名居',
  '御景苑',
  '教师新村',
  '纺织厂生活区',
  '粮食局家属院',
  '县医院家属院',
  '东湖明珠小区',
  '北关新村',
  '绿洲花园',
  '泰和苑',
  '状元府小区',
  '惠民小区',
];

export type CobuildingKind = 'school' | 'hospital' | 'state-firm' | 'bureau';

/** 驻区单位 / 共建单位, each hung under the street or community it is located in. */
export const COBUILDING_UNITS: ReadonlyArray<{
  id: string;
  name: string;
  kind: CobuildingKind;
  parentId: string;
}> = [
  {
    id: 'demo-cb-no1-middle-school',
    name: '桐川县第一中学',
    kind: 'school',
    parentId: 'demo-wenhualu',
  },
  {
    id: 'demo-cb-peoples-hospital',
    name: '桐川县人民医院',
    kind: 'hospital',
    parentId: 'demo-beiguan',
  },
  {
    id: 'demo-cb-urban-investment',
    name: '桐川县城市建设投资集团有限公司',
    kind: 'state-firm',
    parentId: 'demo-chengguan',
  },
  { id: 'demo-cb-finance-bureau', name: '桐川县财政局', kind: 'bureau', parentId: 'demo-beiguan' },
  {
    id: 'demo-cb-experimental-school',
    name: '桐川县实验小学',
    kind: 'school',
    parentId: 'demo-binhu',
  },
  { id: 'demo-cb-tcm-hospital', name: '桐川县中医医院', kind: 'hospital', parentId: 'demo-xinhua' },
  {
    id: 'demo-cb-rural-bank',
    name: '桐川农村商业银行股份有限公司',
    kind: 'state-firm',
    parentId: 'demo-donghu',
  },
  {
    id: 'demo-cb-water-supply',
    name: '桐川县供水有限责任公司',
    kind: 'state-firm',
    parentId: 'demo-xinhua',
  },
  {
    id: 'demo-cb-natural-resources',
    name: '桐川县自然资源局',
    kind: 'bureau',
    parentId: 'demo-binhu',
  },
];

/** 职能部门: the county's bureaus, and the police stations and offices of each street. */
export const DEPARTMENTS: ReadonlyArray<{ id: string; name: string; parentId: string }> = [
  { id: 'demo-dept-housing', name: '桐川县住房和城乡建设局', parentId: 'demo-county' },
  { id: 'demo-dept-civil-affairs', name: '桐川县民政局', parentId: 'demo-county' },
  { id: 'demo-dept-market', name: '桐川县市场监督管理局', parentId: 'demo-county' },
  { id: 'demo-dept-urban-management', name: '桐川县城市管理执法局', parentId: 'demo-county' },
  { id: 'demo-dept-emergency', name: '桐川县应急管理局', parentId: 'demo-county' },
  { id: 'demo-dept-health', name: '桐川县卫生健康局', parentId: 'demo-county' },
  { id: 'demo-dept-police-chengguan', name: '桐川县公安局城关派出所', parentId: 'demo-chengguan' },
  { id: 'demo-dept-police-donghu', name: '桐川县公安局东湖派出所', parentId: 'demo-donghu' },
  { id: 'demo-dept-market-donghu', name: '东湖市场监督管理所', parentId: 'demo-donghu' },
];

export const CHINESE_ORDINALS = ['一', '二', '三', '四', '五', '六', '七', '八', '九', '十'];

/**
 * The demo county's dispatch catalogues (派单目录): the county's for every street, and 东湖's own,
 * whose 治安防控 goes to its own police station (the most specific catalogue wins, so 东湖's lists
 * every category it routes). 矛盾纠纷 and 其他 are left out on purpose: they go to the street
 * centre (兜底). Categories as grid-event and the hotline (hotline-12345) spell them.
 */
export const DEMO_CATALOGUES: ReadonlyArray<{
  ownerUnitId: string;
  entries: ReadonlyArray<{
    category: string;
    unitId: string;
    coUnitIds?: string[];
    timeLimit?: string;
  }>;
}> = [
  {
    ownerUnitId: 'demo-county',
    entries: [
      { category: '安全隐患', unitId: 'demo-dept-emergency' },
      { category: '环境卫生', unitId: 'demo-dept-urban-management' },
      { category: '市政设施', unitId: 'demo-dept-housing' },
      { category: '治安防控', unitId: 'demo-dept-police-chengguan' },
      { category: '民生服务', unitId: 'demo-dept-civil-affairs' },
      // 接诉即办 (hotline-12345): 紧急险情, 水电气热 and its other categories
      { category: '紧急险情', unitId: 'demo-dept-emergency' },
      { category: '供水', unitId: 'demo-dept-housing' },
      { category: '供电', unitId: 'demo-dept-housing' },
      { category: '供气', unitId: 'demo-dept-housing' },
      { category: '供暖', unitId: 'demo-dept-housing' },
      { category: '物业服务', unitId: 'demo-dept-housing' },
      { category: '噪声扰民', unitId: 'demo-dept-urban-management' },
    ],
  },
  {
    ownerUnitId: 'demo-donghu',
    entries: [
      { category: '安全隐患', unitId: 'demo-dept-emergency' },
      { category: '环境卫生', unitId: 'demo-dept-urban-management' },
      { category: '市政设施', unitId: 'demo-dept-housing', coUnitIds: ['demo-dept-market-donghu'] },
      { category: '治安防控', unitId: 'demo-dept-police-donghu' },
      { category: '民生服务', unitId: 'demo-dept-civil-affairs' },
      // 接诉即办 (hotline-12345): 紧急险情, 水电气热 and its other categories
      { category: '紧急险情', unitId: 'demo-dept-emergency' },
      { category: '供水', unitId: 'demo-dept-housing' },
      { category: '供电', unitId: 'demo-dept-housing' },
      { category: '供气', unitId: 'demo-dept-housing' },
      { category: '供暖', unitId: 'demo-dept-housing' },
      { category: '物业服务', unitId: 'demo-dept-housing' },
      { category: '噪声扰民', unitId: 'demo-dept-urban-management' },
    ],
  },
];
