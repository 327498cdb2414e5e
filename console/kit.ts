import type { AccountService } from '../services/accounts';
import type { AttachmentService } from '../services/attachments';
import type { BoardService } from '../services/board';
import type { CatalogueService } from '../services/catalogue';
import type { CalendarService } from '../services/calendar';
import type { CaseFailureService } from '../services/case-failures';
import type { CaseService } from '../services/cases';
import type { DefinitionService } from '../services/definitions';
import type { EvaluationService } from '../services/evaluations';
import type { LedgerService } from '../services/ledgers';
import type { MailService } from '../services/mail';
import type { MetricsService } from '../services/metrics';
import type { OrgService } from '../services/org';
import type { AvailabilityService } from '../services/availability';
import type { PointsService } from '../services/points';
import type { QuickReportService } from '../services/quick-reports';
import type { TaskService } from '../services/tasks';
import type { UnitDirectoryReader } from '../services/unit-directory';
import type { PageRouter } from './pipeline';

/** The services the console calls: the API's own, so both answer alike. */
export interface ConsoleServices {
  accounts: AccountService;
  attachments: AttachmentService;
  board: BoardService;
  calendar: CalendarService;
  catalogue: CatalogueService;
  cases: CaseService;
  caseFailures: CaseFailureService;
  definitions: DefinitionService;
  evaluations: EvaluationService;
  ledgers: LedgerService;
  mail: MailService;
  metrics: MetricsService;
  org: OrgService;
  availability: AvailabilityService;
  points: PointsService;
  /** 随手报: mobile grid members' quick reports (public pages). */
  quickReports: QuickReportService;
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
