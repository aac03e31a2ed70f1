/** Arguments of the operator commands (cli.ts, move.ts). */
export interface Parsed {
  positional: string[];
  options: Record<string, string | true>;
}

/** `a b --reason "text" --free` → positional [a, b], options {reason, free}. */
export function parseArgs(args: string[]): Parsed {
  const positional: string[] = [];
  const options: Record<string, string | true> = {};
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i]!;
    if (arg.startsWith('--')) {
      // Split at the first '=' only: a value may hold more (`--to=postgres://…?sslmode=require`).
      const equals = arg.indexOf('=');
      const name = equals === -1 ? arg.slice(2) : arg.slice(2, equals);
      const inline = equals === -1 ? undefined : arg.slice(equals + 1);
      const next = args[i + 1];
      if (inline !== undefined) options[name] = inline;
      else if (next !== undefined && !next.startsWith('--')) {
        options[name] = next;
        i += 1;
      } else options[name] = true;
    } else {
      positional.push(arg);
    }
  }
  return { positional, options };
}
