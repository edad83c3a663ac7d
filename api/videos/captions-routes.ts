import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { CAPTION_LIMITS, canonicalLanguage, decodeCaptionBytes, isLanguageTag, languageName, parseCaptions } from '../../core/captions.ts';
import { clientTextProblem } from '../../core/client-text.ts';
import { HttpProblem } from '../../core/errors.ts';
import type { StatusStore } from '../../core/status-store.ts';
import type { CaptionTrack, VideoStatus } from '../../core/video-status.ts';
import type { AppEnv } from '../app-env.ts';
import { badRequest } from '../middleware/problem.ts';
import type { OperationDocs } from '../openapi.ts';
import { durationOf, presentationOf, type CaptionTracks } from './caption-tracks.ts';
import { getOwnedVideo } from './owned-video.ts';
import { videoView } from './video-view.ts';

export interface CaptionRoutesDeps {
  store: StatusStore;
  captions: CaptionTracks;
}

const FORMATS: Record<string, 'vtt' | 'srt'> = { 'text/vtt': 'vtt', 'application/x-subrip': 'srt' };
const MAX_LABEL_LENGTH = 100;

/** `POST|GET /v1/videos/:id/captions` and `DELETE /v1/videos/:id/captions/:captionId` (#24). */
export function captionRoutes({ store, captions }: CaptionRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/:id/captions', async (c) => {
    const doc = await getOwnedVideo(store, c.req.param('id'), c.get('tenant'));
    return c.json({ items: (doc.captions ?? []).map((t) => captionView(doc, t)) });
  });

  app.post(
    '/:id/captions',
    bodyLimit({
      maxSize: CAPTION_LIMITS.maxBytes,
      onError: () => {
        throw new HttpProblem(413, 'Content Too Large', `a caption file may be at most ${CAPTION_LIMITS.maxBytes} bytes`);
      },
    }),
    async (c) => {
      const language = c.req.query('language');
      if (!language) throw badRequest('language is required: the BCP 47 tag of the captions, e.g. ?language=fr');
      if (!isLanguageTag(language))
        throw badRequest(`language ${JSON.stringify(language.slice(0, 40))} is not a BCP 47 tag such as fr or pt-BR`);
      const tag = canonicalLanguage(language);
      const label = (c.req.query('label') ?? '').trim() || languageName(tag);
      const labelProblem = clientTextProblem(label, MAX_LABEL_LENGTH);
      if (labelProblem) throw badRequest(`label ${labelProblem}`);
      const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      const format = FORMATS[type];
      if (!format)
        throw new HttpProblem(
          415,
          'Unsupported Media Type',
          `send the captions as text/vtt or application/x-subrip; got ${JSON.stringify(type || 'no content-type')}`,
        );

      const video = await getOwnedVideo(store, c.req.param('id'), c.get('tenant'));
      presentationOf(video);
      const text = decodeCaptionBytes(new Uint8Array(await c.req.arrayBuffer()));
      if (text === undefined) throw badRequest('the caption file is not UTF-8 text');
      const parsed = parseCaptions(text, format);
      if (!parsed.ok)
        throw badRequest(`the caption file is not valid ${format === 'vtt' ? 'WebVTT' : 'SubRip'}: ${parsed.problems.join('; ')}`);
      const duration = durationOf(video);
      const late = parsed.cues.findIndex((cue) => cue.start > duration + 1);
      if (late >= 0)
        throw badRequest(
          `cue ${late + 1} starts at ${parsed.cues[late]!.start.toFixed(3)} s, after the end of the video (${duration.toFixed(3)} s)`,
        );
      const track = await captions.add(video, parsed.cues, { language: tag, label });
      return c.json(captionView(video, track), 201, { location: `/v1/videos/${video.id}/captions/${track.id}` });
    },
  );

  app.delete('/:id/captions/:captionId', async (c) => {
    const video = await getOwnedVideo(store, c.req.param('id'), c.get('tenant'));
    await captions.remove(video, c.req.param('captionId'));
    return c.body(null, 204);
  });

  return app;
}

/** A track as the API shows it: with the URL of its WebVTT file (as in the video's status, videoView). */
function captionView(doc: VideoStatus, track: CaptionTrack) {
  return videoView({ ...doc, captions: [track] }).captions![0]!;
}

/** The OpenAPI description of these routes (see openapi.ts). */
export const CAPTION_OPERATIONS: OperationDocs = {
  'GET /v1/videos/{id}/captions': {
    summary: "A video's caption tracks (from the source and uploaded)",
    tag: 'videos',
    success: [200, '{items: [{id, language, label, source, default?, forced?, cues, bytes, addedAt, url}]}'],
    errors: [401, 403, 404],
  },
  'POST /v1/videos/{id}/captions': {
    summary: 'Add a caption track (WebVTT or SubRip) to a ready video; the HLS master lists it, `video.captions.added` is published',
    tag: 'videos',
    success: [201, 'the new track'],
    errors: [400, 401, 403, 404, 409, 413, 415],
    body: {
      contentType: 'text/vtt',
      description: 'a WebVTT file, or SubRip with `Content-Type: application/x-subrip`; UTF-8, at most 1 MiB and 5000 cues',
    },
    query: { language: 'required: BCP 47 tag, e.g. `fr`, `pt-BR`', label: 'the name players show (default: the language name)' },
  },
  'DELETE /v1/videos/{id}/captions/{captionId}': {
    summary: 'Remove a caption track; the HLS master no longer lists it, `video.captions.removed` is published',
    tag: 'videos',
    success: [204, 'removed'],
    errors: [401, 403, 404, 409],
  },
};
