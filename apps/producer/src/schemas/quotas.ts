/** Request and response schemas of the quota routes (quotas.ts), exported through api-schemas.ts. */
import { z } from 'zod';

const DateTime = z.iso.datetime({ offset: true });
const intString = (what: string, max: number) =>
  z
    .string()
    .regex(/^[0-9]{1,16}$/, `must be an integer (${what})`)
    .transform(Number)
    .refine((n) => n >= 1 && n <= max, `must be an integer from 1 to ${max} (${what})`);

export const GroupParams = z.strictObject({ group: z.string().min(1).max(255) });

export const QuotaSet = z.strictObject({
  unit: z
    .enum(['attempts', 'run_ms'])
    .optional()
    .meta({ description: 'attempts (each finished attempt costs 1, the default) or run_ms (its run time in ms).' }),
  balance: z
    .int('balance must be a whole number of units')
    .min(0, 'balance must be 0 or more')
    .meta({ description: 'The balance to set, a whole number of units >= 0 (0 holds the group at once).' }),
  note: z
    .string()
    .max(1000, 'note is at most 1000 characters')
    .optional()
    .meta({ description: 'Free text for the ledger (at most 1000 characters).' }),
});

export const TopUpBody = z.strictObject({
  amount: z
    .int('amount must be a whole number of units')
    .min(1, 'amount must be at least 1 (a top-up adds units; POST the quota to lower a balance)')
    .meta({ description: 'Units to add, a whole number >= 1.' }),
  note: z
    .string()
    .max(1000, 'note is at most 1000 characters')
    .optional()
    .meta({ description: 'Free text for the ledger (at most 1000 characters).' }),
});

export const LedgerQueryParams = z.strictObject({
  limit: intString('1 to 1000', 1000).optional(),
  before: intString('a ledger entry id', Number.MAX_SAFE_INTEGER).optional(),
});

export const Balance = z.strictObject({
  group: z.string(),
  unit: z.enum(['attempts', 'run_ms']),
  balance: z.int(),
  held: z
    .boolean()
    .meta({ description: "true while the group's jobs are held (balance <= 0): they stay available and run after a top-up." }),
  updatedAt: DateTime,
});

export const WalletEntry = z.strictObject({
  id: z.int(),
  group: z.string(),
  kind: z.enum(['charge', 'top_up', 'set', 'deleted']),
  amount: z.int().meta({ description: 'Signed change of the balance: negative for charges.' }),
  balanceAfter: z.int(),
  jobId: z.int().optional(),
  attempt: z.int().optional(),
  executionState: z.string().optional(),
  note: z.string().optional(),
  createdAt: DateTime,
});

export const LedgerPage = z.strictObject({
  entries: z.array(WalletEntry),
  nextCursor: z.int().optional().meta({ description: 'Pass as `before` for the next (older) page; absent on the last page.' }),
});
