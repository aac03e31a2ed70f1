import { z } from 'zod';

/** Input pieces shared by admin actions: forms send strings, JSON callers send real types. */

export const formBool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'on', 'off'])])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'on');

export const reasonField = z.string().max(2000).optional();

