import type { ConsoleKit } from '../kit';

export function registerDashboardPages(_kit: ConsoleKit): void {}
