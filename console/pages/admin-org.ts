import type { ConsoleKit } from '../kit';

export function registerOrgPages(_kit: ConsoleKit): void {}
