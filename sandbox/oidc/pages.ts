import { escapeHtml } from '../core.ts';

/** The provider's own pages: a sign-in form and an error page, plain HTML without scripts. */

const style = `body{font-family:system-ui,sans-serif;background:#f1f5f9;margin:0;padding:48px 16px;color:#0f172a}
main{max-width:380px;margin:auto;background:#fff;border-radius:12px;padding:28px;box-shadow:0 1px 3px #0002}
h1{font-size:20px;margin:0 0 8px}p{color:#475569;font-size:14px}label{display:block;margin:14px 0 4px;font-size:14px}
input[type=email],input[type=text]{width:100%;box-sizing:border-box;padding:9px;border:1px solid #cbd5e1;border-radius:8px;font-size:15px}
.row{display:flex;gap:8px;margin-top:20px}button{flex:1;padding:10px;border-radius:8px;border:0;font-size:15px;cursor:pointer}
.ok{background:#2563eb;color:#fff}.cancel{background:#e2e8f0}.err{color:#b91c1c}`;

function page(title: string, body: string): string {
  return `<!doctype html><html lang="ru"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${style}</style></head><body><main>${body}</main></body></html>`;
}

export function renderSignInForm(options: { action: string; params: Record<string, string>; error?: string }): string {
  const hidden = Object.entries(options.params)
    .filter(([key]) => !['email', 'name', 'action', 'login_hint'].includes(key))
    .map(([key, value]) => `<input type="hidden" name="${escapeHtml(key)}" value="${escapeHtml(value)}">`)
    .join('');
  const error = options.error ? `<p class="err">${escapeHtml(options.error)}</p>` : '';
  return page(
    'Sandbox ID — вход',
    `<h1>Sandbox ID</h1><p>Тестовый провайдер входа. Введите любой адрес почты — пароль не нужен.</p>${error}
<form method="post" action="${escapeHtml(options.action)}">${hidden}
<label for="email">Почта</label><input id="email" name="email" type="email" required autofocus value="${escapeHtml(options.params.email ?? '')}">
<label for="name">Имя (необязательно)</label><input id="name" name="name" type="text" value="${escapeHtml(options.params.name ?? '')}">
<div class="row"><button class="cancel" name="action" value="deny" formnovalidate>Отмена</button>
<button class="ok" name="action" value="approve">Войти</button></div></form>`,
  );
}

export function renderError(title: string, detail: string): string {
  return page(`Sandbox ID — ${title}`, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(detail)}</p>`);
}
