import type { CameraCommand } from './camera-commands.ts';

/**
 * The 15 camera commands as the seller picks them: grouped by what the camera does, each
 * with a message key for its name and one-line description (src/lib/i18n/messages/prompt.ts).
 * Plain data, so the browser's chip editor imports it too.
 */

export const CAMERA_GROUPS = [
  { id: 'move', commands: ['Push in', 'Pull out', 'Truck left', 'Truck right', 'Pedestal up', 'Pedestal down', 'Tracking shot'] },
  { id: 'turn', commands: ['Pan left', 'Pan right', 'Tilt up', 'Tilt down'] },
  { id: 'zoom', commands: ['Zoom in', 'Zoom out'] },
  { id: 'style', commands: ['Shake', 'Static shot'] },
] as const satisfies ReadonlyArray<{ id: string; commands: readonly CameraCommand[] }>;

/** `Push in` → `push-in`: the command's part of its message keys and test ids. */
export function cameraSlug(command: CameraCommand): string {
  return command.toLowerCase().replace(/\s+/g, '-');
}

export const cameraNameKey = (command: CameraCommand) => `ui.camera.cmd.${cameraSlug(command)}`;
export const cameraHintKey = (command: CameraCommand) => `ui.camera.cmd.${cameraSlug(command)}.hint`;
export const cameraGroupKey = (group: string) => `ui.camera.group.${group}`;
