import { z } from 'zod';

/** The one HTTP error body. */
export const ErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.unknown().optional(),
    requestId: z.string(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

export const HealthBody = z.object({
  status: z.literal('ok'),
  service: z.literal('patchbay'),
  version: z.string(),
});
export type HealthBody = z.infer<typeof HealthBody>;

export const RunIdParams = z.object({ id: z.string().min(1).max(100) });
