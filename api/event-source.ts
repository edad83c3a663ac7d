/** The CloudEvents `source` of every event the API publishes (`video.queued`, `video.deleted`, `live.*`). */
export const EVENT_SOURCE = '/reelay/api';
