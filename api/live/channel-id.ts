import { isChannelId } from '../../core/ids.ts';
import { badRequest } from '../middleware/problem.ts';

/** A channel id from a path or form field, or a 400 naming the rule it breaks. */
export function parseChannelId(value: string): string {
  if (!isChannelId(value)) {
    throw badRequest(
      `channel id ${JSON.stringify(value.slice(0, 80))} is invalid: use letters, digits, "_" and "-", at most 64 characters`,
    );
  }
  return value;
}
