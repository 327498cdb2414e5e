import { z } from 'zod';
import type { RouteRegistry } from '../pipeline';
import type { OrgService } from '../../services/org';
import { orgId, personInput, postInput } from '../../services/org-input';
import { errorResponses, nextLink, nextSchema, pageQuery } from './shared';
import { robotViewSchema } from './org';

/**
 * Email and phone are personal data: admins receive everyone's, dispatchers those of people who
 * hold a post in a unit of their scope (their units and every unit below), staff none.
 */
const CONTACT_RULE =
  'Present for admins, and for dispatchers when the person holds a post in a unit of their ' +
  'scope (their units and every unit below them); absent otherwise, and when none is stored.';

const personSchema = z.object({
  id: z.string(),
  name: z.string(),
  userId: z.string().optional(),
  email: z.string().optional().meta({ description: CONTACT_RULE }),
  phone: z.string().optional().meta({ description: CONTACT_RULE }),
  channels: z
    .array(z.string())
    .optional()
    .meta({ description: `Preferred notification channels, first first. ${CONTACT_RULE}` }),
  groupRobot: robotViewSchema.optional(),
});

const personDetailSchema = personSchema.extend({
  posts: z.array(z.object({ unitId: z.string(), unitName: z.string(), role: z.string() })),
});

const postSchema = z.object({ unitId: z.string(), role: z.string(), personId: z.string() });

const listQuery = pageQuery.extend({
  unitId: orgId.optional(),
  role: postInput.shape.role.optional(),
});

const personParams = z.object({ id: orgId });

export function registerPeopleRoutes(routes: RouteRegistry, org: OrgService): void {
  routes.add<undefined, undefined, undefined, z.infer<typeof personInput>>({
    method: 'post',
    path: '/api/v1/org/people',
    tag: 'org',
    summary: 'Create a person, or replace what is stored about one (fields left out are removed)',
    description:
      'One sign-in account, one person: a `userId` linked to another person is refused with 409 ' +
      'naming the account and that person. To move an account, save its holder without ' +
      '`userId` (unlinking it), then save the new person with it.',
    roles: ['admin'],
    body: personInput,
    responses: {
      201: { description: 'Created', schema: personSchema },
      200: { description: 'Replaced', schema: personSchema },
      ...errorResponses(400, 401, 403, 409),
    },
    async handle({ body }) {
      const { created, person } = await org.savePerson(body);
      return {
        status: created ? 201 : 200,
        body: person,
        headers: { Location: `/api/v1/org/people/${person.id}` },
      };
    },
  });

  routes.add<undefined, z.infer<typeof listQuery>>({
    method: 'get',
    path: '/api/v1/org/people',
    tag: 'org',
    summary: 'List people, optionally those holding a role and/or a post in a unit',
    description:
      'Admins and dispatchers see everyone by name; staff see only people who hold a post in a ' +
      "unit of their scope. Email and phone: admins see everyone's, dispatchers only those of " +
      'people who hold a post in a unit of their scope, staff none.',
    roles: ['admin', 'dispatcher', 'staff'],
    query: listQuery,
    responses: {
      200: {
        description: 'A page of people',
        schema: z.object({
          items: z.array(personSchema),
          page: z.number(),
          pageSize: z.number(),
          total: z.number(),
          next: nextSchema,
        }),
      },
      ...errorResponses(400, 401, 403),
    },
    async handle({ principal, query }) {
      const page = await org.listPeople(principal, query);
      return {
        status: 200,
        body: { ...page, next: nextLink('/api/v1/org/people', query, page.total) },
      };
    },
  });

  routes.add<z.infer<typeof personParams>>({
    method: 'get',
    path: '/api/v1/org/people/:id',
    tag: 'org',
    summary: 'A person with their posts',
    description:
      'Staff get 404 for a person with no post in their scope. Email and phone as in the list: ' +
      'admins always, dispatchers when the person holds a post in their scope, staff never.',
    roles: ['admin', 'dispatcher', 'staff'],
    params: personParams,
    responses: {
      200: { description: 'The person', schema: personDetailSchema },
      ...errorResponses(400, 401, 403, 404),
    },
    async handle({ principal, params }) {
      return { status: 200, body: await org.getPerson(principal, params.id) };
    },
  });

  routes.add<undefined, undefined, undefined, z.infer<typeof postInput>>({
    method: 'post',
    path: '/api/v1/org/posts',
    tag: 'org',
    summary: 'Give a person a role in a unit (the unit and the person must exist); safe to repeat',
    roles: ['admin'],
    body: postInput,
    responses: {
      201: { description: 'Created', schema: postSchema },
      200: { description: 'The person already held this post', schema: postSchema },
      ...errorResponses(400, 401, 403, 422),
    },
    async handle({ body }) {
      const { created, post } = await org.addPost(body);
      return { status: created ? 201 : 200, body: post };
    },
  });

  routes.add<z.infer<typeof postInput>>({
    method: 'delete',
    path: '/api/v1/org/posts/:unitId/:role/:personId',
    tag: 'org',
    summary: "End a person's role in a unit",
    roles: ['admin'],
    params: postInput,
    responses: {
      204: { description: 'Removed' },
      ...errorResponses(400, 401, 403, 404),
    },
    async handle({ params }) {
      await org.removePost(params);
      return { status: 204 };
    },
  });
}
