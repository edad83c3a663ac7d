#!/usr/bin/env bash
# LocalStack "ready" hook: creates the resources reelay needs, exactly as
# infra/provision.ts does, for people who use this LocalStack with other tools
# (the AWS CLI, Terraform, a test suite) before or without reelay's own code.
#
# reelay itself does not need this hook: `AWS_ENDPOINT_URL=http://localhost:4566 npm start`
# skips the embedded emulator and runs the Node provisioning (infra/provision.ts)
# against the endpoint anyway; both converge to the same buckets, queues,
# attributes, topics and subscriptions, and both are idempotent.
#
# Settings, with the same names and defaults as core/config.ts:
#   REELAY_PREFIX (reelay), REELAY_MAX_ATTEMPTS (3), REELAY_VISIBILITY_TIMEOUT_SECONDS (60),
#   AWS_DEFAULT_REGION / AWS_REGION (us-east-1).
# Keep this file in step with infra/provision.ts when that changes.
set -euo pipefail

prefix="${REELAY_PREFIX:-reelay}"
max_attempts="${REELAY_MAX_ATTEMPTS:-3}"
visibility_timeout="${REELAY_VISIBILITY_TIMEOUT_SECONDS:-60}"
redrive_slack=5                  # REDRIVE_SLACK in infra/provision.ts
fourteen_days=$((14 * 24 * 3600))
subscriber_visibility_timeout=30 # ensureSubscriberQueue's default
subscriber_max_receive_count=5
# Every subscription carries this filter policy (EVENT_TYPES in core/events.ts).
filter_policy='{"type":["video.queued","video.processing","video.ready","video.failed","live.started","live.ended"]}'

# LocalStack 4 gives init hooks no credentials; use the ones reelay uses locally
# (test/test), so the resources land in the same account (000000000000).
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-${AWS_REGION:-us-east-1}}"
region="$AWS_DEFAULT_REGION"

fail() { echo "reelay provision: $*" >&2; exit 1; }
log() { echo "reelay provision: $*" >&2; }

[[ "$prefix" =~ ^[a-z0-9][a-z0-9-]{0,39}$ ]] ||
  fail "REELAY_PREFIX=\"$prefix\" is invalid: expected lowercase letters, digits and dashes, at most 40 characters"
[[ "$max_attempts" =~ ^[0-9]+$ ]] || fail "REELAY_MAX_ATTEMPTS=\"$max_attempts\" is invalid: expected a whole number"
[[ "$visibility_timeout" =~ ^[0-9]+$ ]] ||
  fail "REELAY_VISIBILITY_TIMEOUT_SECONDS=\"$visibility_timeout\" is invalid: expected a whole number"
max_receive_count=$((max_attempts + redrive_slack))

