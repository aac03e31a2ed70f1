import type { Sandbox } from './index.ts';

/** Pages of emulators that do not list their own (`Emulator.pages`). */
const KNOWN_PAGES: Record<string, ReadonlyArray<{ title: string; path: string }>> = {
  telegram: [{ title: 'operator alerts (Telegram inbox)', path: '/telegram/inbox' }],
  yookassa: [{ title: 'payment page (Beem opens it when you buy credits)', path: '/yookassa/checkout/<payment id>' }],
  oidc: [{ title: 'sign-in form (Beem opens it at sign-in)', path: '/oidc/authorize' }],
};

/** Human-readable lines about a running sandbox: each emulator's base URL and its pages. */
export function describeSandbox(sandbox: Sandbox): string[] {
  const lines: string[] = [];
  for (const [name, emulator] of sandbox.emulators) {
    lines.push(`${name.padEnd(9)} ${sandbox.url}${emulator.prefix}`);
    for (const page of emulator.pages ?? KNOWN_PAGES[name] ?? []) lines.push(`${''.padEnd(9)}   ${page.title}: ${sandbox.url}${page.path}`);
  }
  lines.push(`${'control'.padEnd(9)} ${sandbox.url}/_sandbox/state (state), POST /_sandbox/<name>/faults (faults)`);
  return lines;
}
