import type { AccountService } from '../api/services/accounts';
import type { BoardService } from '../api/services/board';
import type { CalendarService } from '../api/services/calendar';
import type { CaseService } from '../api/services/cases';
import type { DefinitionService } from '../api/services/definitions';
import type { EvaluationService } from '../api/services/evaluations';
import type { MetricsService } from '../api/services/metrics';
import type { OrgService } from '../api/services/org';
import type { PointsService } from '../api/services/points';
import type { TaskService } from '../api/services/tasks';
import type { UnitDirectoryReader } from '../api/services/unit-directory';
import type { PageRouter } from './pipeline';

/** The services the console calls: the API's own, so both answer alike. */
export interface ConsoleServices {
  accounts: AccountService;
  board: BoardService;
  calendar: CalendarService;
  cases: CaseService;
  definitions: DefinitionService;
  evaluations: EvaluationService;
  metrics: MetricsService;
  org: OrgService;
  points: PointsService;
  tasks: TaskService;
  /** The cached unit tree, to name units on every page without a query per row. */
  units: UnitDirectoryReader;
}

/** A demo account offered for one-click sign-in on the local stack (`npm start`). */
export interface DemoSignIn {
  username: string;
  displayName: string;
  persona: string;
  roles: string[];
  password: string;
}

/** What a page module gets: the services, the clock and the demo accounts on offer. */
export interface ConsoleKit {
  pages: PageRouter;
  services: ConsoleServices;
  clock: () => Date;
  demoAccounts: () => readonly DemoSignIn[];
}
