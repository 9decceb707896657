/**
 * api/errors — the one error type services throw for anything a user should read. The message is
 * written for the user (what went wrong and where); `code` lets a client react without parsing it.
 */
import type { ApiErrorBody, ErrorCode } from './contract';

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toBody(): ApiErrorBody {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export const notFound = (what: string): ApiError => new ApiError('not-found', `${what} was not found.`);
