// The one MemoryFilter as a LanceDB (DataFusion SQL) predicate per table. Values are validated
// and quoted by sql.ts; open bounds (an infinite end) add no condition, so a filter that says
// "after 1:20 into the video" stays on the start/end indexes.
import { EngramError } from '../../config/errors.js';
import { LABEL_NAME, PERSON_ID, type MemoryFilter, type MemoryTableName } from './memory-schema.js';
import { sqlAnd, sqlIn, sqlNumber, sqlQuoted, sqlStream, sqlString } from './sql.js';

/** A bound that limits anything: infinite ends are open; NaN is kept so sqlNumber names it. */
const finite = (n: number | undefined): n is number => n !== undefined && n !== Number.POSITIVE_INFINITY && n !== Number.NEGATIVE_INFINITY;

/** A filter matching events that saw any of the labels; each label is checked against LABEL_NAME first. */
function labelsFilter(labels: readonly string[]): string {
  if (labels.length === 0) return 'false';
  return labels
    .map((label) => {
      if (!LABEL_NAME.test(label)) throw new EngramError(`not a detector label: ${JSON.stringify(label)} (lower-case words such as "person" or "traffic light")`);
      return `labels LIKE ${sqlString(`%|${label}|%`)}`;
    })
    .join(' OR ');
}

/** A filter matching events where any of the identities was seen. */
function peopleFilter(ids: readonly string[]): string {
  if (ids.length === 0) return 'false';
  return ids
    .map((id) => {
      if (!PERSON_ID.test(id)) throw new EngramError(`not a person id: ${JSON.stringify(id)} (engram people list shows the ids)`);
      return `people LIKE ${sqlString(`%|${id}|%`)}`;
    })
    .join(' OR ');
}

/** Rows inside (moments) or overlapping (events, episodes) a stream-time window; undefined when it is unbounded. */
function streamTimeWhere(moments: boolean, st: { start: number; end: number } | undefined): string | undefined {
  const parts = [
    // Moments are instants at `t`; events and episodes are spans [start, end] that must overlap.
    finite(st?.start) && (moments ? `t >= ${sqlNumber(st.start)}` : `${sqlQuoted('end')} >= ${sqlNumber(st.start)}`),
    finite(st?.end) && (moments ? `t <= ${sqlNumber(st.end)}` : `start <= ${sqlNumber(st.end)}`),
  ].filter((p): p is string => typeof p === 'string');
  return parts.length > 0 ? parts.join(' AND ') : undefined;
}

/** Any of several stream-time windows: an unbounded one matches everything, none matches nothing. */
function streamTimesWhere(moments: boolean, windows: readonly { start: number; end: number }[]): string | undefined {
  if (windows.length === 0) return 'false';
  const each = windows.map((w) => streamTimeWhere(moments, w));
  if (each.some((w) => w === undefined)) return undefined;
  return each.map((w) => `(${w as string})`).join(' OR ');
}

/** The predicate for `filter` on `table`; undefined when the filter has no bounds. */
export function memoryWhere(table: MemoryTableName, filter: MemoryFilter = {}): string | undefined {
  const streams = filter.streams;
  const wall = filter.wall;
  const moments = table === 'moments';
  return sqlAnd([
    streams !== undefined && (streams.length === 1 ? `stream = ${sqlStream(streams[0] as string)}` : `stream IN (${streams.length === 0 ? "''" : streams.map(sqlStream).join(', ')})`),
    finite(wall?.from) && `${sqlQuoted('endedAt')} >= ${sqlNumber(wall.from)}`,
    finite(wall?.to) && `${sqlQuoted('startedAt')} <= ${sqlNumber(wall.to)}`,
    streamTimeWhere(moments, filter.streamTime),
    filter.streamTimes !== undefined && streamTimesWhere(moments, filter.streamTimes),
    filter.eventIds !== undefined && sqlIn(moments ? 'eventId' : 'id', filter.eventIds),
    filter.level !== undefined && !moments && `level = ${sqlNumber(filter.level)}`,
    filter.labels !== undefined && table === 'events' && labelsFilter(filter.labels),
    filter.people !== undefined && table === 'events' && peopleFilter(filter.people),
  ]);
}

/** The one filter from the "stream, since, until" options of the CLI, the API and maintenance. */
export function streamSinceUntil(options: { stream?: string | undefined; since?: number | undefined; until?: number | undefined }): MemoryFilter {
  return {
    ...(options.stream !== undefined ? { streams: [options.stream] } : {}),
    ...(options.since !== undefined || options.until !== undefined
      ? { wall: { from: options.since ?? Number.NEGATIVE_INFINITY, to: options.until ?? Number.POSITIVE_INFINITY } }
      : {}),
  };
}
