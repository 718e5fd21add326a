export {
  createClient,
  errorFromResponse,
  parseSse,
  parseSseMessages,
  type SseMessage,
  type ClientOptions,
  type PatchbayClient,
  type StreamOptions,
} from './client.js';
