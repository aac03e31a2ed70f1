import { z } from 'zod';
import { OAuthError } from './errors.ts';
import type { OAuthProfile } from './client.ts';

/**
 * Yandex ID's userinfo (`login.yandex.ru/info?format=json`, header `Authorization: OAuth <token>`),
 * reference/oauth-login.md §3. `id` is the stable account id. There is no `email_verified`:
 * Yandex shows only confirmed addresses as `default_email`, so that one is taken as verified.
 */

export const yandexInfoSchema = z.object({
  id: z.string().min(1),
  login: z.string().optional(),
  default_email: z.string().nullish(),
  emails: z.array(z.string()).nullish(),
  display_name: z.string().nullish(),
  real_name: z.string().nullish(),
  default_avatar_id: z.string().nullish(),
  is_avatar_empty: z.boolean().nullish(),
});
export type YandexInfo = z.infer<typeof yandexInfoSchema>;

export function yandexAvatarUrl(avatarId: string): string {
  return `https://avatars.yandex.net/get-yapic/${encodeURIComponent(avatarId).replace(/%2F/g, '/')}/islands-200`;
}

export function profileFromYandexInfo(info: YandexInfo): OAuthProfile {
  const email = info.default_email?.trim().toLowerCase();
  if (!email || !email.includes('@')) throw new OAuthError('SIGNIN_EMAIL_MISSING');
  const name = info.real_name?.trim() || info.display_name?.trim() || null;
  const picture = info.default_avatar_id && !info.is_avatar_empty ? yandexAvatarUrl(info.default_avatar_id) : null;
  return { provider: 'yandex', subject: info.id, email, name, picture };
}

export async function fetchYandexProfile(userinfoUrl: string, accessToken: string, timeoutMs: number): Promise<OAuthProfile> {
  const url = new URL(userinfoUrl);
  url.searchParams.set('format', 'json');
  const res = await fetch(url, {
    headers: { Authorization: `OAuth ${accessToken}`, Accept: 'application/json' },
    redirect: 'error',
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) {
    throw Object.assign(new Error(`Yandex userinfo answered HTTP ${res.status}`), { status: res.status });
  }
  const parsed = yandexInfoSchema.safeParse(await res.json());
  if (!parsed.success) throw new Error(`Yandex userinfo answered an unexpected body: ${parsed.error.message}`);
  return profileFromYandexInfo(parsed.data);
}
