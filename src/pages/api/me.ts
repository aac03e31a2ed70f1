import { requireUser } from '../../lib/auth/guards.ts';
import { apiRoute, json } from '../../lib/http/respond.ts';

/** The signed-in person: the UI and tests read the balance here. */
export const GET = apiRoute(({ locals }) => {
  const user = requireUser(locals);
  return json({
    id: user.id,
    email: user.email,
    name: user.name,
    picture: user.image,
    role: user.role,
    plan: user.plan,
    balance: user.balance,
    used: user.used,
  });
});
