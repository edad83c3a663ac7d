import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { PRIORITY_TIERS, type PriorityTier } from '../../core/resources.ts';

/** Jobs per tier: waiting (visible) plus in flight (received, not yet deleted). */
export type TierDepth = Record<PriorityTier, number>;

/** Where the supervisor reads the depth from; injectable so a test can hold a backlog steady. */
export type DepthSource = (signal: AbortSignal) => Promise<TierDepth>;

/** Reads every tier queue's ApproximateNumberOfMessages + ApproximateNumberOfMessagesNotVisible at once. */
export function sqsDepthSource(sqs: SQSClient, queueUrls: Record<PriorityTier, string>): DepthSource {
  return async (signal) => {
    const counts = await Promise.all(
      PRIORITY_TIERS.map(async (tier) => {
        const { Attributes = {} } = await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: queueUrls[tier],
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
          { abortSignal: signal },
        );
        return [tier, Number(Attributes.ApproximateNumberOfMessages ?? 0) + Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0)];
      }),
    );
    return Object.fromEntries(counts) as TierDepth;
  };
}

export function totalDepth(depth: TierDepth): number {
  return PRIORITY_TIERS.reduce((sum, tier) => sum + depth[tier], 0);
}
