// What the media repository takes and reports: facts about a source's streams, and the decode
// plan (ffmpeg arguments and the pipe fds the three outputs arrive on) the ingest stage builds.

export interface MediaInfo {
  formatName: string;
  /** Seconds; undefined for live or unknown. */
  duration: number | undefined;
  video: { width: number; height: number; codec: string } | undefined;
  audio: { codec: string; sampleRate: number; channels: number } | undefined;
}

export interface DecodePlan {
  args: string[];
  /** Keyframe size handed to the models; 0 when the source has no video. */
  width: number;
  height: number;
  hasVideo: boolean;
  hasAudio: boolean;
  /** Whether ffmpeg reads this process's stdin. */
  stdin: boolean;
}

export const VIDEO_FD = 3;
export const AUDIO_FD = 4;
export const JPEG_FD = 5;
