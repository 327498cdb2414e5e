import type { Rng } from './random';

/**
 * Invented people: common Chinese surnames and given names (with their pinyin, for e-mail
 * addresses) put together at random. Names this common are shared by many real people, which is
 * the point: nobody in particular. No phone numbers are generated: any 11-digit mobile number may
 * belong to someone.
 */

/** Mail goes to a reserved top-level domain (RFC 2606): a real relay can never deliver it. */
export const DEMO_MAIL_DOMAIN = 'demo.invalid';

/** Surnames with pinyin and a rough weight (the commonest first). */
const SURNAMES: ReadonlyArray<readonly [string, string, number]> = [
  ['王', 'wang', 7],
  ['李', 'li', 7],
  ['张', 'zhang', 7],
  ['刘', 'liu', 5],
  ['陈', 'chen', 5],
  ['杨', 'yang', 4],
  ['赵', 'zhao', 3],
  ['黄', 'huang', 3],
  ['周', 'zhou', 3],
  ['吴', 'wu', 3],
  ['徐', 'xu', 2],
  ['孙', 'sun', 2],
  ['胡', 'hu', 2],
  ['朱', 'zhu', 2],
  ['高', 'gao', 2],
  ['林', 'lin', 2],
  ['何', 'he', 2],
  ['郭', 'guo', 2],
  ['马', 'ma', 2],
  ['罗', 'luo', 2],
  ['梁', 'liang', 1],
  ['宋', 'song', 1],
  ['郑', 'zheng', 1],
  ['谢', 'xie', 1],
  ['韩', 'han', 1],
  ['唐', 'tang', 1],
  ['冯', 'feng', 1],
  ['于', 'yu', 1],
  ['董', 'dong', 1],
  ['程', 'cheng', 1],
  ['曹', 'cao', 1],
  ['袁', 'yuan', 1],
  ['邓', 'deng', 1],
  ['许', 'xu', 1],
  ['傅', 'fu', 1],
  ['沈', 'shen', 1],
  ['曾', 'zeng', 1],
  ['彭', 'peng', 1],
  ['吕', 'lv', 1],
  ['苏', 'su', 1],
  ['卢', 'lu', 1],
  ['蒋', 'jiang', 1],
  ['蔡', 'cai', 1],
  ['贾', 'jia', 1],
  ['丁', 'ding', 1],
  ['魏', 'wei', 1],
  ['薛', 'xue', 1],
  ['叶', 'ye', 1],
  ['阎', 'yan', 1],
  ['余', 'yu', 1],
  ['潘', 'pan', 1],
  ['杜', 'du', 1],
  ['戴', 'dai', 1],
  ['夏', 'xia', 1],
  ['钟', 'zhong', 1],
  ['汪', 'wang', 1],
  ['田', 'tian', 1],
  ['任', 'ren', 1],
  ['姜', 'jiang', 1],
  ['范', 'fan', 1],
  ['方', 'fang', 1],
  ['石', 'shi', 1],
  ['姚', 'yao', 1],
  ['谭', 'tan', 1],
  ['廖', 'liao', 1],
  ['邹', 'zou', 1],
  ['熊', 'xiong', 1],
  ['金', 'jin', 1],
  ['陆', 'lu', 1],
  ['郝', 'hao', 1],
  ['孔', 'kong', 1],
  ['白', 'bai', 1],
  ['崔', 'cui', 1],
  ['康', 'kang', 1],
  ['毛', 'mao', 1],
  ['邱', 'qiu', 1],
  ['秦', 'qin', 1],
  ['江', 'jiang', 1],
  ['史', 'shi', 1],
  ['顾', 'gu', 1],
  ['侯', 'hou', 1],
  ['邵', 'shao', 1],
  ['孟', 'meng', 1],
  ['龙', 'long', 1],
  ['段', 'duan', 1],
  ['雷', 'lei', 1],
  ['汤', 'tang', 1],
  ['尹', 'yin', 1],
  ['常', 'chang', 1],
  ['武', 'wu', 1],
  ['乔', 'qiao', 1],
  ['贺', 'he', 1],
  ['龚', 'gong', 1],
  ['文', 'wen', 1],
];

/**
 * Given names by the generation they are typical of: floor chiefs and volunteers are mostly
 * retirees, grid workers mostly young.
 */
export type Generation = 'older' | 'middle' | 'younger';

