// Errors a route throws on purpose, with the status and a message for the caller; the server's
// error handler turns them (and validation failures) into `{ error, message, fields? }` bodies.

export class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly statusCode: number;
  readonly code: string;
  constructor(statusCode: number, code: string, message: string) {
    super(message);
    this.statusCode = statusCode;
    this.code = code;
  }
}

export const badRequest = (message: string) => new HttpError(400, 'bad_request', message);
export const notFound = (message: string) => new HttpError(404, 'not_found', message);
export const conflict = (message: string) => new HttpError(409, 'conflict', message);
export const unavailable = (what: string) =>
  new HttpError(503, 'unavailable', `${what} is not available in this engram process (its role is not built or not running here)`);

export interface ErrorBody {
  error: string;
  message: string;
  fields?: string[];
}
