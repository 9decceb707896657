/**
 * electron/external-links — which links the desktop app hands to the system browser
 * (shell.openExternal): https links to the few sites the app points to, nothing else, so that a
 * page shown in the app cannot open arbitrary programs or URLs on this computer.
 */

/** The sites the app links to (model pages on the hub, the code); shell.openExternal opens nothing else. */
export const EXTERNAL_HOSTS = ['huggingface.co', 'github.com'];

/** An https link to one of EXTERNAL_HOSTS (or a subdomain), without credentials or an unusual port. */
export function externalLinkAllowed(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'https:' || parsed.username !== '' || parsed.password !== '' || parsed.port !== '') return false;
  return EXTERNAL_HOSTS.some((host) => parsed.hostname === host || parsed.hostname.endsWith(`.${host}`));
}
