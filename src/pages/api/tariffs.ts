import { apiRoute, json } from '../../lib/http/respond.ts';
import { t } from '../../lib/i18n/index.ts';
import { describeTariffs } from '../../lib/billing/pricing.ts';

/** GET /api/tariffs (public): what can be bought, for how much, and the price of one video. */
export const GET = apiRoute(({ locals }) => {
  const tariffs = describeTariffs(locals.ctx.config.pricing).map((tariff) => ({
    ...tariff,
    name: t(locals.locale, `tariffs.${tariff.id}.name`),
  }));
  return json({ success: true, tariffs });
});
