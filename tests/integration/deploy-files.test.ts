import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/lib/config.ts';
import { tempDir } from '../helpers/app.ts';

/**
 * The files in deploy/ are checked by the tools that will read them: `nginx -t` on the site
 * (wrapped in a minimal main config, with a throwaway certificate in place of Let's Encrypt's)
 * and `systemd-analyze verify` on the unit. A missing tool fails the test and says how to
 * install it (.ci/run does); BEEM_SKIP_DEPLOY_CHECKS=1 leaves the checks out on purpose.
 */

const skip = process.env.BEEM_SKIP_DEPLOY_CHECKS === '1';

function requireTool(name: string, apt: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  if (!found) {
    throw new Error(
      `This check needs \`${name}\`, and it is not installed.\n` +
        `  Install it:  sudo apt-get install -y ${apt}   (Debian/Ubuntu; .ci/run does this)\n` +
        '  or leave the deploy checks out on purpose:  BEEM_SKIP_DEPLOY_CHECKS=1 npm test',
    );
  }
  return found;
}

function run(command: string, args: string[]): { code: number; output: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 20_000 });
  return { code: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
}

function nginxTest(site: string): { code: number; output: string; version: string } {
  const nginx = requireTool('nginx', 'nginx');
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'site.conf'), site);
  // What /etc/nginx/nginx.conf provides around a site file, with every path in the temp dir.
  fs.writeFileSync(
    path.join(dir, 'nginx.conf'),
    [
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log;`,
      'events {}',
      'http {',
      '  access_log off;',
      `  client_body_temp_path ${dir}/body;`,
      `  proxy_temp_path ${dir}/proxy;`,
      `  include ${dir}/site.conf;`,
      '}',
    ].join('\n'),
  );
  const version = run(nginx, ['-v']).output.trim();
  return { ...run(nginx, ['-t', '-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')]), version };
}

function verifyUnit(unitFile: string, as: string): void {
  const analyze = requireTool('systemd-analyze', 'systemd');
  const dir = tempDir();
  let unit = fs.readFileSync(unitFile, 'utf8');
  // verify insists that ExecStart's binary exists; a machine without Node at /usr/bin/node
  // (nvm, this test's own Node) checks the rest of the unit against the Node running the test.
  if (!fs.existsSync('/usr/bin/node')) unit = unit.replace('ExecStart=/usr/bin/node', `ExecStart=${process.execPath}`);
  const file = path.join(dir, as);
  fs.writeFileSync(file, unit);
  const result = run(analyze, ['verify', file]);
  // Warnings about the machine (no systemd running in a container) are not about the unit.
  const aboutUnit = result.output.split('\n').filter((line) => line.includes(as));
  expect(aboutUnit, result.output).toEqual([]);
  expect(result.code, result.output).toBe(0);
}

describe.skipIf(skip)('deploy files', () => {
  it('deploy/nginx.conf passes `nginx -t` on the nginx Debian and Ubuntu LTS ship', () => {
    requireTool('openssl', 'openssl');
    const dir = tempDir();
    const cert = path.join(dir, 'fullchain.pem');
    const key = path.join(dir, 'privkey.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=beem.example.ru'], {
      stdio: 'ignore',
    });
    const site = fs
      .readFileSync('deploy/nginx.conf', 'utf8')
      .replaceAll('/etc/letsencrypt/live/beem.example.ru/fullchain.pem', cert)
      .replaceAll('/etc/letsencrypt/live/beem.example.ru/privkey.pem', key);
    expect(site).toContain(cert);
    const result = nginxTest(site);
    expect(result.output, result.version).toContain('test is successful');
    expect(result.code, result.output).toBe(0);
  });

  it('deploy/compose/nginx.conf passes `nginx -t` and spreads over exactly the web services of compose.yaml', () => {
    const site = fs.readFileSync('deploy/compose/nginx.conf', 'utf8');
    const upstream = [...site.matchAll(/^\s*server\s+([\w-]+):3000\b/gm)].map((m) => m[1]);
    const compose = readCompose();
    const webs = Object.entries(compose.services)
      .filter(([, service]) => service.environment?.BEEM_ROLE === 'web')
      .map(([name]) => name);
    expect(upstream.sort()).toEqual(webs.sort());
    expect(webs.length).toBeGreaterThanOrEqual(2);
    // The compose service names resolve only inside compose's network: loopback stands in for them.
    const result = nginxTest(site.replace(/^(\s*server\s+)[\w-]+:3000/gm, (_m, lead: string) => `${lead}127.0.0.1:3000`));
    expect(result.output, result.version).toContain('test is successful');
    expect(result.code, result.output).toBe(0);
  });

  it('deploy/beem.service passes `systemd-analyze verify`', () => {
    verifyUnit('deploy/beem.service', 'beem.service');
  });

  it('the role units (beem-web@, beem-worker@) pass `systemd-analyze verify` as instances and set their role', () => {
    verifyUnit('deploy/beem-web@.service', 'beem-web@3001.service');
    verifyUnit('deploy/beem-worker@.service', 'beem-worker@3101.service');
    expect(fs.readFileSync('deploy/beem-web@.service', 'utf8')).toMatch(/^Environment=BEEM_ROLE=web$/m);
    expect(fs.readFileSync('deploy/beem-worker@.service', 'utf8')).toMatch(/^Environment=BEEM_ROLE=worker$/m);
  });
});

interface ComposeService {
  build?: unknown;
  image?: string;
  environment?: Record<string, string>;
  env_file?: string;
}

function readCompose(): { services: Record<string, ComposeService> } {
  return parseYaml(fs.readFileSync('deploy/compose.yaml', 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };
}

/** KEY=value lines of an env file (comments and blank lines left out; a trailing comment cut). */
function readEnvFile(file: string): Record<string, string> {
  const entries = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const);
  return Object.fromEntries(entries);
}

/**
 * The compose file cannot be started here (no image registry), so what can go wrong in it
 * without docker is checked: every Beem process it declares starts from a configuration Beem
 * accepts, with the role, engine and store it claims.
 */
describe('deploy/compose.yaml', () => {
  const compose = readCompose();
  const beems = Object.entries(compose.services).filter(([, service]) => service.build !== undefined);
  const known = new Set(Object.keys(readEnvFile('.env.example')));
  // The operator copies the example next to it (compose.yaml names the copy).
  const shopFile = path.join('deploy', `${String(beems[0]?.[1].env_file)}.example`);

  it('declares two web processes and a worker, each the same image with its role', () => {
    const roles = beems.map(([, service]) => service.environment?.BEEM_ROLE).sort();
    expect(roles).toEqual(['web', 'web', 'worker']);
  });

  it('sets only variables Beem knows, in compose.yaml and in the shop file it points to', () => {
    for (const [name, service] of beems) {
      const unknown = Object.keys(service.environment ?? {}).filter((key) => !known.has(key));
      expect(unknown, name).toEqual([]);
    }
    expect(Object.keys(readEnvFile(shopFile)).filter((key) => !known.has(key))).toEqual([]);
  });

  it.each(beems.map(([name]) => name))('%s starts from a configuration Beem accepts: production, PostgreSQL, S3, its role', (name) => {
    const service = compose.services[name]!;
    // The values an operator fills in: compose's ${VAR:?…} from the shell, the shop file's empty keys.
    const filled = (value: string) => value.replace(/\$\{[A-Z_]+:\?[^}]*\}/g, 'a-secret-of-the-operator-32-characters');
    const shop = Object.fromEntries(Object.entries(readEnvFile(shopFile)).map(([key, value]) => [key, value || `${key.toLowerCase()}-of-the-shop-32-characters-long`]));
    shop.TELEGRAM_CHAT_ID = '432400514';
    const env = { ...shop, ...Object.fromEntries(Object.entries(service.environment ?? {}).map(([key, value]) => [key, filled(String(value))])) };
    const { config } = loadConfig(env);
    expect(config.env).toBe('production');
    expect(config.database.kind).toBe('postgres');
    expect(config.storage.backend).toBe('s3');
    expect(config.role).toBe(service.environment?.BEEM_ROLE);
  });
});
