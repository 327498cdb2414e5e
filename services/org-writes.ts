import type { OrgWrites } from '../activities/dependencies';
import type { Models } from '../models';
import { createOrgService } from './org';
import { personInput } from './org-input';
import { createScopeResolver } from './scope';

/**
 * The org writes a `grant` step makes (activities/org-grants.ts), through the org service's own
 * `savePerson` and `addPost`: the same checks as the API's and the same org revision bump, so
 * the next people lookup reads the new post.
 */
export function createOrgWrites(deps: { models: Models; clock: () => Date }): OrgWrites {
  const org = createOrgService({
    models: deps.models,
    scope: createScopeResolver(deps.models),
    clock: deps.clock,
  });
  return {
    async recordPerson(input) {
      const parsed = personInput.safeParse(input);
      if (!parsed.success) {
        return [...new Set(parsed.error.issues.map((issue) => issue.path.join('.')))];
      }
      await org.savePerson(parsed.data);
      return [];
    },
    async addPost(post) {
      await org.addPost(post);
    },
  };
}
