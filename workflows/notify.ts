/**
 * Tells the run's webhooks what is happening, in order, without ever holding the run up: each
 * notification is queued behind the previous one and the workflow does not wait for the queue
 * until the very end. A webhook that keeps failing is written in the journal and forgotten.
 */
import { CancellationScope, sleep } from '@temporalio/workflow';
import type { Notification } from '../activities/notify';
import type { NotifyEvent } from '../src/experiment/schema';
import { activities } from './proxies';
import { messageOf, type RunState } from './run-state';

export class Notifier {
  /** One queue per webhook: each hears events in order, and a dead one holds back no other. */
  private readonly queues = new Map<number, Promise<void>>();

  constructor(private readonly run: RunState) {}

  send(event: NotifyEvent, details: Pick<Notification, 'summary' | 'phase' | 'verdict' | 'reason'>): void {
    const { plan } = this.run;
    const notification: Notification = {
      event,
      runId: plan.runId,
      experiment: plan.experiment.name,
      at: Date.now(),
      ...details,
    };
    for (const [index, webhook] of (plan.notify ?? []).entries()) {
      if (!webhook.events.includes(event)) continue;
      // Not cancellable: an abort must not stop the very message that says the run aborted.
      const queue = this.queues.get(index) ?? Promise.resolve();
      const next = queue.then(() =>
        CancellationScope.nonCancellable(() =>
          activities.sendNotification({ webhook, index, notification }),
        ).then(
          () => this.run.log('notify.sent', `${event} to webhook ${index + 1}`),
          (error) => this.run.log('notify.failed', `${event} to webhook ${index + 1}: ${messageOf(error)}`),
        ),
      );
      this.queues.set(index, next);
    }
  }

  /**
   * Every queued notification sent or given up on, or the grace time over (the journal then
   * says some were still pending). Without webhooks, nothing to wait for and no timer.
   */
  async drained(graceMs: number): Promise<void> {
    if (this.queues.size === 0) return;
    const all = Promise.all(this.queues.values()).then(() => true);
    if (!(await Promise.race([all, sleep(graceMs).then(() => false)])))
      this.run.log('notify.pending', `some webhooks were still being retried after ${graceMs}ms`);
  }
}
