/**
 * api/limits — sizes both sides of the API agree on. No zod and no Node imports, so that the
 * renderer can import it without pulling in the schemas.
 */

/**
 * The largest request serve mode accepts (one WebSocket message, in bytes). A file uploaded for
 * import is the largest request there is; larger files are imported by path from an allowed
 * folder (see ESM_STUDIO_ALLOW) or with the command line.
 */
export const MAX_REQUEST_BYTES = 256 * 1024 * 1024;
