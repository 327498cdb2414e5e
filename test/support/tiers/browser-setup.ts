import { provisionTier } from '../global-setup';

/** The browser tier's jest global setup (one file per tier: jest runs each distinct file once). */
export default function setup(): Promise<void> {
  return provisionTier('browser');
}
