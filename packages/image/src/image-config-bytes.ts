import {
  canonicalJson,
  computeDigest,
  createImageConfig,
  type Digest,
  formatCreated,
} from '@storepack/image-spec';
import type { ImagePlan } from './image-plan.js';

/** Serialises the image config of a plan whose layers have streamed, and returns it with its digest. */
export function imageConfigBytes(
  plan: ImagePlan,
  diffIds: Digest[],
): { bytes: string; digest: Digest } {
  const bytes = canonicalJson(
    createImageConfig({
      platform: plan.platform,
      created: plan.created,
      diffIds,
      ...(Object.keys(plan.container).length === 0 ? {} : { config: plan.container }),
      history: diffIds.map(() => ({
        created: formatCreated(plan.created),
        created_by: 'storepack build',
        comment: `store closure of ${plan.closure.roots.join(' ')}`,
      })),
    }),
  );
  return { bytes, digest: computeDigest(bytes) };
}
