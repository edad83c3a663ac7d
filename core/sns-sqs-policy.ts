/** The queue policy that lets exactly these SNS topics deliver to a queue (real SNS needs it; emulators ignore it). */
export function snsToSqsPolicy(queueArn: string, topicArns: string[]): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'reelay-sns-delivery',
        Effect: 'Allow',
        Principal: { Service: 'sns.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queueArn,
        Condition: { ArnEquals: { 'aws:SourceArn': topicArns } },
      },
    ],
  });
}
