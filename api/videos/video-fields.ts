import { clientTextProblem, MAX_TITLE_LENGTH } from '../../core/client-text.ts';
import { isPriorityTier, PRIORITY_TIERS, type PriorityTier } from '../../core/resources.ts';
import { badRequest } from '../middleware/problem.ts';

/** The syntax of a video's fields (priority, title) as a form field or query parameter carries them. */
export function parsePriority(value: string | undefined): PriorityTier | undefined {
  if (value === undefined || value === '') return undefined;
  if (!isPriorityTier(value))
    throw badRequest(`priority must be one of ${PRIORITY_TIERS.join(', ')}; got ${JSON.stringify(value.slice(0, 50))}`);
  return value;
}

export function parseTitle(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const title = value.trim();
  const problem = clientTextProblem(title, MAX_TITLE_LENGTH);
  if (problem) throw badRequest(`title ${problem}`);
  return title || undefined;
}
