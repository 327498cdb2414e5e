import { provisionTier } from '../global-setup';

/** The e2e tier's jest global setup (one file per tier: jest runs each distinct file once). */
export default function setup(): Promise<void> {
  return provisionTier('e2e');
}
