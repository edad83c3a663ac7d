import { ChangeMessageVisibilityCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '../../core/logger.ts';
import { PRIORITY_TIERS, type PriorityTier } from '../../core/resources.ts';

/**
 * Visibility given to a message handed back. Not 0: fauxqs 2.4.1 with SQLite
 * persistence fails `ChangeMessageVisibility(0)` with a NOT NULL constraint
 * error after taking the message out of flight, and the message vanishes until
 * the emulator restarts. One second costs little and works everywhere.
 */
export const HAND_BACK_VISIBILITY_SECONDS = 1;

export interface ReceivedMessage {
  tier: PriorityTier;
  queueUrl: string;
  message: Message;
  /** SQS ApproximateReceiveCount: how many times this message was handed out. */
  receiveCount: number;
}

export interface TierPollerOptions {
  sqs: SQSClient;
  queueUrls: Record<PriorityTier, string>;
  /** Long-poll wait, seconds (0–20). */
  waitSeconds: number;
  /** Visibility given to a received message, seconds. */
  visibilityTimeoutSeconds: number;
  /** One poll cycle in N starts from the lowest tier, so a busy high tier cannot starve the others. */
  fairnessEvery: number;
  logger: Logger;
}

/**
 * Receives one job at a time, highest tier first.
 *
 * Rule: for each job the tiers are asked in order with an immediate (0 s)
 * receive and the first message found is taken. For every `fairnessEvery`-th
 * job the order is reversed (low, normal, high), so while higher tiers stay
 * busy a lower tier still gets at least one job in N. When all tiers are empty, one long poll per
 * tier waits at once (no sleeps, no gaps); the first message wins, and a
 * message that another tier's poll returns after that is handed back at once
 * (visibility ~0) for the next cycle or another worker.
 */
export class TierPoller {
  private readonly opts: TierPollerOptions;
  private cycle = 0;
  private readonly pending = new Map<PriorityTier, Promise<void>>();
  /** Set while `next()` waits on the long polls: the first message found goes to it. */
  private waiter: ((got: ReceivedMessage | undefined) => void) | undefined;
  private onSettled: (() => void) | undefined;
  /** The highest-tier message handed back while busy, and when it becomes visible again. */
  private handedBack: { tier: PriorityTier; visibleAt: number } | undefined;

  constructor(opts: TierPollerOptions) {
    this.opts = opts;
  }

  /** The order of this cycle; exposed for tests of the fairness rule. */
  orderFor(cycle: number): PriorityTier[] {
    const order = [...PRIORITY_TIERS];
    return cycle % this.opts.fairnessEvery === this.opts.fairnessEvery - 1 ? order.reverse() : order;
  }

  /** Resolves with the next job, or undefined when `signal` aborts. */
  async next(signal: AbortSignal): Promise<ReceivedMessage | undefined> {
    const reclaimed = await this.reclaimHandedBack(signal);
    if (reclaimed) return this.took(reclaimed);
    while (!signal.aborted) {
      for (const tier of this.orderFor(this.cycle)) {
        if (signal.aborted) return undefined;
        const got = await this.receive(tier, 0, signal);
        if (got) return this.took(got);
      }
      if (this.opts.waitSeconds === 0) {
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      const got = await this.longPollAll(signal);
      if (got) return this.took(got);
    }
    return undefined;
  }

  /**
   * A message a stale long poll received while this worker was busy was handed back and is
   * invisible for a moment: a lower tier must not overtake it meanwhile. Ask the tiers above
   * it first, then wait on its tier until it is visible again (or another worker took it).
   */
  private async reclaimHandedBack(signal: AbortSignal): Promise<ReceivedMessage | undefined> {
    const handedBack = this.handedBack;
    this.handedBack = undefined;
    if (!handedBack || signal.aborted) return undefined;
    const remainingMs = handedBack.visibleAt + 500 - Date.now();
    if (remainingMs <= 0) return undefined;
    for (const tier of PRIORITY_TIERS.slice(0, PRIORITY_TIERS.indexOf(handedBack.tier))) {
      const got = await this.receive(tier, 0, signal);
      if (got) return got;
    }
    return this.receive(handedBack.tier, Math.min(20, Math.max(1, Math.ceil(remainingMs / 1000))), signal);
  }

  /** Cycles count jobs taken, not idle polls: the Nth job, not the Nth second, comes from the bottom. */
  private took(got: ReceivedMessage): ReceivedMessage {
    this.cycle++;
    return got;
  }

  /**
   * Waits for long polls still in flight (at most the poll wait) and hands back
   * whatever they return. Long polls are not aborted: an aborted long poll may
   * still take a message server-side, hiding it for a whole visibility timeout.
   */
  async close(): Promise<void> {
    await Promise.allSettled([...this.pending.values()]);
  }

  private longPollAll(signal: AbortSignal): Promise<ReceivedMessage | undefined> {
    for (const tier of PRIORITY_TIERS) this.startLongPoll(tier, signal);
    return new Promise((resolve) => {
      const finish = (got: ReceivedMessage | undefined) => {
        this.waiter = undefined;
        this.onSettled = undefined;
        signal.removeEventListener('abort', onAbort);
        resolve(got);
      };
      const onAbort = () => finish(undefined);
      this.waiter = finish;
      // All polls came back empty: start a new cycle.
      this.onSettled = () => {
        if (this.pending.size === 0) finish(undefined);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * One long poll per tier at most. A poll that comes back empty while a caller still waits is
   * started again at once, so no tier goes unwatched until the slowest poll ends.
   */
  private startLongPoll(tier: PriorityTier, signal: AbortSignal): void {
    if (this.pending.has(tier)) return;
    const poll = this.receive(tier, this.opts.waitSeconds, signal).then((got) => {
      this.pending.delete(tier);
      if (got) this.deliver(got);
      else if (this.waiter && !signal.aborted) this.startLongPoll(tier, signal);
      this.onSettled?.();
    });
    this.pending.set(tier, poll);
  }

  /** The first message goes to the waiting caller; any other is handed back at once (visibility ~0). */
  private deliver(got: ReceivedMessage): void {
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      waiter(got);
    } else {
      const visibleAt = Date.now() + HAND_BACK_VISIBILITY_SECONDS * 1000;
      if (!this.handedBack || PRIORITY_TIERS.indexOf(got.tier) < PRIORITY_TIERS.indexOf(this.handedBack.tier)) {
        this.handedBack = { tier: got.tier, visibleAt };
      }
      void this.release(got);
    }
  }

  private async release(got: ReceivedMessage): Promise<void> {
    this.opts.logger.debug(
      { tier: got.tier, messageId: got.message.MessageId, handle: got.message.ReceiptHandle?.slice(0, 8) },
      'handing back',
    );
    try {
      await this.opts.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: got.queueUrl,
          ReceiptHandle: got.message.ReceiptHandle,
          VisibilityTimeout: HAND_BACK_VISIBILITY_SECONDS,
        }),
      );
    } catch (err) {
      this.opts.logger.warn({ err, tier: got.tier }, 'could not hand back a message; it reappears after its visibility timeout');
    }
  }

  private async receive(tier: PriorityTier, waitSeconds: number, signal: AbortSignal): Promise<ReceivedMessage | undefined> {
    const queueUrl = this.opts.queueUrls[tier];
    try {
      const res = await this.opts.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 1,
          WaitTimeSeconds: waitSeconds,
          VisibilityTimeout: this.opts.visibilityTimeoutSeconds,
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
        }),
        waitSeconds === 0 ? { abortSignal: signal } : {},
      );
      const message = res.Messages?.[0];
      if (!message) return undefined;
      this.opts.logger.debug({ tier, messageId: message.MessageId, waitSeconds, handle: message.ReceiptHandle?.slice(0, 8) }, 'received');
      return { tier, queueUrl, message, receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? '1') };
    } catch (err) {
      if (signal.aborted) return undefined;
      this.opts.logger.error({ err, tier }, 'receive failed; retrying in 1s');
      await new Promise((r) => setTimeout(r, 1000));
      return undefined;
    }
  }
}
