/**
 * A statement on the outer handle, issued from inside an open transaction's async context, is
 * one of two things: work the transaction started without awaiting it (an alert, a wake-up —
 * it may run once the transaction ends), or a transaction body that was handed `db` instead of
 * `tx` (the transaction waits for that statement, so it would never end). Both drivers wait a
 * moment for the transaction to end and then name the mistake, instead of hanging forever or
 * refusing background work.
 */
export const OWN_TRANSACTION_WAIT_MS = 1_000;

export const OUTER_HANDLE_INSIDE_TRANSACTION =
  'a statement inside a transaction used the outer database handle: pass the transaction (`tx`) down instead';

/** Resolves when `ended` does within the wait; throws the explanatory error otherwise. */
export async function waitForOwnTransaction(ended: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const finished = await Promise.race([
    ended.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), OWN_TRANSACTION_WAIT_MS);
    }),
  ]);
  clearTimeout(timer);
  if (!finished) throw new Error(OUTER_HANDLE_INSIDE_TRANSACTION);
}
