/**
 * Tells a webhook what a run is doing: a Slack-compatible `{"text": ...}` or the event as JSON.
 * `${VAR}` in the URL is filled in here, from the worker's environment, and no error message
 * carries the URL: only the webhook's number and host reach the journal.
 */
import type { WebhookPlan } from '../src/experiment/plan';
import type { NotifyEvent } from '../src/experiment/schema';
import { describeFetchError } from './probes/http';

export interface Notification {
  event: NotifyEvent;
  runId: string;
  experiment: string;
  at: number;
  /** One line a person reads in a chat. */
  summary: string;
  phase?: string;
  verdict?: string;
  reason?: string;
}

const TIMEOUT_MS = 5_000;

export async function sendNotification(input: {
  webhook: WebhookPlan;
  index: number;
  notification: Notification;
}): Promise<{ status: number }> {
  const { webhook, index, notification } = input;
  const url = fillIn(webhook.url, index);
  const where = `webhook ${index + 1} (${new URL(url).host})`;
  const body =
    webhook.format === 'slack'
      ? { text: `gameday ${notification.experiment} [${notification.runId}]: ${notification.summary}` }
      : notification;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await response.arrayBuffer();
  } catch (error) {
    throw new Error(`${where}: ${describeFetchError(error)}`);
  }
  if (!response.ok) throw new Error(`${where}: answered ${response.status}`);
  return { status: response.status };
}

/** Where a webhook is, without its path and query (which is where secrets live): for the journal. */
export function webhookHost(url: string): string {
  try {
    return new URL(url.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*\}/g, 'x')).host;
  } catch {
    return 'an invalid URL';
  }
}

function fillIn(url: string, index: number): string {
  return url.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, variable: string) => {
    const value = process.env[variable];
    if (value === undefined)
      throw new Error(`webhook ${index + 1} needs the environment variable ${variable}, which is not set`);
    return value;
  });
}
