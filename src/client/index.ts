export {
  createClient,
  errorFromResponse,
  parseSse,
  type ClientOptions,
  type PatchbayClient,
  type StreamOptions,
} from './client.js';
