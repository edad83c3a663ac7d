import type { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.ts';
import { TierPoller } from './tier-poller.ts';

describe('TierPoller fairness rule', () => {
  const poller = new TierPoller({
    sqs: {} as SQSClient,
    queueUrls: { high: 'h', normal: 'n', low: 'l' },
    waitSeconds: 0,
    visibilityTimeoutSeconds: 30,
    fairnessEvery: 10,
    logger: silentLogger(),
  });

  it('asks high first, except one cycle in N which starts from low', () => {
    const firsts = Array.from({ length: 30 }, (_, cycle) => poller.orderFor(cycle)[0]);
    expect(firsts.filter((t) => t === 'low')).toHaveLength(3);
    expect(firsts.filter((t) => t === 'high')).toHaveLength(27);
    expect(poller.orderFor(9)).toEqual(['low', 'normal', 'high']);
    expect(poller.orderFor(0)).toEqual(['high', 'normal', 'low']);
  });
});
