/**
 * Routes of the task inbox (docs/inbox.md): the inbox by horizon, the task graph and the
 * connectors, spread into `routes` (routes.ts), each page its own lazily loaded chunk.
 */
import { lazy } from 'react';
import type { RouteDef } from './routes.ts';

export const inboxPages: readonly RouteDef[] = [
  {
    path: '/inbox',
    page: lazy(() => import('./inbox/inbox-page.tsx')),
    nav: { label: 'Inbox', section: '/inbox' },
  },
  { path: '/inbox/graph', page: lazy(() => import('./inbox/graph-page.tsx')) },
  {
    path: '/connectors',
    page: lazy(() => import('./inbox/connectors-page.tsx')),
    nav: { label: 'Connectors', section: '/connectors' },
  },
];
