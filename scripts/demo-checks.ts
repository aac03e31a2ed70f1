import net from 'node:net';

/**
 * What `npm run demo` checks and says before it announces anything: ports that are taken
 * (and the variable that moves each), what is missing for the real sandbox videos, and how
 * to become an admin in the demo. Kept apart from demo.ts so the wording is tested.
 */

/** Signs in as an admin in the demo (it is put in ADMIN_EMAILS unless the shell sets its own). */
export const DEMO_ADMIN_EMAIL = 'admin@demo.beem.ru';

export interface DemoPort {
  port: number;
  host: string;
  /** The variable that chooses this port. */
  variable: 'PORT' | 'SANDBOX_PORT';
  /** What would listen there, for the message. */
  what: string;
}

/** Null when the port can be listened on now; otherwise the error code (EADDRINUSE, EACCES…). */
export function probePort(port: number, host: string): Promise<string | null> {
  if (port === 0) return Promise.resolve(null);
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'ERROR'));
    probe.listen(port, host, () => probe.close(() => resolve(null)));
  });
}

export function portProblem(port: DemoPort, code: string): string {
  const why = code === 'EADDRINUSE' ? 'is taken (another demo still running, or another program)' : `cannot be used (${code})`;
  return (
    `Port ${port.port} for ${port.what} ${why}.\n` +
    `  Stop the program that uses it, or choose another port: ${port.variable}=${port.port + 1} npm run demo`
  );
}

/** Messages for every port of the list that cannot be listened on, in order. */
export async function findPortProblems(ports: DemoPort[]): Promise<string[]> {
  const problems: string[] = [];
  for (const port of ports) {
    const code = await probePort(port.port, port.host);
    if (code) problems.push(portProblem(port, code));
  }
  return problems;
}

/**
 * What the banner says about ffmpeg: Beem's own (FFMPEG_PATH: posters, marketplace exports) and
 * the sandbox's (videos moving as the prompt says), what is missing without it, and how to get it.
 */
export function ffmpegNote(sandboxFfmpeg: string | null, beemHasFfmpeg = sandboxFfmpeg !== null): string[] {
  if (sandboxFfmpeg && beemHasFfmpeg) {
    return [`Videos: the sandbox renders each one from your photo with ffmpeg (${sandboxFfmpeg}); Beem makes posters and marketplace exports with it.`];
  }
  const lines: string[] = [];
  if (!beemHasFfmpeg) {
    lines.push(
      'WARNING: ffmpeg is not installed (or FFMPEG_PATH names no ffmpeg). Beem serves the videos but',
      'offers no marketplace exports (the «Скачать для…» menu is hidden) and uses the cropped photo as the poster.',
    );
  }
  if (!sandboxFfmpeg) {
    lines.push(`${beemHasFfmpeg ? 'WARNING: ffmpeg is not installed: the' : 'The'} sandbox's videos are a still picture of the photo (right shape and length, no camera motion).`);
  }
  lines.push('Install it and restart the demo:', '  sudo apt-get install -y ffmpeg    (macOS: brew install ffmpeg)');
  return lines;
}

/** How to reach the admin panel in the demo, true to what the demo set up. */
export function adminNote(options: { adminEmails: string; databaseFile: string; publicUrl: string }): string[] {
  return [
    `Admin panel: sign in as ${options.adminEmails.split(',')[0]!.trim()} and open ${options.publicUrl}/admin`,
    `  (ADMIN_EMAILS=${options.adminEmails} in this demo; ADMIN_EMAILS=you@example.ru npm run demo uses yours).`,
    `Operator commands on the demo's database: DATABASE_URL=${options.databaseFile} npm run admin -- admin:list`,
  ];
}
