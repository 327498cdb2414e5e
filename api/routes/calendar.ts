import { z } from 'zod';
import type { RouteRegistry } from '../pipeline';
import type { CalendarService } from '../../services/calendar';
import { errorResponses } from './shared';

const dayEntry = z
  .object({
    date: z.iso.date(),
    name: z.string().trim().min(1).max(50),
    /** true: a day off (a holiday, even on a weekday); false: a 调休 make-up working day. */
    isOffDay: z.boolean(),
  })
  .strict();

const calendarYearSchema = z.object({
  year: z.number().int(),
  source: z.enum(['shipped', 'admin']),
  papers: z.array(z.string()),
  days: z.array(dayEntry),
  updatedAt: z.iso.datetime(),
});

const yearParams = z.object({ year: z.coerce.number().int().min(2000).max(2100) });

const putYearBody = z
  .object({
    days: z.array(dayEntry).max(366),
    /** Where the year comes from, e.g. the State Council notice's address. */
    papers: z.array(z.string().max(500)).max(10).default([]),
  })
  .strict();

export function registerCalendarRoutes(routes: RouteRegistry, calendar: CalendarService): void {
  routes.add({
    method: 'get',
    path: '/api/v1/calendar/years',
    tag: 'calendar',
    summary: 'The working-day calendar: every year with its days off and make-up working days',
    roles: ['admin', 'dispatcher', 'staff', 'resident', 'system'],
    responses: {
      200: {
        description: 'Years, oldest first',
        schema: z.object({ items: z.array(calendarYearSchema) }),
      },
      ...errorResponses(401),
    },
    async handle() {
      return { status: 200, body: { items: await calendar.listYears() } };
    },
  });

  routes.add<z.infer<typeof yearParams>>({
    method: 'get',
    path: '/api/v1/calendar/years/:year',
    tag: 'calendar',
    summary: 'One year of the working-day calendar',
    roles: ['admin', 'dispatcher', 'staff', 'resident', 'system'],
    params: yearParams,
    responses: {
      200: { description: 'The year', schema: calendarYearSchema },
      ...errorResponses(400, 401, 404),
    },
    async handle({ params }) {
      return { status: 200, body: await calendar.getYear(params.year) };
    },
  });

  routes.add<z.infer<typeof yearParams>, undefined, undefined, z.infer<typeof putYearBody>>({
    method: 'put',
    path: '/api/v1/calendar/years/:year',
    tag: 'calendar',
    summary: 'Add or revise a year (e.g. when the State Council announces next year’s holidays)',
    description:
      'List each day that differs from the normal Monday–Friday week: days off with isOffDay true, 调休 make-up working days with isOffDay false. Replaces the whole year; shipped data never overwrites it afterwards.',
    roles: ['admin'],
    params: yearParams,
    body: putYearBody,
    responses: {
      201: { description: 'Year added', schema: calendarYearSchema },
      200: { description: 'Year replaced', schema: calendarYearSchema },
      ...errorResponses(400, 401, 403, 422),
    },
    async handle({ params, body, principal }) {
      const result = await calendar.putYear(params.year, body, {
        kind: principal.kind,
        id: principal.id,
      });
      return { status: result.created ? 201 : 200, body: result.year };
    },
  });
}
