/**
 * services/dispatch — the single entry every transport calls: checks the method name, validates
 * the input against the contract, runs the handler and wraps the answer in an Envelope. Errors
 * become messages a user can read; unexpected ones are logged with their stack.
 */
import { z } from 'zod';
import { isMethodName, methods, type Envelope, type MethodName, type Output, type ParsedInput } from '../api/contract';
import { ApiError } from '../api/errors';

export type Handlers = {
  [M in MethodName]: (input: ParsedInput<M>) => Output<M> | Promise<Output<M>>;
};

export type Dispatch = (method: unknown, input: unknown) => Promise<Envelope>;

/** "name: Too small" → "name: A project needs a name." with the field path first. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}

export function createDispatch(handlers: Handlers, log: (error: unknown) => void = console.error): Dispatch {
  return async (method, rawInput) => {
    try {
      if (!isMethodName(method)) throw new ApiError('invalid-input', `Unknown request "${String(method)}".`);
      const parsed = methods[method].input.safeParse(rawInput ?? {});
      if (!parsed.success) {
        throw new ApiError('invalid-input', `Invalid ${method} request: ${describeZodError(parsed.error)}`, parsed.error.issues);
      }
      const handler = handlers[method] as (input: unknown) => unknown;
      const value = await handler(parsed.data);
      return { ok: true, value: methods[method].output.parse(value) };
    } catch (error) {
      if (error instanceof ApiError) return { ok: false, error: error.toBody() };
      log(error);
      const message = error instanceof Error ? error.message : String(error);
      return { ok: false, error: { code: 'internal', message: `Something went wrong: ${message}` } };
    }
  };
}
