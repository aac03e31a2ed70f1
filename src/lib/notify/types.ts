/**
 * Operator alerts (DESIGN.md §6, spec "Системы Уведомлений"). Callers never await
 * delivery and never see a failure: `alert` returns at once.
 */
/** Append-only: stored alerts keep their stage, and the alert log must still read them. */
export const ALERT_STAGES = [
  'GPT_ENHANCE_TEMPLATE',
  'GPT_ENHANCE_PROMPT',
  'GPT_CAMERA_COMPILER',
  'TEMPLATE_ROUTER',
  'MINIMAX_CALL',
  'MINIMAX_CALLBACK',
  'VIDEO_DOWNLOAD',
  'MINIMAX_GENERATION',
  'QUEUE_PROCESSOR',
  'STUCK_GENERATION',
  'PAYMENT',
  'TEST_ALERT',
] as const;
export type AlertStage = (typeof ALERT_STAGES)[number];

export interface Alert {
  stage: AlertStage;
  error: string;
  userId?: string | null;
  generationId?: string | null;
}

export interface Notifier {
  alert(alert: Alert): void;
  /** Resolves when queued deliveries are done (shutdown, tests). */
  flush(): Promise<void>;
}
