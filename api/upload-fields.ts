import { cleanClientText, clientTextProblem, MAX_TITLE_LENGTH } from '../core/client-text.ts';
import { isPriorityTier, PRIORITY_TIERS, type PriorityTier } from '../core/resources.ts';
import { badRequest } from './problem.ts';
import { outOfScope, type TokenClaims } from './tokens.ts';

/** The fields of an upload request (priority, title), shared by the upload routes. */
export function parsePriority(value: string | undefined): PriorityTier | undefined {
  if (value === undefined || value === '') return undefined;
  if (!isPriorityTier(value))
    throw badRequest(`priority must be one of ${PRIORITY_TIERS.join(', ')}; got ${JSON.stringify(value.slice(0, 50))}`);
  return value;
}

/** A title made from the uploaded file's name (already cleaned). */
export function titleFromFilename(filename: string): string | undefined {
  return cleanClientText(filename, MAX_TITLE_LENGTH);
}

export function parseTitle(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const title = value.trim();
  const problem = clientTextProblem(title, MAX_TITLE_LENGTH);
  if (problem) throw badRequest(`title ${problem}`);
  return title || undefined;
}

/** The priority an upload token fixes wins; asking for another is a 403. */
export function tokenPriority(token: TokenClaims | undefined, asked: PriorityTier | undefined): PriorityTier | undefined {
  if (!token?.priority) return asked;
  if (asked !== undefined && asked !== token.priority) throw outOfScope(`this upload token fixes priority ${token.priority}`);
  return token.priority;
}
