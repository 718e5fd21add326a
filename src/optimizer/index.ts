export { loadTypeScript, type TypeScript } from './typescript.js';
