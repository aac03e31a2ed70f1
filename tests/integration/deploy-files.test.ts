import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
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

describe.skipIf(skip)('deploy files', () => {
  it('deploy/nginx.conf passes `nginx -t` on the nginx Debian and Ubuntu LTS ship', () => {
    const nginx = requireTool('nginx', 'nginx');
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
    const result = run(nginx, ['-t', '-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')]);
    expect(result.output, version).toContain('test is successful');
    expect(result.code, result.output).toBe(0);
  });

  it('deploy/beem.service passes `systemd-analyze verify`', () => {
    const analyze = requireTool('systemd-analyze', 'systemd');
    const dir = tempDir();
    let unit = fs.readFileSync('deploy/beem.service', 'utf8');
    // verify insists that ExecStart's binary exists; a machine without Node at /usr/bin/node
    // (nvm, this test's own Node) checks the rest of the unit against the Node running the test.
    if (!fs.existsSync('/usr/bin/node')) unit = unit.replace('ExecStart=/usr/bin/node', `ExecStart=${process.execPath}`);
    const file = path.join(dir, 'beem.service');
    fs.writeFileSync(file, unit);
    const result = run(analyze, ['verify', file]);
    // Warnings about the machine (no systemd running in a container) are not about the unit.
    const aboutUnit = result.output.split('\n').filter((line) => line.includes('beem.service'));
    expect(aboutUnit, result.output).toEqual([]);
    expect(result.code, result.output).toBe(0);
  });
});
