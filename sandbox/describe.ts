import type { Sandbox } from './index.ts';

/** Human-readable lines about a running sandbox: each emulator's base URL and its pages. */
export function describeSandbox(sandbox: Sandbox): string[] {
  const lines: string[] = [];
  for (const [name, emulator] of sandbox.emulators) {
    lines.push(`${name.padEnd(9)} ${sandbox.url}${emulator.prefix}`);
    for (const page of emulator.pages ?? []) lines.push(`${''.padEnd(9)}   ${page.title}: ${sandbox.url}${page.path}`);
  }
  lines.push(`${'control'.padEnd(9)} ${sandbox.url}/_sandbox/state (state), POST /_sandbox/<name>/faults (faults)`);
  return lines;
}