const GIVEN_NAMES: Record<Generation, ReadonlyArray<readonly [string, string]>> = {
  older: [
    ['建国', 'jianguo'],
    ['国庆', 'guoqing'],
    ['建华', 'jianhua'],
    ['建军', 'jianjun'],
    ['红军', 'hongjun'],
    ['卫东', 'weidong'],
    ['立新', 'lixin'],
    ['振华', 'zhenhua'],
    ['德明', 'deming'],
    ['国华', 'guohua'],
    ['春生', 'chunsheng'],
    ['长青', 'changqing'],
    ['学军', 'xuejun'],
    ['新民', 'xinmin'],
    ['光明', 'guangming'],
    ['永福', 'yongfu'],
    ['秀英', 'xiuying'],
    ['桂兰', 'guilan'],
    ['玉兰', 'yulan'],
    ['淑珍', 'shuzhen'],
    ['秀兰', 'xiulan'],
    ['凤英', 'fengying'],
    ['玉梅', 'yumei'],
    ['金凤', 'jinfeng'],
    ['秋菊', 'qiuju'],
    ['素芬', 'sufen'],
    ['翠兰', 'cuilan'],
    ['爱华', 'aihua'],
    ['桂芳', 'guifang'],
    ['淑英', 'shuying'],
  ],
  middle: [
    ['伟', 'wei'],
    ['志强', 'zhiqiang'],
    ['海涛', 'haitao'],
    ['永刚', 'yonggang'],
    ['晓东', 'xiaodong'],
    ['文斌', 'wenbin'],
    ['志刚', 'zhigang'],
    ['宏伟', 'hongwei'],
    ['东升', 'dongsheng'],
    ['云飞', 'yunfei'],
    ['永明', 'yongming'],
    ['晓峰', 'xiaofeng'],
    ['海波', 'haibo'],
    ['少华', 'shaohua'],
    ['立军', 'lijun'],
    ['磊', 'lei'],
    ['涛', 'tao'],
    ['斌', 'bin'],
    ['军', 'jun'],
    ['亮', 'liang'],
    ['丽华', 'lihua'],
    ['红梅', 'hongmei'],
    ['丽', 'li'],
    ['芳', 'fang'],
    ['娟', 'juan'],
    ['敏', 'min'],
    ['静', 'jing'],
    ['艳', 'yan'],
    ['霞', 'xia'],
    ['玲', 'ling'],
    ['燕', 'yan'],
    ['慧敏', 'huimin'],
    ['晓燕', 'xiaoyan'],
    ['雪梅', 'xuemei'],
    ['海燕', 'haiyan'],
    ['丽娟', 'lijuan'],
    ['春梅', 'chunmei'],
    ['小红', 'xiaohong'],
    ['红霞', 'hongxia'],
    ['亚楠', 'yanan'],
  ],
  younger: [
    ['浩然', 'haoran'],
    ['宇航', 'yuhang'],
    ['子轩', 'zixuan'],
    ['博文', 'bowen'],
    ['家豪', 'jiahao'],
    ['俊杰', 'junjie'],
    ['思远', 'siyuan'],
    ['天宇', 'tianyu'],
    ['子豪', 'zihao'],
    ['嘉伟', 'jiawei'],
    ['正阳', 'zhengyang'],
    ['文杰', 'wenjie'],
    ['鑫', 'xin'],
    ['凯', 'kai'],
    ['杰', 'jie'],
    ['婷', 'ting'],
    ['文静', 'wenjing'],
    ['佳怡', 'jiayi'],
    ['欣怡', 'xinyi'],
    ['雨涵', 'yuhan'],
    ['梦瑶', 'mengyao'],
    ['思琪', 'siqi'],
    ['晓琳', 'xiaolin'],
    ['美玲', 'meiling'],
    ['倩', 'qian'],
    ['颖', 'ying'],
    ['璐', 'lu'],
    ['晶', 'jing'],
    ['雪', 'xue'],
    ['悦', 'yue'],
  ],
};

/**
 * Combinations that name well-known public figures, never generated (the pools hold common
 * names, so a few such pairs can come up).
 */
const BLOCKED = new Set(['李强', '李鹏', '马凯', '王勇', '黄明', '李斌', '王军', '刘伟']);

export interface InventedName {
  name: string;
  /** A unique address on {@link DEMO_MAIL_DOMAIN}, from the name's pinyin. */
  email: string;
}

/** Hands out unique invented names and addresses from one seeded stream. */
export interface NameBook {
  next(generation: Generation): InventedName;
}

export function createNameBook(rng: Rng): NameBook {
  const usedNames = new Set<string>(BLOCKED);
  const usedMailboxes = new Map<string, number>();
  const surnames = SURNAMES.map(([hanzi, pinyin, weight]) => [[hanzi, pinyin], weight] as const);
  return {
    next(generation) {
      for (;;) {
        const [surname, surnamePinyin] = rng.weighted(surnames);
        // A generation's pool mostly, sometimes the next one (names do not follow birth years).
        const pool =
          rng.chance(0.8) || generation === 'middle' ? GIVEN_NAMES[generation] : GIVEN_NAMES.middle;
        const [given, givenPinyin] = rng.pick(pool);
        const name = `${surname}${given}`;
        if (usedNames.has(name)) continue;
        usedNames.add(name);
        const mailbox = `${surnamePinyin}${givenPinyin}`;
        const seen = (usedMailboxes.get(mailbox) ?? 0) + 1;
        usedMailboxes.set(mailbox, seen);
        const local = seen === 1 ? mailbox : `${mailbox}${seen}`;
        return { name, email: `${local}@${DEMO_MAIL_DOMAIN}` };
      }
    },
  };
}
