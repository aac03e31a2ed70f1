import { isExportFit, isExportTarget, type ExportTargetId } from '../lib/video/formats.ts';
import type { Translator } from './translator.ts';

/**
 * «Скачать для…»: asks for the export (202 + Retry-After while the server makes it), then
 * downloads the file. Several clicks on one target ask once; the server joins concurrent
 * requests anyway.
 */

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

/** The export's address: `/api/video/<id>/export/<target>[/cover.jpg]?fit=`. */
export function exportUrl(generationId: string, target: ExportTargetId, kind: 'video' | 'cover', fit: string): string {
  return `/api/video/${encodeURIComponent(generationId)}/export/${target}${kind === 'cover' ? '/cover.jpg' : ''}?fit=${encodeURIComponent(fit)}`;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const MAX_WAIT_MS = 10 * 60_000;

export function startExportMenu(tr: Translator): { show(generationId: string): void } {
  const menu = document.getElementById('export-menu');
  let generationId: string | null = null;
  const busy = new Set<string>();

  function status(text: string): void {
    $('export-status').textContent = text;
  }

  function error(text: string | null): void {
    $('export-error').hidden = text === null;
    $('export-error').textContent = text ?? '';
  }

  async function fetchWhenMade(url: string): Promise<void> {
    // The server stops an export after EXPORT_TIMEOUT_MS and says so; this bound is only for a
    // server that never answers anything but 202.
    const giveUpAt = Date.now() + MAX_WAIT_MS;
    for (;;) {
      if (Date.now() > giveUpAt) throw new Error(tr.t('ui.video.exportFailed'));
      const response = await fetch(url, { method: 'HEAD', credentials: 'same-origin', cache: 'no-store' });
      if (response.status === 202) {
        await pause(Math.min(10, Number(response.headers.get('retry-after')) || 2) * 1000);
        continue;
      }
      if (response.ok) return;
      // HEAD has no body: ask once more with GET for the sentence to show.
      const body = (await (await fetch(url, { credentials: 'same-origin', cache: 'no-store' })).json().catch(() => ({}))) as { error?: string };
      throw new Error(body.error ?? tr.t('ui.video.exportFailed'));
    }
  }

  async function download(target: ExportTargetId, kind: 'video' | 'cover'): Promise<void> {
    if (!generationId) return;
    const fitValue = (document.querySelector<HTMLInputElement>('input[name="export-fit"]:checked')?.value ?? 'blur');
    const fit = isExportFit(fitValue) ? fitValue : 'blur';
    const url = exportUrl(generationId, target, kind, fit);
    if (busy.has(url)) return;
    busy.add(url);
    const name = kind === 'cover' ? `${tr.t(`ui.video.target.${target}`)} · ${tr.t('ui.video.cover')}` : tr.t(`ui.video.target.${target}`);
    error(null);
    status(tr.t('ui.video.preparing', { target: name }));
    try {
      await fetchWhenMade(url);
      const link = document.createElement('a');
      link.href = `${url}&download=1`;
      link.download = '';
      document.body.append(link);
      link.click();
      link.remove();
      status(tr.t('ui.video.downloaded', { target: name }));
    } catch (err) {
      status('');
      error(err instanceof TypeError ? tr.t('ui.app.networkError') : (err as Error).message);
    } finally {
      busy.delete(url);
    }
  }

  menu?.addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>('[data-export]');
    const target = button?.dataset.export;
    if (!button || !isExportTarget(target)) return;
    void download(target, button.dataset.kind === 'cover' ? 'cover' : 'video');
  });

  return {
    show(id) {
      if (id !== generationId) {
        status('');
        error(null);
      }
      generationId = id;
    },
  };
}
