import type { ApiClient, VideoView } from './client.ts';

/** A finished video in a few lines: its outputs' URLs, or why it failed. */
export function describeOutcome(name: string, video: VideoView, api: ApiClient): string {
  if (video.status === 'failed') return `${name}: failed (${video.error?.code ?? 'failed'}): ${video.error?.message ?? 'no reason given'}`;
  if (video.status !== 'ready') return `${name}: ${video.status} as ${video.id}`;
  const lines = [`${name}: ready as ${video.id}`];
  for (const [output, info] of Object.entries(video.outputs ?? {})) {
    lines.push(
      `  ${output.padEnd(9)} ${String(info.width)}x${String(info.height)}  ${api.url(`/v1/videos/${video.id}/outputs/${output}`)}`,
    );
  }
  for (const skipped of video.skipped ?? []) lines.push(`  ${skipped.name.padEnd(9)} skipped: ${skipped.reason}`);
  return lines.join('\n');
}

/** `reelay status`: one video as a few lines. */
export function describeVideo(video: VideoView, api: ApiClient): string {
  const head = [
    `${video.id}  ${video.status}${video.status === 'processing' && video.progress !== undefined ? ` ${Math.floor(video.progress)}%` : ''}`,
    `  priority  ${video.priority}`,
  ];
  if (video.title) head.push(`  title     ${video.title}`);
  head.push(`  created   ${video.createdAt}`);
  // The outcome's lines under the header: the outputs' URLs, or why it failed.
  if (video.status === 'ready') head.push(...describeOutcome('', video, api).split('\n').slice(1));
  if (video.status === 'failed') head.push(`  error     ${video.error?.code ?? 'failed'}: ${video.error?.message ?? 'no reason given'}`);
  return head.join('\n');
}