# A JSON string literal (our values hold no control characters).
json_str() {
  local s=${1//\\/\\\\}
  printf '"%s"' "${s//\"/\\\"}"
}

ensure_bucket() {
  local bucket=$1
  if awslocal s3api head-bucket --bucket "$bucket" >/dev/null 2>&1; then
    log "existing bucket $bucket"
  elif [[ "$region" == us-east-1 ]]; then
    awslocal s3api create-bucket --bucket "$bucket" >/dev/null && log "created bucket $bucket"
  else
    awslocal s3api create-bucket --bucket "$bucket" \
      --create-bucket-configuration "LocationConstraint=$region" >/dev/null && log "created bucket $bucket"
  fi
}

# Prints the URL of the queue, creating it (with default attributes) when missing.
ensure_queue() {
  local name=$1 url
  if url=$(awslocal sqs get-queue-url --queue-name "$name" --query QueueUrl --output text 2>/dev/null); then
    log "existing queue $name"
  else
    url=$(awslocal sqs create-queue --queue-name "$name" --query QueueUrl --output text)
    log "created queue $name"
  fi
  echo "$url"
}

queue_arn() {
  awslocal sqs get-queue-attributes --queue-url "$1" --attribute-names QueueArn --query Attributes.QueueArn --output text
}

# set_attributes URL JSON: setting the values a queue already has changes nothing.
set_attributes() {
  awslocal sqs set-queue-attributes --queue-url "$1" --attributes "$2"
}

# The same JSON text infra/provision.ts writes, so both sides see equal attributes.
redrive_policy() { # DLQ_ARN MAX_RECEIVE_COUNT
  printf '{"deadLetterTargetArn":"%s","maxReceiveCount":"%s"}' "$1" "$2"
}

ensure_topic() { # prints the topic ARN; CreateTopic returns the existing one when it exists
  local arn
  arn=$(awslocal sns create-topic --name "$1" --query TopicArn --output text)
  log "topic $1"
  echo "$arn"
}

ensure_subscription() { # TOPIC_ARN QUEUE_ARN; then sets the filter policy
  local sub
  sub=$(awslocal sns list-subscriptions-by-topic --topic-arn "$1" \
    --query "Subscriptions[?Protocol=='sqs' && Endpoint=='$2'] | [0].SubscriptionArn" --output text)
  if [[ -n "$sub" && "$sub" != None ]]; then
    log "existing subscription ${2##*:} <- ${1##*:}"
  else
    sub=$(awslocal sns subscribe --topic-arn "$1" --protocol sqs --notification-endpoint "$2" \
      --return-subscription-arn --query SubscriptionArn --output text)
    log "created subscription ${2##*:} <- ${1##*:}"
  fi
  awslocal sns set-subscription-attributes --subscription-arn "$sub" \
    --attribute-name FilterPolicy --attribute-value "$filter_policy"
}

# Buckets: uploads, and renditions/thumbnails/status documents.
ensure_bucket "$prefix-raw"
ensure_bucket "$prefix-media"
# As infra/provision.ts: incomplete multipart uploads are aborted after a day.
for bucket in "$prefix-raw" "$prefix-media"; do
  awslocal s3api put-bucket-lifecycle-configuration --bucket "$bucket" --lifecycle-configuration \
    '{"Rules":[{"ID":"reelay-abort-incomplete-multipart-uploads","Status":"Enabled","Filter":{"Prefix":""},"AbortIncompleteMultipartUpload":{"DaysAfterInitiation":1}}]}' >/dev/null
done

# Transcode queues, one per priority tier, each with its dead-letter queue.
for tier in high normal low; do
  dlq_url=$(ensure_queue "$prefix-transcode-$tier-dlq")
  set_attributes "$dlq_url" "{\"MessageRetentionPeriod\":\"$fourteen_days\"}"
  dlq_arn=$(queue_arn "$dlq_url")
  url=$(ensure_queue "$prefix-transcode-$tier")
  redrive=$(json_str "$(redrive_policy "$dlq_arn" "$max_receive_count")")
  set_attributes "$url" "{\"VisibilityTimeout\":\"$visibility_timeout\",\"MessageRetentionPeriod\":\"$fourteen_days\",\"RedrivePolicy\":$redrive}"
done

# Event topics.
video_topic_arn=$(ensure_topic "$prefix-video-events")
live_topic_arn=$(ensure_topic "$prefix-live-events")

# A subscriber's queue (with its DLQ), subscribed to both topics, and the queue
# policy that lets exactly those topics deliver to it (real SNS needs it).
ensure_subscriber_queue() { # NAME
  local dlq_url dlq_arn url arn policy redrive
  dlq_url=$(ensure_queue "$1-dlq")
  set_attributes "$dlq_url" "{\"MessageRetentionPeriod\":\"$fourteen_days\"}"
  dlq_arn=$(queue_arn "$dlq_url")
  url=$(ensure_queue "$1")
  arn=$(queue_arn "$url")
  policy=$(printf '{"Version":"2012-10-17","Statement":[{"Sid":"reelay-sns-delivery","Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"%s","Condition":{"ArnEquals":{"aws:SourceArn":["%s","%s"]}}}]}' \
    "$arn" "$video_topic_arn" "$live_topic_arn")
  redrive=$(json_str "$(redrive_policy "$dlq_arn" "$subscriber_max_receive_count")")
  policy=$(json_str "$policy")
  set_attributes "$url" "{\"VisibilityTimeout\":\"$subscriber_visibility_timeout\",\"RedrivePolicy\":$redrive,\"Policy\":$policy}"
  ensure_subscription "$video_topic_arn" "$arn"
  ensure_subscription "$live_topic_arn" "$arn"
}
ensure_subscriber_queue "$prefix-notifier"
ensure_subscriber_queue "$prefix-webhooks"

# Webhook deliveries: one message per (event, endpoint); SQS redrive after 30
# receives is a backstop beyond the dispatcher's own attempt limit.
dlq_url=$(ensure_queue "$prefix-webhook-deliveries-dlq")
set_attributes "$dlq_url" "{\"MessageRetentionPeriod\":\"$fourteen_days\"}"
url=$(ensure_queue "$prefix-webhook-deliveries")
redrive=$(json_str "$(redrive_policy "$(queue_arn "$dlq_url")" 30)")
set_attributes "$url" "{\"VisibilityTimeout\":\"90\",\"MessageRetentionPeriod\":\"$fourteen_days\",\"RedrivePolicy\":$redrive}"

log "resources for prefix \"$prefix\" are ready in $region"
