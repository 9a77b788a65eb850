import { type ImageReference, parseReference } from '@storepack/image-spec';
import { RegistryError } from './errors.js';

/**
 * Parses the destination of a push, such as `127.0.0.1:5000/team/hello:1`. Unlike
 * `parseReference`, a name without a registry host (`hello:1`, which Docker reads as Docker Hub)
 * is rejected with `INVALID_REFERENCE`, so that a push never goes to a registry the user did not
 * name.
 */
export function parsePushReference(text: string): ImageReference {
  let reference: ImageReference;
  try {
    reference = parseReference(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new RegistryError('INVALID_REFERENCE', message, { cause: error });
  }

  if (!text.startsWith(`${reference.registry}/`) && !text.startsWith('index.docker.io/')) {
    throw new RegistryError(
      'INVALID_REFERENCE',
      `invalid push reference "${text}": no registry host: name one, as in 127.0.0.1:5000/${text}`,
    );
  }
  return reference;
}

/** Returns the tag or digest that a manifest is stored under: the tag when there is one. */
export function manifestReference(reference: ImageReference): string {
  return reference.tag ?? reference.digest ?? 'latest';
}
