/**
 * Tells a webhook what a run is doing: a Slack-compatible `{"text": ...}` or the event as JSON.
 * `${GAMEDAY_SECRET_*}` in the URL is filled in here, from the worker's environment; no error message
 * carries the URL: only the webhook's number and host reach the journal.
 */
import type { WebhookPlan } from '../src/experiment/plan';
import type { NotifyEvent } from '../src/experiment/schema';
import {
  filledIn,
  fillInSecrets,
  withoutSecrets,
  withoutSecretValues,
} from '../src/experiment/worker-secrets';
import { describeFetchError } from '../src/providers/probes/http';

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
  const url = fillInSecrets(webhook.url, `webhook ${index + 1}`);
  // The host as written: a secret filled into it must not reach the journal through an error.
  const where = `webhook ${index + 1} (${webhookHost(webhook.url)})`;
  const refused = refusedUrl(url);
  if (refused) throw new Error(`${where}: its URL${filledIn(webhook.url)} ${refused}`);
  const body =
    webhook.format === 'slack'
      ? {
          text: slackEscape(
            `gameday ${notification.experiment} [${notification.runId}]: ${notification.summary}`,
          ),
        }
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
    throw new Error(`${where}: ${withoutSecretValues(describeFetchError(error), [webhook.url])}`);
  }
  if (!response.ok) throw new Error(`${where}: answered ${response.status}`);
  return { status: response.status };
}

/**
 * Why fetch would refuse the URL once its secrets are in, said here so that no parser's message,
 * which quotes the URL as it parsed it, reaches the journal.
 */
function refusedUrl(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a valid URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'is not an http:// or https:// URL';
  if (parsed.username || parsed.password) return 'holds a user:password@, which is not sent';
  return null;
}

/** Where a webhook is, without its path and query (which is where secrets live). */
export function webhookHost(url: string): string {
  try {
    return new URL(withoutSecrets(url)).host;
  } catch {
    return 'an invalid URL';
  }
}

/** Slack reads <...> as links and mentions: text from a journal must not ping a channel. */
function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
